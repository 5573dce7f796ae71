import type BetterSqlite3 from 'better-sqlite3';
import { StoreNotFoundError, StoreOpenError } from '../errors';
import type { MemoryValue } from '../context/memory-ref';
import { decodeValue } from './codec';
import { loadDriver, verifyStoreFile } from './sqlite-store';
import { CALL_FAILED, CALL_OK } from './store';

// Node built-ins through process.getBuiltinModule, not imports: an ESM bundle of this CommonJS package cannot require() them (see package.json `engines`).
const { existsSync, statSync } = process.getBuiltinModule('node:fs');

/**
 * What a journaled call looks like from outside (S13): its stable id, the action that made it, and
 * its state — `in-doubt` (only its start is recorded: a call with a reconciler that was running when
 * the writer stopped), `ok` or `failed` (the outcome replays instead of running the block again).
 */
export interface StoredCall {
  /** The run it belongs to. */
  readonly seq: number;
  /** `<activation id>#<call index>`, e.g. `7>score#0`. */
  readonly id: string;
  /** The action that made the call, read from the id. */
  readonly action: string;
  /** Function name, argument count and argument hash: what replay compares. */
  readonly fingerprint: string;
  readonly state: 'in-doubt' | 'ok' | 'failed';
  /** The recorded value (`ok`). */
  readonly value?: unknown;
  /** The recorded error (`failed`), as replay would rethrow it. */
  readonly error?: { readonly name: string; readonly message: string; readonly code?: string };
}

/** An unfinished run: its input is journaled, its run has not ended; recovery replays it. */
export interface StoredRun {
  readonly seq: number;
  /** The decoded input. (The journal does not record keys of inputs: the key selector computes them on replay.) */
  readonly input: unknown;
  /** Its journaled calls, in id order. */
  readonly calls: readonly StoredCall[];
}

/** One key's short-term memory as committed at the end of its last finished run. */
export interface StoredKey {
  readonly key: unknown;
  readonly memory: Readonly<Record<string, MemoryValue>>;
}

/** The writer recorded in the `owners` table (informational: the lock itself is the lock file). */
export interface StoredOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/** A repair applied with {@link repairStore}, as journaled in the `repairs` table. */
export interface StoredRepair {
  readonly id: number;
  readonly at: string;
  readonly agent: string;
  readonly op: 'drop-input' | 'settle-call';
  readonly seq: number;
  readonly call: string | null;
  readonly detail: string;
  readonly pid: number;
  readonly host: string;
}

/** The journal of one agent. */
export interface StoredAgent {
  readonly agent: string;
  /** The run sequence number the next accepted input gets. */
  readonly nextSeq: number;
  /** The decoded source position of the last durably accepted input, if positions are recorded. */
  readonly position: unknown;
  readonly owner: StoredOwner | undefined;
  /** Unfinished runs in sequence order (after a `key` filter: none, since inputs are not keyed in the journal). */
  readonly runs: readonly StoredRun[];
  /** Calls whose start is recorded but not their outcome. */
  readonly inDoubt: readonly StoredCall[];
  /** Keys with short-term memory, in key order. */
  readonly keys: readonly StoredKey[];
  /** Rows and encoded bytes held for this agent. */
  readonly sizes: {
    readonly inputs: number;
    readonly calls: number;
    readonly keys: number;
    readonly bytes: number;
  };
}

/** Everything {@link readStore} found, read in one read transaction (a consistent view beside a live writer). */
export interface StoreState {
  readonly location: string;
  /** The file's schema version: 2, or 1 for a file an older rx-agents wrote (the next writer migrates it to 2). */
  readonly schemaVersion: number;
  /** The file on disk: database and WAL sizes in bytes, SQLite pages. */
  readonly file: {
    readonly bytes: number;
    readonly walBytes: number;
    readonly pageSize: number;
    readonly pages: number;
    readonly freePages: number;
  };
  readonly agents: readonly StoredAgent[];
  readonly repairs: readonly StoredRepair[];
}

