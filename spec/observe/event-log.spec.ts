import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { agentOperator, type LifecycleEvent } from '../../lib';
import { createEventLog } from '../../lib/observe';
import { boundedJson } from '../../lib/observe/bounded-json';
import { createTestScheduler } from '../../lib/testing';
import { byKey, jobAgent, type Job } from './fixtures';

const readLines = (path: string): Array<Record<string, unknown>> =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Runs the job agent in virtual time: two keys, one failing run (isolated). */
function runJobs(inspect: (e: LifecycleEvent) => void): void {
  const ts = createTestScheduler();
  ts.run(({ cold }) => {
    const jobs = {
      a: { id: 1, key: 'x', work: 3 },
      b: { id: 2, key: 'y', work: 2, fail: true },
      c: { id: 3, key: 'x', work: 1 },
    };
    cold<Job>('(abc)|', jobs)
      .pipe(agentOperator(jobAgent(), { key: byKey, scheduler: ts, errorPolicy: 'isolate', inspect }))
      .subscribe();
  });
}

describe('observe: createEventLog (JSON lines)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-log-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one JSON object per event to a real file; levels include the ones before them', async () => {
    const counts: Record<string, number> = {};
    for (const level of ['errors', 'runs', 'actions', 'all'] as const) {
      const path = join(dir, `${level}.jsonl`);
      const log = createEventLog({ path, level, payloads: true, keys: 'plain' });
      runJobs(log.inspect);
      await log.close();
      const lines = readLines(path);
      expect(log.stats()).to.include({ written: lines.length, dropped: 0, failed: 0, pending: 0 });
      counts[level] = lines.length;
      const types = new Set(lines.map((l) => l['type']));
      if (level === 'errors') {
        expect([...types].sort()).to.deep.equal(['action.failed', 'async.completed', 'run.ended']);
        expect(lines.find((l) => l['type'] === 'run.ended')).to.include({ outcome: 'failed', key: 'y', run: 1 });
        expect(lines.find((l) => l['type'] === 'action.failed')!['error']).to.deep.equal({
          name: 'Error',
          message: 'lookup 2 broke',
        });
      }
      if (level === 'runs') {
        expect(types).to.include('run.started').and.include('output.emitted').and.not.include('action.started');
        const accepted = lines.find((l) => l['type'] === 'input.accepted' && l['run'] === 0)!;
        expect(accepted).to.deep.equal({
          type: 'input.accepted',
          time: 0,
          key: 'x',
          run: 0,
          buffered: false,
          input: { id: 1, key: 'x', work: 3 },
        });
      }
      if (level === 'actions') expect(types).to.include('event.sent').and.not.include('async.started');
      if (level === 'all') expect(types).to.include('async.queued').and.include('async.started');
    }
    expect(counts['errors']).to.be.lessThan(counts['runs']!);
    expect(counts['runs']).to.be.lessThan(counts['actions']!);
    expect(counts['actions']).to.be.lessThan(counts['all']!);
  });

  it('truncates big payloads to valid JSON without walking the whole value', async () => {
    const path = join(dir, 'big.jsonl');
    const log = createEventLog({ path, level: 'runs', maxPayloadChars: 64, payloads: true });
    let touched = 0;
    const huge: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) Object.defineProperty(huge, `f${i}`, { enumerable: true, get: () => ++touched });
    log.inspect({ type: 'output.emitted', time: 1, key: 'k', run: 0, event: '0>a:0', payload: huge });
    log.inspect({ type: 'output.emitted', time: 2, key: 'k', run: 1, event: '1>a:0', payload: 'x'.repeat(1_000_000) });
    await log.close();
    const [first, second] = readLines(path);
    expect(touched).to.be.lessThan(20);
    expect(first!['payload']).to.have.property('$truncated').that.is.a('string').with.length(64);
    expect(String((first!['payload'] as { $truncated: string }).$truncated)).to.match(/^\{"f0":1,"f1":2,/);
    expect((second!['payload'] as { $truncated: string }).$truncated).to.have.length(64);
  });

  it('boundedJson: cycles, bigints, errors, toJSON, non-finite numbers', () => {
    const a: Record<string, unknown> = {
      n: 1n,
      inf: Infinity,
      d: new Date(0),
      e: Object.assign(new Error('boom'), { code: 'E_X' }),
      f: () => 1,
    };
    a['self'] = a;
    expect(JSON.parse(boundedJson(a, 1000))).to.deep.equal({
      n: '1',
      inf: null,
      d: '1970-01-01T00:00:00.000Z',
      e: { name: 'Error', code: 'E_X', message: 'boom' },
      self: '[Circular]',
    });
    expect(boundedJson([1, [2, [3]]], 100)).to.equal('[1,[2,[3]]]');
  });

  it('never blocks on a slow stream: buffers up to maxBufferedChars, then drops and counts', async () => {
    const chunks: string[] = [];
    const slow = new Writable({
      highWaterMark: 256,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        setTimeout(cb, 5); // a slow disk
      },
    });
    const log = createEventLog({ stream: slow, level: 'runs', maxBufferedChars: 4096 });
    const total = 2000;
    for (let i = 0; i < total; i++) log.inspect({ type: 'run.started', time: i, key: `k${i}`, run: i, waited: 0 });
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < total; i++)
      log.inspect({ type: 'run.started', time: i, key: `k${i}`, run: total + i, waited: 0 });
    await log.flush();
    const s = log.stats();
    expect(s.dropped).to.be.greaterThan(0);
    expect(s.written + s.dropped + s.failed).to.equal(2 * total);
    const lines = chunks.join('').trim().split('\n');
    expect(lines).to.have.length(s.written);
    const runs = lines.map((l) => (JSON.parse(l) as { run: number }).run);
    expect(runs).to.deep.equal([...runs].sort((x, y) => x - y)); // order kept
    expect(slow.writableEnded).to.equal(false); // a given stream is not ended by close
    await log.close();
    expect(slow.writableEnded).to.equal(false);
  });

  it('counts write failures instead of throwing: missing directory, erroring stream', async () => {
    const missing = createEventLog({ path: join(dir, 'no', 'such', 'dir', 'log.jsonl') });
    runJobs(missing.inspect);
    await missing.close();
    expect(missing.stats().failed).to.be.greaterThan(0);
    expect(missing.stats()).to.include({ written: 0, pending: 0 });
    expect((missing.stats().lastError as NodeJS.ErrnoException).code).to.equal('ENOENT');

    const bad = new Writable({ write: (_c, _e, cb) => cb(new Error('disk full')) });
    const log = createEventLog({ stream: bad, level: 'all' });
    expect(() => runJobs(log.inspect)).to.not.throw();
    await log.flush();
    runJobs(log.inspect);
    await log.close();
    const s = log.stats();
    expect(s.written).to.equal(0);
    expect(s.failed).to.be.greaterThan(10);
    expect(String(s.lastError)).to.include('disk full');
  });

  it('events after close are dropped and counted', async () => {
    const log = createEventLog({ path: join(dir, 'c.jsonl') });
    await log.close();
    log.inspect({ type: 'run.started', time: 0, key: 'k', run: 0, waited: 0 });
    expect(log.stats().dropped).to.equal(1);
  });

  it('rejects bad options with clear TypeErrors', () => {
    expect(() => createEventLog({})).to.throw(TypeError, /exactly one of `path`/);
    expect(() => createEventLog({ path: 'a', stream: process.stderr })).to.throw(TypeError, /exactly one of `path`/);
    expect(() => createEventLog({ stream: process.stderr, level: 'verbose' as never })).to.throw(
      TypeError,
      "Expected `level` to be one of 'errors', 'runs', 'actions', 'all', got `verbose` (string)",
    );
    expect(() => createEventLog({ stream: process.stderr, maxPayloadChars: 3 })).to.throw(TypeError, /maxPayloadChars/);
  });
});
