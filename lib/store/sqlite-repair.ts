import { StoreOpenError, StoreRepairError } from '../errors';
import { encodeError, encodeValue } from './codec';
import { openReadOnly, type StoredRepair } from './sqlite-reader';
import { currentOwner, SqliteAgentLock } from './sqlite-lock';
import { loadDriver, migrateFile, verifyStoreFile } from './sqlite-store';
import { CALL_FAILED, CALL_OK, CALL_STARTED } from './store';

/**
 * A repair of a stuck journal. `drop-input`: forget unfinished run `seq` (a poisoned input that
 * fails or hangs every restart) — its input and calls are deleted, so recovery no longer replays
 * it; its key's memory stays as the last finished run left it. `settle-call`: record the outcome of
 * an in-doubt call (its start is journaled, its outcome is not), so recovery replays that outcome
 * instead of reconciling or running the block again.
 */
export type StoreRepair =
  | { readonly op: 'drop-input'; readonly agent: string; readonly seq: number; readonly reason?: string }
  | {
      readonly op: 'settle-call';
      readonly agent: string;
      readonly seq: number;
      readonly call: string;
      /** The outcome, as the block would have returned it (journal-encodable data). */
      readonly value: unknown;
      readonly reason?: string;
    }
  | {
      readonly op: 'settle-call';
      readonly agent: string;
      readonly seq: number;
      readonly call: string;
      /** The outcome, as the block would have thrown it. */
      readonly error: { readonly message: string; readonly name?: string; readonly code?: string };
      readonly reason?: string;
    };

/** The journal of repairs, in the store file itself (added in place; the writer never reads it). */
const REPAIRS =
  'CREATE TABLE IF NOT EXISTS repairs (id INTEGER PRIMARY KEY, at TEXT NOT NULL, agent TEXT NOT NULL, op TEXT NOT NULL, ' +
  'seq INTEGER NOT NULL, call TEXT, detail TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL)';

/**
 * Applies one {@link StoreRepair} to an rx-agents SQLite store, for operators of a stuck deployment.
 *
 * Semantics: only while no writer holds the agent's journal — the repair takes the same
 * cross-process lock a subscription takes (`StoreUnavailableError`, naming the live owner,
 * otherwise), so it can never race a running agent; a crashed writer's lock is free. The target is
 * checked and changed in one transaction together with a row in the file's `repairs` table (what,
 * when, by which pid on which host, and why), which `readStore`, `rx-agents inspect` and
 * `rx-agents doctor` show. A target that does not exist or is not in doubt throws
 * {@link StoreRepairError} and changes nothing. Returns the journaled repair.
 *
 * @example
 * // run 7's input crashes the agent on every restart:
 * repairStore('agents.db', { op: 'drop-input', agent: 'support-desk', seq: 7, reason: 'malformed ticket' });
 * // the payment call of run 9 was charged (checked by hand), record its outcome:
 * repairStore('agents.db', { op: 'settle-call', agent: 'billing', seq: 9, call: '9>charge#0', value: { receipt: 'r-1' } });
 */
export function repairStore(path: string, repair: StoreRepair): StoredRepair {
  checkRepair(repair);
  openReadOnly(path).close(); // a missing file is reported as such, never created
  const Database = loadDriver('repairStore');
  const db = new Database(path, { fileMustExist: true });
  try {
    const kind = verifyStoreFile(db, path);
    if (kind === 'empty')
      throw new StoreOpenError('ERR_STORE_FOREIGN', path, 'it is an empty SQLite file, not an rx-agents store');
    if (kind === 'v1') migrateFile(db, path, Database); // a repair writes, so it migrates like any writer
    const lock = SqliteAgentLock.acquire(Database, path, repair.agent, () => {
      try {
        return db.prepare('SELECT pid, host, since FROM owners WHERE agent = ?').get(repair.agent) as
          { pid: number; host: string; since: string } | undefined;
      } catch {
        return undefined;
      }
    });
    try {
      return db.transaction(() => apply(db, path, repair))();
    } finally {
      lock.release();
    }
  } finally {
    db.close();
  }
}

