import type { AgentInspector } from '../observe/inspector';
import { failuresOf, listen, type Listening } from '../observe/inspector-tap';
import { boundedJson } from '../observe/bounded-json';
import { layoutTimeline } from '../observe/timeline-layout';
import { renderTimelineParts } from '../observe/timeline';
import type { LifecycleEvent } from '../runtime/lifecycle';
import type { AgentState, KeySnapshot, ParkedSnapshot } from './agent-state';

/** Settings of a {@link LiveFeed} (validated by `serveInspector`). */
export interface LiveFeedSettings {
  readonly payloads: boolean;
  readonly maxEvents: number;
  readonly windowMs: number;
  readonly maxFailures: number;
  /** Keys drawn (and recorded) at most. */
  readonly maxLanes: number;
  /** Runs drawn at most: the timeline shows the most recent ones (bounds the update's size). */
  readonly maxRuns: number;
  readonly state: AgentState | undefined;
}

/** A timeline lane: when its key was last seen, and its run being recorded (`undefined`: none, or not sampled). */
interface Lane {
  last: number;
  run: number | undefined;
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

/** A failed run as the page lists it. */
interface Failure {
  readonly time: number;
  readonly key: string;
  readonly run: number;
  readonly error: string;
}

/**
 * What the live page shows, folded from an inspector: `stats()` for counters and latencies, and —
 * only while at least one page is connected — a bounded ring of recent lifecycle events for the
 * scrolling timeline, the failed runs and the drill-down. With no page connected it holds no
 * subscription at all, so the agent pays nothing for it.
 */
export class LiveFeed {
  private ring: LifecycleEvent[] = [];
  private head = 0;
  /** The keys drawn as lanes: the time of their last event, and the run of theirs being recorded (if any). */
  private readonly lanes = new Map<unknown, Lane>();
  /** Events recorded since the last snapshot; none: the last drawing is reused. */
  private fresh = 0;
  /** Sampling: run starts the budget still allows (refilled at `maxRuns` per second of scheduler time), and when it was refilled. */
  private budget = 0;
  private refilled = Number.NaN;
  /** Since recording started: `stats().runsStarted` then (runs seen = the growth of it), and runs recorded for the timeline. */
  private runsAtStart = 0;
  private runsRecorded = 0;
  /** While the budget is spent, the runtime is not asked about runs at all; this timer resumes asking when it refills. */
  private resume: ReturnType<typeof setTimeout> | undefined;
  /** Lanes whose run is being recorded now: while none is (most of the time under sampling), an event costs two comparisons. */
  private recording = 0;
  private drawn:
    | { readonly parts: ReturnType<typeof renderTimelineParts>; readonly open: unknown[]; readonly events: number }
    | undefined;
  private listening: Listening | null = null;
  /** Failed runs seen in events, for an inspector that is not one of ours (ours keeps them in its counters, for every run). */
  private readonly seenFailures: Failure[] = [];
  private last: { readonly at: number; readonly runs: number } | undefined;

  constructor(
    private readonly inspector: AgentInspector,
    private readonly settings: LiveFeedSettings,
  ) {}

  /** Starts recording events (a page connected). */
  start(): void {
    if (this.listening !== null) return;
    this.budget = this.settings.maxRuns;
    this.refilled = Number.NaN;
    this.runsAtStart = this.inspector.stats().runsStarted;
    this.runsRecorded = this.recording = 0;
    this.listening = listen(
      this.inspector,
      (e) => this.record(e),
      (key, run, time) => this.wants(key, run, time),
    );
  }

  /** Stops recording and forgets the events (no page left). */
  stop(): void {
    this.listening?.stop();
    this.listening = null;
    clearTimeout(this.resume);
    this.resume = undefined;
    this.ring = [];
    this.head = 0;
    this.lanes.clear();
    this.drawn = undefined;
  }

