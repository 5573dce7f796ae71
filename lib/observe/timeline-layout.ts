import type { LifecycleEvent } from '../runtime/lifecycle';
import { describeKey } from '../describe-key';
import { timelineKit, type LaneRecords, type RunRecord, type TimelineLayout } from './timeline-kit';

export type {
  ActionBar,
  ActionRecord,
  CallBar,
  CallRecord,
  Lane,
  LaneRecords,
  RunBar,
  RunRecord,
  TimelineLayout,
} from './timeline-kit';

/** A fresh record for run `run` of a key, first seen at `time`. */
export function newRunRecord(run: number, time: number): RunRecord {
  return { run, acceptedAt: null, start: null, end: null, last: time, outcome: 'open', actions: [] };
}

/**
 * Folds one lifecycle event of a run into its record (what the timeline draws: accept, start and end,
 * actions, async blocks; other events only move `last`). Returns `false` for an event the drawing does
 * not use (nothing changed but `last`).
 */
export function foldRunEvent(run: RunRecord, e: LifecycleEvent): boolean {
  if (e.time > run.last) run.last = e.time;
  switch (e.type) {
    case 'input.accepted':
      run.acceptedAt = e.time;
      return true;
    case 'run.started':
      run.start = e.time;
      run.acceptedAt ??= e.time - e.waited;
      return true;
    case 'run.ended':
      run.end = e.time;
      run.outcome = e.outcome;
      return true;
    case 'action.started': {
      const a = { action: e.action, activation: e.activation, start: e.time, end: null, failed: false, calls: [] };
      const i = indexOf(run.actions, e.activation);
      if (i < 0) run.actions.push(a);
      else run.actions[i] = a;
      return true;
    }
    case 'action.finished':
    case 'action.failed': {
      const a = run.actions[indexOf(run.actions, e.activation)];
      if (a !== undefined && a.end === null) {
        a.end = e.time;
        a.failed = e.type === 'action.failed';
      }
      return true;
    }
    case 'async.queued': {
      const a = run.actions[indexOf(run.actions, e.activation)];
      if (a === undefined) return true;
      const c = { id: e.call, queuedAt: e.time, startedAt: null, endedAt: null, ok: true, replayed: false };
      const i = a.calls.findIndex((x) => x.id === e.call);
      if (i < 0) a.calls.push(c);
      else a.calls[i] = c;
      return true;
    }
    case 'async.started': {
      const c = callOf(run, e.activation, e.call);
      if (c !== undefined) c.startedAt ??= e.time;
      return true;
    }
    case 'async.completed': {
      const c = callOf(run, e.activation, e.call);
      if (c !== undefined) {
        c.endedAt = e.time;
        c.ok = e.ok;
        c.replayed = e.replayed;
      }
      return true;
    }
    default:
      return false;
  }
}

/** The latest activation with this id (searched from the end: the one going now). */
function indexOf(actions: RunRecord['actions'], activation: string): number {
  for (let i = actions.length - 1; i >= 0; i--)
    if ((actions[i] as RunRecord['actions'][number]).activation === activation) return i;
  return -1;
}

function callOf(
  run: RunRecord,
  activation: string,
  call: string,
): RunRecord['actions'][number]['calls'][number] | undefined {
  return run.actions[indexOf(run.actions, activation)]?.calls.find((c) => c.id === call);
}

/** A recorded lifecycle stream folded into one record per run, grouped by key (in order of first appearance), and its time span. */
export function foldTimeline(events: Iterable<LifecycleEvent>): {
  readonly lanes: LaneRecords[];
  readonly start: number;
  readonly end: number;
} {
  const keys = new Map<unknown, Map<number, RunRecord>>();
  let start = Infinity;
  let end = -Infinity;
  for (const e of events) {
    if (e.type === 'input.dropped' && (e.reason === 'drop-newest' || e.reason === 'rejected')) continue;
    start = Math.min(start, e.time);
    end = Math.max(end, e.time);
    let runs = keys.get(e.key);
    if (runs === undefined) keys.set(e.key, (runs = new Map()));
    if (e.type === 'input.dropped') {
      runs.delete(e.run);
      continue;
    }
    let run = runs.get(e.run);
    if (run === undefined) runs.set(e.run, (run = newRunRecord(e.run, e.time)));
    foldRunEvent(run, e);
  }
  if (start === Infinity) start = end = 0;
  const lanes: LaneRecords[] = [];
  for (const [key, runs] of keys) lanes.push({ key, label: describeKey(key), runs: [...runs.values()] });
  return { lanes, start, end };
}

/** Folds a recorded lifecycle stream into lanes, runs, actions and calls (pure, no rendering). */
export function layoutTimeline(events: Iterable<LifecycleEvent>): TimelineLayout {
  const { lanes, start, end } = foldTimeline(events);
  return timelineKit().layout(lanes, start, end);
}
