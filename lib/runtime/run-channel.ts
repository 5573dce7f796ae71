import type { RunnerContext } from '../agent/runner-context';
import { Activation } from './activation';
import type { ExtensionEvent } from './lifecycle';

const CHUNK = Symbol.for('rx-agents.stream-chunk');

/**
 * A streamed chunk as it goes downstream (S16): not an output, so it is told apart with
 * {@link isStreamChunk} (or `kind === 'chunk'`). `source` names what streamed it (the call id of
 * a model call) and `index` counts its chunks from 0.
 */
export interface StreamChunk<C = unknown> {
  readonly kind: 'chunk';
  readonly key: unknown;
  readonly run: number;
  readonly source: string;
  readonly index: number;
  readonly chunk: C;
}

/** Is `value` a {@link StreamChunk} (and not an output)? */
export function isStreamChunk(value: unknown): value is StreamChunk {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CHUNK] === true;
}

/**
 * What an extension (the agent layer) may do besides the context: stream chunks downstream
 * and report lifecycle events. Safe to use from inside an async block, unlike the context (S5):
 * it touches no memory and routes nothing.
 */
export interface RunChannel {
  /** Someone listens to lifecycle events (build reports only then). */
  readonly inspecting: boolean;
  /** The operator's scheduler clock. */
  now(): number;
  /**
   * S16: sends a chunk downstream now, in order with the run's outputs. Ignored once the run
   * ended (nothing of run n reaches the sink after run n + 1 started). Never journaled.
   */
  chunk(source: string, index: number, chunk: unknown): void;
  /** Reports an extension lifecycle event (time, key and run are filled in). */
  report(event: ExtensionEvent): void;
}

/** The channel of the run that `ctx` belongs to; `undefined` for a context not made by the runtime (a test double). */
export function runChannel(ctx: RunnerContext): RunChannel | undefined {
  if (!(ctx instanceof Activation)) return undefined;
  const run = ctx.agentRun;
  const rt = run.rt;
  return {
    inspecting: rt.inspect !== undefined,
    now: () => rt.scheduler.now(),
    chunk: (source, index, chunk) => {
      if (run.ended || rt.closed) return;
      const value: StreamChunk = { kind: 'chunk', key: run.key, run: run.seq, source, index, chunk };
      Object.defineProperty(value, CHUNK, { value: true });
      rt.streamed(value);
    },
    report: (event) => {
      if (rt.inspect === undefined || run.ended) return;
      rt.emit({ ...event, time: rt.scheduler.now(), key: run.key, run: run.seq } as Parameters<typeof rt.emit>[0]);
    },
  };
}