function apply(db: import('better-sqlite3').Database, path: string, repair: StoreRepair): StoredRepair {
  const { agent, seq } = repair;
  const agentId = (db.prepare('SELECT id FROM agents WHERE agent = ?').get(agent) as { id: number } | undefined)?.id;
  const input = db
    .prepare("SELECT value AS input FROM journal WHERE agent_id = ? AND seq = ? AND call = ''")
    .get(agentId ?? -1, seq) as { input: string } | undefined;
  if (input === undefined)
    throw new StoreRepairError(
      'ERR_REPAIR_NOT_FOUND',
      `Agent \`${agent}\` in \`${path}\` has no unfinished run ${seq} (see \`rx-agents inspect ${path} --agent ${agent}\` for the runs it holds).`,
    );
  let call: string | null = null;
  let detail: string;
  if (repair.op === 'drop-input') {
    // The input row and the call rows of a run share its sequence number in `journal`: one delete.
    const calls = db.prepare('DELETE FROM journal WHERE agent_id = ? AND seq = ?').run(agentId, seq).changes - 1;
    detail = `dropped the input of run ${seq} and its ${calls} journaled call${calls === 1 ? '' : 's'}; input was ${input.input.slice(0, 500)}`;
  } else {
    call = repair.call;
    const row = db
      .prepare("SELECT state FROM journal WHERE agent_id = ? AND seq = ? AND call = ? AND call <> ''")
      .get(agentId, seq, call) as { state: number } | undefined;
    if (row === undefined)
      throw new StoreRepairError(
        'ERR_REPAIR_NOT_FOUND',
        `Run ${seq} of agent \`${agent}\` in \`${path}\` has no journaled call \`${call}\`.`,
      );
    if (row.state !== CALL_STARTED)
      throw new StoreRepairError(
        'ERR_REPAIR_STATE',
        `Call \`${call}\` of run ${seq} (agent \`${agent}\`) is not in doubt: its outcome (${row.state === CALL_OK ? 'ok' : 'failed'}) is already journaled and will replay.`,
      );
    let state: number;
    let value: string;
    if ('error' in repair) {
      const error = Object.assign(
        new Error(repair.error.message),
        repair.error.code ? { code: repair.error.code } : {},
      );
      error.name = repair.error.name ?? 'Error';
      error.stack = `${error.name}: ${error.message}\n    (settled by repairStore)`;
      state = CALL_FAILED;
      value = encodeError(error);
    } else {
      state = CALL_OK;
      value = encodeValue(repair.value, `the value settling call \`${call}\``);
    }
    db.prepare('UPDATE journal SET state = ?, value = ? WHERE agent_id = ? AND seq = ? AND call = ?').run(
      state,
      value,
      agentId,
      seq,
      call,
    );
    detail = `settled in-doubt call ${call} as ${state === CALL_OK ? 'ok' : 'failed'}: ${value.slice(0, 500)}`;
  }
  if (repair.reason !== undefined) detail += ` (reason: ${repair.reason})`;
  db.exec(REPAIRS);
  const { pid, host, since } = currentOwner();
  const id = db
    .prepare('INSERT INTO repairs (at, agent, op, seq, call, detail, pid, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(since, agent, repair.op, seq, call, detail, pid, host).lastInsertRowid;
  return { id: Number(id), at: since, agent, op: repair.op, seq, call, detail, pid, host };
}

function checkRepair(repair: StoreRepair): void {
  if (typeof repair !== 'object' || repair === null)
    throw new TypeError('Expected a repair object such as `{ op: "drop-input", agent, seq }`.');
  if (repair.op !== 'drop-input' && repair.op !== 'settle-call')
    throw new TypeError(
      `Expected \`op\` to be 'drop-input' or 'settle-call', got \`${String((repair as { op?: unknown }).op)}\`.`,
    );
  if (typeof repair.agent !== 'string' || repair.agent === '')
    throw new TypeError(
      `Expected \`agent\` to be the agent's name (a non-empty string), got \`${String(repair.agent)}\`.`,
    );
  if (!Number.isInteger(repair.seq) || repair.seq < 0)
    throw new TypeError(
      `Expected \`seq\` to be a run sequence number (an integer >= 0), got \`${String(repair.seq)}\`.`,
    );
  if (repair.op === 'settle-call') {
    if (typeof repair.call !== 'string' || repair.call === '')
      throw new TypeError(`Expected \`call\` to be a call id such as \`7>charge#0\`, got \`${String(repair.call)}\`.`);
    const hasError = 'error' in repair;
    if (hasError === 'value' in repair)
      throw new TypeError(
        'A settle-call repair needs exactly one of `value` (the call succeeded) or `error` (it failed).',
      );
    if (
      hasError &&
      (typeof repair.error !== 'object' || repair.error === null || typeof repair.error.message !== 'string')
    )
      throw new TypeError('Expected `error` to be `{ message, name?, code? }`.');
  }
}
