import type BetterSqlite3 from 'better-sqlite3';
import type { Worker as WorkerThread } from 'node:worker_threads';
import { StoreCheckpointError } from '../errors';
import type { CheckpointCounts } from './checkpoint-counts';
import { CHECKPOINTER_SCRIPT } from './wal-checkpointer-script';

// Node built-ins through process.getBuiltinModule, not imports (see sqlite-store.ts).
const { Worker } = process.getBuiltinModule('node:worker_threads');
const { openSync, readSync, closeSync } = process.getBuiltinModule('node:fs');
const { endianness } = process.getBuiltinModule('node:os');

/**
 * WAL frames (pages) not yet copied into the file at which the worker is asked for a checkpoint
 * (and started, the first time): SQLite's own `wal_autocheckpoint` default.
 */
export const CHECKPOINT_PAGES = 1000;

/**
 * The hard bound on the WAL, in frames: when the WAL holds this many, the writer checkpoints itself
 * (`PASSIVE`, see {@link WalCheckpointer}).
 * About 40 MB with 4 KiB pages.
 */
export const WAL_LIMIT_PAGES = 10_000;

/** How long {@link WalCheckpointer.close} waits for the worker to close its connection (ms). */
const CLOSE_WAIT_MS = 5000;

/** One worker thread with its own connection to the file. */
interface Thread {
  readonly worker: WorkerThread;
  /** Shared memory: element 0 becomes 1 once the worker's connection is closed. */
  readonly closed: Int32Array;
  /** A checkpoint was asked for and has not answered yet. */
  busy: boolean;
  /** Asked to close (its answers are ignored from then on). */
  stopping: boolean;
}

/** A reply of the worker script (see `wal-checkpointer-script.ts`). */
type Reply =
  | { readonly kind: 'done'; readonly busy: number; readonly log: number; readonly checkpointed: number }
  | {
      readonly kind: 'error';
      readonly stage: string;
      readonly name: string;
      readonly message: string;
      readonly code: string | undefined;
    };

/**
 * What the checkpointer needs to open its own connection.
 * @internal not in the published types (like the class, it names better-sqlite3's types).
 */
export interface CheckpointerOptions {
  /** The resolved path of `better-sqlite3` (the worker loads the same driver). */
  readonly driver: string;
  readonly synchronous: 'NORMAL' | 'FULL';
  readonly busyTimeout: number;
  readonly onError: (error: StoreCheckpointError) => void;
  /** Frames waiting at which the worker is asked (a spec lowers it). @default {@link CHECKPOINT_PAGES} */
  readonly checkpointPages?: number;
  /** The hard bound (a spec lowers it). @default {@link WAL_LIMIT_PAGES} */
  readonly limitPages?: number;
}

