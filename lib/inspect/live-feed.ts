import type { AgentInspector } from '../observe/inspector';
import { failuresOf, listen, type Listening } from '../observe/inspector-tap';
import { boundedJson } from '../observe/bounded-json';
import { foldRunEvent, type RunRecord } from '../observe/timeline-layout';
import { describeKey } from '../describe-key';
import type { LifecycleEvent } from '../runtime/lifecycle';
import type { AgentState, KeySnapshot, ParkedSnapshot } from './agent-state';

/** Settings of a {@link LiveFeed} (validated by `serveInspector`). */
export interface LiveFeedSettings {
  readonly payloads: boolean;
  /** Lifecycle events folded into the kept run records at most (bounds the feed's memory). */
  readonly maxEvents: number;
  readonly windowMs: number;
  readonly maxFailures: number;
  /** Keys drawn (and recorded) at most. */
  readonly maxLanes: number;
  /** Runs drawn at most: the timeline shows the most recent ones (bounds the page's drawing). */
  readonly maxRuns: number;
  /** Run starts recorded per second at most (the sampling rate of the timeline). */
  readonly sampleRuns: number;
  readonly state: AgentState | undefined;
}

/** A recorded run as the page gets it: its record, the lane (key) it belongs to, and the events folded into it. */
interface LiveRun extends RunRecord {
  readonly lane: number;
  readonly label: string;
  events: number;
  /** Still being recorded (its events may still come). */
  open: boolean;
}

/** A timeline lane: when its key was last seen, and its run being recorded (`undefined`: none, or not sampled). */
interface Lane {
  readonly id: number;
  readonly label: string;
  last: number;
  run: LiveRun | undefined;
}

/** The event types the timeline draws; the others (sent, routed, outputs, signals, model calls) are not kept. */
const DRAWN: ReadonlySet<LifecycleEvent['type']> = new Set([
  'run.started',
  'run.ended',
  'action.started',
  'action.finished',
  'action.failed',
  'async.queued',
  'async.started',
  'async.completed',
]);

/** The sampling budget refills in bursts, about this often (ms): one timer per burst, not per run. */
const REFILL_MS = 100;

/** A failed run as the page lists it. */
interface Failure {
  readonly time: number;
  readonly key: string;
  readonly run: number;
  readonly error: string;
}

/** One periodic update for the pages: the change since the last one, and (built only if asked) the whole state. */
export interface FeedUpdate {
  /** JSON: counters, and the timeline's runs recorded or changed since the previous update. */
  readonly delta: string;
  /** JSON: counters, and every run the timeline keeps (for a page that missed updates). */
  full(): string;
  /** Runs in the delta. */
  readonly runs: number;
}

/**
 * What the live page shows, folded from an inspector: `stats()` for counters and latencies, and —
 * only while at least one page is connected — the timeline's sampled runs, each folded as its events
 * arrive into one compact record (times, outcome, actions and calls: no event objects, no payloads) for
 * the page to draw, the failed runs and the drill-down. With no page connected it holds no subscription
 * at all, so the agent pays nothing for it. The page draws the timeline itself (lib/observe/timeline-kit.ts,
 * the renderer of the static timeline): each update carries only the runs that changed since the last.
 */
