import type { ExtensionEvent, LifecycleCounters, LifecycleEvent, RunOutcome } from '../runtime/lifecycle';
import { LatencyWindow, type LatencySummary } from './latency';

/** Counters and latencies of one action, as seen in a {@link AgentStats} snapshot. */
export interface ActionStats {
  readonly started: number;
  readonly finished: number;
  readonly failed: number;
  /** From `action.started` to `action.finished`/`action.failed`, suspensions included. */
  readonly latency: LatencySummary;
  /** Of this action's async blocks, from `async.started` to `async.completed` (replayed calls excluded). */
  readonly asyncLatency: LatencySummary;
}

/** Model calls and tokens of one model (`rx-agents/llm`), from `model.called` events. */
export interface ModelStats {
  readonly calls: number;
  readonly failed: number;
  /** Calls answered from the journal (replay): their tokens are not counted again. */
  readonly replayed: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly totalTokens: number;
}

/** Calls of one tool (`rx-agents/llm`), from `tool.called` events. */
export interface ToolStats {
  readonly calls: number;
  /** Calls whose result was an error (bad arguments, a throw, a timeout, denied). */
  readonly failed: number;
}

/** The oldest block in {@link AgentStats.slowAsync}. */
export interface SlowBlockStats {
  readonly key: unknown;
  readonly run: number;
  readonly action: string;
  /** The call id (`<activation id>#<call index>`). */
  readonly call: string;
  /** When its current attempt started (scheduler time). */
  readonly startedAt: number;
  /** How long it has been running: `clock() - startedAt` at the snapshot. */
  readonly age: number;
}

/** A point-in-time snapshot of what an agent operator is doing, built from its lifecycle events. */
export interface AgentStats {
  /** The scheduler time of the latest timed step seen: an action or async step, or a run that did not complete. `undefined` before the first. */
  readonly time: number | undefined;
  /** Keys with a run active or inputs waiting. */
  readonly activeKeys: number;
  /** Runs started and not ended (at most one per key, S1). */
  readonly activeRuns: number;
  /** Inputs waiting behind their key's active run. */
  readonly bufferedInputs: number;
  /** Async blocks submitted and not completed (`queuedAsync + runningAsync`). */
  readonly inFlightAsync: number;
  /** Async blocks waiting for an executor slot. */
  readonly queuedAsync: number;
  /** Async blocks running on the executor. */
  readonly runningAsync: number;
  /**
   * Running async blocks that have been reported by `async.slow` (running longer than the operator's
   * `slowBlockAfter`) and have not completed yet: a hung dependency shows here while it hangs.
   */
  readonly slowAsync: number;
  /** The longest-running of them, with its age (ms, by the inspector's `clock`) now; `undefined` when `slowAsync` is 0. */
  readonly oldestSlowAsync: SlowBlockStats | undefined;
  /** The highest `activeKeys`, `activeRuns`, `bufferedInputs` and `inFlightAsync` seen since the inspector was created. */
  readonly peakActiveKeys: number;
  readonly peakActiveRuns: number;
  readonly peakBufferedInputs: number;
  readonly peakInFlightAsync: number;
  readonly inputsAccepted: number;
  readonly inputsDropped: number;
  readonly runsStarted: number;
  readonly runsCompleted: number;
  readonly runsFailed: number;
  readonly runsAborted: number;
  readonly eventsSent: number;
  readonly outputs: number;
  readonly asyncCompleted: number;
  readonly asyncFailed: number;
  /** Async calls whose outcome came from the journal (replay), not from running the block. */
  readonly asyncReplayed: number;
  /** Per action name. */
  readonly actions: Readonly<Record<string, ActionStats>>;
  /** Per model (`<provider>/<model id>`), for agents of `rx-agents/llm`. */
  readonly models: Readonly<Record<string, ModelStats>>;
  /** Per tool name, for agents of `rx-agents/llm`. */
  readonly tools: Readonly<Record<string, ToolStats>>;
}

