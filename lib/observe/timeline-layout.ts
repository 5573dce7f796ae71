import type { LifecycleEvent } from '../runtime/lifecycle';

/** An async block as drawn: queued (waiting for an executor slot), then running. */
export interface CallBar {
  readonly id: string;
  readonly queuedAt: number;
  readonly startedAt: number | undefined;
  readonly endedAt: number;
  readonly ok: boolean;
  readonly replayed: boolean;
}

/** An action activation as drawn. `row` is its row inside the lane (0-based, under the run row). */
export interface ActionBar {
  readonly action: string;
  readonly activation: string;
  readonly start: number;
  readonly end: number;
  readonly failed: boolean;
  readonly calls: readonly CallBar[];
  row: number;
}

/** One agent run as drawn, with the time its input waited behind the key's previous run. */
export interface RunBar {
  readonly run: number;
  readonly acceptedAt: number;
  readonly start: number;
  readonly end: number;
  readonly outcome: 'completed' | 'failed' | 'aborted' | 'interrupted' | 'rolled-back' | 'open';
  readonly actions: readonly ActionBar[];
  /** Row of the queue-wait strip (waits of one key overlap when several inputs wait at once). */
  waitRow: number;
}

/** Queue-wait rows per lane at most; deeper queues share the last row. */
const MAX_WAIT_ROWS = 3;

/** One key: a lane. */
export interface Lane {
  readonly key: unknown;
  readonly runs: readonly RunBar[];
  /** Action rows needed so that overlapping actions of a run never share a row. */
  readonly rows: number;
  /** Queue-wait rows needed (0 when no input of this key waited), at most {@link MAX_WAIT_ROWS}. */
  readonly waitRows: number;
}

export interface TimelineLayout {
  readonly start: number;
  readonly end: number;
  readonly lanes: readonly Lane[];
  readonly runCount: number;
  /** The most runs active at the same instant (parallelism across keys). */
  readonly maxConcurrentRuns: number;
  /** The most async blocks running at the same instant. */
  readonly maxConcurrentAsync: number;
}

interface MutableRun {
  run: number;
  acceptedAt: number | undefined;
  start: number | undefined;
  end: number | undefined;
  outcome: RunBar['outcome'];
  actions: Map<
    string,
    {
      action: string;
      activation: string;
      start: number;
      end: number | undefined;
      failed: boolean;
      calls: Map<
        string,
        { queuedAt: number; startedAt: number | undefined; endedAt: number | undefined; ok: boolean; replayed: boolean }
      >;
    }
  >;
}

