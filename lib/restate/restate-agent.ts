import { asyncScheduler, isObservable, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { Agent } from '../agent/define-agent';
import { BufferOverflowError, CallbackError, RxAgentsError, optionError } from '../errors';
import { RUN_HANDLER } from './agent-object';
import type { Signal } from '../events/signal';
import { SignalRejectedError } from '../runtime/wait-errors';
import { RestateSerializationError } from './errors';
import { sendSignal } from './send-signal';
import type { StoredSignal } from './signals-object';
import { IngressClient, type IngressRequest, type RetryOptions } from './ingress-client';
import { NOW_HEADER, journalable, type RestateRunResult } from './restate-run';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { randomUUID } = process.getBuiltinModule('node:crypto');

/** Names a Restate agent service from the client side, carrying its input and output types. */
export interface RestateServiceRef<In = unknown, Out = unknown> {
  readonly name: string;
  /** Type carrier only (never set). */
  readonly __types?: { readonly input: In; readonly output: Out };
}

/** A reference to the agent service `name`, for clients that do not import the agent itself. */
export function restateService<In, Out>(name: string): RestateServiceRef<In, Out> {
  if (typeof name !== 'string' || name.length === 0) throw optionError('name', 'a non-empty service name', name);
  return { name };
}

/** One output with where it came from (`output: 'envelope'`). */
export interface RestateAgentOutput<Out = unknown> {
  readonly key: string;
  readonly run: number;
  /** The OutputEvent's deterministic id (the same on a replay). */
  readonly id: string;
  readonly payload: Out;
}

/** A run that failed under `errorPolicy: 'isolate'`. */
export interface RestateRunFailure<In = unknown> {
  readonly key: string;
  readonly input: In;
  readonly error: RxAgentsError;
}

/** Options of {@link restateAgent}. */
export interface RestateAgentOptions<In> {
  /** The Restate ingress URL, e.g. `http://127.0.0.1:8080`. */
  readonly ingress: string;
  /**
   * The key of an input (the virtual-object key; its runs are serial; `ctx.key` on the server is it
   * as a string). @default the agent's `key` (`defineAgent({ key })`), else every input has the key `'default'`
   */
  readonly key?: (input: In) => string | number;
  /**
   * The idempotency key of an input: Restate runs an input with a given key at most once (for the
   * idempotency retention, 1 day by default), so a resend after a network error, or after the client
   * restarted, never runs twice. Give a stable one (e.g. from the input's id) to dedupe across client restarts.
   * @default a random id per subscription plus the input's position
   */
  readonly idempotencyKey?: (input: In, index: number) => string;
  /** Inputs sent and not yet answered, across all keys (the HTTP requests in flight). @default 64 */
  readonly maxInFlight?: number;
  /** Inputs waiting to be sent (behind maxInFlight or their key's previous send). Past it the stream fails with BufferOverflowError. @default Infinity */
  readonly maxBufferedInputs?: number;
  /** Network retries (connection refused or reset, 502/503/504) of each request, with exponential backoff. */
  readonly retry?: RetryOptions;
  /** `fail`: a failed run fails the stream. `isolate`: report it to `onRunFailed` and go on. @default 'fail' */
  readonly errorPolicy?: 'fail' | 'isolate';
  /** Receives each failed run under `errorPolicy: 'isolate'`. @default none */
  readonly onRunFailed?: (failure: RestateRunFailure<In>) => void;
  /** `payload`: emit OutputEvent payloads. `envelope`: emit `{ key, run, id, payload }`. @default 'payload' */
  readonly output?: 'payload' | 'envelope';
  /** The admin API URL: when given, unsubscribing cancels the invocations accepted and not yet answered. @default none */
  readonly admin?: string;
  /** Times the retry backoff. @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
  /**
   * S14: external events for keys (`signal(key, Type.of(payload))`), delivered with
   * {@link sendSignal} to the key's signals object, in order per key. A waiting run takes them;
   * one that arrives before the wait is buffered for it. @default none
   */
  readonly signals?: Observable<Signal>;
  /** Receives signals that were not delivered (invalid, overflow, unconsumed by the run that took them); without it they fail the stream. @default none */
  readonly onSignalRejected?: (error: SignalRejectedError) => void;
  /**
   * S15: what an input does when its key's run is still going: `queue` (wait behind it), `reject`
   * (dropped, `onDropped` reason `rejected`), `latest` (replaces the key's inputs not yet sent, each
   * reported `superseded`), `interrupt` (the running invocation is cancelled through the admin API —
   * needs `admin` — its `ctx.signal` fires, its memory writes are kept, reported `interrupted`).
   * `rollback` is not supported on Restate (`TypeError`). @default 'queue'
   */
  readonly busy?: RestateBusyPolicy;
  /** Receives inputs that did not run because of `busy`, with the reason. @default none */
  readonly onDropped?: (input: In, key: string, reason: RestateDropReason) => void;
}

/** The busy-key policies the client operator applies (S15). */
export type RestateBusyPolicy = 'queue' | 'reject' | 'latest' | 'interrupt';
/** Why an input did not run (or did not finish), reported to `onDropped`. */
export type RestateDropReason = 'rejected' | 'superseded' | 'interrupted';

interface Entry<In> {
  readonly input: In;
  readonly index: number;
  readonly request: IngressRequest;
  result: RestateRunResult | null;
  failed: boolean;
  invocationId: string | null;
  /** A newer input of the key interrupted it (busy: 'interrupt'): its cancellation was asked for. */
  interrupted: boolean;
}

interface KeyLane<In> {
  readonly key: string;
  /** Inputs not yet sent, in arrival order. */
  readonly waiting: Entry<In>[];
  /** Inputs sent, in send order, whose outputs are not yet emitted (S8 per key). */
  readonly emitting: Entry<In>[];
  /** The last send of this key is not yet accepted: the next input waits (S1 from client to ingress). */
  accepting: boolean;
  queued: boolean;
}

/**
 * The client side of an agent running on Restate: an RxJS operator with the shape of
 * `agentOperator` — inputs in, outputs out — so a pipeline moves from embedded to distributed by
 * changing one line:
 *
 * ```ts
 * inputs$.pipe(agentOperator(agent, { key: (x) => x.userId }))
 * inputs$.pipe(restateAgent(agent, { ingress: 'http://127.0.0.1:8080', key: (x) => x.userId }))
 * ```
 *
 * Semantics: each input is sent to the ingress as one invocation of the agent's virtual object for
 * its key, with an idempotency key. Per key, the next input is sent only after the previous one was
 * accepted (Restate then runs them in that order, S1); outputs of one key come out in input order
 * (S8); keys are independent (S2). At most `maxInFlight` inputs are in flight; the rest wait,
 * bounded by `maxBufferedInputs`. Network errors are retried with backoff — safe, since a resend
 * with the same idempotency key is deduplicated and attaching to an invocation is read-only — and
 * surface as `RestateUnreachableError` when retries run out. A service that is not registered gives
 * `RestateNotRegisteredError`, an input Restate cannot serialise `RestateSerializationError`, a run
 * that failed on the service `RestateRunFailedError` (under `errorPolicy: 'fail'`, the stream
 * fails). Unsubscribing aborts the HTTP requests in flight and drops inputs not yet sent; accepted
 * invocations run to their end on the server unless `admin` is given, then they are cancelled.
 * The output completes when the source has completed and every input has been answered.
 *
 * @example
 * const outputs$ = inputs$.pipe(restateAgent(scorer, { ingress: server.ingress, key: (x) => x.userId }));
 */
export function restateAgent<In, Out>(
  target: Agent<In, Out> | RestateServiceRef<In, Out>,
  options: RestateAgentOptions<In> & { readonly output?: 'payload' },
): OperatorFunction<In, Out>;
export function restateAgent<In, Out>(
  target: Agent<In, Out> | RestateServiceRef<In, Out>,
  options: RestateAgentOptions<In> & { readonly output: 'envelope' },
): OperatorFunction<In, RestateAgentOutput<Out>>;
export function restateAgent<In, Out>(
  target: Agent<In, Out> | RestateServiceRef<In, Out>,
  options: RestateAgentOptions<In>,
): OperatorFunction<In, unknown> {
  const settings = resolve(target, options);
  return (source) =>
    new Observable<unknown>((subscriber) => {
      const client = new IngressClient(settings.ingress, settings.retry, settings.scheduler);
      const controller = new AbortController();
      const prefix = randomUUID();
      const lanes = new Map<string, KeyLane<In>>();
      const ready: KeyLane<In>[] = [];
      let buffered = 0;
      let inFlight = 0;
      let count = 0;
      let sourceDone = false;
      let closed = false;
      const accepted = new Set<Entry<In>>();

      const fail = (error: unknown): void => {
        if (closed) return;
        closed = true;
        subscriber.error(error);
      };

      /** Completion rule: the source completed, nothing waits to be sent, nothing is in flight. */
      const maybeComplete = (): void => {
        if (!closed && sourceDone && buffered === 0 && inFlight === 0) {
          closed = true;
          subscriber.complete();
        }
      };

      const markReady = (lane: KeyLane<In>): void => {
        if (!lane.queued && !lane.accepting && lane.waiting.length > 0) {
          lane.queued = true;
          ready.push(lane);
        }
      };

      const pump = (): void => {
        while (!closed && inFlight < settings.maxInFlight && ready.length > 0) {
          const lane = ready.shift() as KeyLane<In>;
          lane.queued = false;
          const entry = lane.waiting.shift();
          if (entry === undefined) continue;
          buffered--;
          lane.accepting = true;
          lane.emitting.push(entry);
          inFlight++;
          void run(lane, entry);
        }
      };

      const run = async (lane: KeyLane<In>, entry: Entry<In>): Promise<void> => {
        try {
          entry.invocationId = await client.send(entry.request, controller.signal);
          accepted.add(entry);
          if (entry.interrupted) void cancel(settings.admin as string, entry.invocationId);
          lane.accepting = false;
          markReady(lane);
          pump();
          entry.result = await client.attach(entry.invocationId, entry.request, controller.signal);
          if (entry.result.unconsumed !== undefined) reportUnconsumed(lane.key, entry.result.unconsumed);
        } catch (error) {
          if (closed) return;
          if (entry.interrupted) {
            entry.failed = true;
            if (!dropped(entry.input, lane.key, 'interrupted')) return;
          } else {
            const isRunFailure = error instanceof RxAgentsError && error.code === 'ERR_RESTATE_RUN_FAILED';
            if (!isRunFailure || settings.errorPolicy === 'fail') return fail(error);
            entry.failed = true;
            try {
              settings.onRunFailed?.({ key: lane.key, input: entry.input, error: error as RxAgentsError });
            } catch (callbackError) {
              return fail(new CallbackError('onRunFailed', callbackError));
            }
          }
        } finally {
          accepted.delete(entry);
        }
        if (closed) return;
        inFlight--;
        emit(lane);
        if (lane.emitting.length === 0 && lane.waiting.length === 0 && !lane.accepting) lanes.delete(lane.key);
        pump();
        maybeComplete();
      };

      /** S8: a key's outputs go out in input order; a later run's answer waits for the earlier ones. */
      const emit = (lane: KeyLane<In>): void => {
        while (!closed && lane.emitting.length > 0) {
          const head = lane.emitting[0] as Entry<In>;
          if (head.result === null && !head.failed) return;
          lane.emitting.shift();
          for (const output of head.result?.outputs ?? []) {
            if (closed) return;
            subscriber.next(
              settings.output === 'envelope'
                ? { key: lane.key, run: head.result?.run ?? 0, id: output.id, payload: output.payload }
                : output.payload,
            );
          }
        }
      };

      const accept = (input: In): void => {
        if (closed) return;
        let key: string;
        try {
          const raw = settings.key(input);
          if (typeof raw !== 'string' && typeof raw !== 'number')
            throw new TypeError(
              `the key selector returned ${typeof raw}; a Restate object key must be a string or a number`,
            );
          key = String(raw);
        } catch (error) {
          return fail(new CallbackError('key', error));
        }
        const index = count++;
        let idempotencyKey: string;
        try {
          idempotencyKey = settings.idempotencyKey?.(input, index) ?? `${prefix}-${index}`;
          if (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0)
            throw new TypeError(`it returned ${String(idempotencyKey)}; return a non-empty string`);
        } catch (error) {
          return fail(new CallbackError('idempotencyKey', error));
        }
        let body: string;
        try {
          body = JSON.stringify(journalable(input, `Input ${index} (key \`${key}\`)`) ?? null);
        } catch (error) {
          if (!(error instanceof RestateSerializationError) || settings.errorPolicy === 'fail') return fail(error);
          try {
            settings.onRunFailed?.({ key, input, error });
          } catch (callbackError) {
            fail(new CallbackError('onRunFailed', callbackError));
          }
          return;
        }
        if (buffered >= settings.maxBufferedInputs) return fail(new BufferOverflowError(settings.maxBufferedInputs));
        let lane = lanes.get(key);
        if (lane === undefined) {
          lane = { key, waiting: [], emitting: [], accepting: false, queued: false };
          lanes.set(key, lane);
        }
        if (!applyBusy(lane, input)) return;
        lane.waiting.push({
          input,
          index,
          request: {
            service: settings.service,
            key,
            handler: RUN_HANDLER,
            idempotencyKey,
            body,
            headers: { [NOW_HEADER]: String(settings.scheduler.now()) },
          },
          result: null,
          failed: false,
          invocationId: null,
          interrupted: false,
        });
        buffered++;
        markReady(lane);
        pump();
      };

      /** Reports an input that did not run; `false` when the callback threw (the stream failed). */
      const dropped = (input: In, key: string, reason: RestateDropReason): boolean => {
        try {
          settings.onDropped?.(input, key, reason);
          return true;
        } catch (callbackError) {
          fail(new CallbackError('onDropped', callbackError));
          return false;
        }
      };

      /** S15 for an input of a busy key; `false`: the input does not run. */
      const applyBusy = (lane: KeyLane<In>, input: In): boolean => {
        const running = lane.emitting.filter((e) => e.result === null && !e.failed && !e.interrupted);
        if (settings.busy === 'queue' || (running.length === 0 && lane.waiting.length === 0)) return true;
        if (settings.busy === 'reject') {
          dropped(input, lane.key, 'rejected');
          return false;
        }
        if (settings.busy === 'latest') {
          for (const superseded of lane.waiting.splice(0)) {
            buffered--;
            if (!dropped(superseded.input, lane.key, 'superseded')) return false;
          }
          return true;
        }
        // interrupt: cancel what runs now (once accepted, if its send is still in flight); the input then runs.
        for (const entry of running) {
          entry.interrupted = true;
          if (entry.invocationId !== null) void cancel(settings.admin as string, entry.invocationId);
        }
        return true;
      };

      /** Signals a run took and no wait consumed: reported like the embedded runtime's ERR_SIGNAL_UNCONSUMED. */
      const reportUnconsumed = (key: string, events: readonly StoredSignal[]): void => {
        for (const event of events)
          signalRejected(
            new SignalRejectedError(
              'ERR_SIGNAL_UNCONSUMED',
              key,
              event.type,
              `A signal of type \`${event.type}\` for key \`${key}\` was taken by a run that ended without a wait consuming it.`,
              event,
            ),
          );
      };

      const signalRejected = (error: SignalRejectedError): void => {
        if (settings.onSignalRejected === undefined) return fail(error);
        try {
          settings.onSignalRejected(error);
        } catch (callbackError) {
          fail(new CallbackError('onSignalRejected', callbackError));
        }
      };

      // S14: signals go to their key's signals object, in order per key.
      const signalChains = new Map<string, Promise<void>>();
      const signalSubscription = settings.signals?.subscribe({
        next: (value: Signal) => {
          if (closed) return;
          const key = typeof value === 'object' && value !== null ? value.key : undefined;
          if (typeof key !== 'string' && typeof key !== 'number')
            return signalRejected(
              new SignalRejectedError(
                'ERR_SIGNAL_SHAPE',
                key,
                undefined,
                'A signal must be `{ key, event }` with a string or number key (use signal(key, Type.of(payload))).',
                value,
              ),
            );
          const k = String(key);
          const next = (signalChains.get(k) ?? Promise.resolve())
            .then(() => sendSignal(settings.ingress, target, k, value.event))
            .catch((error: unknown) => {
              if (closed) return;
              if (error instanceof SignalRejectedError) signalRejected(error);
              else fail(error);
            });
          signalChains.set(k, next);
          void next.then(() => {
            if (signalChains.get(k) === next) signalChains.delete(k);
          });
        },
        error: (error: unknown) => fail(error),
      });

      const subscription = source.subscribe({
        next: accept,
        error: (error: unknown) => fail(error),
        complete: () => {
          sourceDone = true;
          maybeComplete();
        },
      });
      return () => {
        closed = true;
        subscription.unsubscribe();
        signalSubscription?.unsubscribe();
        controller.abort();
        if (settings.admin !== undefined) for (const entry of accepted) void cancel(settings.admin, entry.invocationId);
      };
    });
}

interface Settings<In> {
  readonly service: string;
  readonly ingress: string;
  readonly key: (input: In) => string | number;
  readonly idempotencyKey: ((input: In, index: number) => string) | undefined;
  readonly maxInFlight: number;
  readonly maxBufferedInputs: number;
  readonly retry: RetryOptions;
  readonly errorPolicy: 'fail' | 'isolate';
  readonly onRunFailed: ((failure: RestateRunFailure<In>) => void) | undefined;
  readonly output: 'payload' | 'envelope';
  readonly admin: string | undefined;
  readonly scheduler: SchedulerLike;
  readonly signals: Observable<Signal> | undefined;
  readonly onSignalRejected: ((error: SignalRejectedError) => void) | undefined;
  readonly busy: RestateBusyPolicy;
  readonly onDropped: ((input: In, key: string, reason: RestateDropReason) => void) | undefined;
}

function resolve<In>(
  target: { readonly name: string } | null | undefined,
  options: RestateAgentOptions<In>,
): Settings<In> {
  if (typeof target !== 'object' || target === null || typeof target.name !== 'string' || target.name.length === 0)
    throw optionError('target', 'an agent made by defineAgent or restateService(name)', target);
  if (typeof options !== 'object' || options === null)
    throw optionError('options', 'an object with at least `ingress`', options);
  if (typeof options.ingress !== 'string' || !/^https?:\/\/[^/]+/.test(options.ingress))
    throw optionError('ingress', 'the Restate ingress URL, e.g. "http://127.0.0.1:8080"', options.ingress);
  const maxInFlight = options.maxInFlight ?? 64;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
    throw optionError('maxInFlight', 'an integer >= 1', maxInFlight);
  const maxBufferedInputs = options.maxBufferedInputs ?? Infinity;
  if (!(maxBufferedInputs === Infinity || (Number.isInteger(maxBufferedInputs) && maxBufferedInputs >= 0)))
    throw optionError('maxBufferedInputs', 'an integer >= 0 or Infinity', maxBufferedInputs);
  const retry = options.retry ?? {};
  for (const [name, min] of [
    ['attempts', 1],
    ['initialDelay', 0],
    ['maxDelay', 0],
  ] as const) {
    const value = retry[name];
    if (value !== undefined && (!Number.isFinite(value) || value < min))
      throw optionError(`retry.${name}`, `a number >= ${min}`, value);
  }
  for (const name of ['key', 'idempotencyKey', 'onRunFailed', 'onSignalRejected', 'onDropped'] as const)
    if (options[name] !== undefined && typeof options[name] !== 'function')
      throw optionError(name, 'a function', options[name]);
  const errorPolicy = options.errorPolicy ?? 'fail';
  if (errorPolicy !== 'fail' && errorPolicy !== 'isolate')
    throw optionError('errorPolicy', '"fail" or "isolate"', errorPolicy);
  const output = options.output ?? 'payload';
  if (output !== 'payload' && output !== 'envelope') throw optionError('output', '"payload" or "envelope"', output);
  if (options.admin !== undefined && (typeof options.admin !== 'string' || !/^https?:\/\//.test(options.admin)))
    throw optionError('admin', 'the admin API URL, e.g. "http://127.0.0.1:9070"', options.admin);
  if (options.signals !== undefined && !isObservable(options.signals))
    throw optionError('signals', 'an Observable of signals (a Subject<Signal>)', options.signals);
  const busy = options.busy ?? 'queue';
  if ((busy as string) === 'rollback')
    throw new TypeError(
      "busy: 'rollback' is not supported by restateAgent: Restate keeps an interrupted run's state writes. Use 'interrupt' (memory writes kept) or run the agent with agentOperator.",
    );
  if (!['queue', 'reject', 'latest', 'interrupt'].includes(busy))
    throw optionError('busy', "'queue', 'reject', 'latest' or 'interrupt'", busy);
  if (busy === 'interrupt' && options.admin === undefined)
    throw optionError(
      'admin',
      "the admin API URL (busy: 'interrupt' cancels the running invocation through it)",
      undefined,
    );
  return {
    signals: options.signals,
    onSignalRejected: options.onSignalRejected,
    busy,
    onDropped: options.onDropped,
    service: target.name,
    ingress: options.ingress.replace(/\/$/, ''),
    // The operator's key, else the agent's own (`defineAgent({ key })`), else one key for all inputs.
    key: options.key ?? agentKey(target) ?? (() => 'default'),
    idempotencyKey: options.idempotencyKey,
    maxInFlight,
    maxBufferedInputs,
    retry,
    errorPolicy,
    onRunFailed: options.onRunFailed,
    output,
    admin: options.admin?.replace(/\/$/, ''),
    scheduler: options.scheduler ?? asyncScheduler,
  };
}

/** The key selector the agent was defined with, if the target is an agent (checked per input like the operator's). */
function agentKey<In>(target: { readonly name: string }): ((input: In) => string | number) | undefined {
  const key = (target as { readonly key?: unknown }).key;
  return typeof key === 'function' ? (key as (input: In) => string | number) : undefined;
}

/** Best effort: cancel an accepted invocation whose answer nobody waits for any more. */
async function cancel(admin: string, invocationId: string | null): Promise<void> {
  if (invocationId === null) return;
  try {
    await (
      await fetch(`${admin}/invocations/${encodeURIComponent(invocationId)}/cancel`, { method: 'PATCH' })
    ).arrayBuffer();
  } catch {
    // The server is gone or the invocation already ended: nothing left to cancel.
  }
}