interface ActionCounters {
  started: number;
  finished: number;
  failed: number;
  readonly latency: LatencyWindow;
  readonly asyncLatency: LatencyWindow;
}

interface CallState {
  readonly run: number;
  running: boolean;
  startedAt: number;
  /** Reported by `async.slow` (and not completed). */
  slow: boolean;
}

/** An activation started and not finished: its run (to drop it if the run is abandoned) and start time. */
interface Started {
  readonly run: number;
  readonly at: number;
}

/** A run that did not complete, as {@link StatsTracker.failures} lists it. */
export interface RecentFailure {
  readonly time: number;
  readonly key: unknown;
  readonly run: number;
  readonly outcome: Exclude<RunOutcome, 'completed'>;
  readonly error: unknown;
}

/** Runs that did not complete, kept by the tracker (the most recent; the live page lists them). */
const MAX_FAILURES = 20;

/**
 * Folds lifecycle steps into counters: called directly by the runtime ({@link LifecycleCounters}, one
 * plain call per step, no event object — the path `createInspector()` uses), or from lifecycle events
 * ({@link record}, for events an inspector is handed by hand). Both end in the same methods, so the
 * numbers are the same. Everything it keeps is bounded by the work in progress (active runs, waiting
 * inputs, calls in flight) plus one fixed window per action name and the last {@link MAX_FAILURES} failures.
 * Activations and calls are told apart by `ref`: the runtime's own objects on the direct path, their ids
 * from events.
 */
export class StatsTracker implements LifecycleCounters {
  private time: number | undefined;
  private readonly keyWork = new Map<unknown, number>();
  private readonly bufferedRuns = new Set<number>();
  private readonly activeRunSet = new Set<number>();
  /** Calls in flight, so that an abandoned run's calls leave the counts too. */
  private readonly calls = new Map<unknown, CallState>();
  /** Activations not done. */
  private readonly activations = new Map<unknown, Started>();
  private readonly actions = new Map<string, ActionCounters>();
  private readonly models = new Map<string, { -readonly [K in keyof ModelStats]: ModelStats[K] }>();
  private readonly tools = new Map<string, { calls: number; failed: number }>();
  private readonly recentFailures: RecentFailure[] = [];
  private queued = 0;
  private running = 0;
  /** Calls reported slow and not completed, with what their stats line names. */
  private readonly slow = new Map<CallState, { key: unknown; run: number; action: string; call: string }>();
  private peak = { keys: 0, runs: 0, buffered: 0, async: 0 };
  private c = {
    inputsAccepted: 0,
    inputsDropped: 0,
    runsStarted: 0,
    runsCompleted: 0,
    runsFailed: 0,
    runsAborted: 0,
    eventsSent: 0,
    outputs: 0,
    asyncCompleted: 0,
    asyncFailed: 0,
    asyncReplayed: 0,
  };

  constructor(
    private readonly window: number,
    /** The clock ages are measured by at a snapshot (the operator's scheduler time). */
    private readonly clock: () => number,
  ) {}

  /** Folds one lifecycle event (an inspector handed events by hand, not driven by the runtime's counters). */
  record(e: LifecycleEvent): void {
    switch (e.type) {
      case 'input.accepted':
        return this.inputAccepted(e.key, e.run, e.buffered);
      case 'input.dropped':
        return this.inputDropped(e.key, e.run);
      case 'run.started':
        return this.runStarted(e.run);
      case 'run.ended':
        return this.runEnded(e.key, e.run, e.outcome, e.error, e.time);
      case 'action.started':
        return this.actionStarted(e.run, e.action, e.activation, e.time);
      case 'action.finished':
      case 'action.failed':
        return this.actionEnded(e.run, e.action, e.activation, e.type === 'action.failed', e.time);
      case 'async.queued':
        return this.asyncQueued(e.run, e.call, e.time);
      case 'async.started':
        return this.asyncStarted(e.run, e.call, e.time);
      case 'async.slow':
        return this.asyncSlow(e.key, e.run, e.action, e.call, e.call, e.age, e.time);
      case 'async.completed':
        return this.asyncCompleted(e.run, e.action, e.call, e.ok, e.replayed, e.time);
      case 'event.sent':
        return this.eventSent();
      case 'output.emitted':
        return this.outputEmitted();
      case 'model.called':
      case 'tool.called':
        return this.extension(e);
      default:
        return;
    }
  }

