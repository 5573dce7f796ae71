import { optionError } from '../errors';
import type { LifecycleEvent } from '../runtime/lifecycle';
import { layoutTimeline, type ActionBar, type Lane, type RunBar } from './timeline-layout';
import { describeKey } from '../describe-key';

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

const LABEL = 150;
const WAIT_H = 5;
const RUN_H = 14;
const ROW_H = 18;
const PAD = 8;
const HUES = [212, 28, 140, 282, 0, 180, 52, 330];

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

/** The parts of a timeline page: the <svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(summary)}">
<defs>
<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff8dc"/><line x1="0" y1="0" x2="0" y2="6" stroke="#e0b000" stroke-width="3"/></pattern>
<pattern id="hatch-light" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="4" stroke="#777" stroke-opacity=".45" stroke-width="2"/></pattern>
</defs>
<text class="tick" x="${LABEL - 10}" y="${axisY - 6}" style="text-anchor:end">${esc(unit)}</text>
${ticks}
${body.join('\n')}
</svg> drawing, its one-line summary and its legend (HTML, escaped). */
export interface TimelineParts {
  readonly svg: string;
  readonly summary: string;
  readonly legend: string;
}

/**
 * The drawing of {@link renderTimeline} without the page around it, for pages that show a
 * timeline among other things (the live inspector page redraws one over a sliding window).
 * Same semantics and options (`title` is not used here).
 */
export function renderTimelineParts(events: Iterable<LifecycleEvent>, options: TimelineOptions = {}): TimelineParts {
  if (events === null || typeof (events as Iterable<unknown>)[Symbol.iterator] !== 'function')
    throw optionError('events', 'an iterable of lifecycle events', events);
  const { width = 1200, unit = 'ms', maxLanes = 60 } = options;
  if (typeof unit !== 'string') throw optionError('unit', 'a string', unit);
  if (!Number.isInteger(width) || width < 400) throw optionError('width', 'an integer >= 400', width);
  if (!Number.isInteger(maxLanes) || maxLanes < 1) throw optionError('maxLanes', 'an integer >= 1', maxLanes);
  const layout = layoutTimeline(events);
  const lanes = layout.lanes.slice(0, maxLanes);
  const span = Math.max(layout.end - layout.start, 1e-9);
  const plot = width - LABEL - 20;
  const x = (t: number): number => LABEL + ((t - layout.start) / span) * plot;
  const w = (a: number, b: number): number => Math.max(x(b) - x(a), 2);
  const hueOf = new Map<string, number>();
  const hue = (action: string): number => {
    let h = hueOf.get(action);
    if (h === undefined) hueOf.set(action, (h = HUES[hueOf.size % HUES.length] as number));
    return h;
  };

  const axisY = 30;
  let y = axisY + 14;
  const body: string[] = [];
  lanes.forEach((lane, i) => {
    const height = waitBand(lane) + RUN_H + lane.rows * ROW_H + PAD * 2;
    body.push(renderLane(lane, i, y, height, x, w, hue, unit));
    y += height;
  });
  const height = y + 10;
  const ticks = niceTicks(layout.start, layout.end, 10)
    .map(
      (t) =>
        `<line class="grid" x1="${f(x(t))}" x2="${f(x(t))}" y1="${axisY}" y2="${height - 10}"/><text class="tick" x="${f(x(t))}" y="${axisY - 6}">${fmt(t - layout.start)}</text>`,
    )
    .join('');
  const hidden = layout.lanes.length - lanes.length;
  const legend = [...hueOf]
    .map(
      ([name, h]) =>
        `<span class="swatch" style="background:hsl(${h} 70% 80%);border-color:hsl(${h} 55% 45%)"></span>${esc(name)}`,
    )
    .join(' ');
  const summary =
    `${layout.lanes.length} key${layout.lanes.length === 1 ? '' : 's'} · ${layout.runCount} run${layout.runCount === 1 ? '' : 's'} · ` +
    `${fmt(layout.end - layout.start)} ${esc(unit)} · up to ${layout.maxConcurrentRuns} runs at once · up to ${layout.maxConcurrentAsync} async blocks at once` +
    (hidden > 0 ? ` · ${hidden} more key${hidden === 1 ? '' : 's'} not drawn` : '');
  return {
    summary,
    legend: `<div class="legend"><span class="k" style="background:#4a6fa5"></span>run <span class="k" style="background:repeating-linear-gradient(45deg,#f1c40f55 0 3px,#fff 3px 6px)"></span>input waiting in its key's queue <span class="k" style="background:#555"></span>async block running <span class="k" style="background:repeating-linear-gradient(45deg,#9995 0 2px,#fff 2px 4px)"></span>async block waiting for a slot &nbsp;│ actions:${legend}</div>`,
    svg: `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(summary)}">
<defs>
<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff8dc"/><line x1="0" y1="0" x2="0" y2="6" stroke="#e0b000" stroke-width="3"/></pattern>
<pattern id="hatch-light" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="4" stroke="#777" stroke-opacity=".45" stroke-width="2"/></pattern>
</defs>
<text class="tick" x="${LABEL - 10}" y="${axisY - 6}" style="text-anchor:end">${esc(unit)}</text>
${ticks}
${body.join('\n')}
</svg>`,
  };
}

