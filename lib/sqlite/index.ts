/**
 * `rx-agents/sqlite`: the embedded durable store (S13). Loads `better-sqlite3`, an optional peer
 * dependency (`npm install better-sqlite3@12`), only when `sqliteStore` is called.
 *
 * @example
 * import { sqliteStore } from 'rx-agents/sqlite';
 * inputs$.pipe(agentOperator(agent, { key: (m) => m.userId, store: sqliteStore('agents.db') }));
 */
export { sqliteStore, SQLITE_APPLICATION_ID, SQLITE_SCHEMA_VERSION } from '../store/sqlite-store';
export type { SqliteStore, SqliteStoreOptions } from '../store/sqlite-store';
export { StoreOpenError, StoreVersionError } from '../errors';