  inputAccepted(key: unknown, run: number, buffered: boolean): void {
    this.c.inputsAccepted++;
    this.keyWork.set(key, (this.keyWork.get(key) ?? 0) + 1);
    if (this.keyWork.size > this.peak.keys) this.peak.keys = this.keyWork.size;
    if (buffered) {
      this.bufferedRuns.add(run);
      if (this.bufferedRuns.size > this.peak.buffered) this.peak.buffered = this.bufferedRuns.size;
    }
  }

  inputDropped(key: unknown, run: number): void {
    this.c.inputsDropped++;
    // drop-newest drops an input that was never accepted; the others drop a waiting one.
    if (this.bufferedRuns.delete(run)) this.release(key);
  }

  runStarted(run: number): void {
    this.c.runsStarted++;
    if (this.bufferedRuns.size !== 0) this.bufferedRuns.delete(run);
    this.activeRunSet.add(run);
    if (this.activeRunSet.size > this.peak.runs) this.peak.runs = this.activeRunSet.size;
  }

  runEnded(key: unknown, run: number, outcome: RunOutcome, error: unknown, time: number): void {
    if (this.activeRunSet.delete(run)) this.release(key);
    if (outcome === 'completed') {
      // A completed run has no activation or call left (S7: it ends when its last one does).
      this.c.runsCompleted++;
      return;
    }
    if (outcome === 'failed') this.c.runsFailed++;
    else this.c.runsAborted++;
    this.time = time;
    this.recentFailures.push({ time, key, run, outcome, error });
    if (this.recentFailures.length > MAX_FAILURES) this.recentFailures.shift();
    this.dropCalls(run);
    if (this.activations.size !== 0)
      for (const [ref, started] of this.activations) if (started.run === run) this.activations.delete(ref);
  }

  actionStarted(run: number, action: string, ref: unknown, time: number): void {
    this.time = time;
    this.counters(action).started++;
    this.activations.set(ref, { run, at: time });
  }

  actionEnded(_run: number, action: string, ref: unknown, failed: boolean, time: number): void {
    this.time = time;
    const counters = this.counters(action);
    if (failed) counters.failed++;
    else counters.finished++;
    const started = this.activations.get(ref);
    if (started !== undefined) {
      this.activations.delete(ref);
      counters.latency.add(time - started.at);
    }
  }

  asyncQueued(run: number, ref: unknown, time: number): void {
    this.time = time;
    this.calls.set(ref, { run, running: false, startedAt: time, slow: false });
    this.queued++;
    if (this.queued + this.running > this.peak.async) this.peak.async = this.queued + this.running;
  }

  asyncStarted(_run: number, ref: unknown, time: number): void {
    this.time = time;
    const call = this.calls.get(ref);
    if (call !== undefined && !call.running) {
      call.running = true;
      call.startedAt = time;
      this.queued--;
      this.running++;
    } else if (call !== undefined) {
      // started again (a retry): a new attempt, not slow (yet)
      call.startedAt = time;
      if (call.slow) {
        call.slow = false;
        this.slow.delete(call);
      }
    }
  }

  asyncSlow(key: unknown, run: number, action: string, id: string, ref: unknown, age: number, time: number): void {
    this.time = time;
    const call = this.calls.get(ref);
    if (call === undefined || !call.running || call.slow) return;
    call.slow = true;
    call.startedAt = time - age; // the attempt the watch measured
    this.slow.set(call, { key, run, action, call: id });
  }