export class LiveFeed {
  /** The recorded runs, in order of their start (the latest `maxRuns` within `windowMs`, and the open ones). */
  private runs: LiveRun[] = [];
  /** Runs recorded or changed since the last update. */
  private readonly changed = new Set<LiveRun>();
  /** Events folded into `runs` (bounded by `maxEvents`). */
  private held = 0;
  /** The time of the newest event recorded. */
  private newest = 0;
  /** The keys drawn as lanes: the time of their last event, and the run of theirs being recorded (if any). */
  private readonly lanes = new Map<unknown, Lane>();
  private laneIds = 0;
  /** Sampling: run starts the budget still allows (refilled in bursts by a timer while paused). */
  private budget = 0;
  /** Since recording started: `stats().runsStarted` then (runs seen = the growth of it), and runs recorded for the timeline. */
  private runsAtStart = 0;
  private runsRecorded = 0;
  /** While the budget is spent, the runtime is not asked about runs at all; this timer (one per feed, shared by every open page, re-armed) refills it. */
  private refill: ReturnType<typeof setTimeout> | undefined;
  private paused = false;
  /** Lanes whose run is being recorded now: while none is (most of the time under sampling), an event costs two comparisons. */
  private recording = 0;
  private listening: Listening | null = null;
  /** Failed runs seen in events, for an inspector that is not one of ours (ours keeps them in its counters, for every run). */
  private readonly seenFailures: Failure[] = [];
  private last: { readonly at: number; readonly runs: number } | undefined;
  private readonly burst: number;

  constructor(
    private readonly inspector: AgentInspector,
    private readonly settings: LiveFeedSettings,
  ) {
    this.burst = Math.max(1, Math.round((settings.sampleRuns * REFILL_MS) / 1000));
  }

  /** Starts recording events (a page connected). */
  start(): void {
    if (this.listening !== null) return;
    // The first page to connect gets a second's worth at once (something to draw right away), then bursts; later pages share them.
    this.budget = this.settings.sampleRuns;
    this.runsAtStart = this.inspector.stats().runsStarted;
    this.runsRecorded = this.recording = 0;
    this.paused = false;
    this.listening = listen(
      this.inspector,
      (e) => this.record(e),
      (key, run, time) => this.wants(key, run, time),
    );
  }

  /** Stops recording and forgets the runs (no page left). */
  stop(): void {
    this.listening?.stop();
    this.listening = null;
    // A cleared timer cannot be re-armed by refresh(): the next page gets a new one.
    clearTimeout(this.refill);
    this.refill = undefined;
    this.paused = false;
    this.runs = [];
    this.changed.clear();
    this.held = 0;
    this.lanes.clear();
  }

  /**
   * Called for the lifecycle events the runtime built for the runs {@link wants} asked for (and for
   * every event while another listener wants them all), so it does as little as it can: two comparisons
   * while no sampled run is going, else one map lookup and the fold of the event into its run's record.
   */
  private record(e: LifecycleEvent): void {
    if (e.type === 'run.ended' && e.outcome !== 'completed' && this.ownFailures === undefined) this.failed(e);
    if (this.recording === 0) return;
    const lane = this.lanes.get(e.key);
    const run = lane?.run;
    if (lane === undefined || run === undefined || run.run !== e.run || !DRAWN.has(e.type)) return;
    lane.last = e.time;
    if (e.time > this.newest) this.newest = e.time;
    if (e.type === 'run.ended') {
      run.open = false;
      lane.run = undefined;
      this.recording--;
    } else if (run.events >= this.settings.maxEvents) return; // one endless run: its start and end are still drawn
    foldRunEvent(run, e);
    run.events++;
    this.held++;
    this.changed.add(run);
  }

