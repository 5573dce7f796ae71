import type { Call } from '../context/call';
import type { RunnerContext } from '../context/runner-context';
import { Activation, type ActivationHost } from './activation';
import { AbortedError } from '../errors';
import { AsyncCall } from './async-call';
export { MappedResult, SKIP } from './async-call';
// Extensions anchor their own per-call classes too (see shape-anchor.ts for why).
export { anchorShape } from './anchor-shape';
import type { ExtensionEvent } from './lifecycle';
import { anchorShape } from './anchor-shape';

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

/** The chunks' class: the brand lives on its prototype, so a chunk costs one small object (the streaming hot path). */
class Chunk implements StreamChunk {
  readonly kind = 'chunk' as const;
  constructor(
    readonly key: unknown,
    readonly run: number,
    readonly source: string,
    readonly index: number,
    readonly chunk: unknown,
  ) {}
}
Object.defineProperty(Chunk.prototype, CHUNK, { value: true });

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
  /** S11: the operator's scheduler is virtual time (a TestScheduler): a block must not return a Promise. */
  readonly virtualTime: boolean;
  /**
   * The run's `AbortSignal`, made on first read (an AbortController per run costs more than the
   * rest of a small call); read after the run ended, an aborted signal.
   */
  readonly signal: AbortSignal;
  /**
   * S16: sends a chunk downstream now, in order with the run's outputs. Ignored once the run
   * ended (nothing of run n reaches the sink after run n + 1 started). Never journaled.
   */
  chunk(source: string, index: number, chunk: unknown): void;
  /** Reports an extension lifecycle event (time, key, run and activation are filled in). */
  report(event: ExtensionReport): void;
  /** Calls `listener` when `call` settles (at once if it has), before the runtime reports `async.completed` when it can. */
  whenSettled<T>(call: Call<T>, listener: (outcome: SettledCall<T>) => void): void;
}

/** An extension event as the agent layer reports it: the channel adds the activation. */
export type ExtensionReport = ExtensionEvent extends infer E
  ? E extends ExtensionEvent
    ? Omit<E, 'activation'>
    : never
  : never;

/** The outcome of a settled call, as {@link RunChannel.whenSettled} reports it. */
export interface SettledCall<T> {
  readonly id: string;
  readonly ok: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
  /** The outcome came from the journal (S13): the block did not run. */
  readonly replayed: boolean;
}

/** The channel of the run that `ctx` belongs to; `undefined` for a context not made by the runtime (a test double). */
export function runChannel(ctx: RunnerContext): RunChannel | undefined {
  return ctx instanceof Activation ? new Channel(ctx) : undefined;
}

/**
 * What kind of context `ctx` is, without making a channel: `'quiet'` — the runtime's, and nobody
 * listens to lifecycle events (an extension's plain path: no reports to build, and its blocks may
 * return a {@link MappedResult}); `'inspected'` — the runtime's, with listeners; `undefined` — not
 * the runtime's (a test double, another runtime's context).
 *
 * @example
 * if (runContext(ctx) === 'quiet') return ctx.executeAsync(block, name, request);
 */
export function runContext(ctx: RunnerContext): 'quiet' | 'inspected' | undefined {
  if (!(ctx instanceof Activation)) return undefined;
  return ctx.runHost.inspection.on ? 'inspected' : 'quiet';
}

/** A class, not an object literal with closures: one small allocation per model or tool turn (the per-call path). */
class Channel implements RunChannel {
  private readonly run: ActivationHost;
  constructor(private readonly activation: Activation) {
    this.run = activation.runHost;
  }
  get inspecting(): boolean {
    return this.run.inspection.on;
  }
  now(): number {
    return this.run.scheduler.now();
  }
  get virtualTime(): boolean {
    return this.run.virtualTime;
  }
  get signal(): AbortSignal {
    // A run that ended without ever making its signal must not make a live one now: a call still reading it was abandoned.
    return this.run.ended ? AbortSignal.abort(new AbortedError('the run has ended')) : this.run.signal;
  }
  chunk(source: string, index: number, chunk: unknown): void {
    const run = this.run;
    if (!run.ended) run.stream(new Chunk(run.key, run.seq, source, index, chunk));
  }
  report(event: ExtensionReport): void {
    const run = this.run;
    if (!run.ended)
      run.inspection.extension(run.key, run.seq, { ...event, activation: this.activation.id } as ExtensionEvent);
  }
  whenSettled<T>(call: Call<T>, listener: (outcome: SettledCall<T>) => void): void {
    if (!(call instanceof AsyncCall)) return;
    (call as AsyncCall<T>).onSettled((c) =>
      listener({ id: c.id, ok: c.fulfilled, value: c.value as T | undefined, error: c.error, replayed: c.replayed }),
    );
  }
}

// One per model or tool turn: a dormant one keeps its class's maps across idle gaps (shape-anchor.ts).
anchorShape(new Channel({ runHost: null } as never));
