import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { RxAgentsError } from '../errors';
import type { LifecycleEvent } from '../runtime/lifecycle';
import { renderTimeline, type TimelineOptions } from '../observe/timeline';
import { plural } from './format';

/** The file given to `rx-agents timeline` does not exist, or holds no lifecycle events (it is not an event log). */
export class EventLogReadError extends RxAgentsError {
  override readonly name = 'EventLogReadError';
  constructor(code: 'ERR_FILE_NOT_FOUND' | 'ERR_NOT_EVENT_LOG', location: string, reason: string) {
    super(
      code,
      `\`${location}\` ${code === 'ERR_FILE_NOT_FOUND' ? 'does not exist' : `is not an rx-agents event log: ${reason}`}. ` +
        "Write an event log with createEventLog({ path, level: 'actions' }) (level 'all' also draws async blocks).",
    );
  }
}

const TYPES = new Set([
  'input.accepted',
  'input.dropped',
  'run.started',
  'run.ended',
  'action.started',
  'action.suspended',
  'action.resumed',
  'action.finished',
  'action.failed',
  'async.queued',
  'async.started',
  'async.completed',
  'event.sent',
  'event.routed',
  'output.emitted',
]);

/** Arguments of `rx-agents timeline`. */
export interface TimelineArgs {
  readonly file: string;
  readonly output: string;
  readonly options: TimelineOptions;
}

/**
 * `rx-agents timeline events.jsonl -o timeline.html`: the run timeline (`renderTimeline`) of an
 * event-log file written by `createEventLog`. Lines that are not lifecycle events are skipped and
 * counted on stderr, never silently; a file with none fails with {@link EventLogReadError}.
 */
export function timelineCommand(args: TimelineArgs, out: (line: string) => void, warn: (line: string) => void): void {
  if (!existsSync(args.file)) throw new EventLogReadError('ERR_FILE_NOT_FOUND', args.file, '');
  const events: LifecycleEvent[] = [];
  const bad: number[] = [];
  const lines = readFileSync(args.file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      return void bad.push(i + 1);
    }
    const ok =
      typeof e === 'object' &&
      e !== null &&
      TYPES.has((e as { type?: string }).type ?? '') &&
      typeof (e as { time?: unknown }).time === 'number' &&
      typeof (e as { run?: unknown }).run === 'number';
    if (ok) events.push(e as LifecycleEvent);
    else bad.push(i + 1);
  });
  if (events.length === 0)
    throw new EventLogReadError(
      'ERR_NOT_EVENT_LOG',
      args.file,
      bad.length > 0 ? `none of its ${plural(bad.length, 'line')} is a lifecycle event` : 'it is empty',
    );
  if (bad.length > 0)
    warn(
      `warning: skipped ${plural(bad.length, 'line')} that ${bad.length === 1 ? 'is' : 'are'} not lifecycle events (line ${bad.slice(0, 10).join(', ')}${bad.length > 10 ? ', …' : ''})`,
    );
  writeFileSync(args.output, renderTimeline(events, args.options));
  const runs = new Set(events.filter((e) => e.type === 'run.started').map((e) => e.run)).size;
  out(
    `${args.output}: timeline of ${plural(runs, 'run')} from ${plural(events.length, 'event')} (open it in a browser)`,
  );
}