/**
 * Moves SQLite's WAL checkpoints off the writer's thread (`sqliteStore`'s `checkpoint: 'worker'`).
 * The writer runs with `wal_autocheckpoint = 0`, so no commit copies the WAL into the file any more
 * (that copy, with its two fsyncs, made one acknowledged commit per ~1000 pages take 19–24 ms).
 *
 * Semantics:
 * - After each commit ({@link committed}) the writer reads the WAL's frame count and how many of
 *   them are already copied, from the header of the WAL index (the `-shm` file, format
 *   https://www.sqlite.org/walformat.html: one `pread` of 136 bytes). When
 *   {@link CHECKPOINT_PAGES} frames wait, a worker thread with its own connection to the file is
 *   asked for a `PASSIVE` checkpoint; the thread is started then, the first time. `PASSIVE` takes
 *   neither the writer's lock nor waits for anyone, so commits go on meanwhile.
 * - Hard bound: a checkpoint from another connection cannot start the WAL over while commits keep
 *   arriving (SQLite restarts it only at a write that finds every frame copied), so under sustained
 *   load the WAL keeps growing. At {@link WAL_LIMIT_PAGES} frames the writer checkpoints itself,
 *   `PASSIVE` like SQLite's own auto-checkpoint: it never waits for another connection
 *   (`RESTART`/`TRUNCATE` would wait, on the event loop, for readers such as a `sqlite3` shell, and
 *   for the writer lock), and because the writer appends nothing while it runs, it copies
 *   everything left — little, since the worker copied the rest — and the next commit starts the
 *   WAL from its beginning. If the worker holds the checkpoint lock at that moment, `PASSIVE`
 *   returns at once and the writer tries again at its next commit (so the WAL stays below the bound
 *   plus what is committed during one worker checkpoint); if a reader keeps it from finishing, it
 *   tries again {@link CHECKPOINT_PAGES} frames later (SQLite cannot restart a WAL a reader still
 *   uses, whoever checkpoints).
 * - Lifecycle: {@link idle} (no journal uses the store) stops the thread; {@link close} closes the
 *   worker's connection first and waits for it, so the writer's own close is the last one, which
 *   checkpoints and removes the WAL. Threads are `unref`'d: they never keep a process alive.
 * - Failures (the thread cannot start, cannot open the file, a checkpoint throws, the thread dies,
 *   the WAL index cannot be read) become one {@link StoreCheckpointError} for `onError`, never an
 *   unhandled error, and the writer goes back to SQLite's own checkpoints
 *   (`wal_autocheckpoint = 1000`). Durability is the same either way: every commit is in the WAL.
 *
 * @example
 * db.pragma('wal_autocheckpoint = 0');
 * const checkpointer = new WalCheckpointer(db, 'agents.db', { driver, synchronous: 'NORMAL', busyTimeout: 5000, onError });
 * // after every commit: checkpointer.committed();   at close: checkpointer.close(); db.close();
 *
 * @internal used by `sqliteStore`; not in the published types (it takes a better-sqlite3 connection).
 */
