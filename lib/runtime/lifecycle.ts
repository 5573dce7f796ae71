/**
 * Lifecycle events: what the runtime reports about itself, in order, as it works.
 * Pass `inspect` to `agentOperator` to receive them; when nobody listens they cost nothing.
 * `time` is `scheduler.now()`, so in a TestScheduler it is the virtual frame.
 */
interface Base {
  readonly time: number;
  readonly key: unknown;
  /** The run sequence number (the input's position in the accepted stream). */
  readonly run: number;
}

export type LifecycleEvent =
  | (Base & { readonly type: 'input.accepted'; readonly buffered: boolean; readonly input: unknown })
  /** `aborted`: the input was still waiting when the stream ended (error or unsubscribe). */
  /** S15: `rejected` (busy key, policy `reject`; never accepted), `superseded` (policy `latest`). */
  | (Base & {
      readonly type: 'input.dropped';
      readonly reason: 'drop-newest' | 'drop-oldest' | 'aborted' | 'rejected' | 'superseded';
    })
  | (Base & { readonly type: 'run.started'; readonly waited: number })
  | (Base & {
      readonly type: 'run.ended';
      /** `aborted`: the run was still active when the stream ended (error or unsubscribe). */
      /** S15: `interrupted` / `rolled-back`: aborted by a newer input of its key (busy policy). */
      readonly outcome: 'completed' | 'failed' | 'aborted' | 'interrupted' | 'rolled-back';
      readonly duration: number;
      readonly error?: unknown;
    })
  | (Base & {
      readonly type: 'action.started';
      readonly action: string;
      readonly activation: string;
      readonly event: string;
    })
  | (Base & { readonly type: 'action.suspended'; readonly action: string; readonly activation: string })
  | (Base & { readonly type: 'action.resumed'; readonly action: string; readonly activation: string })
  | (Base & { readonly type: 'action.finished'; readonly action: string; readonly activation: string })
  | (Base & {
      readonly type: 'action.failed';
      readonly action: string;
      readonly activation: string;
      readonly error: unknown;
    })
  | (Base & {
      readonly type: 'async.queued';
      readonly action: string;
      /** The activation that made the call (`<event id>><action name>`). */
      readonly activation: string;
      readonly call: string;
    })
  | (Base & {
      readonly type: 'async.started';
      readonly action: string;
      readonly activation: string;
      readonly call: string;
    })
  | (Base & {
      readonly type: 'async.completed';
      readonly action: string;
      readonly activation: string;
      readonly call: string;
      readonly ok: boolean;
      /** true when the outcome came from the journal instead of running the block (replay). */
      readonly replayed: boolean;
      readonly error?: unknown;
    })
  /**
   * An async block has been running for the operator's `slowBlockAfter` ms (a hung dependency?).
   * Reported once per attempt, while the block still runs; `age` is how long it has run (ms),
   * `attempt` counts from 1 (a retry starts the clock again). It is followed by the block's
   * `async.completed` (or its run's end).
   */
  | (Base & {
      readonly type: 'async.slow';
      readonly action: string;
      readonly activation: string;
      readonly call: string;
      readonly attempt: number;
      readonly age: number;
    })
  | (Base & {
      readonly type: 'event.sent';
      readonly eventType: string;
      readonly event: string;
      readonly action: string;
      /** The activation that sent it. */
      readonly activation: string;
      readonly payload: unknown;
    })
  | (Base & {
      readonly type: 'event.routed';
      readonly eventType: string;
      readonly event: string;
      readonly actions: readonly string[];
    })
  | (Base & { readonly type: 'output.emitted'; readonly event: string; readonly payload: unknown })
  /** S14: a signal reached its key's run: handed to a parked wait (`delivered`) or buffered for a later one. */
  | (Base & {
      readonly type: 'signal.received';
      readonly eventType: string;
      readonly signal: string;
      readonly delivered: boolean;
    })
  /** S14: a signal was not delivered (`run` is -1); the same error goes to `onSignalRejected`. */
  | (Base & { readonly type: 'signal.rejected'; readonly code: string; readonly error: unknown })
  | (Base & ExtensionEvent);

/** Token counts of one model call. */
export interface LifecycleTokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly totalTokens: number;
}

/**
 * Events reported by the agent layer (`rx-agents/llm`) through its run channel: one per model
 * call and per tool call, when the call settled. `started` is when the call was made; `replayed`
 * means the outcome came from the journal (S13). Prompts and completions are not included.
 */
