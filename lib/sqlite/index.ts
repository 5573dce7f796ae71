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
export type { CheckpointCounts } from '../store/checkpoint-counts';
export { readStore } from '../store/sqlite-reader';
export type {
  ReadStoreOptions,
  StoreState,
  StoredAgent,
  StoredCall,
  StoredKey,
  StoredOwner,
  StoredRepair,
  StoredRun,
} from '../store/sqlite-reader';
export { diagnoseStore } from '../store/sqlite-doctor';
export type { RecoveryPlan, StoreDiagnosis } from '../store/sqlite-doctor';
export { repairStore } from '../store/sqlite-repair';
export type { StoreRepair } from '../store/sqlite-repair';
export {
  StoreCheckpointError,
  StoreOpenError,
  StoreVersionError,
  StoreNotFoundError,
  StoreRepairError,
} from '../errors';
export type { StoreOpenErrorCode } from '../errors';
