import type BetterSqlite3 from 'better-sqlite3';
import {
  MissingPeerDependencyError,
  StoreCheckpointError,
  StoreOpenError,
  StoreUnavailableError,
  StoreVersionError,
  optionError,
  type StoreOpenErrorCode,
} from '../errors';
import { currentOwner, SqliteAgentLock } from './sqlite-lock';
import {
  createSchema,
  MIGRATABLE_VERSION,
  migrateV1,
  OWNERS,
  SCHEMA_VERSION,
  TABLES_V1,
  TABLES_V2,
} from './sqlite-schema';
import type { CheckpointCounts } from './checkpoint-counts';
import { WalCheckpointer } from './wal-checkpointer';
import type { AgentStore, JournalBatch, JournalSnapshot, JournaledCall, JournaledInput, RunEnd } from './store';

// Node built-ins through process.getBuiltinModule, not imports: an ESM bundle of this CommonJS package cannot require() them (see package.json `engines`).
const { statSync } = process.getBuiltinModule('node:fs');
const { dirname } = process.getBuiltinModule('node:path');

/** `PRAGMA application_id` of rx-agents stores ("RXAG"): tells our files from foreign SQLite files. */
export const SQLITE_APPLICATION_ID = 0x52584147;
/**
 * `PRAGMA user_version`: the schema version this code writes (2). It also reads version-1 files
 * (read-only tools read them as they are; a writer migrates them to version 2 when it opens them).
 */
export const SQLITE_SCHEMA_VERSION = SCHEMA_VERSION;

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * SQLite's `synchronous` setting. In WAL mode `NORMAL` makes every commit survive a process
   * crash (kill -9); only an OS crash or power loss may lose the last commits. `FULL` fsyncs
   * each group commit and survives those too, at a cost per commit. @default 'NORMAL'
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /**
   * When group commits (transactions) are made. Async results arrive one by one on separate
   * event-loop turns; gathering them turns thousands of tiny transactions into a few large ones.
   * `'auto'`: a commit somebody waits for (an acknowledgement, a reconciled call's start, a wait
   * taking a signal) at the next event-loop turn — never later than a fixed 1 ms window would —
   * and one nobody waits for after 1 ms, or, when the previous commit was expensive, once 8 times
   * its duration has passed, so under load batches grow instead (see
   * `lib/runtime/commit-pacer.ts`; under a TestScheduler a fixed window of one frame). A number: a
   * fixed window of that many scheduler ms after the first write. Runs never wait for it; a
   * reconciled call forces a commit at once.
   * @default 'auto'
   */
  readonly commitDelay?: number | 'auto';
  /**
   * How long opening the file waits for a lock held by another connection (another process
   * writing, a `sqlite3` shell in a transaction) before it is refused with
   * `StoreOpenError` (`ERR_STORE_BUSY`); also the wait of each commit. @default 5000 ms (wall clock)
   */
  readonly busyTimeout?: number;
  /**
   * The check run on the file before recovery. `full`: `PRAGMA integrity_check`, which also finds
   * rows out of key order (a few flipped bytes can pass the quick check and hide acknowledged
   * runs from recovery); it costs about what `quick` costs (measured: ~10 ms for 2.5 MiB, ~130 ms
   * for 24 MiB, ~500 ms for 100 MiB). `quick`: `PRAGMA quick_check`, for very large files.
   * @default 'full'
   */
  readonly integrityCheck?: 'full' | 'quick';
  /**
   * Who copies the WAL into the database file (SQLite's checkpoint, with its two fsyncs, which took
   * 19–24 ms inside one commit per ~1000 pages). `'worker'`: a worker thread with its own
   * connection, started when the WAL first holds 1000 uncopied pages, makes `PASSIVE` checkpoints
   * while the writer keeps committing; the writer checkpoints itself only at the hard bound of
   * 10,000 pages (see `lib/store/wal-checkpointer.ts`). `'inline'`: SQLite's own auto-checkpoint
   * inside the commit that crosses 1000 pages. Same durability either way. `':memory:'` and
   * `file:` URIs always use `'inline'`. `'inline'` is the default because on 2 cores the worker paid
   * for itself only with a spare core (measured, README "Journal (stop 12)": the longest commit
   * 1–7 ms instead of 17–30 ms and the p99.9 1.3–2 ms, but under load the ack p99 unchanged and
   * 25,000-run rounds 5–26 % longer; +9 % CPU on a quieter machine; +16 MB RSS for the thread).
   * @default 'inline'
   */
  readonly checkpoint?: 'worker' | 'inline';
  /**
   * Called with a {@link StoreCheckpointError} if the background checkpointer fails (the store then
   * checkpoints inline; no commit is at risk). @default process.emitWarning
   */
  readonly onCheckpointError?: (error: StoreCheckpointError) => void;
}

