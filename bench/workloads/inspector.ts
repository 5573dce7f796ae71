/**
 * inspector: what the live inspector page costs the agent. The routing workload's agent
 * (bench/workloads/routing.ts: 4 sync actions, 3 routed events, 2 outputs per input) over 1000
 * keys, with `createInspector()` attached (the stats a page needs), inputs fed in batches of 1000
 * per event-loop turn so that the server's ticks and socket writes interleave with the agent, as
 * they do in a live deployment. Unit: inputs/s (higher is better).
 *
 * Contestants: `inspected` (the reference: inspector, no server); `served-idle` (plus
 * `serveInspector`, no page connected: the same code on the agent's path as the reference, so it is
 * the bench's own A/A check — it must read 1.0); `served-sse` (plus one Server-Sent-Events client in
 * a child process reading the stream as a browser tab would: target ≥ 0.9). `bare` (no inspector at
 * all) is reported for scale.
 *
 * Timing — paired, because on a shared machine the cost of the same code drifts by ±30 % from one
 * second to the next (other tenants' caches and memory traffic; it shows in CPU time too, not only in
 * wall time): each contestant is measured in blocks of four runs next to the reference, `R X X R`
 * or `X R R X` (alternating, which cancels a linear drift within the block), and a block's ratio is
 * (R₁ + R₂) / (X₁ + X₂). The reported `ratio` is the median of the blocks' ratios (`ours` is the
 * reference rate times it), `cpuRatio` the same in CPU ms of this process (`process.cpuUsage`, GC
 * threads included), and `spread` the lowest and highest block ratio. Before each timed run: two full
 * GCs and a settling turn of the event loop, so no run pays for the previous one's garbage or
 * pending I/O. Each contestant has its own inspector (run numbers restart per subscription), and
 * each has one untimed warm-up.
 *
 * The page is attached before its run is timed and detached after (a tab left open: steady state, the
 * connect itself is a one-off): the first snapshot has arrived, then the run is timed with the page
 * connected, so the server's periodic updates (every 500 ms: counters, and the timeline's runs that
 * changed since the last update, which the page draws itself) land inside the timed run.
 * `updatesPerSecond` says how many did, `drawsPerSecond` how many of them carried timeline runs;
 * `updateCpuShare` is the server's own CPU in those updates per CPU ms of the runs (robust to load:
 * both are measured in the same seconds); `clientCpuShare` the SSE client's CPU (its own process, not
 * counted in `cpuRatio`, but it competes for the cores in wall time).
 *
 * `eventsBuiltPerRun` (deterministic): lifecycle event objects the runtime built per run for the
 * contestant's inspector. The counters behind `stats()` need none; with a page, only the runs its
 * timeline samples (at most `sampleRuns`, 20, run starts a second) are built.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { count, lastValueFrom, Observable } from 'rxjs';
import { agentOperator, type LifecycleEvent } from '../../lib';
import { createInspector, type AgentInspector } from '../../lib/observe';
import { serveInspector } from '../../lib/inspect';
import { gc, now, result, type BenchResult, type ProcessPlan } from '../harness';
import { agent } from './routing';

interface In {
  readonly key: number;
  readonly value: number;
}

/** The inputs, `batch` per macrotask (a live source, not one synchronous flood). */
function batched(inputs: readonly In[], batch: number): Observable<In> {
  return new Observable<In>((subscriber) => {
    let i = 0;
    let timer: NodeJS.Immediate | undefined;
    const step = (): void => {
      const end = Math.min(i + batch, inputs.length);
      for (; i < end; i++) subscriber.next(inputs[i] as In);
      if (i < inputs.length) timer = setImmediate(step);
      else subscriber.complete();
    };
    timer = setImmediate(step);
    return () => clearImmediate(timer);
  });
}

