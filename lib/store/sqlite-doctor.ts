import { StoreUnavailableError } from '../errors';
import { openReadOnly, readStore, type StoredOwner, type StoreState } from './sqlite-reader';
import { SqliteAgentLock } from './sqlite-lock';
import { loadDriver, SQLITE_APPLICATION_ID } from './sqlite-store';
import { MIGRATABLE_VERSION } from './sqlite-schema';

/** What recovery will do for one agent when its next subscription starts on this file. */
export interface RecoveryPlan {
  readonly agent: string;
  /** Is a writer running now? `held`: the agent's lock file is locked by a live process. */
  readonly lock: 'free' | 'held';
  /** The owner the file records (a crashed owner's row stays until the next writer replaces it). */
  readonly owner: StoredOwner | undefined;
  /** Unfinished runs that will start again first, in this order. */
  readonly replay: readonly number[];
  /** Journaled outcomes that will replay instead of running their blocks. */
  readonly recordedCalls: number;
  /** Calls in doubt: reconciled if the call has a reconciler (else run again). */
  readonly inDoubt: readonly string[];
  readonly nextSeq: number;
  /** The source position to resume after, if recorded. */
  readonly position: unknown;
}

/** The result of {@link diagnoseStore}. `ok` is false when the file cannot be used as it is. */
export interface StoreDiagnosis {
  readonly location: string;
  readonly ok: boolean;
  /** `PRAGMA integrity_check`: `['ok']`, or SQLite's findings. */
  readonly integrity: readonly string[];
  readonly applicationId: number | undefined;
  readonly schemaVersion: number | undefined;
  /**
   * The file has schema version 1 (written by an older rx-agents): it reads as it is, and the next
   * writer (`sqliteStore`, `repairStore`) migrates it to version 2 in one transaction when it opens it.
   */
  readonly migrationPending: boolean;
  readonly journalMode: string | undefined;
  /** Why the file cannot be used (a damaged page, a foreign file, another schema version), if it cannot. */
  readonly problem: { readonly code: string; readonly message: string } | undefined;
  readonly agents: readonly RecoveryPlan[];
  /** The full state, when the file is readable. */
  readonly state: StoreState | undefined;
}

/**
 * Checks an rx-agents SQLite store the way an operator would before restarting a deployment: a
 * full `PRAGMA integrity_check`, application id and schema version, who holds each agent's writer
 * lock, and what recovery will do (runs to replay, outcomes to replay, calls in doubt).
 *
 * Semantics: read-only except for the lock probe, which takes each agent's lock file for an instant
 * (the same lock a subscription takes) to tell a live writer from a crashed one — a writer
 * subscribing in that same instant is refused with `StoreUnavailableError` and must be retried.
 * A missing file throws `StoreNotFoundError`; every other problem is reported in the result
 * (`ok: false`, `problem`) rather than thrown, so a damaged file still gets a diagnosis.
 *
 * @example
 * const d = diagnoseStore('agents.db');
 * if (!d.ok) console.error(d.problem?.message);
 * for (const a of d.agents) console.log(a.agent, a.lock, `${a.replay.length} runs to replay`);
 */
export function diagnoseStore(path: string): StoreDiagnosis {
  const db = openReadOnly(path);
  let integrity: string[];
  let applicationId: number | undefined;
  let schemaVersion: number | undefined;
  let journalMode: string | undefined;
  try {
    try {
      applicationId = db.pragma('application_id', { simple: true }) as number;
      schemaVersion = db.pragma('user_version', { simple: true }) as number;
      journalMode = db.pragma('journal_mode', { simple: true }) as string;
      integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
    } catch (error) {
      integrity = [`SQLite reports ${(error as { code?: string }).code ?? 'an error'}: ${(error as Error).message}`];
    }
  } finally {
    db.close();
  }
  const migrationPending = applicationId === SQLITE_APPLICATION_ID && schemaVersion === MIGRATABLE_VERSION;
  const base = { location: path, integrity, applicationId, schemaVersion, migrationPending, journalMode };
  if (integrity.length !== 1 || integrity[0] !== 'ok') {
    const notSqlite = integrity.some((line) => line.includes('SQLITE_NOTADB'));
    return {
      ...base,
      ok: false,
      problem: notSqlite
        ? {
            code: 'ERR_STORE_FOREIGN',
            message: 'It is not a SQLite database, so not an rx-agents store. Check the path.',
          }
        : {
            code: 'ERR_STORE_CORRUPT',
            message: `The file is damaged (integrity check: ${integrity.slice(0, 5).join('; ')}). Restore it from a backup; recovery cannot use it as it is.`,
          },
      agents: [],
      state: undefined,
    };
  }
  let state: StoreState;
  try {
    state = readStore(path);
  } catch (error) {
    const e = error as { code?: string; message: string };
    return {
      ...base,
      ok: false,
      problem: { code: e.code ?? 'ERR_STORE_CORRUPT', message: e.message },
      agents: [],
      state: undefined,
    };
  }
  const Database = loadDriver('diagnoseStore');
  const agents = state.agents.map((a): RecoveryPlan => {
    const calls = a.runs.flatMap((r) => r.calls);
    return {
      agent: a.agent,
      lock: probeLock(Database, path, a.agent),
      owner: a.owner,
      replay: a.runs.map((r) => r.seq),
      recordedCalls: calls.filter((c) => c.state !== 'in-doubt').length,
      inDoubt: a.inDoubt.map((c) => c.id),
      nextSeq: a.nextSeq,
      position: a.position,
    };
  });
  return { ...base, ok: true, problem: undefined, agents, state };
}

/** Takes and at once releases the agent's writer lock: `held` while a live process writes the journal. */
function probeLock(Database: ReturnType<typeof loadDriver>, path: string, agent: string): 'free' | 'held' {
  try {
    SqliteAgentLock.acquire(Database, path, agent, () => undefined).release();
    return 'free';
  } catch (error) {
    if (
      error instanceof StoreUnavailableError &&
      (error.cause as { code?: string } | undefined)?.code === 'SQLITE_BUSY'
    )
      return 'held';
    throw error;
  }
}
