import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LifecycleEvent } from '../../lib';
import { renderTimeline } from '../../lib/observe';
import { runInNewContext } from 'node:vm';
import { renderTimelineParts } from '../../lib/observe/timeline';
import { foldTimeline, layoutTimeline } from '../../lib/observe/timeline-layout';
import { timelineKit, type TimelineKit } from '../../lib/observe/timeline-kit';
import { recordScenario } from './timeline-scenario';
import { CHROMIUM, CHROMIUM_ARGS, skipWithoutChromium } from '../fixtures/chromium';

interface Seen {
  readonly heading: string | undefined;
  readonly labels: ReadonlyArray<string | undefined>;
  readonly lanes: ReadonlyArray<{
    readonly key: string;
    readonly top: number;
    readonly bottom: number;
    readonly waits: number;
    readonly asyncs: number;
    readonly runs: ReadonlyArray<{
      readonly run: number;
      readonly left: number;
      readonly right: number;
      readonly top: number;
      readonly bottom: number;
      readonly fill: string;
    }>;
  }>;
}

describe('observe: renderTimeline', () => {
  it('layout: one lane per key; runs of a key never overlap (S1); runs of different keys do (S2)', () => {
    const layout = layoutTimeline(recordScenario());
    expect(layout.lanes.map((l) => l.key)).to.deep.equal(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(layout.runCount).to.equal(15);
    for (const lane of layout.lanes) {
      for (let i = 1; i < lane.runs.length; i++) expect(lane.runs[i]!.start).to.be.at.least(lane.runs[i - 1]!.end);
    }
    expect(layout.maxConcurrentRuns).to.equal(5);
    expect(layout.maxConcurrentAsync).to.equal(4); // the executor's 4 slots
    const k3 = layout.lanes.find((l) => l.key === 'k3')!;
    expect(k3.runs.map((r) => r.outcome)).to.deep.equal(['completed', 'failed', 'completed']);
    // Inputs that arrived while their key was busy waited: run 10 of k0 was accepted at 14, started at 16.
    const run10 = layout.lanes[0]!.runs.find((r) => r.run === 10)!;
    expect([run10.acceptedAt, run10.start]).to.deep.equal([14, 16]);
    // lookup and audit of one run overlap, so they take two rows.
    expect(layout.lanes[0]!.rows).to.be.at.least(2);
  });

  it('renders self-contained HTML (no scripts, no external resources), escaping keys and names', () => {
    const events: LifecycleEvent[] = [
      { type: 'input.accepted', time: 0, key: '<b>&"x', run: 0, buffered: false, input: null },
      { type: 'run.started', time: 0, key: '<b>&"x', run: 0, waited: 0 },
      { type: 'run.ended', time: 5, key: '<b>&"x', run: 0, outcome: 'completed', duration: 5 },
    ];
    const html = renderTimeline(events, { title: 'a <title>' });
    expect(html).to.not.match(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).to.include('data-key="&#60;b&#62;&#38;&#34;x"');
    expect(html).to.include('<title>a &#60;title&#62;</title>');
    expect(renderTimeline(events)).to.equal(renderTimeline(events)); // pure
    expect(renderTimeline([])).to.include('0 keys · 0 runs');
  });

  it('maxLanes cuts lanes and says how many were left out; bad options are TypeErrors', () => {
    const html = renderTimeline(recordScenario(), { maxLanes: 2 });
    expect(html.match(/<g class="lane"/g)).to.have.length(2);
    expect(html).to.include('3 more keys not drawn');
    expect(() => renderTimeline(recordScenario(), { width: 10 })).to.throw(
      TypeError,
      'Expected `width` to be an integer >= 400, got `10` (number)',
    );
    expect(() => renderTimeline(null as never)).to.throw(TypeError, /`events` to be an iterable/);
  });

  it('the layout and renderer are one self-contained function: its source, run where nothing else exists, draws the same bytes', () => {
    // What the live inspector page embeds: the function's source text. In an empty context (no require, no
    // module scope, no Node globals) it must run on its own, and draw exactly what Node draws from the same runs.
    const kit = runInNewContext(`(${timelineKit.toString()})()`, Object.create(null) as object) as TimelineKit;
    const { lanes, start, end } = foldTimeline(recordScenario());
    // The page gets the runs as JSON: the keys as their text.
    const sent = JSON.parse(JSON.stringify(lanes.map((l) => ({ ...l, key: l.label })))) as typeof lanes;
    for (const [width, maxLanes] of [
      [1200, 60],
      [800, 2],
    ] as const) {
      const there = kit.render(kit.layout(sent, start, end), width, 'frames', maxLanes);
      const here = renderTimelineParts(recordScenario(), { width, unit: 'frames', maxLanes });
      expect(there).to.deep.equal({ ...here });
      expect(there.svg.match(/<rect class="run /g)).to.have.length(maxLanes === 2 ? 6 : 15);
    }
  });

  describe('in a real headless browser (Debian chromium)', function () {
    this.timeout(60_000);
    let dir: string;
    before(function () {
      skipWithoutChromium(this);
      dir = mkdtempSync(join(tmpdir(), 'rx-agents-timeline-'));
    });
    after(() => dir !== undefined && rmSync(dir, { recursive: true, force: true }));

    it('loads the file and finds the lanes, with run bars serial within a lane and overlapping across lanes', async () => {
      const { chromium } = await import('playwright-core');
      const file = join(dir, 'timeline.html');
      writeFileSync(file, renderTimeline(recordScenario(), { unit: 'frames', title: 'scenario' }));
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1240, height: 800 } });
        const requests: string[] = [];
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(`file://${file}`);
        // Runs in the page (DOM code as a string: this project type-checks against Node's libs, not the DOM's).
        const seen = (await page.evaluate(`(() => {
          const lanes = [...document.querySelectorAll('g.lane')];
          return {
            heading: document.querySelector('h1')?.textContent,
            labels: lanes.map((g) => g.querySelector('.lane-label')?.firstChild?.textContent),
            lanes: lanes.map((g) => {
              const box = g.getBoundingClientRect();
              const runs = [...g.querySelectorAll('rect.run')].map((r) => {
                const b = r.getBoundingClientRect();
                return { run: Number(r.dataset.run), left: b.left, right: b.right, top: b.top, bottom: b.bottom, fill: getComputedStyle(r).fill };
              });
              return { key: g.dataset.key, top: box.top, bottom: box.bottom, runs, waits: g.querySelectorAll('rect.wait').length, asyncs: g.querySelectorAll('rect.async').length };
            }),
          };
        })()`)) as Seen;
        expect(requests.filter((u) => !u.startsWith('file://'))).to.deep.equal([]);
        expect(seen.heading).to.equal('scenario');
        expect(seen.labels).to.deep.equal(['k0', 'k1', 'k2', 'k3', 'k4']);
        for (const lane of seen.lanes) {
          expect(lane.runs).to.have.length(3);
          expect(lane.asyncs).to.equal(6); // lookup + audit per run
          for (const r of lane.runs) {
            expect(r.right - r.left, `run ${r.run} is drawn`).to.be.greaterThan(2);
            expect(r.top).to.be.within(lane.top, lane.bottom); // inside its lane
          }
          for (let i = 1; i < lane.runs.length; i++)
            expect(lane.runs[i]!.left).to.be.at.least(lane.runs[i - 1]!.right - 0.5); // serial per key
        }
        for (let i = 1; i < seen.lanes.length; i++)
          expect(seen.lanes[i]!.top).to.be.at.least(seen.lanes[i - 1]!.bottom - 0.5); // lanes stacked
        // Parallel across keys: the first runs of k0 and k1 overlap horizontally.
        const [a, b] = [seen.lanes[0]!.runs[0]!, seen.lanes[1]!.runs[0]!];
        expect(Math.min(a.right, b.right)).to.be.greaterThan(Math.max(a.left, b.left));
        expect(seen.lanes.reduce((n, l) => n + l.waits, 0)).to.be.greaterThan(0);
        expect(seen.lanes[3]!.runs[1]!.fill).to.equal('rgb(192, 57, 43)'); // the failed run is red
        const shot = process.env['TIMELINE_SCREENSHOT'] ?? join(dir, 'timeline.png');
        const png = await page.screenshot({ path: shot, fullPage: true });
        expect(png.subarray(1, 4).toString()).to.equal('PNG');
      } finally {
        await browser.close();
      }
    });
  });
});