function runOnce(inputs: readonly In[], inspector: AgentInspector | undefined): Promise<number> {
  return lastValueFrom(
    batched(inputs, 1000).pipe(
      agentOperator(agent, {
        key: (x: In) => x.key,
        ...(inspector === undefined ? {} : { inspect: inspector.inspect }),
      }),
      count(),
    ),
  );
}

/** Counts the lifecycle events the runtime builds for an inspector: each one is delivered through its channel. */
function countBuilt(inspector: AgentInspector): { events: number } {
  const channel = inspector.inspect.channel as { deliver: (e: LifecycleEvent) => void } | undefined;
  if (channel === undefined)
    throw new Error('inspector: expected an inspector with a channel (createInspector with stats)');
  const counted = { events: 0 };
  const deliver = channel.deliver;
  channel.deliver = (e) => {
    counted.events++;
    deliver(e);
  };
  return counted;
}

interface Timing {
  readonly wall: number;
  readonly cpu: number;
}

/** A contestant: its run, and what happens around it untimed (attaching a page). */
interface Contestant {
  readonly run: () => Promise<unknown>;
  readonly before?: () => Promise<void>;
  readonly after?: () => Promise<void>;
}

/** One run in wall and CPU ms of this process, after two full GCs and a settling turn. */
async function timed(contestant: Contestant): Promise<Timing> {
  await contestant.before?.();
  gc();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const c0 = process.cpuUsage();
  const t0 = now();
  await contestant.run();
  const wall = now() - t0;
  const c = process.cpuUsage(c0);
  await contestant.after?.();
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/** Block ratios (reference / contestant) in wall and CPU time, and all of each one's timings. */
interface Paired {
  readonly wall: number[];
  readonly cpu: number[];
  readonly runs: Timing[];
}

/**
 * Paired timing: `blocks` blocks per contestant, each `R X X R` or `X R R X` (alternating), the
 * contestants' blocks interleaved (the order rotating), one untimed warm-up each first.
 */
async function paired<K extends string>(
  blocks: number,
  reference: Contestant,
  contestants: Record<K, Contestant>,
  alone: Record<string, Contestant> = {},
): Promise<{ paired: Record<K, Paired>; reference: Timing[]; alone: Record<string, Timing[]> }> {
  const names = Object.keys(contestants) as K[];
  const out = {} as Record<K, Paired>;
  const ref: Timing[] = [];
  const single: Record<string, Timing[]> = {};
  await timed(reference);
  for (const name of names) {
    out[name] = { wall: [], cpu: [], runs: [] };
    await timed(contestants[name]);
  }
  for (const name of Object.keys(alone)) {
    single[name] = [];
    await timed(alone[name] as Contestant);
  }
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + b) % names.length] as K;
      const x = contestants[name];
      const xFirst = b % 2 === 1;
      const t1 = await timed(xFirst ? x : reference);
      const t2 = await timed(xFirst ? reference : x);
      const t3 = await timed(xFirst ? reference : x);
      const t4 = await timed(xFirst ? x : reference);
      const [r1, x1, x2, r2] = xFirst ? [t2, t1, t4, t3] : [t1, t2, t3, t4];
      out[name].wall.push((r1.wall + r2.wall) / (x1.wall + x2.wall));
      out[name].cpu.push((r1.cpu + r2.cpu) / (x1.cpu + x2.cpu));
      out[name].runs.push(x1, x2);
      ref.push(r1, r2);
    }
    for (const [name, contestant] of Object.entries(alone)) (single[name] as Timing[]).push(await timed(contestant));
  }
  return { paired: out, reference: ref, alone: single };
}

const median = (v: readonly number[]): number => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)] as number;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * An SSE client in its own process (like a browser tab): on `connect` it opens `/events` and answers
 * once the first bytes arrived; on `disconnect` it closes it and answers with the bytes it has read
 * and its own CPU ms since that `connect`.
 */