/** Options of {@link readStore}. */
export interface ReadStoreOptions {
  /** Only this agent's journal. @default every agent */
  readonly agent?: string;
  /** Only this key's memory (compared like the runtime does, SameValueZero); runs are left out (inputs are not keyed). @default every key */
  readonly key?: unknown;
}

/**
 * Reads an rx-agents SQLite store without running an agent: agents, per-key memory, unfinished
 * runs with their journaled calls, in-doubt calls, sizes and applied repairs.
 *
 * Semantics: the file is opened read-only (SQLite `readonly`, `fileMustExist`), checked like
 * `sqliteStore` checks it (a version-1 file is read as it is: only a writer migrates it), and read in one read transaction, so the view is consistent even while a
 * live writer commits (WAL mode lets readers and one writer work at once). Nothing is written and
 * no lock is taken: a running agent is never slowed or blocked. Values are decoded with the
 * journal's codec; a value that does not decode is shown as `{ $undecodable: text }`, never thrown.
 * Throws {@link StoreNotFoundError} for a missing file, {@link StoreOpenError} (`ERR_STORE_CORRUPT`,
 * `ERR_STORE_FOREIGN`) for a damaged or foreign one, `StoreVersionError` for another schema.
 *
 * @example
 * const state = readStore('agents.db', { agent: 'support-desk' });
 * for (const run of state.agents[0]?.runs ?? []) console.log(run.seq, run.calls.length);
 */
export function readStore(path: string, options: ReadStoreOptions = {}): StoreState {
  const db = openReadOnly(path);
  try {
    verifyStoreFile(db, path);
    return db.transaction(() => readAll(db, path, options))();
  } finally {
    db.close();
  }
}

/**
 * Opens a store file read-only, after checking it exists (SQLite would report a missing read-only
 * file as "unable to open"). Used by the reader and by `diagnoseStore`; the caller closes it.
 *
 * @internal shared by the store reader, doctor and repair; not part of the published types (it takes a better-sqlite3 connection).
 */
export function openReadOnly(path: string): BetterSqlite3.Database {
  if (typeof path !== 'string' || path.length === 0)
    throw new TypeError(`Expected the path of a store file to be a non-empty string, got \`${String(path)}\`.`);
  if (!existsSync(path)) throw new StoreNotFoundError(path);
  const Database = loadDriver('readStore');
  try {
    return new Database(path, { readonly: true, fileMustExist: true });
  } catch (cause) {
    throw new StoreOpenError('ERR_STORE_CORRUPT', path, `SQLite could not open it (${(cause as Error).message})`, {
      cause,
    });
  }
}

