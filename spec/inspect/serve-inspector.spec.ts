import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count, lastValueFrom, Observable, range } from 'rxjs';
import { z } from 'zod';
import { agentOperator, defineAgent, InputEvent, OutputEvent, type LifecycleEvent } from '../../lib';
import { createInspector, type AgentInspector } from '../../lib/observe';
import { serveInspector, type InspectorServer } from '../../lib/inspect';
import type { InspectorChannel } from '../../lib/runtime/lifecycle';
import { startWorkload, TOKENS, type LiveWorkload } from './fixtures';
import { CHROMIUM, CHROMIUM_ARGS, skipWithoutChromium } from '../fixtures/chromium';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A plain HTTP GET on loopback with a chosen Host header. */
function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('inspect: serveInspector (a real HTTP server on 127.0.0.1)', function () {
  this.timeout(60_000);
  let work: LiveWorkload | undefined;
  let server: InspectorServer | undefined;
  afterEach(async () => {
    work?.stop();
    await server?.close();
    work = server = undefined;
  });

  it('binds 127.0.0.1 by default; refuses foreign Host headers (DNS rebinding) and non-GET methods', async () => {
    work = startWorkload();
    server = await serveInspector(work.inspector);
    expect(server.host).to.equal('127.0.0.1');
    expect(server.url).to.equal(`http://127.0.0.1:${server.port}/`);
    const page = await get(server.port, '/');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('<title>rx-agents inspector</title>');
    expect(page.body).to.not.match(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/); // self-contained
    expect((await get(server.port, '/', { Host: `localhost:${server.port}` })).status).to.equal(200);
    const rebound = await get(server.port, '/api/snapshot', { Host: `evil.example:${server.port}` });
    expect(rebound.status).to.equal(403);
    expect(rebound.body).to.include('is not allowed (DNS-rebinding guard)');
    const posted = await get(server.port, '/api/snapshot', {}, 'POST');
    expect(posted.status).to.equal(405);
    expect(server.stats().rejected).to.equal(2);
  });

  it('with a token: requests without it (or with a wrong one) get 401; ?token= and Bearer work', async () => {
    work = startWorkload();
    const token = 'a-long-enough-secret-token';
    server = await serveInspector(work.inspector, { token });
    expect(server.url).to.equal(`http://127.0.0.1:${server.port}/?token=${token}`);
    expect((await get(server.port, '/')).status).to.equal(401);
    expect((await get(server.port, '/?token=wrong-wrong-wrong-wrong')).status).to.equal(401);
    expect((await get(server.port, `/?token=${token}`)).status).to.equal(200);
    expect((await get(server.port, '/api/snapshot', { Authorization: `Bearer ${token}` })).status).to.equal(200);
  });

  it('validates its options at creation', async () => {
    const inspector = createInspector();
    const fails = async (options: object, message: string | RegExp): Promise<void> => {
      let error: unknown;
      try {
        await serveInspector(inspector, options);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(TypeError);
      expect((error as Error).message).to.match(
        typeof message === 'string' ? new RegExp(message.replace(/[.*+?^${}()|[\]\\`]/g, '\\$&')) : message,
      );
    };
    await fails({ host: '0.0.0.0' }, "would expose the agent's state on `0.0.0.0` without a token");
    await fails({ token: 'short' }, 'Expected `token` to be a string of at least 16 characters');
    await fails({ port: -1 }, 'Expected `port` to be an integer 0..65535');
    await fails({ interval: 0 }, 'Expected `interval` to be an integer >= 10');
    await fails({ sampleRuns: 0.5 }, 'Expected `sampleRuns` to be an integer >= 1');
    let error: unknown;
    try {
      await serveInspector(createInspector({ stats: false }));
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.include('stats() needs an inspector created with `stats: true`');
  });

  it('costs nothing without a page: it subscribes to the inspector only while a page is connected', async () => {
    const real = createInspector();
    let subscribed = 0;
    const counting: AgentInspector = {
      inspect: real.inspect,
      stats: () => real.stats(),
      events$: new Observable<LifecycleEvent>((subscriber) => {
        subscribed++;
        const sub = real.events$.subscribe(subscriber);
        return () => {
          subscribed--;
          sub.unsubscribe();
        };
      }),
    };
    work = startWorkload(8, 6, real);
    server = await serveInspector(counting, { interval: 20 });
    await sleep(100);
    expect(subscribed).to.equal(0);
    const socket = connect(server.port, '127.0.0.1');
    socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    await until('a snapshot', () => received.includes('event: snapshot'));
    expect(subscribed).to.equal(1);
    expect(server.stats().clients).to.equal(1);
    socket.destroy();
    await until('the page to be gone', () => server!.stats().clients === 0);
    expect(subscribed).to.equal(0);
  });

  it('a page that never reads is skipped, not buffered: the server holds at most maxBufferedBytes for it', async () => {
    work = startWorkload(4, 12);
    server = await serveInspector(work.inspector, { interval: 10, maxBufferedBytes: 1024, maxEvents: 5000 });
    const socket = connect(server.port, '127.0.0.1');
    socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    socket.pause(); // never read: the kernel buffers fill, then the response's own buffer
    await until('skipped updates', () => server!.stats().skipped > 20, 45_000);
    const { sent, skipped } = server.stats();
    expect(skipped).to.be.greaterThan(20);
    await sleep(300);
    // Once stuck, nothing more is queued for it: every further tick is skipped.
    expect(server.stats().sent).to.be.at.most(sent + 1);
    expect(work.state.snapshot().attached).to.equal(true); // the agent ran on throughout
    // Reading again, it gets the whole state once (it missed changes), then changes again.
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.resume();
    await until('a full update after the skipped ones', () => (received.match(/"full":true/g) ?? []).length >= 2);
    await until('changes after it', () =>
      /"full":true[\s\S]*"full":false/.test(received.split('"full":true').slice(1).join('"full":true')),
    );
    socket.destroy();
  });

  it('sampling refills in bursts while a page stays, and again for a page that reconnects', async () => {
    work = startWorkload(4, 6);
    server = await serveInspector(work.inspector, { sampleRuns: 5, interval: 50 });
    type Sampling = { runsSeen: number; runsRecorded: number };
    const open = (): { socket: ReturnType<typeof connect>; last: () => Sampling | undefined } => {
      const socket = connect(server!.port, '127.0.0.1');
      socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${server!.port}\r\n\r\n`);
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString()));
      const last = (): Sampling | undefined => {
        const all = [...received.matchAll(/^data: (\{.*\})$/gm)];
        const m = all[all.length - 1];
        return m && (JSON.parse(m[1] as string) as { timeline: { sampling: Sampling } }).timeline.sampling;
      };
      return { socket, last };
    };
    for (const round of [1, 2]) {
      const page = open();
      try {
        // 5 at once when the page connects; more only if the refill timer fires (1 every 200 ms).
        const s = await until(`round ${round}: runs recorded past the first burst`, () => {
          const got = page.last();
          return got !== undefined && got.runsRecorded > 6 ? got : undefined;
        });
        expect(s.runsSeen).to.be.greaterThan(s.runsRecorded); // ~250 runs/s: a sample
      } finally {
        page.socket.destroy();
      }
      await until('the page gone', () => server!.stats().clients === 0);
    }
  });

  it('updates carry only the runs that changed since the last one; merged, they are what the server keeps', async () => {
    work = startWorkload(4, 6);
    server = await serveInspector(work.inspector, { interval: 50 });
    const socket = connect(server.port, '127.0.0.1');
    socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    type Run = { lane: number; run: number; end: number | null; outcome: string; actions: unknown[] };
    type Update = { timeline: { full: boolean; runs: Run[] } };
    const updates = (): Update[] =>
      [...received.matchAll(/^data: (\{.*\})$/gm)].map((m) => JSON.parse(m[1] as string) as Update);
    try {
      await until('20 updates', () => updates().length >= 20);
      work.stop();
      await sleep(200); // the last runs end; the next updates carry their ends
      const all = updates();
      expect(all[0]!.timeline.full).to.equal(true);
      expect(all.slice(1).every((u) => !u.timeline.full)).to.equal(true);
      // A run appears in an update only while it changes: a finished run is never sent again.
      const ended = new Set<string>();
      for (const u of all)
        for (const r of u.timeline.runs) {
          const id = `${r.lane}:${r.run}`;
          expect(ended.has(id), `${id} sent again after it ended`).to.equal(false);
          if (r.end !== null) ended.add(id);
        }
      expect(ended.size).to.be.greaterThan(10);
      // Merged in order, the updates give the page every run the server keeps, in the same state.
      const merged = new Map<string, Run>();
      for (const u of updates()) for (const r of u.timeline.runs) merged.set(`${r.lane}:${r.run}`, r);
      const kept = (JSON.parse((await get(server.port, '/api/snapshot')).body) as Update).timeline.runs;
      expect(kept.length).to.be.greaterThan(0);
      for (const r of kept) expect(merged.get(`${r.lane}:${r.run}`)).to.deep.equal(r);
    } finally {
      socket.destroy();
    }
  });

  it('drill-down: memory values are hidden unless payloads are enabled', async () => {
    work = startWorkload();
    server = await serveInspector(work.inspector, { state: work.state });
    const hidden = await until('key c1', async () => {
      const r = await get(server!.port, '/api/key?key=c1');
      return r.status === 200 ? (JSON.parse(r.body) as { memory: unknown; memoryNote: string }) : undefined;
    });
    expect(hidden.memory).to.deep.equal({
      last: {
        n: 'number',
        note: 'string(' + (hidden.memory as { last: { note: string } }).last.note.slice(7, -1) + ')',
      },
    });
    expect(JSON.stringify(hidden)).to.not.include('ticket ');
    await server.close();
    server = await serveInspector(work.inspector, { state: work.state, payloads: true });
    const shown = JSON.parse((await get(server.port, '/api/key?key=c1')).body) as {
      memory: { last: { n: number; note: string } };
    };
    expect(shown.memory.last.note).to.equal(`ticket ${shown.memory.last.n}`);
    expect(shown.memory.last.n % 6).to.equal(1);
    expect((await get(server.port, '/api/key?key=nobody')).status).to.equal(404);
  });

  it('the snapshot API: tokens per model, exact (from stats()), and runs parked on a timer (S14) with since and deadline', async () => {
    work = startWorkload();
    server = await serveInspector(work.inspector, { state: work.state });
    interface Snap {
      models: Array<{ name: string; calls: number; failed: number; replayed: number } & Record<string, number>>;
      tools: unknown[];
      parkedRuns: number | null;
      keys: Array<{ key: string; parked: string | null }>;
    }
    const snapshot = async (): Promise<Snap> => JSON.parse((await get(server!.port, '/api/snapshot')).body) as Snap;
    const live = await until('both models called and a parked run', async () => {
      const s = await snapshot();
      return s.models.length === 2 && (s.parkedRuns ?? 0) > 0 ? s : undefined;
    });
    expect(live.models.map((m) => m.name).sort()).to.deep.equal(['acme.chat/acme-large', 'acme.chat/acme-small']);
    // c5's runs sleep (a timer), the others call a model: only c5 can be parked.
    const parked = live.keys.filter((k) => k.parked !== null);
    expect(parked.map((k) => k.key)).to.deep.equal(['c5']);
    expect(parked[0]!.parked).to.match(/^timer \(waited \d+ ms, \d+ ms left\)$/);
    const drill = await until('c5 parked in the drill-down', async () => {
      const r = await get(server!.port, '/api/key?key=c5');
      const k =
        r.status === 200
          ? (JSON.parse(r.body) as { run: { parked: Array<Record<string, unknown>> } | null })
          : undefined;
      return k?.run !== null && (k?.run.parked.length ?? 0) > 0 ? k : undefined;
    });
    const p = drill.run!.parked[0] as {
      kind: string;
      eventType: null;
      action: string;
      since: number;
      deadline: number;
      call: string;
    };
    expect(p).to.deep.include({ kind: 'timer', eventType: null, action: 'answer' });
    expect(p.call).to.match(/^\d+>answer#0$/);
    expect(p.deadline - p.since).to.be.within(28, 30);
    // The counts are exact, not sampled: once the stream stops, the API shows what stats() counted, and every
    // answered call brought its 30 + 8 tokens.
    work.stop();
    const after = await snapshot();
    const stats = work.inspector.stats().models;
    expect(Object.fromEntries(after.models.map(({ name, ...m }) => [name, m]))).to.deep.equal(stats);
    for (const m of after.models) {
      expect(m.calls).to.be.greaterThan(0);
      expect(m['inputTokens']).to.equal((m.calls - m.failed) * TOKENS.inputTokens);
      expect(m['outputTokens']).to.equal((m.calls - m.failed) * TOKENS.outputTokens);
      expect(m['totalTokens']).to.equal((m.calls - m.failed) * (TOKENS.inputTokens + TOKENS.outputTokens));
    }
  });

  it('under a high run rate the timeline is a sample (and the snapshot says so); counters and failed runs stay exact', async () => {
    const inspector = createInspector();
    // Per-run interest: count the runs the page is asked about and the events the runtime builds for it.
    const channel = inspector.inspect.channel as InspectorChannel & {
      wants: InspectorChannel['wants'];
      deliver: InspectorChannel['deliver'];
    };
    const { wants, deliver } = channel;
    let asked = 0;
    const built: LifecycleEvent[] = [];
    channel.wants = (key, run, time) => {
      asked++;
      return wants(key, run, time);
    };
    channel.deliver = (e) => {
      built.push(e);
      deliver(e);
    };
    server = await serveInspector(inspector, { maxRuns: 10, sampleRuns: 10, interval: 20 });
    const socket = connect(server.port, '127.0.0.1');
    socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    try {
      await until('the page connected', () => received.includes('event: snapshot'));
      const flood = defineAgent({
        name: 'flood',
        input: z.number(),
        actions: (action) => [
          action('step', InputEvent, (event, ctx) => {
            if (event.payload % 1000 === 999) throw new Error(`input ${event.payload} is poisoned`);
            ctx.sendEvent(OutputEvent.of(event.payload));
          }),
        ],
      });
      const n = 5000;
      const outputs = await lastValueFrom(
        range(0, n).pipe(
          agentOperator(flood, { key: (x) => x % 4, inspect: inspector.inspect, errorPolicy: 'isolate' }),
          count(),
        ),
      );
      expect(outputs).to.equal(n - 5);
      const snap = JSON.parse((await get(server.port, '/api/snapshot')).body) as {
        stats: { runsCompleted: number; runsFailed: number };
        failures: Array<{ run: number; error: string }>;
        timeline: {
          full: boolean;
          sampling: { runsSeen: number; runsRecorded: number; runsSampledOut: number };
          runs: Array<Record<string, unknown> & { start: number | null; end: number | null; actions: unknown[] }>;
        };
      };
      expect(snap.stats.runsCompleted).to.equal(n - 5);
      expect(snap.stats.runsFailed).to.equal(5);
      expect(snap.failures.map((f) => f.run).sort((a, b) => a - b)).to.deep.equal([999, 1999, 2999, 3999, 4999]);
      expect(snap.failures.every((f) => /input \d+ is poisoned/.test(f.error))).to.equal(true);
      const { runsSeen, runsRecorded, runsSampledOut } = snap.timeline.sampling;
      expect(runsSeen).to.equal(n);
      // 10 at once (a second's worth when the page connects), then 1 per 100 ms: the flood takes well under 9 s.
      expect(runsRecorded).to.be.within(10, 99);
      expect(runsRecorded + runsSampledOut).to.equal(n);
      // The flood is one synchronous turn: once the budget (10) is spent the page is not asked again, and
      // only the recorded runs' events were built — from run.started to run.ended, nothing of the others.
      expect(asked).to.equal(runsRecorded);
      const builtRuns = new Set(built.map((e) => e.run));
      expect(builtRuns.size).to.equal(runsRecorded);
      expect(built.filter((e) => e.type === 'run.started').length).to.equal(runsRecorded);
      expect(built.filter((e) => e.type === 'run.ended').length).to.equal(runsRecorded);
      // What the page gets to draw: whole runs as compact records (times, outcome, actions; no inputs or outputs).
      expect(snap.timeline.full).to.equal(true);
      expect(snap.timeline.runs.length).to.be.within(1, Math.min(10, runsRecorded));
      for (const r of snap.timeline.runs) {
        expect(r.start).to.be.a('number');
        expect(r.end).to.be.a('number');
        expect(r.actions).to.have.length(1);
        expect(Object.keys(r).sort()).to.deep.equal(
          ['acceptedAt', 'actions', 'end', 'events', 'label', 'lane', 'last', 'open', 'outcome', 'run', 'start'].sort(),
        );
      }
    } finally {
      socket.destroy();
    }
  });

  describe('in real headless Chromium', function () {
    let dir: string;
    before(function () {
      skipWithoutChromium(this);
      dir = mkdtempSync(join(tmpdir(), 'rx-agents-inspector-'));
    });
    after(() => dir !== undefined && rmSync(dir, { recursive: true, force: true }));

    it('loads with no console errors, lanes appear as runs proceed, the tiles count, the drill-down shows a key’s memory and its current run (actions, calls, what it is parked on), and it recovers when the server restarts', async () => {
      const { chromium } = await import('playwright-core');
      work = startWorkload(8, 6);
      server = await serveInspector(work.inspector, {
        state: work.state,
        payloads: true,
        title: 'live desk',
        interval: 250,
      });
      const port = server.port;
      const browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
        executablePath: CHROMIUM,
        viewport: { width: 1500, height: 1000 },
        args: CHROMIUM_ARGS,
      });
      try {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
        page.on('pageerror', (e) => problems.push(String(e)));
        const requests: string[] = [];
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(server.url);
        const text = (selector: string): Promise<string> =>
          page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? ''`) as Promise<string>;
        const count = (selector: string): Promise<number> =>
          page.evaluate(`document.querySelectorAll(${JSON.stringify(selector)}).length`) as Promise<number>;
        await until('the page to be live', async () => (await text('#status')) === 'live');
        await until('three lanes', async () => (await count('#timeline g.lane')) >= 3);
        // The live timeline is a sliding window capped in runs, so the count of bars can stay level once it is
        // full: wait for a run that was not drawn before (a key and run number not seen yet).
        const drawn = (): Promise<string[]> =>
          page.evaluate(
            `[...document.querySelectorAll('#timeline rect.run')].map((r) => r.dataset.key + '#' + r.dataset.run)`,
          ) as Promise<string[]>;
        const before = new Set(await drawn());
        await until('a new run drawn', async () => (await drawn()).some((id) => !before.has(id)));
        const lanes = (await page.evaluate(
          `[...document.querySelectorAll('#timeline g.lane')].map((g) => g.dataset.key)`,
        )) as string[];
        expect(lanes.every((k) => /^c[0-5]$/.test(k))).to.equal(true);
        await until('runs/s above zero', async () => Number(await text('[data-tile="runs/s"] b')) > 0);
        await until('a failed run listed', async () => (await text('#failures tbody')).includes('is malformed'));
        await until('latency rows', async () => (await text('#actions tbody')).includes('answer'));
        await until('tokens per model', async () => {
          const t = await text('#models tbody');
          return t.includes('acme.chat/acme-small') && t.includes('acme.chat/acme-large');
        });
        // A model row: calls, failed, replayed, tokens in/out/total — the tokens are 30 and 8 per answered call.
        const row = (await page.evaluate(
          `[...document.querySelectorAll('#models tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent))[0]`,
        )) as string[];
        const [calls, failed, , tokensIn, tokensOut] = row.slice(1).map(Number) as number[];
        expect(tokensIn).to.equal((calls! - failed!) * 30);
        expect(tokensOut).to.equal((calls! - failed!) * 8);
        // c5's runs sleep: the page shows what they are parked on (S14).
        await until('a parked run in the keys table', async () =>
          /timer \(waited \d+ ms, \d+ ms left\)/.test(await text('#keys tbody')),
        );

        await page.click('#keys tbody tr[data-key="c1"]');
        const memory = await until('c1 memory in the drill-down', async () => {
          const t = await text('#drill-body pre.memory');
          return t.includes('"last"') ? t : undefined;
        });
        const shown = JSON.parse(memory) as { last: { n: number; note: string } };
        expect(shown.last.n % 6).to.equal(1);
        expect(shown.last.note).to.equal(`ticket ${shown.last.n}`);
        expect(await text('#drill-key')).to.equal('c1');
        // The counters every page shows: active keys, runs, waiting inputs and async blocks in flight, as numbers.
        for (const tile of [
          'active keys',
          'active runs',
          'waiting inputs',
          'async in flight',
          'runs done',
          'runs failed',
        ])
          expect(await text(`[data-tile="${tile}"] b`), tile).to.match(/^\d+/);
        // A key with a run going: the drill-down shows the run, its actions and its calls — c5's runs sleep (a
        // timer it is parked on); the others wait for a model call. The drill-down refreshes with each update.
        await page.click('#timeline g.lane[data-key="c5"]');
        await until('c5 drill-down with its run parked on a timer', async () => {
          const t = await text('#drill-body');
          return (
            /^run \d+ /m.test(await text('#drill-body h3:nth-of-type(2)')) &&
            t.includes('parked on (S14)') &&
            t.includes('timer')
          );
        });
        expect(await text('#drill-body table.run-actions')).to.include('answer');
        await page.click('#timeline g.lane[data-key="c0"]');
        await until('c0 drill-down with a model call in flight', async () =>
          /answer#\d+/.test(await text('#drill-body table.run-calls')),
        );
        expect(problems, problems.join('\n')).to.deep.equal([]);
        expect(requests.every((u) => u.startsWith(`http://127.0.0.1:${port}/`))).to.equal(true);
        const shot = process.env['INSPECTOR_SCREENSHOT'] ?? join(dir, 'inspector.png');
        const png = await page.screenshot({ path: shot, fullPage: true });
        expect(png.subarray(1, 4).toString()).to.equal('PNG');

        // The server goes away: the page says so; a new server on the same port: the page is live again by itself.
        await server.close();
        await until('the page to notice', async () => (await text('#status')).startsWith('disconnected'));
        const stamp = await text('#updated');
        server = await serveInspector(work.inspector, { state: work.state, payloads: true, port, interval: 250 });
        await until('the page to reconnect', async () => (await text('#status')) === 'live', 20_000);
        await until('fresh updates', async () => (await text('#updated')) !== stamp);
        await until('lanes again', async () => (await count('#timeline g.lane')) >= 1);
      } finally {
        await browser.close();
      }
    });
  });
});