function sseClient(port: number): {
  child: ChildProcess;
  connect(): Promise<void>;
  disconnect(): Promise<{ bytes: number; cpuMs: number }>;
} {
  const script = `
    const http = require('node:http');
    let bytes = 0, req = null, c0 = null;
    process.on('message', (m) => {
      if (m === 'connect') {
        let first = true;
        bytes = 0;
        c0 = process.cpuUsage();
        req = http.get({ host: '127.0.0.1', port: ${port}, path: '/events' }, (res) => {
          res.on('data', (d) => { bytes += d.length; if (first) { first = false; process.send('connected'); } });
        });
        req.on('error', () => undefined);
      } else {
        req.destroy();
        const c = process.cpuUsage(c0);
        process.send({ bytes, cpuMs: (c.user + c.system) / 1000 });
      }
    });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = <T>(message: string): Promise<T> =>
    new Promise<T>((resolve) => {
      child.once('message', (answer) => resolve(answer as T));
      child.send(message);
    });
  return {
    child,
    connect: () => ask<string>('connect').then(() => undefined),
    disconnect: () => ask<{ bytes: number; cpuMs: number }>('disconnect'),
  };
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  // ~0.5 s (quick) or ~1 s per run, so that each attached run spans one or more of the page's updates.
  const n = quick ? 100_000 : 200_000;
  const keys = 1000;
  const blocks = quick ? 12 : 20;
  const inputs: In[] = Array.from({ length: n }, (_, i) => ({ key: i % keys, value: i }));
  const expected = 2 * n;

  // One inspector per contestant, as in a deployment (run numbers restart per subscription).
  const plain = createInspector();
  const idle = createInspector();
  const watched = createInspector();
  // Events the runtime builds (a deterministic count): each built event goes through the inspector's channel.
  const plainBuilt = countBuilt(plain);
  const watchedBuilt = countBuilt(watched);
  const idleServer = await serveInspector(idle, { port: 0 });
  const watchedServer = await serveInspector(watched, { port: 0 });
  const client = sseClient(watchedServer.port);
  const attached = { bytes: 0, clientCpuMs: 0, sent: 0, draws: 0, busyCpuMs: 0 };
  let mark = watchedServer.stats();
  const check = (got: number): void => {
    if (got !== expected) throw new Error(`inspector: expected ${expected} outputs, got ${got}`);
  };
  // The page is attached before the timed run (the first snapshot has arrived) and detached after it;
  // the server's counters are read around the run so that only the updates inside it count.
  const withPage: Contestant = {
    before: async () => {
      await client.connect();
      mark = watchedServer.stats();
    },
    run: async () => check(await runOnce(inputs, watched)),
    after: async () => {
      const s = watchedServer.stats();
      attached.sent += s.sent - mark.sent;
      attached.draws += s.draws - mark.draws;
      attached.busyCpuMs += s.busyCpuMs - mark.busyCpuMs;
      const { bytes, cpuMs } = await client.disconnect();
      attached.bytes += bytes;
      attached.clientCpuMs += cpuMs;
    },
  };
  try {
    const m = await paired(
      blocks,
      { run: async () => check(await runOnce(inputs, plain)) },
      {
        servedIdle: { run: async () => check(await runOnce(inputs, idle)) },
        servedSse: withPage,
      },
      { bare: { run: async () => check(await runOnce(inputs, undefined)) } },
    );
    const rate = (ms: number): number => n / (ms / 1000);
    const refWall = median(m.reference.map((t) => t.wall));
    // Per run (= per input), over all the contestant's runs (warm-ups included).
    const perRun = (built: { events: number }, runs: number): number => round3(built.events / (n * runs));
    const sse = m.paired.servedSse;
    const sseWallS = sse.runs.reduce((sum, t) => sum + t.wall, 0) / 1000;
    const sseCpuMs = sse.runs.reduce((sum, t) => sum + t.cpu, 0);
    const line = (page: string, p: Paired, extra: Record<string, unknown>): BenchResult =>
      result(
        'inspector',
        { inputs: n, keys, batch: 1000, interval: 500, page },
        rate(refWall) * median(p.wall),
        rate(refWall),
        'inputs/s',
        'higher',
        {
          timing: `median of ${p.wall.length} paired blocks (R X X R / X R R X)`,
          cpuRatio: round3(median(p.cpu)),
          spread: [round3(Math.min(...p.wall)), round3(Math.max(...p.wall))],
          cpuSpread: [round3(Math.min(...p.cpu)), round3(Math.max(...p.cpu))],
          bare: Math.round(rate(median(m.alone.bare?.map((t) => t.wall) ?? [NaN]))),
          ...extra,
        },
      );
    return [
      line('none', m.paired.servedIdle, { eventsBuiltPerRun: perRun(plainBuilt, m.reference.length + 1) }),
      line('one SSE client', sse, {
        eventsBuiltPerRun: perRun(watchedBuilt, sse.runs.length + 1),
        updatesPerSecond: round3(attached.sent / sseWallS),
        drawsPerSecond: round3(attached.draws / sseWallS),
        updateCpuShare: round3(attached.busyCpuMs / sseCpuMs),
        clientCpuShare: round3(attached.clientCpuMs / sseCpuMs),
        bytesPerSecond: Math.round(attached.bytes / sseWallS),
        updatesSkipped: watchedServer.stats().skipped,
      }),
    ];
  } finally {
    client.child.kill('SIGKILL');
    await idleServer.close();
    await watchedServer.close();
  }
}

/**
 * The whole-process mode (`npm run bench:process -- --quick --only inspector`): each contestant alone
 * in a fresh process (one untimed warm-up, then one timed run; the harness alternates the contestants
 * and reports medians over N processes), so no contestant shares JIT state, heap or a just-connected
 * page with another. `servedSse` attaches its page before the warm-up and keeps it for both runs: the
 * steady state of a tab left open. Each process ends once its second run is over (server closed, the
 * client killed).
 */
export function processPlan({ quick }: { readonly quick: boolean }): ProcessPlan {
  const n = quick ? 100_000 : 200_000;
  const keys = 1000;
  let inputs: In[] | undefined;
  const made = (): In[] => (inputs ??= Array.from({ length: n }, (_, i) => ({ key: i % keys, value: i })));
  const rate = (ms: number): number => n / (ms / 1000);
  /** A contestant with an inspector; `page`: a server (and a connected SSE client when `connect`). Two runs, then it cleans up. */
  const contestant = (page: 'none' | 'idle' | 'sse'): (() => Promise<number>) => {
    const inspector = createInspector();
    let setup: Promise<{ close: () => Promise<void> }> | undefined;
    let runs = 0;
    return async () => {
      setup ??= (async () => {
        if (page === 'none') return { close: async () => undefined };
        const server = await serveInspector(inspector, { port: 0 });
        if (page === 'idle') return { close: () => server.close() };
        const client = sseClient(server.port);
        await client.connect();
        return {
          close: async () => {
            client.child.kill('SIGKILL');
            await server.close();
          },
        };
      })();
      const { close } = await setup;
      const got = await runOnce(made(), inspector);
      // After the timed (second) run, once the harness has read its clock: let the process end.
      if (++runs === 2) setImmediate(() => void close());
      return got;
    };
  };
  return {
    contestants: { inspected: contestant('none'), servedIdle: contestant('idle'), servedSse: contestant('sse') },
    report: (t) =>
      (['servedIdle', 'servedSse'] as const).map((name) =>
        result(
          'inspector',
          { inputs: n, keys, batch: 1000, interval: 500, page: name === 'servedIdle' ? 'none' : 'one SSE client' },
          rate(t[name] as number),
          rate(t['inspected'] as number),
          'inputs/s',
          'higher',
        ),
      ),
  };
}
