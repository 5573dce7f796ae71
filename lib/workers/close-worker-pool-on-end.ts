import { finalize, type MonoTypeOperatorFunction } from 'rxjs';
import type { WorkerPool } from './worker-pool';

/**
 * Ties a worker pool's lifetime to a stream: when the stream completes, errors or is
 * unsubscribed, the pool is closed and its worker threads are terminated.
 *
 * ```
 * outputs:  --a--b--|      pool.close() at | (or at the error, or at unsubscribe)
 * ```
 *
 * Semantics: passes every notification through unchanged. Place it after `agentOperator` so
 * the pool outlives every run that uses it. The pool is closed once; a pool shared by several
 * streams should be closed by its owner instead.
 *
 * @example
 * const pool = createWorkerPool();
 * const hash = pool.fn((s: string) => require('node:crypto').createHash('sha256').update(s).digest('hex'));
 * inputs$.pipe(agentOperator(agent, { key: (x) => x.id }), closeWorkerPoolOnEnd(pool)).subscribe(console.log);
 */
export function closeWorkerPoolOnEnd<T>(pool: WorkerPool): MonoTypeOperatorFunction<T> {
  return finalize(() => void pool.close());
}