/** A SQLite-backed store: what {@link sqliteStore} returns. */
export interface SqliteStore extends AgentStore {
  /** Rows held for `agent` (inputs of unfinished runs, their calls, keys with memory): shows retention at work. */
  size(agent: string): { readonly inputs: number; readonly calls: number; readonly keys: number };
  /** Who checkpointed the WAL so far (see the `checkpoint` option): for diagnostics and benchmarks. */
  checkpoints(): CheckpointCounts;
  close(): void;
}

/**
 * The embedded durable store: one SQLite file in WAL mode, through the optional peer dependency
 * `better-sqlite3@12` (loaded only when this function is called).
 *
 * Semantics: the file is opened and checked now. A new or empty file is initialised (schema
 * version 2, see `sqlite-schema.ts`); a version-1 file (an older rx-agents) is migrated to version 2
 * in one transaction, once no live writer holds any of its agents (else `ERR_STORE_BUSY`); a file that
 * is not a SQLite database, fails `PRAGMA integrity_check` (see `integrityCheck`), lacks one of
 * the store's tables, belongs to another application, or has another schema version is refused
 * with {@link StoreOpenError} / {@link StoreVersionError} — never silently replaced by a fresh
 * journal; so is a read-only file (`ERR_STORE_READONLY`), a file another connection keeps locked
 * past `busyTimeout` (`ERR_STORE_BUSY`), and a path that is a directory or whose directory does not
 * exist (`ERR_STORE_PATH`). Each group commit is one transaction (inputs and calls in multi-row
 * inserts; the runs that end in it pruned by range deletes). Runs that
 * end are pruned, so the file holds only unfinished runs and per-key memory. One journal has one
 * writer across processes too: a subscription holds an OS file lock on `<path>.<hash>.lock` (see
 * {@link SqliteAgentLock}) until its last commit, so another process's subscription for the same
 * agent fails with {@link StoreUnavailableError}, while a crashed owner's lock dies with it. Share one store
 * between operators of different agents; close it yourself after they have ended (a subscription
 * commits its last batch when it ends, which fails on a closed store).
 *
 * @example
 * const store = sqliteStore('agents.db');
 * inputs$.pipe(agentOperator(agent, { key: (x) => x.userId, store }));
 * // later: store.close();
 */
export function sqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError(
      `Expected the path of sqliteStore to be a non-empty file path (or ':memory:'), got \`${String(path)}\` (${typeof path}).`,
    );
  }
  const synchronous = options.synchronous ?? 'NORMAL';
  const commitDelay = options.commitDelay ?? 'auto';
  if (!(
    commitDelay === 'auto' ||
    (typeof commitDelay === 'number' && commitDelay >= 0 && Number.isFinite(commitDelay))
  )) {
    throw new TypeError(
      `Expected \`commitDelay\` to be 'auto' or a number of ms >= 0, got \`${String(commitDelay)}\` (${typeof commitDelay}).`,
    );
  }
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new TypeError(`Expected \`synchronous\` to be 'NORMAL' or 'FULL', got \`${String(synchronous)}\`.`);
  }
  const busyTimeout = options.busyTimeout ?? 5000;
  if (!(Number.isInteger(busyTimeout) && busyTimeout >= 0))
    throw optionError('busyTimeout', 'an integer number of ms >= 0', busyTimeout);
  const integrityCheck = options.integrityCheck ?? 'full';
  if (integrityCheck !== 'full' && integrityCheck !== 'quick')
    throw optionError('integrityCheck', "'full' or 'quick'", integrityCheck);
  const checkpoint = options.checkpoint ?? 'inline';
  if (checkpoint !== 'worker' && checkpoint !== 'inline')
    throw optionError('checkpoint', "'worker' or 'inline'", checkpoint);
  const onCheckpointError = options.onCheckpointError ?? ((error: StoreCheckpointError) => process.emitWarning(error));
  if (typeof onCheckpointError !== 'function') throw optionError('onCheckpointError', 'a function', onCheckpointError);
  const Database = loadDriver();
  checkPath(path);
  const db = openDatabase(Database, path, busyTimeout);
  try {
    db.pragma(`synchronous = ${synchronous}`); // first: the schema of a new file is committed at this level too
    prepareFile(db, path, integrityCheck, Database);
  } catch (error) {
    db.close();
    throw error instanceof StoreOpenError || error instanceof StoreVersionError ? error : openError(path, error);
  }
  let checkpointer: WalCheckpointer | null = null;
  if (checkpoint === 'worker' && path !== ':memory:' && !path.startsWith('file:')) {
    db.pragma('wal_autocheckpoint = 0'); // the worker checkpoints (and the writer at the hard bound)
    checkpointer = new WalCheckpointer(db, path, {
      driver: require.resolve('better-sqlite3'),
      synchronous,
      busyTimeout,
      onError: onCheckpointError,
    });
  }
  return new SqliteJournalStore(db, path, commitDelay, Database, checkpointer);
}

