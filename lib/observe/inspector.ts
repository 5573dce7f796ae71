import { Observable, Subject } from 'rxjs';
import { optionError } from '../errors';
import type { Inspector, InspectorChannel, LifecycleEvent } from '../runtime/lifecycle';
import { InspectorListeners } from './inspector-listeners';
import { TAP, type Tap } from './inspector-tap';
import { StatsTracker, type AgentStats } from './stats';

/** Options of {@link createInspector}. */
export interface InspectorOptions {
  /** Keep the counters and latencies behind `stats()`. Turn off when only `events$` is wanted. @default true */
  readonly stats?: boolean;
  /** How many recent samples per action the latency percentiles are computed over. @default 1024 */
  readonly latencyWindow?: number;
  /**
   * The clock `stats().oldestSlowAsync.age` is measured by: the operator's scheduler time. Pass
   * `() => scheduler.now()` under a TestScheduler. @default Date.now (the time of RxJS's default schedulers)
   */
  readonly clock?: () => number;
}

/** The observability hub of one agent operator: a hot lifecycle stream plus stats snapshots. */
export interface AgentInspector {
  /** Give this to `agentOperator(agent, { inspect })`. */
  readonly inspect: Inspector;
  /**
   * Every lifecycle event, as it happens (hot: subscribers see events from the moment they
   * subscribe). Never completes or errors: the operator's own output carries completion and errors.
   */
  readonly events$: Observable<LifecycleEvent>;
  /** A snapshot of counters, work in progress and per-action latency percentiles. */
  stats(): AgentStats;
}

/**
 * Creates an inspector: the RxJS-native way to watch an agent operator work.
 *
 * ```
 * inputs:    --a1--b1--a2---------|
 * events$:   --(accepted started action.started ...)--...--(run.ended)--   (hot, never completes)
 * ```
 *
 * Semantics: events arrive synchronously, in the order the runtime produces them, with
 * `time` taken from the operator's scheduler (virtual frames under a TestScheduler). An
 * event is only handed to `events$` when it has a subscriber; with `stats: false` an
 * inspector nobody subscribes to is inactive and the runtime builds no events for it (zero cost
 * but one property read per step); not passing `inspect` at all costs nothing. With stats (the
 * default), the runtime tells the counters every step of every run directly, with no event object,
 * and builds lifecycle events only while `events$` has a subscriber (then every event, exactly as
 * without stats) or for the runs a sampling listener asked for (the live page's timeline). `stats()`
 * is exact for every run either way, with memory bounded by the work in progress plus
 * `latencyWindow` samples per action. Calling `inspect(event)` by hand (e.g. from a function that
 * passes events on to several inspectors) folds that event into the same counters. Use one inspector per operator subscription: run numbers restart per
 * subscription, so two live subscriptions would share (and confuse) counters. A subscriber
 * that throws is reported by RxJS as an unhandled error; it does not affect the agent.
 *
 * @example
 * const inspector = createInspector();
 * inspector.events$.pipe(filter((e) => e.type === 'run.ended')).subscribe((e) => console.log(e.key, e.duration));
 * inputs$.pipe(agentOperator(agent, { key: (x) => x.userId, inspect: inspector.inspect })).subscribe();
 * setInterval(() => console.log(inspector.stats().activeKeys), 1000);
 */
export function createInspector(options: InspectorOptions = {}): AgentInspector {
  if (typeof options !== 'object' || options === null) throw optionError('options', 'an object', options);
  const { stats = true, latencyWindow = 1024, clock = Date.now } = options;
  if (typeof stats !== 'boolean') throw optionError('stats', 'a boolean', stats);
  if (typeof clock !== 'function') throw optionError('clock', 'a function returning scheduler time (ms)', clock);
  if (!Number.isInteger(latencyWindow) || latencyWindow < 1)
    throw optionError('latencyWindow', 'an integer >= 1', latencyWindow);
  const subject = new Subject<LifecycleEvent>();
  const tracker = stats ? new StatsTracker(latencyWindow, clock) : undefined;
  /** Subscribers of events$ (each wants every event), counted so that `channel.all` is a plain field. */
  let observers = 0;
  const events$ = new Observable<LifecycleEvent>((subscriber) => {
    observers++;
    update();
    const subscription = subject.subscribe(subscriber);
    return () => {
      observers--;
      update();
      subscription.unsubscribe();
    };
  });
  /** Internal listeners (lib/observe/inspector-tap.ts): one plain call per event, no Subject dispatch. */
  const listeners = new InspectorListeners(() => update());
  const deliver = (event: LifecycleEvent): void => {
    if (listeners.size !== 0) listeners.deliver(event);
    if (subject.observed) subject.next(event);
  };
  const wants = (key: unknown, run: number, time: number): boolean => listeners.wants(key, run, time);
  // Given to agentOperator: the runtime drives the counters directly and builds events only for what the
  // listeners want (lib/runtime/lifecycle.ts). `all` and `sampling` are plain fields, read at every step.
  const channel: { -readonly [K in keyof InspectorChannel]: InspectorChannel[K] } | undefined =
    tracker === undefined ? undefined : { counters: tracker, all: false, sampling: false, wants, deliver };
  function update(): void {
    if (channel === undefined) return;
    channel.all = listeners.all || observers !== 0;
    channel.sampling = listeners.sampling;
  }
  /** An event handed over by hand (not through the channel): samplers decide at its run's start, then it is delivered. */
  const handed = (event: LifecycleEvent): void => {
    if (listeners.size === 0) return subject.next(event);
    if (event.type === 'run.started') listeners.wants(event.key, event.run, event.time);
    deliver(event);
  };
  const inspect: Inspector =
    tracker === undefined
      ? // Without stats, events are wanted only while events$ has a subscriber: `active` tells the runtime so,
        // and an unobserved inspector then costs one property read per step (no events are built).
        Object.defineProperty(handed, 'active', { get: () => subject.observed || listeners.size !== 0 })
      : Object.defineProperty(
          // Handed events by hand (e.g. a function that passes them on): fold each, then deliver it.
          (event: LifecycleEvent) => {
            tracker.record(event);
            handed(event);
          },
          'channel',
          { value: channel },
        );
  const tap: Tap = {
    add: (listener, interest) => listeners.add(listener, interest),
    failures: () => tracker?.failures() ?? [],
  };
  const inspector: AgentInspector = {
    inspect,
    events$,
    stats: () => {
      if (tracker === undefined)
        throw new TypeError(
          'stats() needs an inspector created with `stats: true` (the default); this one was created with `stats: false`.',
        );
      return tracker.snapshot();
    },
  };
  Object.defineProperty(inspector, TAP, { value: tap });
  return inspector;
}