  /**
   * Called for the lifecycle events the runtime built for the runs {@link wants} asked for (and for
   * every event while another listener wants them all), so it does as little as it can: two comparisons
   * while no sampled run is going, else one map lookup. The timeline keeps only the events it draws
   * (runs, actions, calls) of the runs it samples.
   */
  private record(e: LifecycleEvent): void {
    if (e.type === 'run.ended' && e.outcome !== 'completed' && this.ownFailures === undefined) this.failed(e);
    if (this.recording === 0) return;
    const lane = this.lanes.get(e.key);
    if (lane === undefined || lane.run !== e.run || !DRAWN.has(e.type)) return;
    lane.last = e.time;
    if (e.type === 'run.ended') {
      lane.run = undefined;
      this.recording--;
    }
    this.keep(e);
  }

  /**
   * Per-run interest, asked by the runtime as each run starts: is this run recorded? Only if its key is
   * (or becomes) a lane and the sampling budget allows it — at most `maxRuns` run starts per second of
   * scheduler time (the drawing shows the latest `maxRuns` runs, about once a second: recording more
   * would only be overwritten unseen). The runtime builds no event at all for the runs it declines.
   * Under a higher rate the timeline is a sample, and the page says so; counters, latencies and the
   * failed-runs list come from the inspector's counters and do not depend on it.
   */
  private wants(key: unknown, run: number, time: number): boolean {
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      if (this.lanes.size >= this.settings.maxLanes) return false;
      this.lanes.set(key, (lane = { last: time, run: undefined }));
    }
    const max = this.settings.maxRuns;
    if (!Number.isNaN(this.refilled))
      this.budget = Math.min(max, this.budget + (Math.max(0, time - this.refilled) * max) / 1000);
    this.refilled = time;
    lane.last = time;
    // A run of this lane never ended in the events seen (a subscription that ended): it is not recorded any more.
    if (lane.run !== undefined) this.recording--;
    if (this.budget < 1) {
      lane.run = undefined;
      this.pause();
      return false;
    }
    this.budget--;
    this.runsRecorded++;
    this.recording++;
    lane.run = run;
    if (this.budget < 1) this.pause();
    return true;
  }