/**
 * Loads the optional peer `better-sqlite3` (lazily: only users of a SQLite store need it).
 * @internal shared by the store reader, doctor and repair; not in the published types.
 */
export function loadDriver(feature = 'sqliteStore'): typeof BetterSqlite3 {
  try {
    // Lazy: better-sqlite3 is an optional peer dependency, loaded only by users of this store.
    return require('better-sqlite3') as typeof BetterSqlite3;
  } catch (cause) {
    throw new MissingPeerDependencyError('better-sqlite3@12', feature, cause);
  }
}

/** A path that is a directory, or whose directory is missing, is refused before SQLite turns it into a vaguer error. */
function checkPath(path: string): void {
  if (path === ':memory:' || path.startsWith('file:')) return;
  const kind = (p: string): 'file' | 'directory' | 'missing' | 'other' => {
    try {
      const stat = statSync(p);
      return stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : 'other';
    } catch {
      return 'missing';
    }
  };
  const self = kind(path);
  if (self === 'directory') throw new StoreOpenError('ERR_STORE_PATH', path, 'it is a directory, not a file');
  if (self === 'missing' && kind(dirname(path)) !== 'directory')
    throw new StoreOpenError('ERR_STORE_PATH', path, `its directory \`${dirname(path)}\` does not exist`);
}

function openDatabase(Database: typeof BetterSqlite3, path: string, busyTimeout: number): BetterSqlite3.Database {
  try {
    return new Database(path, { timeout: busyTimeout });
  } catch (cause) {
    throw openError(path, cause);
  }
}

/** Turns what SQLite (or the driver) threw while opening and checking a file into a {@link StoreOpenError} that says what to do. */
function openError(path: string, cause: unknown): StoreOpenError {
  const code = String((cause as { code?: unknown } | null)?.code ?? '');
  const message = cause instanceof Error ? cause.message : String(cause);
  const refuse = (kind: StoreOpenErrorCode, reason: string): StoreOpenError =>
    new StoreOpenError(kind, path, reason, { cause });
  if (code === 'SQLITE_NOTADB') return refuse('ERR_STORE_CORRUPT', 'it is not a SQLite database');
  if (code.startsWith('SQLITE_READONLY'))
    return refuse('ERR_STORE_READONLY', `it is read-only for this process (SQLite reports ${code}: ${message})`);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return refuse('ERR_STORE_BUSY', `another connection kept it locked (SQLite reports ${code}: ${message})`);
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH')
    return refuse('ERR_STORE_PATH', `SQLite cannot open it (${code}: ${message})`);
  if (/directory does not exist/.test(message)) return refuse('ERR_STORE_PATH', message);
  return refuse('ERR_STORE_CORRUPT', `SQLite reports ${code || 'an error'} (${message})`);
}

/**
 * Makes an open file ready for writing: a new or empty file gets the schema (WAL mode is set
 * first, so the schema is written to the WAL like every later commit; the `owners` table is
 * created in the same transaction); a version-1 file is migrated to version 2 in one transaction,
 * once no writer holds any of its agents' locks. Throws like {@link verifyStoreFile}, and
 * {@link StoreOpenError} (`ERR_STORE_BUSY`) when a live writer keeps a version-1 file.
 */
