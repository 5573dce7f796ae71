/**
 * `rx-agents/workers`: a worker-thread pool for CPU-bound async blocks. The root entry never
 * loads `node:worker_threads` or `node:vm`; this entry does.
 *
 * @example
 * import { createWorkerPool, closeWorkerPoolOnEnd } from 'rx-agents/workers';
 * const pool = createWorkerPool({ threads: 2 });
 * const score = pool.fn((id: number) => id * 2);
 * inputs$.pipe(agentOperator(agent), closeWorkerPoolOnEnd(pool));
 */
export { createWorkerPool } from './worker-pool';
export type { WorkerPool, WorkerPoolOptions } from './worker-pool';
export type { WorkerFunction } from './worker-function';
export { closeWorkerPoolOnEnd } from './close-worker-pool-on-end';
export {
  WorkerFunctionError,
  WorkerCaptureError,
  WorkerTaskError,
  WorkerCrashedError,
  WorkerPoolClosedError,
} from '../errors';