  asyncCompleted(_run: number, action: string, ref: unknown, ok: boolean, replayed: boolean, time: number): void {
    this.time = time;
    if (replayed) this.c.asyncReplayed++;
    else if (ok) this.c.asyncCompleted++;
    else this.c.asyncFailed++;
    const call = this.calls.get(ref);
    if (call === undefined) return;
    this.calls.delete(ref);
    if (call.slow) this.slow.delete(call);
    if (call.running) {
      this.running--;
      if (!replayed) this.counters(action).asyncLatency.add(time - call.startedAt);
    } else this.queued--;
  }

  eventSent(): void {
    this.c.eventsSent++;
  }

  outputEmitted(): void {
    this.c.outputs++;
  }

  extension(e: ExtensionEvent): void {
    if (e.type === 'model.called') {
      const name = `${e.provider}/${e.model}`;
      let m = this.models.get(name);
      if (m === undefined)
        this.models.set(
          name,
          (m = { calls: 0, failed: 0, replayed: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 }),
        );
      m.calls++;
      if (!e.ok) m.failed++;
      if (e.replayed) m.replayed++;
      else if (e.usage !== undefined) {
        m.inputTokens += e.usage.inputTokens;
        m.outputTokens += e.usage.outputTokens;
        m.totalTokens += e.usage.totalTokens;
      }
    } else {
      let t = this.tools.get(e.tool);
      if (t === undefined) this.tools.set(e.tool, (t = { calls: 0, failed: 0 }));
      t.calls++;
      if (!e.ok) t.failed++;
    }
  }

  /** The most recent runs that did not complete (failed, aborted, interrupted, rolled back), oldest first. */
  failures(): readonly RecentFailure[] {
    return this.recentFailures.slice();
  }

  snapshot(): AgentStats {
    const actions: Record<string, ActionStats> = {};
    for (const [name, a] of this.actions) {
      actions[name] = {
        started: a.started,
        finished: a.finished,
        failed: a.failed,
        latency: a.latency.summary(),
        asyncLatency: a.asyncLatency.summary(),
      };
    }
    return {
      time: this.time,
      activeKeys: this.keyWork.size,
      activeRuns: this.activeRunSet.size,
      bufferedInputs: this.bufferedRuns.size,
      inFlightAsync: this.queued + this.running,
      queuedAsync: this.queued,
      runningAsync: this.running,
      slowAsync: this.slow.size,
      oldestSlowAsync: this.oldestSlow(),
      peakActiveKeys: this.peak.keys,
      peakActiveRuns: this.peak.runs,
      peakBufferedInputs: this.peak.buffered,
      peakInFlightAsync: this.peak.async,
      ...this.c,
      actions,
      models: Object.fromEntries([...this.models].map(([k, v]) => [k, { ...v }])),
      tools: Object.fromEntries([...this.tools].map(([k, v]) => [k, { ...v }])),
    };
  }

  private oldestSlow(): SlowBlockStats | undefined {
    let oldest: CallState | undefined;
    for (const call of this.slow.keys()) if (oldest === undefined || call.startedAt < oldest.startedAt) oldest = call;
    if (oldest === undefined) return undefined;
    const named = this.slow.get(oldest) as { key: unknown; run: number; action: string; call: string };
    return { ...named, startedAt: oldest.startedAt, age: this.clock() - oldest.startedAt };
  }

  private release(key: unknown): void {
    const left = (this.keyWork.get(key) ?? 1) - 1;
    if (left <= 0) this.keyWork.delete(key);
    else this.keyWork.set(key, left);
  }

  private dropCalls(run: number): void {
    if (this.calls.size === 0) return;
    for (const [ref, call] of this.calls) {
      if (call.run !== run) continue;
      this.calls.delete(ref);
      if (call.running) this.running--;
      else this.queued--;
      if (call.slow) this.slow.delete(call);
    }
  }

  private counters(action: string): ActionCounters {
    let counters = this.actions.get(action);
    if (counters === undefined) {
      counters = {
        started: 0,
        finished: 0,
        failed: 0,
        latency: new LatencyWindow(this.window),
        asyncLatency: new LatencyWindow(this.window),
      };
      this.actions.set(action, counters);
    }
    return counters;
  }
}