  /**
   * Per-run interest, asked by the runtime as each run starts: is this run recorded? Only if its key is
   * (or becomes) a lane and the sampling budget allows it — at most `sampleRuns` run starts per second,
   * in bursts of a tenth of that every 100 ms (one timer per burst). The runtime builds no event at all
   * for the runs it declines, and while the budget is spent it does not ask. Under a higher rate the
   * timeline is a sample, and the page says so; counters, latencies and the failed-runs list come from
   * the inspector's counters and do not depend on it.
   */
  private wants(key: unknown, run: number, time: number): boolean {
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      if (this.lanes.size >= this.settings.maxLanes) return false;
      this.lanes.set(key, (lane = { id: ++this.laneIds, label: describeKey(key), last: time, run: undefined }));
    }
    lane.last = time;
    // A run of this lane never ended in the events seen (a subscription that ended): it is not recorded any more.
    if (lane.run !== undefined) {
      lane.run.open = false;
      lane.run = undefined;
      this.recording--;
    }
    if (this.budget < 1) {
      this.pause();
      return false;
    }
    this.budget--;
    this.runsRecorded++;
    this.recording++;
    const record: LiveRun = {
      lane: lane.id,
      label: lane.label,
      run,
      acceptedAt: null,
      start: null,
      end: null,
      last: time,
      outcome: 'open',
      actions: [],
      events: 0,
      open: true,
    };
    lane.run = record;
    this.runs.push(record);
    if (this.budget < 1) this.pause();
    return true;
  }

  /**
   * The budget is spent: stop being asked (so the runtime reads no clock and calls nothing per run for
   * the page) until the refill timer gives the next burst.
   */
  private pause(): void {
    if (this.paused || this.listening === null) return;
    this.paused = true;
    this.listening.sample(false);
    if (this.refill === undefined) {
      this.refill = setTimeout(
        () => {
          this.paused = false;
          this.budget = this.burst;
          this.listening?.sample(true);
        },
        (this.burst * 1000) / this.settings.sampleRuns,
      );
      this.refill.unref?.();
    } else this.refill.refresh();
  }

  /** Runs started since a page connected, and how many of them the timeline recorded (all zero while no page is). */
  private sampling(runsStarted: number): { runsSeen: number; runsRecorded: number; runsSampledOut: number } {
    const seen = this.listening === null ? 0 : runsStarted - this.runsAtStart;
    const recorded = this.listening === null ? 0 : this.runsRecorded;
    return { runsSeen: seen, runsRecorded: recorded, runsSampledOut: seen - recorded };
  }

  /** The inspector's own failure list (exact, every run), when it is one of ours. */
  private get ownFailures():
    readonly { time: number; key: unknown; run: number; outcome: string; error: unknown }[] | undefined {
    return failuresOf(this.inspector);
  }

  private failed(e: LifecycleEvent & { readonly type: 'run.ended' }): void {
    this.seenFailures.push(this.failure(e));
    if (this.seenFailures.length > this.settings.maxFailures) this.seenFailures.shift();
  }

  private failure(f: { time: number; key: unknown; run: number; outcome: string; error?: unknown }): Failure {
    return {
      time: f.time,
      key: shortKey(f.key),
      run: f.run,
      error: f.outcome === 'aborted' ? 'aborted (the stream ended)' : describeError(f.error, this.settings.payloads),
    };
  }

  /** Failed runs, newest first: from the inspector's counters (every run), else as seen in events. */
  private failures(): Failure[] {
    const own = this.ownFailures;
    const list =
      own === undefined ? this.seenFailures : own.slice(-this.settings.maxFailures).map((f) => this.failure(f));
    return [...list].reverse();
  }

  /**
   * Lets go of what can never be drawn again: runs that started more than `windowMs` before the newest
   * event, runs older than the `maxRuns` most recent (open ones stay: they still change), runs past the
   * `maxEvents` bound, and idle lanes (making room for new keys).
   */
  private prune(): void {
    const from = this.newest - this.settings.windowMs;
    let closed = 0;
    const keep: LiveRun[] = [];
    let held = 0;
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const r = this.runs[i] as LiveRun;
      const open = r.open;
      if (
        !open &&
        ((r.start ?? r.last) < from || closed >= this.settings.maxRuns || held + r.events > this.settings.maxEvents)
      ) {
        this.changed.delete(r);
        continue;
      }
      if (!open) closed++;
      held += r.events;
      keep.push(r);
    }
    this.runs = keep.reverse();
    this.held = held;
    for (const [key, lane] of this.lanes) if (lane.run === undefined && lane.last < from) this.lanes.delete(key);
  }
  /**
   * One update for the pages, as JSON text built once per tick for every connected page: the counters,
   * and the timeline's runs recorded or changed since the previous update (`full()`: all it keeps, for a
   * page that connected or missed an update).
   */
  update(wallNow: number): FeedUpdate {
    this.prune();
    const base = this.base(wallNow);
    const delta = [...this.changed];
    this.changed.clear();
    let full: string | undefined;
    return {
      delta: this.message(base, delta, false),
      full: () => (full ??= this.message(base, this.runs, true)),
      runs: delta.length,
    };
  }

  /** The whole state now, as JSON (the first message of a page, and `/api/snapshot`); what changed stays for the next update. */
  snapshot(wallNow: number): string {
    this.prune();
    return this.message(this.base(wallNow), this.runs, true);
  }

  private message(base: Record<string, unknown>, runs: readonly LiveRun[], full: boolean): string {
    const s = base['stats'] as { runsStarted: number };
    return JSON.stringify({
      ...base,
      timeline: {
        full,
        runs,
        windowMs: this.settings.windowMs,
        maxRuns: this.settings.maxRuns,
        maxLanes: this.settings.maxLanes,
        maxRunsPerSecond: this.settings.sampleRuns,
        sampling: this.sampling(s.runsStarted),
      },
    });
  }

  /** Everything but the timeline: counters, latencies, tokens, keys, failed runs. */
  private base(wallNow: number): Record<string, unknown> {
    const s = this.inspector.stats();
    const done = s.runsCompleted + s.runsFailed + s.runsAborted;
    const rate =
      this.last === undefined || wallNow <= this.last.at
        ? 0
        : ((done - this.last.runs) * 1000) / (wallNow - this.last.at);
    this.last = { at: wallNow, runs: done };
    const state = this.settings.state;
    const live = state?.attached === true ? state.snapshot({ maxKeys: 50 }) : undefined;
    const keys =
      live !== undefined
        ? live.keys.map((k) => ({
            key: shortKey(k.key),
            run: k.run?.seq ?? null,
            age: k.run?.age ?? null,
            waiting: k.waiting,
            calls: k.run?.calls.filter((c) => c.state === 'queued' || c.state === 'running').length ?? 0,
            parked: k.run?.parked.map(parkedText).join(', ') || null,
          }))
        : this.runs
            .filter((r) => r.open)
            .slice(0, 50)
            .map((r) => ({ key: shortKey(r.label), run: r.run, age: null, waiting: null, calls: null, parked: null }));
    return {
      time: s.time ?? null,
      runsPerSecond: Math.round(rate * 10) / 10,
      stats: {
        activeKeys: s.activeKeys,
        activeRuns: s.activeRuns,
        bufferedInputs: s.bufferedInputs,
        inFlightAsync: s.inFlightAsync,
        queuedAsync: s.queuedAsync,
        runningAsync: s.runningAsync,
        slowAsync: s.slowAsync,
        oldestSlowAge: s.oldestSlowAsync?.age ?? null,
        runsStarted: s.runsStarted,
        runsCompleted: s.runsCompleted,
        runsFailed: s.runsFailed,
        runsAborted: s.runsAborted,
        outputs: s.outputs,
        inputsDropped: s.inputsDropped,
      },
      actions: Object.entries(s.actions).map(([name, a]) => ({
        name,
        started: a.started,
        finished: a.finished,
        failed: a.failed,
        latency: a.latency,
        asyncLatency: a.asyncLatency,
      })),
      // Tokens per model (exact: from stats(), counted whether or not a page was connected; replayed calls are not counted twice).
      models: Object.entries(s.models).map(([name, m]) => ({ name, ...m })),
      tools: Object.entries(s.tools).map(([name, t]) => ({ name, ...t })),
      parkedRuns: live?.parkedRuns ?? null,
      keys,
      keysSource: live !== undefined ? 'state' : 'events',
      failures: this.failures(),
    };
  }

  /**
   * The drill-down of one key (`key` as the page shows it, `String(key)`): with a state view, its
   * memory and running run from a snapshot; without one, its latest recorded run.
   */
  key(shown: string): string | undefined {
    const state = this.settings.state;
    if (state?.attached === true) {
      const found = state.key(shown) ?? (isNumeric(shown) ? state.key(Number(shown)) : undefined);
      if (found !== undefined) return JSON.stringify({ source: 'state', ...this.shownKey(found) });
    }
    let run: LiveRun | undefined;
    for (let i = this.runs.length - 1; i >= 0 && run === undefined; i--)
      if ((this.runs[i] as LiveRun).label === shown && this.runs[i]?.start !== null) run = this.runs[i];
    if (run === undefined) return undefined;
    const start = run.start as number;
    return JSON.stringify({
      source: 'events',
      key: shown,
      memory: null,
      memoryNote:
        state === undefined
          ? 'Memory needs a state view: pass the same createAgentState() to agentOperator and serveInspector.'
          : 'The operator is not subscribed.',
      waiting: null,
      run: {
        seq: run.run,
        outcome: run.outcome,
        age: (run.end ?? run.last) - start,
        actions: run.actions.map((a) => ({
          action: a.action,
          activation: a.activation,
          state: a.end === null ? 'open' : a.failed ? 'failed' : 'finished',
        })),
        calls: run.actions.flatMap((a) =>
          a.calls.map((c) => ({
            id: c.id,
            action: a.action,
            state:
              c.startedAt === null && c.endedAt === null
                ? 'queued'
                : c.endedAt === null
                  ? 'running'
                  : c.ok
                    ? 'ok'
                    : 'failed',
          })),
        ),
      },
    });
  }

  private shownKey(k: KeySnapshot): Record<string, unknown> {
    const payloads = this.settings.payloads;
    return {
      key: shortKey(k.key),
      memory: payloads ? JSON.parse(boundedJson(k.memory, 20_000)) : shapeOf(k.memory),
      memoryNote: payloads ? undefined : 'Values hidden: start serveInspector with `payloads: true` to show them.',
      waiting: k.waiting,
      run:
        k.run === null
          ? null
          : {
              seq: k.run.seq,
              outcome: 'open',
              age: k.run.age,
              input: payloads ? JSON.parse(boundedJson(k.run.input, 4_000)) : undefined,
              actions: k.run.actions,
              calls: k.run.calls,
              parked: k.run.parked,
            },
    };
  }
}

