/**
 * `npm start -- --inspect <port>` as a user runs it: the command `npm start` runs (ts-node on
 * examples/demo.ts), in a real child process, with port 0 (a free one); the URL it prints serves the
 * live page and a growing snapshot; Ctrl-C (SIGINT) stops it cleanly. Killed with SIGKILL by PID if
 * anything goes wrong.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';

const ROOT = join(__dirname, '..', '..');

describe('inspect: npm start -- --inspect (the demo with its live page, a real child process)', function () {
  this.timeout(90_000);
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null)
      process.kill(child.pid, 'SIGKILL');
  });

  it('prints the page URL; the page and snapshot are served while tickets flow; SIGINT stops it with exit code 0', async () => {
    // What `npm start` runs (package.json: "ts-node --transpile-only examples/demo.ts"), plus `-- --inspect 0`.
    const proc = spawn(
      process.execPath,
      [join(ROOT, 'node_modules/ts-node/dist/bin.js'), '--transpile-only', 'examples/demo.ts', '--inspect', '0'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let out = '';
    let err = '';
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /live inspector at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m !== null) {
          clearInterval(timer);
          resolve(m[1] as string);
        }
      }, 50);
      void exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`the demo exited (${code}) before printing its URL:\n${out}\n${err}`));
      });
    });
    expect(out).to.include('a ticket every 5 ms from 40 customers');

    const page = await fetch(url);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.include('rx-agents demo: support desk');
    const runs = async (): Promise<number> =>
      ((await (await fetch(`${url}api/snapshot`)).json()) as { stats: { runsCompleted: number } }).stats.runsCompleted;
    const first = await runs();
    let later = first;
    for (let i = 0; i < 100 && later <= first; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      later = await runs();
    }
    expect(later).to.be.greaterThan(first);

    proc.kill('SIGINT');
    expect(await exited).to.equal(0);
    expect(err).to.equal('');
  });
});
