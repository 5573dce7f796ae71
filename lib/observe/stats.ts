import type { LifecycleEvent } from '../runtime/lifecycle';
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
  /** The time of the last lifecycle event seen (scheduler time). `undefined` before the first. */
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
  running: boolean;
  startedAt: number;
  /** Reported by `async.slow` (and not completed). */
  slow: boolean;
}

/**
 * Folds lifecycle events into counters. Everything it keeps is bounded by the work in
 * progress (active runs, waiting inputs, calls in flight) plus one fixed window per action name.
 */
export class StatsTracker {
  private time: number | undefined;
  private readonly keyWork = new Map<unknown, number>();
  private readonly bufferedRuns = new Set<number>();
  private readonly activeRunSet = new Set<number>();
  /** Calls in flight, per run, so that an abandoned run's calls leave the counts too. */
  private readonly calls = new Map<number, Map<string, CallState>>();
  /** Start times of activations not done, per run. */
  private readonly activations = new Map<number, Map<string, number>>();
  private readonly actions = new Map<string, ActionCounters>();
  private readonly models = new Map<string, { -readonly [K in keyof ModelStats]: ModelStats[K] }>();
  private readonly tools = new Map<string, { calls: number; failed: number }>();
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

  record(e: LifecycleEvent): void {
    this.time = e.time;
    switch (e.type) {
      case 'input.accepted':
        this.c.inputsAccepted++;
        this.keyWork.set(e.key, (this.keyWork.get(e.key) ?? 0) + 1);
        if (this.keyWork.size > this.peak.keys) this.peak.keys = this.keyWork.size;
        if (e.buffered) {
          this.bufferedRuns.add(e.run);
          if (this.bufferedRuns.size > this.peak.buffered) this.peak.buffered = this.bufferedRuns.size;
        }
        break;
      case 'input.dropped':
        this.c.inputsDropped++;
        // drop-newest drops an input that was never accepted; the others drop a waiting one.
        if (this.bufferedRuns.delete(e.run)) this.release(e.key);
        break;
      case 'run.started':
        this.c.runsStarted++;
        this.bufferedRuns.delete(e.run);
        this.activeRunSet.add(e.run);
        if (this.activeRunSet.size > this.peak.runs) this.peak.runs = this.activeRunSet.size;
        break;
      case 'run.ended':
        if (e.outcome === 'completed') this.c.runsCompleted++;
        else if (e.outcome === 'failed') this.c.runsFailed++;
        else this.c.runsAborted++;
        if (this.activeRunSet.delete(e.run)) this.release(e.key);
        this.dropCalls(e.run);
        this.activations.delete(e.run);
        break;
      case 'action.started': {
        this.counters(e.action).started++;
        let started = this.activations.get(e.run);
        if (started === undefined) this.activations.set(e.run, (started = new Map()));
        started.set(e.activation, e.time);
        break;
      }
      case 'action.finished':
      case 'action.failed': {
        const counters = this.counters(e.action);
        if (e.type === 'action.finished') counters.finished++;
        else counters.failed++;
        const started = this.activations.get(e.run);
        const startedAt = started?.get(e.activation);
        if (started !== undefined && startedAt !== undefined) {
          started.delete(e.activation);
          if (started.size === 0) this.activations.delete(e.run);
          counters.latency.add(e.time - startedAt);
        }
        break;
      }
      case 'async.queued': {
        let calls = this.calls.get(e.run);
        if (calls === undefined) this.calls.set(e.run, (calls = new Map()));
        calls.set(e.call, { running: false, startedAt: e.time, slow: false });
        this.queued++;
        if (this.queued + this.running > this.peak.async) this.peak.async = this.queued + this.running;
        break;
      }
      case 'async.started': {
        const call = this.calls.get(e.run)?.get(e.call);
        if (call !== undefined && !call.running) {
          call.running = true;
          call.startedAt = e.time;
          this.queued--;
          this.running++;
        } else if (call !== undefined) {
          // started again (a retry): a new attempt, not slow (yet)
          call.startedAt = e.time;
          if (call.slow) {
            call.slow = false;
            this.slow.delete(call);
          }
        }
        break;
      }
      case 'async.slow': {
        const call = this.calls.get(e.run)?.get(e.call);
        if (call === undefined || !call.running || call.slow) break;
        call.slow = true;
        call.startedAt = e.time - e.age; // the attempt the watch measured
        this.slow.set(call, { key: e.key, run: e.run, action: e.action, call: e.call });
        break;
      }
      case 'async.completed': {
        if (e.replayed) this.c.asyncReplayed++;
        else if (e.ok) this.c.asyncCompleted++;
        else this.c.asyncFailed++;
        const calls = this.calls.get(e.run);
        const call = calls?.get(e.call);
        if (calls === undefined || call === undefined) break;
        calls.delete(e.call);
        if (calls.size === 0) this.calls.delete(e.run);
        if (call.slow) this.slow.delete(call);
        if (call.running) {
          this.running--;
          if (!e.replayed) this.counters(e.action).asyncLatency.add(e.time - call.startedAt);
        } else this.queued--;
        break;
      }
      case 'event.sent':
        this.c.eventsSent++;
        break;
      case 'output.emitted':
        this.c.outputs++;
        break;
      case 'model.called': {
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
        break;
      }
      case 'tool.called': {
        let t = this.tools.get(e.tool);
        if (t === undefined) this.tools.set(e.tool, (t = { calls: 0, failed: 0 }));
        t.calls++;
        if (!e.ok) t.failed++;
        break;
      }
      default:
        break;
    }
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
    const calls = this.calls.get(run);
    if (calls === undefined) return;
    this.calls.delete(run);
    for (const call of calls.values()) {
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
