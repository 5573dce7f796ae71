import type { Observable } from 'rxjs';
import type { LifecycleEvent } from '../runtime/lifecycle';
import type { RecentFailure } from './stats';

/** Where {@link createInspector} keeps its taps (internal: not part of the `AgentInspector` contract). */
export const TAP = Symbol('rx-agents inspector tap');

/** A listener on an inspector that bypasses `events$` (a plain call per event, no Subject, no Subscriber). */
export type TapListener = (event: LifecycleEvent) => void;

/**
 * A listener's per-run interest, asked once as each run starts (with the run's start time): `true`,
 * and that run's events are built and given to it; `false`, and they are not built for it. A listener
 * without one gets every event.
 */
export type TapInterest = (key: unknown, run: number, time: number) => boolean;

/** A listener added by {@link listen}. */
export interface Listening {
  /** Removes the listener. */
  stop(): void;
  /**
   * A sampling listener pauses (`false`) and resumes (`true`) being asked: while paused no run of
   * its is wanted, and the runtime does not even ask (nor read the clock for it). Resumed on adding.
   */
  sample(on: boolean): void;
}

/** What `createInspector` puts under {@link TAP}. */
export interface Tap {
  /** Adds a listener (with its per-run interest, if it samples). */
  add(listener: TapListener, wants?: TapInterest): Listening;
  /** The most recent runs that did not complete, from the counters (exact whatever was sampled). */
  failures(): readonly RecentFailure[];
}

/**
 * Listens to an inspector at the cost of one function call per event: through its tap when it is one
 * of ours (`events$` costs an RxJS Subject dispatch per event, measured at a quarter of the routing
 * workload's throughput with stats on), else through `events$`. With `wants`, the runtime builds
 * events only for the runs it answers `true` for (the others cost the counters' plain calls only);
 * through `events$` every event arrives, and `wants` is still asked at each `run.started`, so a
 * listener's sampling works the same. Used by the live inspector server, which listens only while a
 * page is connected.
 */
export function listen(
  inspector: { readonly events$: Observable<LifecycleEvent> },
  listener: TapListener,
  wants?: TapInterest,
): Listening {
  const tap = tapOf(inspector);
  if (tap !== undefined) return tap.add(listener, wants);
  let open = true;
  const subscription = inspector.events$.subscribe(
    wants === undefined
      ? listener
      : (e) => {
          if (e.type === 'run.started' && open) wants(e.key, e.run, e.time);
          listener(e);
        },
  );
  return { stop: () => subscription.unsubscribe(), sample: (on) => void (open = on) };
}

/** The recent failures of one of our inspectors (`undefined`: not one of ours). */
export function failuresOf(inspector: object): readonly RecentFailure[] | undefined {
  return tapOf(inspector)?.failures();
}

function tapOf(inspector: object): Tap | undefined {
  const tap = (inspector as { [TAP]?: Tap })[TAP];
  return typeof tap === 'object' && tap !== null ? tap : undefined;
}