function readAll(db: BetterSqlite3.Database, path: string, options: ReadStoreOptions): StoreState {
  const hasTable = (name: string): boolean =>
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  const heads = db.prepare('SELECT agent, next_seq, position FROM agents ORDER BY agent').all() as {
    agent: string;
    next_seq: number;
    position: string | null;
  }[];
  const owners = new Map<string, StoredOwner>();
  if (hasTable('owners'))
    for (const o of db.prepare('SELECT agent, pid, host, since FROM owners').all() as (StoredOwner & {
      agent: string;
    })[])
      owners.set(o.agent, { pid: o.pid, host: o.host, since: o.since });
  const wanted = options.agent;
  const keyFilter = Object.hasOwn(options, 'key');
  const agents: StoredAgent[] = [];
  // Agents that only ever wrote memory (none in practice) still show: take the union of both tables.
  const names = new Set(heads.map((h) => h.agent));
  for (const r of db.prepare('SELECT DISTINCT agent FROM memory').all() as { agent: string }[]) names.add(r.agent);
  for (const agent of [...names].sort()) {
    if (wanted !== undefined && agent !== wanted) continue;
    const head = heads.find((h) => h.agent === agent);
    const inputs = db.prepare('SELECT seq, input FROM inputs WHERE agent = ? ORDER BY seq').all(agent) as {
      seq: number;
      input: string;
    }[];
    const callRows = db
      .prepare('SELECT seq, id, fingerprint, state, value FROM calls WHERE agent = ? ORDER BY seq, id')
      .all(agent) as { seq: number; id: string; fingerprint: string; state: number; value: string | null }[];
    const memoryRows = db.prepare('SELECT key, data FROM memory WHERE agent = ? ORDER BY key').all(agent) as {
      key: string;
      data: string;
    }[];
    let bytes = 0;
    const calls = callRows.map((c) => {
      bytes += c.id.length + c.fingerprint.length + (c.value?.length ?? 0);
      return callOf(c);
    });
    const runs: StoredRun[] = keyFilter
      ? []
      : inputs.map((i) => {
          bytes += i.input.length;
          return { seq: i.seq, input: decoded(i.input), calls: calls.filter((c) => c.seq === i.seq) };
        });
    const keys: StoredKey[] = [];
    for (const m of memoryRows) {
      const key = decodeKey(m.key);
      if (keyFilter && !sameValueZero(key, options.key)) continue;
      bytes += m.key.length + m.data.length;
      keys.push({ key, memory: decoded(m.data) as Record<string, MemoryValue> });
    }
    agents.push({
      agent,
      nextSeq: head?.next_seq ?? 0,
      position: head?.position == null ? undefined : decoded(head.position),
      owner: owners.get(agent),
      runs,
      inDoubt: keyFilter ? [] : calls.filter((c) => c.state === 'in-doubt'),
      keys,
      sizes: { inputs: inputs.length, calls: callRows.length, keys: memoryRows.length, bytes },
    });
  }
  const repairs = hasTable('repairs')
    ? (db
        .prepare('SELECT id, at, agent, op, seq, call, detail, pid, host FROM repairs ORDER BY id')
        .all() as StoredRepair[])
    : [];
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  return {
    location: path,
    schemaVersion: db.pragma('user_version', { simple: true }) as number,
    file: {
      bytes: sizeOf(path),
      walBytes: sizeOf(`${path}-wal`),
      pageSize,
      pages: db.pragma('page_count', { simple: true }) as number,
      freePages: db.pragma('freelist_count', { simple: true }) as number,
    },
    agents,
    repairs: wanted === undefined ? repairs : repairs.filter((r) => r.agent === wanted),
  };
}

function callOf(c: { seq: number; id: string; fingerprint: string; state: number; value: string | null }): StoredCall {
  const base = { seq: c.seq, id: c.id, action: actionOfCall(c.id), fingerprint: c.fingerprint };
  if (c.state === CALL_OK) return { ...base, state: 'ok', value: c.value === null ? undefined : decoded(c.value) };
  if (c.state === CALL_FAILED) {
    const e = c.value === null ? undefined : decodeErrorSafe(c.value);
    return { ...base, state: 'failed', ...(e === undefined ? {} : { error: e }) };
  }
  return { ...base, state: 'in-doubt' };
}

function decodeErrorSafe(text: string): StoredCall['error'] {
  try {
    const e = decodeValue(text);
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) };
    }
    return { name: 'Error', message: String(e) };
  } catch {
    return { name: 'Error', message: `(undecodable: ${text.slice(0, 200)})` };
  }
}

/** Decodes journal text; a value that does not decode (a newer version's tag, damage) is shown, not thrown. */
function decoded(text: string): unknown {
  try {
    return decodeValue(text);
  } catch {
    return { $undecodable: text };
  }
}

/** `<event id>><action>#<index>` → the action name (activation ids end in `><action>`). */
export function actionOfCall(id: string): string {
  const hash = id.lastIndexOf('#');
  const activation = hash < 0 ? id : id.slice(0, hash);
  const arrow = activation.lastIndexOf('>');
  return arrow < 0 ? activation : activation.slice(arrow + 1);
}

/**
 * The inverse of the journal's key encoding (`s<string>`, `n<number>`, `true`, `false`, `null`,
 * `u`): keys come back as the values the key selector returned. The round trip is checked against a
 * real store in spec/store/sqlite-reader.spec.ts.
 */
export function decodeKey(encoded: string): unknown {
  switch (encoded) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'null':
      return null;
    case 'u':
      return undefined;
  }
  if (encoded.startsWith('s')) return encoded.slice(1);
  if (encoded.startsWith('n')) return Number(encoded.slice(1));
  return encoded;
}

function sameValueZero(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b);
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
