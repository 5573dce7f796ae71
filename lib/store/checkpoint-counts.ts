/**
 * Counts of one `sqliteStore`'s WAL checkpoints (`store.checkpoints()`), for diagnostics and
 * benchmarks: which mode is in use (see the `checkpoint` option) and who copied the WAL so far.
 *
 * @example
 * const store = sqliteStore('agents.db', { checkpoint: 'worker' });
 * // … later
 * const { mode, threads, byWorker, byWriter } = store.checkpoints();
 */
export interface CheckpointCounts {
  /** `'worker'` while the background checkpointer is in use; `'inline'` when configured so, or after it failed. */
  readonly mode: 'worker' | 'inline';
  /** Worker threads started (lazily: one when the WAL first passes 1000 pages, again after an idle stop). */
  readonly threads: number;
  /** Checkpoints the worker made. */
  readonly byWorker: number;
  /** Checkpoints the writer made itself at the hard bound (10,000 pages). */
  readonly byWriter: number;
}