/** Folds a recorded lifecycle stream into lanes, runs, actions and calls (pure, no rendering). */
export function layoutTimeline(events: Iterable<LifecycleEvent>): TimelineLayout {
  const keys = new Map<unknown, Map<number, MutableRun>>();
  let start = Infinity;
  let end = -Infinity;
  const runOf = (e: LifecycleEvent): MutableRun => {
    let runs = keys.get(e.key);
    if (runs === undefined) keys.set(e.key, (runs = new Map()));
    let run = runs.get(e.run);
    if (run === undefined)
      runs.set(
        e.run,
        (run = {
          run: e.run,
          acceptedAt: undefined,
          start: undefined,
          end: undefined,
          outcome: 'open',
          actions: new Map(),
        }),
      );
    return run;
  };
  for (const e of events) {
    if (e.type === 'input.dropped' && (e.reason === 'drop-newest' || e.reason === 'rejected')) continue;
    start = Math.min(start, e.time);
    end = Math.max(end, e.time);
    const run = runOf(e);
    switch (e.type) {
      case 'input.accepted':
        run.acceptedAt = e.time;
        break;
      case 'input.dropped':
        keys.get(e.key)?.delete(e.run);
        break;
      case 'run.started':
        run.start = e.time;
        run.acceptedAt ??= e.time - e.waited;
        break;
      case 'run.ended':
        run.end = e.time;
        run.outcome = e.outcome;
        break;
      case 'action.started':
        run.actions.set(e.activation, {
          action: e.action,
          activation: e.activation,
          start: e.time,
          end: undefined,
          failed: false,
          calls: new Map(),
        });
        break;
      case 'action.finished':
      case 'action.failed': {
        const a = run.actions.get(e.activation);
        if (a !== undefined && a.end === undefined) {
          a.end = e.time;
          a.failed = e.type === 'action.failed';
        }
        break;
      }
      case 'async.queued':
        run.actions.get(e.activation)?.calls.set(e.call, {
          queuedAt: e.time,
          startedAt: undefined,
          endedAt: undefined,
          ok: true,
          replayed: false,
        });
        break;
      case 'async.started': {
        const c = run.actions.get(e.activation)?.calls.get(e.call);
        if (c !== undefined) c.startedAt ??= e.time;
        break;
      }
      case 'async.completed': {
        const c = run.actions.get(e.activation)?.calls.get(e.call);
        if (c !== undefined) {
          c.endedAt = e.time;
          c.ok = e.ok;
          c.replayed = e.replayed;
        }
        break;
      }
      default:
        break;
    }
  }
  if (start === Infinity) start = end = 0;
  const lanes: Lane[] = [];
  const intervals: Array<[number, number]> = [];
  const asyncIntervals: Array<[number, number]> = [];
  let runCount = 0;
  for (const [key, runs] of keys) {
    const bars: RunBar[] = [];
    let rows = 1;
    for (const r of [...runs.values()].sort((a, b) => a.run - b.run)) {
      if (r.start === undefined) continue; // accepted but never started (recording cut short)
      const runEnd = r.end ?? end;
      const rowEnds: number[] = [];
      const actions: ActionBar[] = [...r.actions.values()]
        .sort((a, b) => a.start - b.start)
        .map((a) => {
          const aEnd = a.end ?? runEnd;
          const calls: CallBar[] = [...a.calls].map(([id, c]) => ({
            id,
            queuedAt: c.queuedAt,
            startedAt: c.startedAt,
            endedAt: c.endedAt ?? aEnd,
            ok: c.ok,
            replayed: c.replayed,
          }));
          for (const c of calls) if (c.startedAt !== undefined) asyncIntervals.push([c.startedAt, c.endedAt]);
          // Greedy interval packing; zero-length actions (sync, in virtual time) still take a slot at their instant.
          let row = rowEnds.findIndex((free) => free < a.start || (free === a.start && a.start !== aEnd));
          if (row < 0) row = rowEnds.push(aEnd) - 1;
          else rowEnds[row] = aEnd;
          return {
            action: a.action,
            activation: a.activation,
            start: a.start,
            end: aEnd,
            failed: a.failed,
            calls,
            row,
          };
        });
      rows = Math.max(rows, rowEnds.length);
      bars.push({
        run: r.run,
        acceptedAt: r.acceptedAt ?? r.start,
        start: r.start,
        end: runEnd,
        outcome: r.outcome,
        actions,
        waitRow: 0,
      });
      intervals.push([r.start, runEnd]);
      runCount++;
    }
    const waitEnds: number[] = [];
    for (const bar of [...bars].sort((a, b) => a.acceptedAt - b.acceptedAt || a.run - b.run)) {
      if (bar.start <= bar.acceptedAt) continue;
      let row = waitEnds.findIndex((free) => free <= bar.acceptedAt);
      if (row < 0) row = waitEnds.length < MAX_WAIT_ROWS ? waitEnds.push(bar.start) - 1 : MAX_WAIT_ROWS - 1;
      waitEnds[row] = Math.max(waitEnds[row] ?? 0, bar.start);
      bar.waitRow = row;
    }
    if (bars.length > 0) lanes.push({ key, runs: bars, rows, waitRows: waitEnds.length });
  }
  return {
    start,
    end,
    lanes,
    runCount,
    maxConcurrentRuns: maxOverlap(intervals),
    maxConcurrentAsync: maxOverlap(asyncIntervals),
  };
}

/** Sweep line: the most half-open intervals [a, b) covering one instant (zero-length ones count at their instant). */
function maxOverlap(intervals: ReadonlyArray<[number, number]>): number {
  const points: Array<[number, number]> = [];
  for (const [a, b] of intervals) {
    points.push([a, 1]);
    points.push([b, b === a ? 2 : 0]);
  }
  // At equal times: ends (0), then starts (1), then ends of zero-length intervals (2), so back-to-back
  // runs of one key do not count as overlapping while an instant run still counts.
  points.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let live = 0;
  let max = 0;
  for (const [, kind] of points) {
    if (kind === 1) max = Math.max(max, ++live);
    else live--;
  }
  return max;
}
