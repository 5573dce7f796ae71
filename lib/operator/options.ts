import { asapScheduler, type SchedulerLike } from 'rxjs';
import { optionError } from '../errors';
import { createExecutor, type Executor } from '../runtime/executor';
import type { Inspector } from '../runtime/lifecycle';
import type { RunFailure, RuntimeSettings } from '../runtime/settings';
import type { AgentStore } from '../store/store';
import type { StateAttachable } from '../runtime/state-probe';
import type { Budgets } from '../runtime/budgets';
import { checkBusy, type BusyOption } from '../runtime/busy-policy';
import type { InputDropReason } from '../runtime/settings';
import { isObservable, type Observable } from 'rxjs';
import type { Signal } from '../events/signal';
import type { SignalRejectedError } from '../runtime/wait-errors';

/** Options of {@link agentOperator}. Every field is optional. `Key` is the agent's key type (`defineAgent({ key })`). */
export interface AgentOperatorOptions<In = unknown, Key = unknown> {
  /**
   * Selects the key of an input. Runs of one key are serial (S1), keys are concurrent (S2).
   * Keys are compared with `Map` semantics (SameValueZero): use strings or numbers. When the agent
   * declares a `key`, this one overrides it and must return the same type (what `ctx.key` is typed as).
   * @default the agent's `key`, else every input has the same key (fully serial)
   */
  readonly key?: (input: In) => Key;
  /** Maximum async blocks in flight across all keys (ignored when `executor` is given). @default 64 */
  readonly concurrency?: number;
  /** The pool that runs async blocks; share one between operators to share a budget. @default createExecutor(concurrency) */
  readonly executor?: Executor;
  /** Drives wake-ups, timeouts, retries and timestamps. Pass a `TestScheduler` for virtual time (S11). @default asapScheduler */
  readonly scheduler?: SchedulerLike;
  /**
   * What an action failure does. `fail`: the output errors with `ActionError` and all runs are
   * aborted. `isolate`: that run is aborted and reported to `onRunFailed`; other runs and the
   * key's next inputs go on. @default 'fail'
   */
  readonly errorPolicy?: 'fail' | 'isolate';
  /** Receives each failed run under `errorPolicy: 'isolate'`. @default none (failures still show in `inspect`) */
  readonly onRunFailed?: (failure: RunFailure<In>) => void;
  /** Maximum inputs waiting behind their key's active run, across all keys. @default Infinity */
  readonly maxBufferedInputs?: number;
  /**
   * What happens to an input that would exceed `maxBufferedInputs`. `error`: the output errors
   * with `BufferOverflowError`. `drop-newest`: the new input is dropped. `drop-oldest`: the oldest
   * waiting input of the same key is dropped (else the new one) — with a `store`, the oldest one not
   * yet acknowledged by `onAccepted` (its commit not yet issued), else the new one: an acknowledged
   * input is never dropped. Drops are reported to `onDropped` and `inspect`, never silent. @default 'error'
   */
  readonly overflow?: 'error' | 'drop-newest' | 'drop-oldest';
  /** Receives each dropped input. @default none */
  readonly onDropped?: (input: In, key: unknown, reason: InputDropReason) => void;
  /**
   * S15: what an input does while its key's run is still going: `queue` (wait behind it),
   * `reject` (do not run), `latest` (wait, replacing the key's waiting inputs), `interrupt`
   * (abort the running run and run this one; the aborted run's memory writes are kept),
   * `rollback` (as interrupt, and the key's short-term memory goes back to what it was when the
   * aborted run started). A function chooses per input (and so per key). Every input or run
   * this stops is reported to `onDropped` with its reason and to `inspect`. @default 'queue'
   */
  readonly busy?: BusyOption<In>;
  /** Validate every sent event's payload against its schema. Turn off only for trusted agents in hot paths. @default true */
  readonly validateEvents?: boolean;
  /** `payload`: emit OutputEvent payloads. `envelope`: emit `{ key, run, id, payload }`. @default 'payload' */
  readonly output?: 'payload' | 'envelope';
  /** Receives every lifecycle event (see `LifecycleEvent`). @default none (zero cost) */
  readonly inspect?: Inspector;
  /**
   * Makes the agent durable (S13): accepted inputs, call outcomes, run progress and short-term
   * memory are journaled in this store (group commit, one per scheduler tick), and a new
   * subscription first resumes the runs the journal holds unfinished. The journal is named after
   * the agent: one live subscription per agent name per store. See `sqliteStore`, `memoryStore`.
   * @default none (nothing is persisted)
   */
  readonly store?: AgentStore;
  /**
   * With a `store`: called with each input and its run sequence number once the input's journal
   * entry is committed — from then on it survives a crash, so a source may commit its own offset.
   * Called in acceptance order. @default none
   */
  readonly onAccepted?: (input: In, seq: number) => void;
  /**
   * With a `store`: the source position of an input (e.g. a Kafka offset). The position of the
   * last accepted input is committed with each batch; read it back with
   * `await recordedPosition(store, agent.name)` to resume the source right after it (exactly-once input).
   * @default none
   */
  readonly position?: (input: In) => string | number;
  /**
   * A state view made by `createAgentState()`: read-only, consistent snapshots of this operator's
   * keys, memories and running runs while it is subscribed (one live subscription per view).
   * @default none (no snapshots; zero cost)
   */
  readonly state?: StateAttachable;
  /**
   * The most events (sent events and outputs) one run may send. Past it the run fails with
   * `RunLimitError` under the error policy — a budget against actions that trigger each other
   * forever or a `sendEvent` loop without an end, which would otherwise exhaust the heap.
   * `Infinity` turns the budget off. @default 10000
   */
  readonly maxEventsPerRun?: number;
  /**
   * A timeout (scheduler ms) for every async block that has none of its own
   * (`executeAsyncWith({ timeout })` still wins): a block past it fails with `AsyncTimeoutError`
   * and gives its executor slot back, so hung dependencies cannot starve every key. Blocks are
   * cancelled at the timeout like at an abort (their `AbortSignal` is not fired; a block that
   * ignores cancellation keeps running in the background). @default none
   */
  readonly defaultTimeout?: number;
  /**
   * Named budgets (`createBudgets({ openai: 8 })`) that calls take permits of with
   * `ctx.executeAsyncWith({ budget: 'openai' }, fn)`. Share one between operators to share the
   * limits across agents. @default none
   */
  readonly budgets?: Budgets;
  /**
   * S14: external events for keys, e.g. a `Subject<Signal>` fed by a webhook or a UI:
   * `signals.next(signal(key, Approval.of({ ok: true })))`. Each is validated by its type's schema
   * (the type must be in the agent's `signals`) and goes to the key's current run: to the oldest
   * `waitForEvent` of its type, else into the run's buffer. Subscribed with the operator; its
   * completion changes nothing, its error fails the stream. @default none
   */
  readonly signals?: Observable<Signal>;
  /**
   * S14: receives each signal that was not delivered (`SignalRejectedError`, its `code` says why:
   * invalid, unknown type, no run for the key, buffer overflow, or still buffered when its run
   * ended). @default none: such a signal fails the stream
   */
  readonly onSignalRejected?: (error: SignalRejectedError) => void;
  /**
   * S14: called with each delivered or buffered signal once it is safe: with a `store`, after the
   * commit holding it (from then on it survives a crash, so a sender may acknowledge it); without
   * one, at once. Rejected signals go to `onSignalRejected` instead. @default none
   */
  readonly onSignalAccepted?: (signal: Signal) => void;
  /** S14: signals buffered per run and event type before a wait takes them; the next one is rejected (`ERR_SIGNAL_OVERFLOW`). @default 64 */
  readonly maxBufferedSignals?: number;
}