function prepareFile(
  db: BetterSqlite3.Database,
  path: string,
  integrityCheck: 'full' | 'quick',
  Database: typeof BetterSqlite3,
): void {
  const kind = verifyStoreFile(db, path, integrityCheck);
  if (kind === 'empty') {
    db.pragma('journal_mode = WAL');
    db.transaction(() => createSchema(db, SQLITE_APPLICATION_ID))();
    return;
  }
  // A read-only file opens and reads fine; find out now rather than at the first commit.
  db.exec('BEGIN IMMEDIATE');
  db.exec('ROLLBACK');
  if (kind === 'v1') migrateFile(db, path, Database);
  db.exec(OWNERS);
  db.pragma('journal_mode = WAL');
}

/**
 * Migrates a version-1 file to version 2 (one transaction, see `migrateV1`), only while none of
 * its agents' writers runs: an older rx-agents still writing it would find its tables gone. The
 * probe takes and releases each agent's lock; a live one is refused with {@link StoreOpenError}
 * (`ERR_STORE_BUSY`).
 *
 * @internal shared by {@link sqliteStore} and `repairStore` (the writers).
 */
export function migrateFile(db: BetterSqlite3.Database, path: string, Database: typeof BetterSqlite3): void {
  if (path !== ':memory:') refuseLiveWriters(db, path, Database);
  migrateV1(db);
}

function refuseLiveWriters(db: BetterSqlite3.Database, path: string, Database: typeof BetterSqlite3): void {
  const names = db
    .prepare('SELECT agent FROM agents UNION SELECT agent FROM memory UNION SELECT agent FROM inputs')
    .all() as { agent: string }[];
  for (const { agent } of names) {
    try {
      SqliteAgentLock.acquire(Database, path, agent, () => undefined).release();
    } catch (cause) {
      throw new StoreOpenError(
        'ERR_STORE_BUSY',
        path,
        `it has schema version ${MIGRATABLE_VERSION}, which this version migrates to ${SQLITE_SCHEMA_VERSION} when it opens the file, ` +
          `but a live writer holds the journal of agent \`${agent}\` (an older rx-agents?); stop every writer of the file, then open it again`,
        { cause },
      );
    }
  }
}

/**
 * Checks that an open SQLite file is an rx-agents store this code can read: `'ours'` (schema
 * version 2), `'v1'` (version 1: readable as it is, migrated by the next writer), or `'empty'` for a
 * new or empty file (which {@link sqliteStore} initialises). Throws {@link StoreOpenError}
 * (`ERR_STORE_CORRUPT`: not SQLite, the integrity check fails, or a table of the store is missing;
 * `ERR_STORE_FOREIGN`: another application's database; read-only, busy and path problems with
 * their own codes) or {@link StoreVersionError}. Writes nothing: the read-only store reader uses it too.
 *
 * @internal shared by the store reader, doctor and repair; not part of the published types (it takes a better-sqlite3 connection).
 */