/** A parked call in a few words: `approval (waited 12 ms, 88 ms left)`, `timer (…)`, `delayed output (…)`. */
function parkedText(p: ParkedSnapshot): string {
  const what = p.kind === 'timer' ? 'timer' : p.kind === 'delayed-send' ? `delayed ${p.eventType}` : p.eventType;
  return `${what} (waited ${Math.round(p.waited)} ms, ${p.left === null ? 'no deadline' : `${Math.round(p.left)} ms left`})`;
}

/** Memory with its values replaced by their kind (`"string(12)"`, `"number"`, …): the names show, the data does not. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return `array(${value.length})`;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = shapeOf(v);
    return out;
  }
  return typeof value === 'string' ? `string(${value.length})` : value === null ? 'null' : typeof value;
}

function shortKey(key: unknown): string {
  const text = String(key);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function describeError(error: unknown, payloads: boolean): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = (error as { cause?: unknown }).cause;
    let text = `${error.name}${typeof code === 'string' ? ` (${code})` : ''}: ${error.message}`;
    if (cause instanceof Error && !error.message.includes(cause.message))
      text += ` — caused by ${cause.name}: ${cause.message}`;
    return text.length > 600 ? `${text.slice(0, 599)}…` : text;
  }
  return payloads ? boundedJson(error, 600) : `a thrown ${typeof error}`;
}

function isNumeric(text: string): boolean {
  return text.trim() !== '' && Number.isFinite(Number(text));
}
