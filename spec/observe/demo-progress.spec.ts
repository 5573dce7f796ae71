import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { lastValueFrom, of } from 'rxjs';
import { agentOperator } from '../../lib';
import { createInspector } from '../../lib/observe';
import { startProgress } from '../../examples/support/progress';
import { byKey, jobAgent } from './fixtures';
import { CHROMIUM, CHROMIUM_ARGS } from '../fixtures/chromium';

/** A stream standing in for a terminal: the progress code only needs `isTTY`, `columns` and `write`. */
function terminal(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new PassThrough() as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY, columns: 200 });
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, text: () => chunks.join('') };
}

const jobs = [
  { id: 1, key: 'a', work: 1 },
  { id: 2, key: 'b', work: 1 },
  { id: 3, key: 'a', work: 1 },
];

describe('observe: demo progress and --timeline', () => {
  it('on a TTY: redraws a status line (runs, rate, active keys, async in flight), then one summary line', async () => {
    const term = terminal(true);
    const inspector = createInspector();
    const progress = startProgress('demo', inspector, { stream: term.stream, total: 3 });
    await lastValueFrom(of(...jobs).pipe(agentOperator(jobAgent(), { key: byKey, inspect: inspector.inspect })));
    const summary = progress.stop();
    await new Promise((r) => setImmediate(r));
    expect(term.text()).to.match(/^\r\x1b\[2Kdemo ░{24} 0\/3 runs · 0\/s · 0 keys active · 0 async/);
    expect(term.text().endsWith(`\r\x1b[2K${summary}\n`)).to.equal(true);
    expect(summary).to.match(
      /^demo: 3 runs in \d+ ms \(\d+ runs\/s\), 0 failed; peak 2 active keys, 4 async blocks in flight; 3 outputs$/,
    );
  });

  it('not on a TTY: no control characters, only the plain summary', async () => {
    const term = terminal(false);
    const inspector = createInspector();
    const progress = startProgress('demo', inspector, { stream: term.stream, total: 3 });
    await lastValueFrom(of(...jobs).pipe(agentOperator(jobAgent(), { key: byKey, inspect: inspector.inspect })));
    progress.stop();
    await new Promise((r) => setImmediate(r));
    expect(term.text()).to.match(/^demo: 3 runs in \d+ ms .*; 3 outputs\n$/);
  });

  it('`npm start -- --timeline out.html` writes a timeline of the demo with one lane per customer', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'rx-agents-demo-'));
    try {
      const out = join(dir, 'demo.html');
      const root = join(__dirname, '..', '..');
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', 'examples/demo.ts', '--timeline', out],
        { cwd: root },
      );
      expect(stdout).to.include(`timeline of the rx-agents run written to ${out}`);
      expect(stderr)
        .to.match(/^serial: 200 runs in \d+ ms/m)
        .and.match(/^rx-agents: 200 runs in \d+ ms .*peak 40 active keys/m);
      expect(stderr).to.not.include('\x1b'); // not a TTY: plain summaries only
      const html = readFileSync(out, 'utf8');
      expect(html.match(/<g class="lane"/g)).to.have.length(40);
      expect(html).to.include('40 keys · 200 runs');
      if (!existsSync(CHROMIUM)) return; // the rendering itself is checked in a browser by timeline.spec.ts
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1240, height: 640 } });
        await page.goto(`file://${out}`);
        const labels = (await page.evaluate(
          `[...document.querySelectorAll('g.lane .lane-label')].map((t) => t.firstChild.textContent)`,
        )) as string[];
        expect(labels).to.deep.equal(Array.from({ length: 40 }, (_, i) => `c${i}`));
        if (process.env['TIMELINE_SCREENSHOT_DEMO'] !== undefined)
          await page.screenshot({ path: process.env['TIMELINE_SCREENSHOT_DEMO'] });
      } finally {
        await browser.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
