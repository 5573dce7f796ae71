/** An async block as recorded: queued (waiting for an executor slot), then running; `null`: not (yet) seen. */
export interface CallRecord {
  readonly id: string;
  readonly queuedAt: number;
  startedAt: number | null;
  endedAt: number | null;
  ok: boolean;
  replayed: boolean;
}

/** An action activation as recorded (`end` is `null` while it runs). */
export interface ActionRecord {
  readonly action: string;
  readonly activation: string;
  start: number;
  end: number | null;
  failed: boolean;
  calls: CallRecord[];
}

/**
 * One run folded from its lifecycle events: what the timeline draws of it and nothing else (no inputs,
 * outputs or payloads). Plain JSON-safe data, so the live inspector sends it to the page as it is.
 * `start` is `null` for a run whose input was accepted but that never started; `last` is the time of
 * the latest event folded in.
 */
export interface RunRecord {
  readonly run: number;
  acceptedAt: number | null;
  start: number | null;
  end: number | null;
  last: number;
  outcome: 'completed' | 'failed' | 'aborted' | 'interrupted' | 'rolled-back' | 'open';
  readonly actions: ActionRecord[];
}

/** One key's recorded runs: `label` is the key as text (what the lane shows), `key` the key itself. */
export interface LaneRecords {
  readonly key: unknown;
  readonly label: string;
  readonly runs: readonly RunRecord[];
}

/** An async block as drawn. */
export interface CallBar {
  readonly id: string;
  readonly queuedAt: number;
  readonly startedAt: number | null;
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
  readonly row: number;
}

/** One agent run as drawn, with the time its input waited behind the key's previous run. */
export interface RunBar {
  readonly run: number;
  readonly acceptedAt: number;
  readonly start: number;
  readonly end: number;
  readonly outcome: RunRecord['outcome'];
  readonly actions: readonly ActionBar[];
  /** Row of the queue-wait strip (waits of one key overlap when several inputs wait at once). */
  waitRow: number;
}

/** One key: a lane. */
export interface Lane {
  readonly key: unknown;
  readonly label: string;
  readonly runs: readonly RunBar[];
  /** Action rows needed so that overlapping actions of a run never share a row. */
  readonly rows: number;
  /** Queue-wait rows needed (0 when no input of this key waited), at most 3. */
  readonly waitRows: number;
}

/** Lanes, runs, actions and calls placed in time. */
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

/** The parts of a timeline page: the SVG drawing, its one-line summary and its legend (HTML, escaped). */
export interface TimelineParts {
  readonly svg: string;
  readonly summary: string;
  readonly legend: string;
}

/** What {@link timelineKit} returns. */
export interface TimelineKit {
  /** Places recorded runs in lanes and rows (pure); `start`/`end`: the recording's time span. */
  layout(lanes: readonly LaneRecords[], start: number, end: number): TimelineLayout;
  /** Draws a layout as SVG with its summary and legend (pure: the same layout gives the same bytes). */
  render(layout: TimelineLayout, width: number, unit: string, maxLanes: number): TimelineParts;
}

/**
 * The timeline's layout and renderer, as one self-contained function: it uses nothing from outside its
 * own body (no import, no module-level name, no Node API), so its source text (`timelineKit.toString()`)
 * runs unchanged in a browser. The static timeline (`renderTimeline`) calls it in Node; the live
 * inspector page embeds its source and draws the runs the server streams to it with the very same code.
 * spec/observe/timeline.spec.ts evaluates the source in an empty `vm` context and checks it draws the same
 * bytes as Node does.
 *
 * @example
 * const kit = timelineKit();
 * const { svg } = kit.render(kit.layout([{ key: 'k', label: 'k', runs }], 0, 100), 1200, 'ms', 60);
 * const page = `<script>const kit = (${timelineKit.toString()})();</script>`;
 */