  /**
   * The budget is spent: stop being asked (so the runtime reads no clock and calls nothing per run for
   * the page) until it has refilled by one run, `1000 / maxRuns` ms on (the scheduler's clock is the
   * wall clock for the real-time schedulers a live agent uses; on another, asking resumes and pauses again).
   */
  private pause(): void {
    if (this.resume !== undefined || this.listening === null) return;
    this.listening.sample(false);
    const ms = Math.max(1, Math.ceil(((1 - this.budget) * 1000) / this.settings.maxRuns));
    this.resume = setTimeout(() => {
      this.resume = undefined;
      this.listening?.sample(true);
    }, ms);
    this.resume.unref?.();
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

  /** A fixed-size ring: once full, the oldest event is overwritten (O(1), no allocation per event). */
  private keep(e: LifecycleEvent): void {
    this.fresh++;
    if (this.ring.length < this.settings.maxEvents) this.ring.push(e);
    else {
      this.ring[this.head] = e;
      this.head = (this.head + 1) % this.settings.maxEvents;
    }
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
   * The recorded events, oldest first, within the last `windowMs` of the newest and from the start
   * of the `maxRuns`-th most recent run on (so an update stays small however fast runs go).
   */
  private recent(): LifecycleEvent[] {
    const ordered =
      this.head === 0 ? this.ring.slice() : [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
    const newest = ordered[ordered.length - 1];
    if (newest === undefined) return ordered;
    const from = newest.time - this.settings.windowMs;
    let i = ordered.length;
    let runs = 0;
    while (i > 0) {
      const e = ordered[i - 1] as LifecycleEvent;
      if (e.time < from) break;
      if (e.type === 'run.started' && ++runs > this.settings.maxRuns) break;
      i--;
    }
    return i === 0 ? ordered : ordered.slice(i);
  }

  /**
   * One update for the page, as JSON text (built once per tick, shared by every connected page);
   * `withTimeline: false` leaves the drawing out (`timeline: null`): it is the bulk of an update.
   */
  snapshot(wallNow: number, withTimeline = true): string {
    const s = this.inspector.stats();
    const done = s.runsCompleted + s.runsFailed + s.runsAborted;
    const rate =
      this.last === undefined || wallNow <= this.last.at
        ? 0
        : ((done - this.last.runs) * 1000) / (wallNow - this.last.at);
    this.last = { at: wallNow, runs: done };
    const drawn = withTimeline || this.drawn === undefined ? this.draw() : this.drawn;
    const { parts: timeline, open, events } = drawn;
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
        : open
            .slice(0, 50)
            .map((key) => ({ key: shortKey(key), run: null, age: null, waiting: null, calls: null, parked: null }));
    return JSON.stringify({
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
      timeline: withTimeline
        ? {
            svg: timeline.svg,
            legend: timeline.legend,
            summary: timeline.summary,
            events,
            maxRunsPerSecond: this.settings.maxRuns,
            maxLanes: this.settings.maxLanes,
            sampling: this.sampling(s.runsStarted),
          }
        : null,
    });
  }

  /** The timeline of the recent events, redrawn only when events arrived; idle lanes make room for new keys. */
  private draw(): {
    readonly parts: ReturnType<typeof renderTimelineParts>;
    readonly open: unknown[];
    readonly events: number;
  } {
    if (this.drawn !== undefined && this.fresh === 0) return this.drawn;
    this.fresh = 0;
    const events = this.recent();
    const newest = events[events.length - 1]?.time ?? 0;
    for (const [key, lane] of this.lanes)
      if (lane.run === undefined && lane.last < newest - this.settings.windowMs) this.lanes.delete(key);
    // Keys with a run started and not ended in the window (the active keys, without a state view).
    const running = new Map<unknown, number>();
    for (const e of events)
      if (e.type === 'run.started') running.set(e.key, e.run);
      else if (e.type === 'run.ended' && running.get(e.key) === e.run) running.delete(e.key);
    const open = [...running.keys()];
    const parts = renderTimelineParts(events, { width: 1100, maxLanes: this.settings.maxLanes });
    // Older events can never be drawn again (each drawing starts later): let them go now rather than
    // when the ring wraps, so the feed keeps about one drawing's worth alive (a few hundred events under
    // sampling, not `maxEvents`) — less for every major GC to mark.
    if (events.length < this.ring.length) {
      this.ring = events;
      this.head = 0;
    }
    return (this.drawn = { parts, open, events: events.length });
  }

  /**
   * The drill-down of one key (`key` as the page shows it, `String(key)`): with a state view, its
   * memory and running run from a snapshot; without one, its latest run as the recorded events show it.
   */
  key(shown: string): string | undefined {
    const state = this.settings.state;
    if (state?.attached === true) {
      const found = state.key(shown) ?? (isNumeric(shown) ? state.key(Number(shown)) : undefined);
      if (found !== undefined) return JSON.stringify({ source: 'state', ...this.shownKey(found) });
    }
    const events = this.recent().filter((e) => String(e.key) === shown);
    if (events.length === 0) return undefined;
    const lane = layoutTimeline(events).lanes[0];
    const run = lane?.runs[lane.runs.length - 1];
    return JSON.stringify({
      source: 'events',
      key: shown,
      memory: null,
      memoryNote:
        state === undefined
          ? 'Memory needs a state view: pass the same createAgentState() to agentOperator and serveInspector.'
          : 'The operator is not subscribed.',
      waiting: null,
      run:
        run === undefined
          ? null
          : {
              seq: run.run,
              outcome: run.outcome,
              age: run.end - run.start,
              actions: run.actions.map((a) => ({
                action: a.action,
                activation: a.activation,
                state: a.end === run.end && run.outcome === 'open' ? 'open' : a.failed ? 'failed' : 'finished',
              })),
              calls: run.actions.flatMap((a) =>
                a.calls.map((c) => ({
                  id: c.id,
                  action: a.action,
                  state: c.startedAt === undefined ? 'queued' : c.ok ? 'ok' : 'failed',
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