export class WalCheckpointer {
  private thread: Thread | null = null;
  private readonly stopping = new Set<Thread>();
  private failed = false;
  private closed = false;
  /** The `-shm` file, opened at the first commit (`-1`: cannot be read). */
  private shm: number | undefined;
  private readonly header = Buffer.alloc(136);
  private readonly littleEndian = endianness() === 'LE';
  /** A writer checkpoint that could not finish is tried again from this frame count on. */
  private retryAt = 0;
  private threads = 0;
  private byWorker = 0;
  private byWriter = 0;
  private readonly checkpointPages: number;
  private readonly limitPages: number;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly path: string,
    private readonly options: CheckpointerOptions,
  ) {
    this.checkpointPages = options.checkpointPages ?? CHECKPOINT_PAGES;
    this.limitPages = options.limitPages ?? WAL_LIMIT_PAGES;
  }

  /** The counts so far (see {@link CheckpointCounts}). */
  counts(): CheckpointCounts {
    return {
      mode: this.failed ? 'inline' : 'worker',
      threads: this.threads,
      byWorker: this.byWorker,
      byWriter: this.byWriter,
    };
  }

  /** A commit of the writer returned: asks for a checkpoint when enough frames wait (see the class). */
  committed(): void {
    if (this.failed || this.closed) return;
    const header = this.readHeader();
    if (header === undefined) return this.fail('the WAL index (`-shm` file) cannot be read', undefined);
    const frames = this.u32(16); // mxFrame: frames in the WAL
    const copied = this.u32(96); // nBackfill: of them copied into the file
    if (frames >= this.limitPages && frames >= this.retryAt) return this.checkpointHere(frames);
    const thread = this.thread;
    if (frames - copied >= this.checkpointPages && (thread === null || !thread.busy)) {
      const worker = thread ?? this.start();
      if (worker !== null) this.request(worker);
    }
  }

  /** No journal uses the store: the thread is stopped (started again when the WAL grows). */
  idle(): void {
    if (this.thread !== null) this.stop(this.thread);
  }

  /**
   * Before the writer closes: closes the worker's connection and waits (blocking, at most 5 s)
   * until it is closed, so the writer's close is the file's last one; the threads end.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.thread !== null) this.stop(this.thread);
    for (const thread of this.stopping) {
      Atomics.wait(thread.closed, 0, 0, CLOSE_WAIT_MS);
      void thread.worker.terminate().catch(() => undefined);
    }
    this.stopping.clear();
    if (this.shm !== undefined && this.shm >= 0) closeSync(this.shm);
    this.shm = -1;
  }

  private readHeader(): Buffer | undefined {
    try {
      if (this.shm === undefined) this.shm = openSync(`${this.path}-shm`, 'r');
      if (this.shm < 0 || readSync(this.shm, this.header, 0, 136, 0) < 136) return undefined;
    } catch {
      return undefined;
    }
    // iVersion 3007000 and isInit: a WAL index this code knows how to read.
    return this.u32(0) === 3007000 && this.header[12] === 1 ? this.header : undefined;
  }

  /** A 32-bit field of the WAL index header (native byte order). */
  private u32(offset: number): number {
    return this.littleEndian ? this.header.readUInt32LE(offset) : this.header.readUInt32BE(offset);
  }

  /** The hard bound: the writer's own PASSIVE checkpoint (see the class for why PASSIVE). */
  private checkpointHere(frames: number): void {
    let row: { busy: number; log: number; checkpointed: number };
    try {
      const rows = this.db.pragma('wal_checkpoint(PASSIVE)') as Array<typeof row>;
      row = rows[0] as typeof row;
    } catch (cause) {
      return this.fail('the writer could not checkpoint the WAL', cause);
    }
    if (row.log < 0) return; // the worker holds the checkpoint lock right now: again at the next commit
    this.byWriter++;
    // Everything copied: the next commit starts the WAL over. Else a reader holds old frames: again some frames later.
    this.retryAt = row.checkpointed === row.log ? 0 : frames + this.checkpointPages;
  }

  /** Starts a thread (`null`: it could not start, reported). */
  private start(): Thread | null {
    const closed = new Int32Array(new SharedArrayBuffer(4));
    const { driver, synchronous, busyTimeout } = this.options;
    let worker: WorkerThread;
    try {
      worker = new Worker(CHECKPOINTER_SCRIPT, {
        eval: true,
        // Not the host's flags (a TypeScript loader, profilers): the script is plain JavaScript.
        execArgv: [],
        workerData: { driver, path: this.path, synchronous, timeout: busyTimeout, closed },
      });
    } catch (cause) {
      this.fail('a worker thread could not be started', cause);
      return null;
    }
    worker.unref();
    const thread: Thread = { worker, closed, busy: false, stopping: false };
    worker.on('message', (reply: Reply) => this.onReply(thread, reply));
    worker.on('error', (error: Error) => {
      if (!thread.stopping) this.fail(`its worker thread threw ${error.name}: ${error.message}`, error);
    });
    worker.on('exit', (code: number) => {
      Atomics.store(closed, 0, 1); // nothing to wait for any more
      this.stopping.delete(thread);
      if (thread.stopping) return;
      if (this.thread === thread) this.thread = null;
      this.fail(`its worker thread exited unexpectedly (exit code ${code})`, undefined);
    });
    this.thread = thread;
    this.threads++;
    return thread;
  }

  private request(thread: Thread): void {
    thread.busy = true;
    thread.worker.postMessage('checkpoint');
  }

  private onReply(thread: Thread, reply: Reply): void {
    if (thread.stopping) return;
    thread.busy = false;
    if (reply.kind === 'done') {
      this.byWorker++;
      return;
    }
    const cause = Object.assign(new Error(reply.message), { name: reply.name, code: reply.code });
    const what = reply.stage === 'open' ? 'its worker could not open the file' : `its worker's ${reply.stage} failed`;
    this.fail(`${what} (${reply.name}: ${reply.message})`, cause);
  }

  private stop(thread: Thread): void {
    if (thread.stopping) return;
    thread.stopping = true;
    if (this.thread === thread) this.thread = null;
    this.stopping.add(thread);
    thread.worker.postMessage('close');
  }

  /** Gives up on the worker for good: reports once, and the writer checkpoints as SQLite does by default. */
  private fail(reason: string, cause: unknown): void {
    if (this.failed || this.closed) return;
    this.failed = true;
    if (this.thread !== null) this.stop(this.thread);
    try {
      this.db.pragma(`wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
    } catch {
      // the writer's own commits report a broken connection
    }
    const error = new StoreCheckpointError(this.path, reason, cause === undefined ? undefined : { cause });
    try {
      this.options.onError(error);
    } catch (thrown) {
      process.emitWarning(error);
      process.emitWarning(`onCheckpointError threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
    }
  }
}