export type ExtensionEvent =
  | {
      readonly type: 'model.called';
      readonly action: string;
      /** The activation that made the call (filled in by the run channel). */
      readonly activation: string;
      readonly call: string;
      readonly provider: string;
      readonly model: string;
      readonly ok: boolean;
      readonly replayed: boolean;
      readonly started: number;
      readonly usage?: LifecycleTokenUsage;
      readonly finishReason?: string;
      readonly error?: unknown;
    }
  | {
      readonly type: 'tool.called';
      readonly action: string;
      /** The activation that made the call (filled in by the run channel). */
      readonly activation: string;
      readonly call: string;
      readonly tool: string;
      readonly ok: boolean;
      readonly replayed: boolean;
      readonly started: number;
      readonly error?: unknown;
    };

export type LifecycleEventType = LifecycleEvent['type'];

/** How a run ended, as `run.ended` reports it. */
export type RunOutcome = (LifecycleEvent & { readonly type: 'run.ended' })['outcome'];

/**
 * Receives lifecycle events. Must not throw (a throw is reported as a stream error).
 * A plain function receives every event. An inspector may also carry `active`: while it is
 * `false` the runtime builds no events for it at all (`createInspector({ stats: false })` uses
 * this, so an inspector nobody subscribes to costs one property read per step). An inspector with
 * a {@link InspectorChannel} (`createInspector()` with stats) is driven through it instead.
 */
export interface Inspector {
  (event: LifecycleEvent): void;
  readonly active?: boolean;
  /** When present, the runtime uses it and never calls the function itself. */
  readonly channel?: InspectorChannel;
}

/**
 * The split path of an inspector that keeps counters (`createInspector()`): the counters see every
 * step of every run through plain calls, with no event object built, and lifecycle events are built
 * only for the listeners that want them — every event while one wants everything (`all`, e.g. an
 * `events$` subscriber), else only the runs a sampling listener asked for at their start (`wants`).
 *
 * Interest is decided once per run, as it starts: a wanted run's events from `run.started` to
 * `run.ended` (and everything between: actions, calls, sends, routing, outputs, signals, model
 * calls) are built and delivered; the events outside a run (`input.accepted`, `input.dropped`,
 * `signal.rejected`) only while `all`. Nothing is lost for a listener that wants everything.
 *
 * @example
 * // lib/observe/inspector.ts gives the runtime one of these; the runtime (lib/runtime/inspection.ts) does:
 * channel.counters.runStarted(run);
 * if (channel.sampling && channel.wants(key, run, now)) wanted.add(run);
 * if (channel.all || wanted.has(run)) channel.deliver({ type: 'run.started', time: now, key, run, waited });
 */
export interface InspectorChannel {
  /** Every step of every run, exact, without event objects. */
  readonly counters: LifecycleCounters;
  /** Some listener wants every event now (read at each step). */
  readonly all: boolean;
  /** Some listener samples runs: {@link wants} is asked at each run start (read at each run start). */
  readonly sampling: boolean;
  /** Asked once as a run starts while {@link sampling}: does some sampling listener want this run's events? */
  wants(key: unknown, run: number, time: number): boolean;
  /** A built event, for the listeners (the counters have seen the step already). */
  deliver(event: LifecycleEvent): void;
}

/**
 * The counters' side of an {@link InspectorChannel}: one call per step, primitive arguments only.
 * `ref` identifies an activation or a call across its steps (the runtime's own object: compared by
 * identity, never read). `time` is the scheduler time of the step; `runEnded` gets `NaN` for a
 * completed run (its time is not needed, so the clock is not read for it).
 */
export interface LifecycleCounters {
  inputAccepted(key: unknown, run: number, buffered: boolean): void;
  inputDropped(key: unknown, run: number): void;
  runStarted(run: number): void;
  runEnded(key: unknown, run: number, outcome: RunOutcome, error: unknown, time: number): void;
  actionStarted(run: number, action: string, ref: unknown, time: number): void;
  actionEnded(run: number, action: string, ref: unknown, failed: boolean, time: number): void;
  asyncQueued(run: number, ref: unknown, time: number): void;
  asyncStarted(run: number, ref: unknown, time: number): void;
  asyncSlow(key: unknown, run: number, action: string, call: string, ref: unknown, age: number, time: number): void;
  asyncCompleted(run: number, action: string, ref: unknown, ok: boolean, replayed: boolean, time: number): void;
  eventSent(): void;
  outputEmitted(): void;
  /** Model and tool calls (`rx-agents/llm`): few per run, so the event the extension reported is passed as is. */
  extension(event: ExtensionEvent): void;
}
