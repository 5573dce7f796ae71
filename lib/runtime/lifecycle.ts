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

/**
 * Receives lifecycle events. Must not throw (a throw is reported as a stream error).
 * A plain function receives every event. An inspector may also carry `active`: while it is
 * `false` the runtime builds no events for it at all (`createInspector({ stats: false })` uses
 * this, so an inspector nobody subscribes to costs one property read per step).
 */
export interface Inspector {
  (event: LifecycleEvent): void;
  readonly active?: boolean;
}
