import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { createWorkerPool, type WorkerPool } from '../../lib/workers/worker-pool';

/**
 * The worker pool is a thread pool, not a sandbox (README, Worker threads). What it does promise,
 * checked with real worker threads and a real child process: a task cannot kill its host with
 * process.kill, process.exit ends only its worker, `isolateTasks` gives every task a fresh worker
 * (nothing an earlier task left behind is seen), and `env` keeps the host's environment out.
 */
const CHILD = join(__dirname, 'fixtures', 'kill-host-child.ts');

describe('worker pool: tasks cannot kill the host; isolateTasks and env (real worker threads)', function () {
  this.timeout(90_000); // a child process starts ts-node: slow on a loaded machine
  const pools: WorkerPool[] = [];
  const children = new Set<ChildProcess>();
  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });

  it('process.kill / process._kill of the host pid, its group or group 0 are refused inside a task; process.exit ends only the worker (real child process as host)', async () => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: join(__dirname, '..', '..'),
      detached: true, // its own process group: a group kill that got through would hit only the child
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
    });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('exit', (c, s) => resolve([c, s])),
    );
    children.delete(child);
    expect({ code, signal }, `the host child was killed (output: ${out})`).to.deep.equal({ code: 0, signal: null });
    const outcomes = JSON.parse(out.trim()) as Record<string, string>;
    const refused = (pid: string): string =>
      `WorkerTaskError: process.kill(${pid}) inside a worker task would signal the host process (or its process group); rx-agents worker pools refuse it. A task ends by returning or throwing.`;
    expect(outcomes['kill']).to.equal(refused(String(child.pid)));
    expect(outcomes['_kill']).to.equal(refused(String(child.pid)));
    expect(outcomes['group']).to.equal(refused(String(-child.pid!)));
    expect(outcomes['zero']).to.equal(refused('0'));
    expect(outcomes['exit']).to.match(/^WorkerCrashedError/);
  });

  it('without isolateTasks a later task sees what an earlier one left behind; with it, each task starts on a fresh worker', async () => {
    const leaveAndRead = (pool: WorkerPool) =>
      pool.fn((value: string): string | undefined => {
        const g = globalThis as { leftBehind?: string };
        const before = g.leftBehind;
        g.leftBehind = value;
        return before;
      });
    const shared = createWorkerPool({ threads: 1 });
    const isolated = createWorkerPool({ threads: 1, isolateTasks: true });
    pools.push(shared, isolated);
    const a = leaveAndRead(shared);
    expect(await lastValueFrom(a('key x'))).to.equal(undefined);
    expect(await lastValueFrom(a('key y'))).to.equal('key x'); // the documented hazard of a shared worker
    const b = leaveAndRead(isolated);
    expect(await lastValueFrom(b('key x'))).to.equal(undefined);
    expect(await lastValueFrom(b('key y'))).to.equal(undefined);
    const threadOf = isolated.fn(() => require('node:worker_threads').threadId as number);
    const ids = [await lastValueFrom(threadOf()), await lastValueFrom(threadOf())];
    expect(ids[0]).to.not.equal(ids[1]);
  });

  it('env: tasks see only the environment given to the pool', async () => {
    process.env['RX_AGENTS_TEST_SECRET'] = 'sk-live-123';
    try {
      const inherit = createWorkerPool({ threads: 1 });
      const clean = createWorkerPool({ threads: 1, env: { ONLY: 'this' } });
      pools.push(inherit, clean);
      const read = (pool: WorkerPool) =>
        pool.fn(() => [process.env['RX_AGENTS_TEST_SECRET'] ?? null, process.env['ONLY'] ?? null]);
      expect(await lastValueFrom(read(inherit)())).to.deep.equal(['sk-live-123', null]);
      expect(await lastValueFrom(read(clean)())).to.deep.equal([null, 'this']);
    } finally {
      delete process.env['RX_AGENTS_TEST_SECRET'];
    }
  });

  it('validates isolateTasks and env', () => {
    expect(() => createWorkerPool({ isolateTasks: 'yes' as never })).to.throw(
      TypeError,
      'Expected `isolateTasks` to be a boolean',
    );
    expect(() => createWorkerPool({ env: { A: 1 } as never })).to.throw(
      TypeError,
      'Expected `env` to be an object of strings',
    );
  });
});