export function verifyStoreFile(
  db: BetterSqlite3.Database,
  path: string,
  integrityCheck: 'full' | 'quick' = 'full',
): 'ours' | 'empty' | 'v1' {
  let appId: number;
  let version: number;
  let tables: string[];
  let problems: string[];
  const pragma = integrityCheck === 'full' ? 'integrity_check' : 'quick_check';
  try {
    appId = db.pragma('application_id', { simple: true }) as number;
    version = db.pragma('user_version', { simple: true }) as number;
    tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
    ).map((r) => r.name);
    problems = (db.pragma(`${pragma}(20)`) as Array<Record<string, unknown>>).map((row) =>
      String(Object.values(row)[0]),
    );
  } catch (cause) {
    if (cause instanceof StoreOpenError) throw cause;
    throw openError(path, cause);
  }
  if (problems.length !== 1 || problems[0] !== 'ok')
    throw new StoreOpenError('ERR_STORE_CORRUPT', path, `PRAGMA ${pragma} reports: ${problems.join('; ')}`);
  if (appId === SQLITE_APPLICATION_ID) {
    if (version !== SQLITE_SCHEMA_VERSION && version !== MIGRATABLE_VERSION)
      throw new StoreVersionError(path, version, SQLITE_SCHEMA_VERSION);
    const missing = (version === MIGRATABLE_VERSION ? TABLES_V1 : TABLES_V2).filter((t) => !tables.includes(t));
    if (missing.length > 0)
      throw new StoreOpenError(
        'ERR_STORE_CORRUPT',
        path,
        `the store's table${missing.length > 1 ? 's' : ''} ${missing.map((t) => `\`${t}\``).join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing (dropped?)`,
      );
    return version === MIGRATABLE_VERSION ? 'v1' : 'ours';
  }
  if (appId !== 0 || tables.length > 0) {
    throw new StoreOpenError(
      'ERR_STORE_FOREIGN',
      path,
      `it is a SQLite database of another application (application_id ${appId}, tables: ${tables.join(', ') || 'none'})`,
    );
  }
  return 'empty';
}

/** Rows written by one multi-row INSERT (a batch's inputs and calls go in groups of this many). */
const ROWS_PER_STATEMENT = 16;

class SqliteJournalStore implements SqliteStore {
  private closed = false;
  private readonly selectAgent: BetterSqlite3.Statement;
  private readonly insertAgent: BetterSqlite3.Statement;
  private readonly updateAgent: BetterSqlite3.Statement;
  private readonly insertInput: BetterSqlite3.Statement;
  private readonly insertInputs: BetterSqlite3.Statement;
  private readonly upsertCall: BetterSqlite3.Statement;
  private readonly upsertCalls: BetterSqlite3.Statement;
  /** The parameters of one multi-row statement, reused (6 per call row; inputs use 3 per row). */
  private readonly params: unknown[] = new Array<unknown>(ROWS_PER_STATEMENT * 6);
  private readonly deleteRuns: BetterSqlite3.Statement;
  private readonly upsertMemory: BetterSqlite3.Statement;
  private readonly deleteMemory: BetterSqlite3.Statement;
  private readonly upsertMemories: BetterSqlite3.Statement;
  private readonly applyBatch: (agent: string, batch: JournalBatch) => void;
  /** The integer id of each agent with a row in `agents` (ids never change), and the `next_seq` last written for it. */
  private readonly ids = new Map<string, number>();
  private readonly heads = new Map<number, number>();
  /** The writer locks this store holds, per agent (none for `:memory:`, which no other process can open). */
  private readonly locks = new Map<string, SqliteAgentLock | null>();

  constructor(
    private readonly db: BetterSqlite3.Database,
    readonly location: string,
    readonly commitDelay: number | 'auto',
    private readonly Database: typeof BetterSqlite3,
    private readonly checkpointer: WalCheckpointer | null,
  ) {
    this.selectAgent = db.prepare('SELECT id, next_seq, position FROM agents WHERE agent = ?');
    this.insertAgent = db.prepare('INSERT INTO agents (agent, next_seq, position) VALUES (?, ?, ?)');
    this.updateAgent = db.prepare('UPDATE agents SET next_seq = ?, position = coalesce(?, position) WHERE id = ?');
    const inputSql = "INSERT INTO journal (agent_id, seq, call, value) VALUES (?, ?, '', ?)";
    this.insertInput = db.prepare(inputSql);
    this.insertInputs = db.prepare(inputSql + ", (?, ?, '', ?)".repeat(ROWS_PER_STATEMENT - 1));
    const callSql =
      'INSERT OR REPLACE INTO journal (agent_id, seq, call, fingerprint, state, value) VALUES (?, ?, ?, ?, ?, ?)';
    this.upsertCall = db.prepare(callSql);
    this.upsertCalls = db.prepare(callSql + ', (?, ?, ?, ?, ?, ?)'.repeat(ROWS_PER_STATEMENT - 1));
    this.deleteRuns = db.prepare('DELETE FROM journal WHERE agent_id = ? AND seq BETWEEN ? AND ?');
    this.upsertMemory = db.prepare(
      'INSERT INTO key_memory (agent_id, key, data) VALUES (?, ?, ?) ON CONFLICT (agent_id, key) DO UPDATE SET data = excluded.data',
    );
    this.upsertMemories = db.prepare(
      'INSERT INTO key_memory (agent_id, key, data) VALUES (?, ?, ?)' +
        ', (?, ?, ?)'.repeat(ROWS_PER_STATEMENT - 1) +
        ' ON CONFLICT (agent_id, key) DO UPDATE SET data = excluded.data',
    );
    this.deleteMemory = db.prepare('DELETE FROM key_memory WHERE agent_id = ? AND key = ?');
    this.applyBatch = db.transaction((agent: string, batch: JournalBatch) => this.apply(agent, batch));
  }

  /** One batch, inside its transaction: the agent's head, inputs, calls, then the ends (prunes by seq range, memory). */
  private apply(agent: string, batch: JournalBatch): void {
    let id = this.ids.get(agent);
    if (id === undefined) id = this.idOf(agent);
    if (id === undefined) {
      id = Number(this.insertAgent.run(agent, batch.nextSeq, batch.position ?? null).lastInsertRowid);
      this.ids.set(agent, id);
    } else if (batch.nextSeq !== this.heads.get(id) || batch.position !== undefined)
      this.updateAgent.run(batch.nextSeq, batch.position ?? null, id);
    const { inputs, calls, ends } = batch;
    // Rows go in groups of ROWS_PER_STATEMENT per statement (one statement step instead of one per row), the rest one by one.
    const params = this.params;
    let i = 0;
    if (inputs.length >= ROWS_PER_STATEMENT) {
      params.length = ROWS_PER_STATEMENT * 3;
      for (; i + ROWS_PER_STATEMENT <= inputs.length; i += ROWS_PER_STATEMENT) {
        for (let j = 0, k = 0; j < ROWS_PER_STATEMENT; j++, k += 3) {
          const input = inputs[i + j] as JournaledInput;
          params[k] = id;
          params[k + 1] = input.seq;
          params[k + 2] = input.input;
        }
        this.insertInputs.run(params);
      }
    }
    for (; i < inputs.length; i++) {
      const input = inputs[i] as JournaledInput;
      this.insertInput.run(id, input.seq, input.input);
    }
    i = 0;
    if (calls.length >= ROWS_PER_STATEMENT) {
      params.length = ROWS_PER_STATEMENT * 6;
      for (; i + ROWS_PER_STATEMENT <= calls.length; i += ROWS_PER_STATEMENT) {
        for (let j = 0, k = 0; j < ROWS_PER_STATEMENT; j++, k += 6) {
          const call = calls[i + j] as JournaledCall;
          params[k] = id;
          params[k + 1] = call.seq;
          params[k + 2] = call.id;
          params[k + 3] = call.fingerprint;
          params[k + 4] = call.state;
          params[k + 5] = call.value;
        }
        this.upsertCalls.run(params);
      }
    }
    for (; i < calls.length; i++) {
      const call = calls[i] as JournaledCall;
      this.upsertCall.run(id, call.seq, call.id, call.fingerprint, call.state, call.value);
    }
    if (ends.length > 0) {
      const pruned: number[] = [];
      let m = 0;
      const flushMemory = (): void => {
        if (m === ROWS_PER_STATEMENT * 3) this.upsertMemories.run(params);
        else for (let k = 0; k < m; k += 3) this.upsertMemory.run(params[k], params[k + 1], params[k + 2]);
        m = 0;
      };
      params.length = ROWS_PER_STATEMENT * 3;
      for (let i = 0; i < ends.length; i++) {
        const end = ends[i] as RunEnd;
        if (end.prune) pruned.push(end.seq);
        if (end.memory === null) {
          if (m > 0) flushMemory();
          this.deleteMemory.run(id, end.key);
        } else if (end.memory !== undefined) {
          params[m] = id;
          params[m + 1] = end.key;
          params[m + 2] = end.memory;
          m += 3;
          if (m === ROWS_PER_STATEMENT * 3) flushMemory();
        }
      }
      if (m > 0) flushMemory();
      // Runs end in roughly sequence order: consecutive sequence numbers are pruned by one range delete (input and calls alike).
      pruned.sort((a, b) => a - b);
      for (let i = 0; i < pruned.length;) {
        let j = i;
        while (j + 1 < pruned.length && (pruned[j + 1] as number) === (pruned[j] as number) + 1) j++;
        this.deleteRuns.run(id, pruned[i], pruned[j]);
        i = j + 1;
      }
    }
    this.heads.set(id, batch.nextSeq);
  }

  /** The id of `agent` if it has a row (remembered, with its head), else `undefined`. */
  private idOf(agent: string): number | undefined {
    const row = this.selectAgent.get(agent) as { id: number; next_seq: number } | undefined;
    if (row === undefined) return undefined;
    this.ids.set(agent, row.id);
    this.heads.set(row.id, row.next_seq);
    return row.id;
  }

  /** Takes `agent`'s writer lock across processes (see {@link SqliteAgentLock}); throws {@link StoreUnavailableError} while another writer holds it. */
  acquire(agent: string): void {
    this.open();
    if (this.locks.has(agent))
      throw new StoreUnavailableError(
        `The journal of agent \`${agent}\` in \`${this.location}\` is already locked by this store; one journal has one writer.`,
      );
    if (this.location === ':memory:') return void this.locks.set(agent, null);
    const lock = SqliteAgentLock.acquire(
      this.Database,
      this.location,
      agent,
      () =>
        this.db.prepare('SELECT pid, host, since FROM owners WHERE agent = ?').get(agent) as
          { pid: number; host: string; since: string } | undefined,
    );
    this.locks.set(agent, lock);
    const { pid, host, since } = currentOwner();
    this.db
      .prepare('INSERT OR REPLACE INTO owners (agent, pid, host, since) VALUES (?, ?, ?, ?)')
      .run(agent, pid, host, since);
  }

  /** Releases `agent`'s writer lock (a no-op if this store does not hold it). */
  release(agent: string): void {
    const lock = this.locks.get(agent);
    if (lock === undefined) return;
    this.locks.delete(agent);
    if (this.locks.size === 0) this.checkpointer?.idle(); // no journal left: no thread either (S9)
    if (lock === null) return;
    if (!this.closed) this.db.prepare('DELETE FROM owners WHERE agent = ? AND pid = ?').run(agent, process.pid);
    lock.release();
  }

  load(agent: string): JournalSnapshot {
    this.open();
    try {
      return this.read(agent);
    } catch (cause) {
      throw openError(this.location, cause); // e.g. a table dropped while the file was open, a lock held past busyTimeout
    }
  }

  private read(agent: string): JournalSnapshot {
    const head = this.selectAgent.get(agent) as { id: number; next_seq: number; position: string | null } | undefined;
    if (head === undefined) return { nextSeq: 0, position: undefined, inputs: [], calls: [], memory: [] };
    this.ids.set(agent, head.id);
    this.heads.set(head.id, head.next_seq);
    const inputs = this.db
      .prepare("SELECT seq, value AS input FROM journal WHERE agent_id = ? AND call = '' ORDER BY seq")
      .all(head.id) as JournaledInput[];
    const calls = this.db
      .prepare("SELECT seq, call AS id, fingerprint, state, value FROM journal WHERE agent_id = ? AND call <> ''")
      .all(head.id) as JournaledCall[];
    const memory = this.db.prepare('SELECT key, data FROM key_memory WHERE agent_id = ?').all(head.id) as {
      key: string;
      data: string;
    }[];
    return { nextSeq: head.next_seq, position: head.position ?? undefined, inputs, calls, memory };
  }

  commit(agent: string, batch: JournalBatch): void {
    this.open();
    this.applyBatch(agent, batch);
    this.checkpointer?.committed();
  }

  checkpoints(): CheckpointCounts {
    return this.checkpointer?.counts() ?? { mode: 'inline', threads: 0, byWorker: 0, byWriter: 0 };
  }

  size(agent: string): { inputs: number; calls: number; keys: number } {
    this.open();
    const id = this.ids.get(agent) ?? this.idOf(agent);
    if (id === undefined) return { inputs: 0, calls: 0, keys: 0 };
    const count = (sql: string): number => (this.db.prepare(sql).get(id) as { n: number }).n;
    return {
      inputs: count("SELECT count(*) AS n FROM journal WHERE agent_id = ? AND call = ''"),
      calls: count("SELECT count(*) AS n FROM journal WHERE agent_id = ? AND call <> ''"),
      keys: count('SELECT count(*) AS n FROM key_memory WHERE agent_id = ?'),
    };
  }

  close(): void {
    if (this.closed) return;
    for (const agent of [...this.locks.keys()]) this.release(agent);
    this.closed = true;
    const checkpointer = this.checkpointer;
    if (checkpointer !== null) {
      // The worker's connection first, so this close is the file's last: it checkpoints and removes the WAL.
      checkpointer.close();
      try {
        this.db.pragma('busy_timeout = 0'); // a reader still in a transaction is not waited for: the WAL then stays
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // the close below checkpoints what it can
      }
    }
    this.db.close();
  }

  private open(): void {
    if (this.closed)
      throw new StoreUnavailableError(
        `The sqliteStore at \`${this.location}\` was closed; create a new one with sqliteStore(path).`,
      );
  }
}