const KNOWN = new Set([
  'key',
  'concurrency',
  'executor',
  'scheduler',
  'errorPolicy',
  'onRunFailed',
  'maxBufferedInputs',
  'overflow',
  'onDropped',
  'busy',
  'validateEvents',
  'output',
  'inspect',
  'store',
  'onAccepted',
  'position',
  'state',
  'maxEventsPerRun',
  'defaultTimeout',
  'budgets',
  'signals',
  'onSignalRejected',
  'onSignalAccepted',
  'maxBufferedSignals',
]);

const singleKey = (): undefined => undefined;

/** Validates options at operator creation; throws a `TypeError` that says what, where and what to do. */
export function resolveOptions(
  options: AgentOperatorOptions<never> | undefined,
): Omit<RuntimeSettings, 'executor'> & { makeExecutor: () => Executor } {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) throw optionError('options', 'an object', options);
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name))
      throw new TypeError(`Unknown option \`${name}\` for agentOperator. Known options: ${[...KNOWN].join(', ')}.`);
  }
  const o = options as AgentOperatorOptions<unknown>;
  fn(o, 'key');
  fn(o, 'onRunFailed');
  fn(o, 'onDropped');
  fn(o, 'inspect');
  fn(o, 'onAccepted');
  fn(o, 'position');
  if (
    o.store !== undefined &&
    (typeof o.store !== 'object' ||
      o.store === null ||
      typeof o.store.load !== 'function' ||
      typeof o.store.commit !== 'function')
  ) {
    throw optionError('store', 'an AgentStore (e.g. sqliteStore(path) or memoryStore())', o.store);
  }
  if (
    o.state !== undefined &&
    (typeof o.state !== 'object' ||
      o.state === null ||
      typeof o.state.attach !== 'function' ||
      typeof o.state.detach !== 'function')
  ) {
    throw optionError('state', 'a state view made by createAgentState()', o.state);
  }
  if (o.store === undefined && (o.onAccepted !== undefined || o.position !== undefined)) {
    throw new TypeError(
      `\`${o.onAccepted !== undefined ? 'onAccepted' : 'position'}\` needs a \`store\`: inputs are durably accepted only when they are journaled. Add \`store: sqliteStore(path)\`.`,
    );
  }
  if (
    o.concurrency !== undefined &&
    !((Number.isInteger(o.concurrency) && o.concurrency >= 1) || o.concurrency === Infinity)
  ) {
    throw optionError('concurrency', 'an integer >= 1 or Infinity', o.concurrency);
  }
  if (o.concurrency !== undefined && o.executor !== undefined) {
    throw new TypeError(
      'Give either `concurrency` or `executor` to agentOperator, not both: an executor has its own concurrency.',
    );
  }
  if (
    o.executor !== undefined &&
    (typeof o.executor !== 'object' || o.executor === null || typeof o.executor.submit !== 'function')
  ) {
    throw optionError('executor', 'an Executor (see createExecutor)', o.executor);
  }
  if (
    o.scheduler !== undefined &&
    (typeof o.scheduler !== 'object' ||
      o.scheduler === null ||
      typeof o.scheduler.schedule !== 'function' ||
      typeof o.scheduler.now !== 'function')
  ) {
    throw optionError('scheduler', 'an RxJS SchedulerLike (e.g. asapScheduler or a TestScheduler)', o.scheduler);
  }
  if (
    o.budgets !== undefined &&
    (typeof o.budgets !== 'object' || o.budgets === null || typeof o.budgets.submit !== 'function')
  )
    throw optionError('budgets', 'budgets made by createBudgets({ ... })', o.budgets);
  if (o.signals !== undefined && !isObservable(o.signals))
    throw optionError('signals', 'an Observable of signals (e.g. a Subject<Signal>)', o.signals);
  if (o.onSignalRejected !== undefined && typeof o.onSignalRejected !== 'function')
    throw optionError('onSignalRejected', 'a function', o.onSignalRejected);
  if (o.onSignalAccepted !== undefined && typeof o.onSignalAccepted !== 'function')
    throw optionError('onSignalAccepted', 'a function', o.onSignalAccepted);
  if (
    o.maxBufferedSignals !== undefined &&
    !((Number.isInteger(o.maxBufferedSignals) && o.maxBufferedSignals >= 0) || o.maxBufferedSignals === Infinity)
  )
    throw optionError('maxBufferedSignals', 'an integer >= 0 or Infinity', o.maxBufferedSignals);
  checkBusy(o.busy);
  oneOf(o, 'errorPolicy', ['fail', 'isolate']);
  oneOf(o, 'overflow', ['error', 'drop-newest', 'drop-oldest']);
  oneOf(o, 'output', ['payload', 'envelope']);
  if (
    o.maxBufferedInputs !== undefined &&
    !((Number.isInteger(o.maxBufferedInputs) && o.maxBufferedInputs >= 0) || o.maxBufferedInputs === Infinity)
  ) {
    throw optionError('maxBufferedInputs', 'an integer >= 0 or Infinity', o.maxBufferedInputs);
  }
  if (
    o.maxEventsPerRun !== undefined &&
    !((Number.isInteger(o.maxEventsPerRun) && o.maxEventsPerRun >= 1) || o.maxEventsPerRun === Infinity)
  ) {
    throw optionError('maxEventsPerRun', 'an integer >= 1 or Infinity', o.maxEventsPerRun);
  }
  if (
    o.defaultTimeout !== undefined &&
    !(typeof o.defaultTimeout === 'number' && o.defaultTimeout > 0 && o.defaultTimeout < Infinity)
  ) {
    throw optionError('defaultTimeout', 'a number of ms > 0', o.defaultTimeout);
  }
  if (o.validateEvents !== undefined && typeof o.validateEvents !== 'boolean')
    throw optionError('validateEvents', 'a boolean', o.validateEvents);
  const concurrency = o.concurrency ?? 64;
  const executor = o.executor;
  return {
    key: o.key ?? singleKey,
    scheduler: o.scheduler ?? asapScheduler,
    errorPolicy: o.errorPolicy ?? 'fail',
    onRunFailed: o.onRunFailed,
    maxBufferedInputs: o.maxBufferedInputs ?? Infinity,
    overflow: o.overflow ?? 'error',
    onDropped: o.onDropped,
    busy: (o.busy ?? 'queue') as BusyOption,
    validateEvents: o.validateEvents ?? true,
    envelope: o.output === 'envelope',
    inspect: o.inspect,
    store: o.store,
    onAccepted: o.onAccepted,
    position: o.position,
    state: o.state,
    maxEventsPerRun: o.maxEventsPerRun ?? 10_000,
    defaultTimeout: o.defaultTimeout,
    budgets: o.budgets,
    signals: o.signals,
    onSignalRejected: o.onSignalRejected,
    onSignalAccepted: o.onSignalAccepted,
    maxBufferedSignals: o.maxBufferedSignals ?? 64,
    makeExecutor: () => executor ?? createExecutor(concurrency),
  };
}

function fn(
  o: AgentOperatorOptions<unknown>,
  name: 'key' | 'onRunFailed' | 'onDropped' | 'inspect' | 'onAccepted' | 'position',
): void {
  if (o[name] !== undefined && typeof o[name] !== 'function') throw optionError(name, 'a function', o[name]);
}

function oneOf<K extends 'errorPolicy' | 'overflow' | 'output'>(
  o: AgentOperatorOptions<unknown>,
  name: K,
  allowed: readonly string[],
): void {
  const value = o[name];
  if (value !== undefined && !allowed.includes(value as string)) {
    throw optionError(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
}
