import type BetterSqlite3 from 'better-sqlite3';
import { StoreUnavailableError } from '../errors';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { createHash } = process.getBuiltinModule('node:crypto');
const { hostname } = process.getBuiltinModule('node:os');

/**
 * The lock file of `agent`'s journal in the SQLite store at `path`: `<path>.<16 hex digits>.lock`,
 * beside the database (the digits hash the agent name, which may hold any character).
 */
export function sqliteLockPath(path: string, agent: string): string {
  return `${path}.${createHash('sha256').update(agent).digest('hex').slice(0, 16)}.lock`;
}

/** Who holds an agent's lock, as recorded in the store's `owners` table (informational). */
interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/**
 * The cross-process single-writer lock of one agent's journal (S13): an exclusive SQLite
 * transaction held open on the agent's lock file for as long as a subscription writes the journal.
 *
 * Semantics: SQLite locks files with POSIX advisory locks, which the kernel drops when their
 * process dies — so a crashed (SIGKILLed) owner never blocks recovery, and no liveness guess (pid
 * reuse, zombies, clocks) is involved. A second connection, in another process or in this one,
 * fails at once (busy timeout 0) with {@link StoreUnavailableError} naming the recorded owner. The
 * lock file stays on disk when released (deleting it could let two owners lock two different files);
 * it holds no data. Local file systems only, like SQLite's WAL mode itself.
 */
export class SqliteAgentLock {
  private constructor(private readonly conn: BetterSqlite3.Database) {}

  /** Takes the lock or throws {@link StoreUnavailableError}; `owner` reads the recorded owner for the message. */
  static acquire(
    Database: typeof BetterSqlite3,
    path: string,
    agent: string,
    owner: () => Owner | undefined,
  ): SqliteAgentLock {
    const file = sqliteLockPath(path, agent);
    let conn: BetterSqlite3.Database | undefined;
    try {
      conn = new Database(file, { timeout: 0 });
      conn.exec('BEGIN EXCLUSIVE'); // held until release() or the process ends
      return new SqliteAgentLock(conn);
    } catch (cause) {
      conn?.close();
      if ((cause as { code?: string }).code === 'SQLITE_BUSY') {
        const o = owner();
        const who =
          o === undefined
            ? 'another connection'
            : `${o.pid === process.pid && o.host === hostname() ? 'this process' : 'another process'} (pid ${o.pid} on host \`${o.host}\`, since ${o.since})`;
        throw new StoreUnavailableError(
          `The journal of agent \`${agent}\` in \`${path}\` is locked by ${who}; one journal has one writer. ` +
            'Stop that writer first, or give this operator another agent name. A crashed owner does not block: its lock ends with its process.',
          { cause },
        );
      }
      throw new StoreUnavailableError(
        `Could not lock the journal of agent \`${agent}\` in \`${path}\` (lock file \`${file}\`): ${(cause as Error).message}.`,
        { cause },
      );
    }
  }

  /** Lets go of the lock (closing the connection ends its transaction). */
  release(): void {
    if (this.conn.open) this.conn.close();
  }
}

/** This process as a lock owner (the time is wall-clock on purpose: it is for people reading the message or the table). */
export function currentOwner(): Owner {
  return { pid: process.pid, host: hostname(), since: new Date().toISOString() };
}