function renderLane(
  lane: Lane,
  index: number,
  top: number,
  height: number,
  x: (t: number) => number,
  w: (a: number, b: number) => number,
  hue: (a: string) => number,
  unit: string,
): string {
  const key = describeKey(lane.key);
  const parts = [
    `<g class="lane" data-key="${esc(key)}" data-lane="${index}">`,
    `<rect class="lane-bg" x="0" y="${top}" width="100%" height="${height}"/>`,
    `<text class="lane-label" x="8" y="${top + PAD + waitBand(lane) + RUN_H - 3}">${esc(key.length > 20 ? `${key.slice(0, 19)}…` : key)}<title>key ${esc(key)}</title></text>`,
  ];
  for (const run of lane.runs) parts.push(renderRun(run, key, top + PAD, waitBand(lane), x, w, hue, unit));
  parts.push('</g>');
  return parts.join('');
}

/** Height of a lane's queue-wait strips (one per wait row, stacked above the run bars). */
function waitBand(lane: Lane): number {
  return Math.max(lane.waitRows, 1) * (WAIT_H + 1) + 2;
}

function renderRun(
  run: RunBar,
  key: string,
  top: number,
  band: number,
  x: (t: number) => number,
  w: (a: number, b: number) => number,
  hue: (a: string) => number,
  unit: string,
): string {
  const parts: string[] = [];
  if (run.start > run.acceptedAt) {
    parts.push(
      `<rect class="wait" data-key="${esc(key)}" data-run="${run.run}" x="${f(x(run.acceptedAt))}" y="${top + band - 2 - (run.waitRow + 1) * (WAIT_H + 1)}" width="${f(w(run.acceptedAt, run.start))}" height="${WAIT_H}"><title>run ${run.run} of key ${esc(key)} waited ${fmt(run.start - run.acceptedAt)} ${esc(unit)} in the key's queue</title></rect>`,
    );
  }
  top += band;
  // Back-to-back runs of one key get a 1px gap so that their bars read as separate.
  const rw = Math.max(w(run.start, run.end) - 1, 2);
  parts.push(
    `<rect class="run ${run.outcome}" data-key="${esc(key)}" data-run="${run.run}" x="${f(x(run.start))}" y="${top}" width="${f(rw)}" height="${RUN_H}" rx="2"><title>run ${run.run} of key ${esc(key)}: ${run.outcome}, ${fmt(run.end - run.start)} ${esc(unit)} (waited ${fmt(run.start - run.acceptedAt)})</title></rect>`,
  );
  if (rw > 26)
    parts.push(`<text class="run-label" x="${f(x(run.start) + 3)}" y="${top + RUN_H - 3}">#${run.run}</text>`);
  for (const a of run.actions)
    parts.push(renderAction(a, run.run, key, top + RUN_H + 2 + a.row * ROW_H, x, w, hue(a.action), unit));
  return parts.join('');
}

function renderAction(
  a: ActionBar,
  run: number,
  key: string,
  top: number,
  x: (t: number) => number,
  w: (a: number, b: number) => number,
  h: number,
  unit: string,
): string {
  const height = ROW_H - 3;
  const strip = 5;
  const aw = w(a.start, a.end);
  const parts = [
    `<rect class="action${a.failed ? ' failed' : ''}" data-key="${esc(key)}" data-run="${run}" data-action="${esc(a.action)}" x="${f(x(a.start))}" y="${top}" width="${f(aw)}" height="${height}" rx="2" fill="hsl(${h} 70% 85%)" stroke="hsl(${h} 55% 45%)"><title>${esc(a.action)} (${esc(a.activation)}): ${a.failed ? 'failed' : 'finished'} after ${fmt(a.end - a.start)} ${esc(unit)}, ${a.calls.length} async block${a.calls.length === 1 ? '' : 's'}</title></rect>`,
  ];
  for (const c of a.calls) {
    const runningFrom = c.startedAt ?? c.endedAt;
    if (runningFrom > c.queuedAt)
      parts.push(
        `<rect class="queued" data-call="${esc(c.id)}" x="${f(x(c.queuedAt))}" y="${top + height - strip}" width="${f(w(c.queuedAt, runningFrom))}" height="${strip}"><title>${esc(c.id)} waited ${fmt(runningFrom - c.queuedAt)} ${esc(unit)} for an executor slot</title></rect>`,
      );
    if (c.startedAt !== undefined) {
      parts.push(
        `<rect class="async${c.ok ? '' : ' failed'}" data-call="${esc(c.id)}" x="${f(x(c.startedAt))}" y="${top + height - strip}" width="${f(w(c.startedAt, c.endedAt))}" height="${strip}" fill="hsl(${h} 55% ${c.ok ? 38 : 30}%)"><title>async block ${esc(c.id)}: ${c.ok ? 'ok' : 'failed'}, ran ${fmt(c.endedAt - c.startedAt)} ${esc(unit)}</title></rect>`,
      );
    } else if (c.replayed) {
      parts.push(
        `<circle class="replayed" data-call="${esc(c.id)}" cx="${f(x(c.endedAt))}" cy="${top + height / 2}" r="3" fill="hsl(${h} 55% 38%)"><title>${esc(c.id)} replayed from the journal</title></circle>`,
      );
    }
  }
  if (aw > a.action.length * 6 + 8)
    parts.push(
      `<text class="action-label" x="${f(x(a.start) + 4)}" y="${top + height - strip - 1.5}">${esc(a.action)}</text>`,
    );
  return parts.join('');
}

/** About `count` round tick values between `a` and `b`. */
function niceTicks(a: number, b: number, count: number): number[] {
  const span = b - a;
  if (!(span > 0)) return [a];
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let t = 0; t <= span + step * 1e-9; t += step) ticks.push(a + t);
  return ticks;
}

function f(n: number): string {
  return n.toFixed(1);
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1);
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
