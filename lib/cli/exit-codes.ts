import { RxAgentsError } from '../errors';

/**
 * Exit codes of the `rx-agents` command, stable for scripts: 0 success; 1 an unexpected error; 2 bad
 * arguments; 3 the file does not exist; 4 it is not an rx-agents store (not SQLite, another
 * application's database) or not an event log; 5 it is damaged; 6 another schema version; 7 a live
 * writer holds the journal (a repair was refused); 8 the repair's target is not in the journal.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  missing: 3,
  foreign: 4,
  damaged: 5,
  version: 6,
  locked: 7,
  repairTarget: 8,
} as const;

/** A command-line usage error (exit code 2): the message says what is wrong and shows the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The exit code for an error a command failed with. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (!(error instanceof RxAgentsError)) return EXIT.failed;
  switch (error.code) {
    case 'ERR_STORE_NOT_FOUND':
    case 'ERR_FILE_NOT_FOUND':
      return EXIT.missing;
    case 'ERR_STORE_FOREIGN':
    case 'ERR_NOT_EVENT_LOG':
      return EXIT.foreign;
    case 'ERR_STORE_CORRUPT':
      // A file that is not SQLite at all is foreign; a SQLite file that fails its checks is damaged.
      return (error.cause as { code?: string } | undefined)?.code === 'SQLITE_NOTADB' ? EXIT.foreign : EXIT.damaged;
    case 'ERR_STORE_VERSION':
      return EXIT.version;
    case 'ERR_STORE_UNAVAILABLE':
      return EXIT.locked;
    case 'ERR_REPAIR_NOT_FOUND':
    case 'ERR_REPAIR_STATE':
      return EXIT.repairTarget;
    default:
      return EXIT.failed;
  }
}
