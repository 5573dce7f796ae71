import { optionError } from '../errors';
import type { LifecycleEvent } from '../runtime/lifecycle';
import { foldTimeline } from './timeline-layout';
import { timelineKit, type TimelineParts } from './timeline-kit';

/** Options of {@link renderTimeline}. */
export interface TimelineOptions {
  /** Shown as the page title and heading. @default 'rx-agents run timeline' */
  readonly title?: string;
  /** Width of the drawing in CSS pixels. @default 1200 */
  readonly width?: number;
  /** The unit of the scheduler clock, shown on the axis (`frames` for a TestScheduler). @default 'ms' */
  readonly unit?: string;
  /** Draw at most this many keys (lanes), in order of first appearance; the rest are counted. @default 60 */
  readonly maxLanes?: number;
}

/**
 * Renders a recorded lifecycle stream as a self-contained HTML page with one SVG drawing:
 * keys as lanes, each run as a bar (hatched before it where its input waited in the key's
 * queue), each action as a bar under its run, and each async block shaded inside its action
 * (light while queued for an executor slot, dark while running). Serial-per-key shows as
 * bars that never overlap within a lane; parallel-across-keys as bars stacked across lanes.
 *
 * Semantics: pure — the same events give the same bytes. Times are the events' scheduler
 * times. Runs still going when the recording stops are drawn to its end and marked `open`.
 * Every bar has a tooltip (`<title>`) and `data-*` attributes (`data-key`, `data-run`,
 * `data-action`, `data-call`) so the page can be inspected or tested. No scripts, no external
 * resources. Dropped inputs are not drawn.
 *
 * @example
 * const events: LifecycleEvent[] = [];
 * const inspector = createInspector();
 * inspector.events$.subscribe((e) => events.push(e));
 * await lastValueFrom(inputs$.pipe(agentOperator(agent, { key: (x) => x.userId, inspect: inspector.inspect })));
 * writeFileSync('timeline.html', renderTimeline(events, { title: 'support agent' }));
 */
export function renderTimeline(events: Iterable<LifecycleEvent>, options: TimelineOptions = {}): string {
  const { title = 'rx-agents run timeline' } = options;
  if (typeof title !== 'string') throw optionError('title', 'a string', title);
  const { svg, summary, legend } = renderTimelineParts(events, options);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:16px;color:#1d2330;background:#fff}
h1{font-size:17px;margin:0 0 2px}
.summary{color:#555;margin-bottom:6px}
${TIMELINE_CSS}</style></head><body>
<h1>${esc(title)}</h1>
<div class="summary">${summary}</div>
${legend}
${svg}
</body></html>
`;
}

/** The timeline drawing's style rules (for pages that embed {@link renderTimelineParts}). */
export const TIMELINE_CSS = `.legend{margin-bottom:8px;color:#333}
.legend .swatch{display:inline-block;width:14px;height:10px;border:1px solid;margin:0 4px 0 10px;vertical-align:-1px}
.legend .k{display:inline-block;width:22px;height:10px;margin:0 4px 0 10px;vertical-align:-1px;border:1px solid #777}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.tick{text-anchor:middle;fill:#666}
.grid{stroke:#e6e8ec}
.lane-bg{fill:#f7f8fa}.lane:nth-of-type(even) .lane-bg{fill:#fff}
.lane-label{fill:#1d2330;font-weight:600}
.run{stroke:#1f3554;stroke-width:.5}
.run.completed{fill:#4a6fa5}.run.failed{fill:#c0392b}.run.aborted{fill:#8d8d8d}.run.open{fill:#b5c3d8}
.wait{fill:url(#hatch);stroke:#b08900;stroke-width:.5}
.action{stroke-width:1}
.action.failed{stroke:#c0392b;stroke-width:2}
.queued{fill:url(#hatch-light)}
.run-label,.action-label{fill:#fff;pointer-events:none}
.action-label{fill:#1d2330;font-size:9.5px}
`;

export type { TimelineParts };

/**
 * The drawing of {@link renderTimeline} without the page around it, for pages that show a
 * timeline among other things. Same semantics and options (`title` is not used here).
 */
export function renderTimelineParts(events: Iterable<LifecycleEvent>, options: TimelineOptions = {}): TimelineParts {
  if (events === null || typeof (events as Iterable<unknown>)[Symbol.iterator] !== 'function')
    throw optionError('events', 'an iterable of lifecycle events', events);
  const { width = 1200, unit = 'ms', maxLanes = 60 } = options;
  if (typeof unit !== 'string') throw optionError('unit', 'a string', unit);
  if (!Number.isInteger(width) || width < 400) throw optionError('width', 'an integer >= 400', width);
  if (!Number.isInteger(maxLanes) || maxLanes < 1) throw optionError('maxLanes', 'an integer >= 1', maxLanes);
  const { lanes, start, end } = foldTimeline(events);
  const kit = timelineKit();
  return kit.render(kit.layout(lanes, start, end), width, unit, maxLanes);
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