export function timelineKit(): TimelineKit {
  const LABEL = 150;
  const WAIT_H = 5;
  const RUN_H = 14;
  const ROW_H = 18;
  const PAD = 8;
  const HUES = [212, 28, 140, 282, 0, 180, 52, 330];
  /** Queue-wait rows per lane at most; deeper queues share the last row. */
  const MAX_WAIT_ROWS = 3;

  const f = (n: number): string => n.toFixed(1);
  const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1));
  const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

  /** Sweep line: the most half-open intervals [a, b) covering one instant (zero-length ones count at their instant). */
  const maxOverlap = (intervals: ReadonlyArray<[number, number]>): number => {
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
  };

  /** About `count` round tick values between `a` and `b`. */
  const niceTicks = (a: number, b: number, count: number): number[] => {
    const span = b - a;
    if (!(span > 0)) return [a];
    const raw = span / count;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
    const ticks: number[] = [];
    for (let t = 0; t <= span + step * 1e-9; t += step) ticks.push(a + t);
    return ticks;
  };

  const layout = (records: readonly LaneRecords[], start: number, end: number): TimelineLayout => {
    const lanes: Lane[] = [];
    const intervals: Array<[number, number]> = [];
    const asyncIntervals: Array<[number, number]> = [];
    let runCount = 0;
    for (const { key, label, runs } of records) {
      const bars: RunBar[] = [];
      let rows = 1;
      for (const r of [...runs].sort((a, b) => a.run - b.run)) {
        const runStart = r.start;
        if (runStart === null) continue; // accepted but never started (recording cut short)
        const runEnd = r.end ?? end;
        const rowEnds: number[] = [];
        const actions: ActionBar[] = [...r.actions]
          .sort((a, b) => a.start - b.start)
          .map((a) => {
            const aEnd = a.end ?? runEnd;
            const calls: CallBar[] = a.calls.map((c) => ({
              id: c.id,
              queuedAt: c.queuedAt,
              startedAt: c.startedAt,
              endedAt: c.endedAt ?? aEnd,
              ok: c.ok,
              replayed: c.replayed,
            }));
            for (const c of calls) if (c.startedAt !== null) asyncIntervals.push([c.startedAt, c.endedAt]);
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
          acceptedAt: r.acceptedAt ?? runStart,
          start: runStart,
          end: runEnd,
          outcome: r.outcome,
          actions,
          waitRow: 0,
        });
        intervals.push([runStart, runEnd]);
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
      if (bars.length > 0) lanes.push({ key, label, runs: bars, rows, waitRows: waitEnds.length });
    }
    return {
      start,
      end,
      lanes,
      runCount,
      maxConcurrentRuns: maxOverlap(intervals),
      maxConcurrentAsync: maxOverlap(asyncIntervals),
    };
  };

  /** Height of a lane's queue-wait strips (one per wait row, stacked above the run bars). */
  const waitBand = (lane: Lane): number => Math.max(lane.waitRows, 1) * (WAIT_H + 1) + 2;

  type X = (t: number) => number;
  type W = (a: number, b: number) => number;

  const renderAction = (a: ActionBar, run: number, key: string, top: number, x: X, w: W, h: number, unit: string) => {
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
      if (c.startedAt !== null) {
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
  };

  const renderRun = (
    run: RunBar,
    key: string,
    top: number,
    band: number,
    x: X,
    w: W,
    hue: (a: string) => number,
    unit: string,
  ): string => {
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
  };

  const renderLane = (
    lane: Lane,
    index: number,
    top: number,
    height: number,
    x: X,
    w: W,
    hue: (a: string) => number,
    unit: string,
  ) => {
    const key = lane.label;
    const parts = [
      `<g class="lane" data-key="${esc(key)}" data-lane="${index}">`,
      `<rect class="lane-bg" x="0" y="${top}" width="100%" height="${height}"/>`,
      `<text class="lane-label" x="8" y="${top + PAD + waitBand(lane) + RUN_H - 3}">${esc(key.length > 20 ? `${key.slice(0, 19)}…` : key)}<title>key ${esc(key)}</title></text>`,
    ];
    for (const run of lane.runs) parts.push(renderRun(run, key, top + PAD, waitBand(lane), x, w, hue, unit));
    parts.push('</g>');
    return parts.join('');
  };

  const render = (layout: TimelineLayout, width: number, unit: string, maxLanes: number): TimelineParts => {
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
  };

  return { layout, render };
}
