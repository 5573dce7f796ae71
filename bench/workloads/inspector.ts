/**
 * inspector: what the live inspector page costs the agent. The routing workload's agent
 * (bench/workloads/routing.ts: 4 sync actions, 3 routed events, 2 outputs per input) over 1000
 * keys, with `createInspector()` attached (the stats a page needs), inputs fed in batches of 1000
 * per event-loop turn so that the server's ticks and socket writes interleave with the agent, as
 * they do in a live deployment. Unit: inputs/s (higher is better).
 *
 * Contestants, alternated in one process: `inspected` (the reference: inspector, no server);
 * `served-idle` (plus `serveInspector`, no page connected: target ratio 1.0); `served-sse` (plus one
 * Server-Sent-Events client in a child process reading the stream as a browser would: target
 * ratio ≥ 0.9). `bare` (no inspector at all) is reported for scale.
 *
 * `eventsBuiltPerRun` (deterministic): lifecycle event objects the runtime built per run for the
 * contestant's inspector. The counters behind `stats()` need none; with a page, only the runs its
 * timeline samples (at most `maxRuns` run starts a second) are built.
 *
 * Timing: the order of the contestants rotates every round (A B C D, B C D A, …) so none always
 * runs right after another, and each run is timed in wall-clock ms and in CPU ms of this process
 * (`process.cpuUsage`, GC threads included; the SSE client's own process is not counted). On a
 * shared, loaded machine the CPU ratio is the steadier of the two: wall time also counts the time
 * other tenants held the cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { count, lastValueFrom, Observable } from 'rxjs';
import { agentOperator, type LifecycleEvent } from '../../lib';
import { createInspector, type AgentInspector } from '../../lib/observe';
import { serveInspector } from '../../lib/inspect';
import { gc, now, result, type BenchResult } from '../harness';
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

/** Median wall and CPU ms per contestant, one untimed warm-up each, the order rotating each round. */
async function rotate<K extends string>(
  rounds: number,
  contestants: Record<K, () => Promise<unknown>>,
): Promise<Record<K, { wall: number; cpu: number }>> {
  const names = Object.keys(contestants) as K[];
  const wall = {} as Record<K, number[]>;
  const cpu = {} as Record<K, number[]>;
  for (const name of names) {
    wall[name] = [];
    cpu[name] = [];
    await contestants[name]();
  }
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length] as K;
      gc();
      const c0 = process.cpuUsage();
      const t0 = now();
      await contestants[name]();
      const t = now() - t0;
      const c = process.cpuUsage(c0);
      wall[name].push(t);
      cpu[name].push((c.user + c.system) / 1000);
    }
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)] as number;
  const out = {} as Record<K, { wall: number; cpu: number }>;
  for (const name of names) out[name] = { wall: median(wall[name]), cpu: median(cpu[name]) };
  return out;
}

/**
 * An SSE client in its own process (like a browser tab): on `connect` it opens `/events` and reads
 * and discards the stream until `disconnect`; answers with the bytes it has read.
 */
function sseClient(port: number): {
  child: ChildProcess;
  connect(): Promise<void>;
  disconnect(): Promise<number>;
} {
  const script = `
    const http = require('node:http');
    let bytes = 0, req = null;
    process.on('message', (m) => {
      if (m === 'connect') {
        let first = true;
        req = http.get({ host: '127.0.0.1', port: ${port}, path: '/events' }, (res) => {
          res.on('data', (d) => { bytes += d.length; if (first) { first = false; process.send('connected'); } });
        });
        req.on('error', () => undefined);
      } else { req.destroy(); process.send(bytes); }
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
    disconnect: () => ask<number>('disconnect'),
  };
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  const n = quick ? 100_000 : 400_000;
  const keys = 1000;
  const rounds = quick ? 5 : 7;
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
  let received = 0;
  // The page is connected only while its contestant runs (connecting is inside the timing: conservative).
  const withPage = async (): Promise<number> => {
    await client.connect();
    try {
      return await runOnce(inputs, watched);
    } finally {
      received += await client.disconnect();
    }
  };
  try {
    for (const check of [await runOnce(inputs, plain), await withPage()])
      if (check !== expected) throw new Error(`inspector: expected ${expected} outputs, got ${check}`);
    const m = await rotate(rounds, {
      bare: () => runOnce(inputs, undefined),
      inspected: () => runOnce(inputs, plain),
      servedIdle: () => runOnce(inputs, idle),
      servedSse: withPage,
    });
    const rate = (ms: number): number => n / (ms / 1000);
    // Per run (= per input), over all the contestant's runs (warm-up and check included).
    const perRun = (built: { events: number }): number => Math.round((built.events / (n * (rounds + 2))) * 1000) / 1000;
    const { sent, skipped, busyMs } = watchedServer.stats();
    // The server's own share of the thread while the page was connected (robust to machine load):
    // ms spent building and writing updates per ms of the contestant's runs (warm-up included).
    const busyShare = busyMs / (m.servedSse.wall * (rounds + 1));
    // Inputs per CPU-second of this process, relative to the reference (higher is better, like `ratio`).
    const cpuRatio = (ms: number): number => Math.round((m.inspected.cpu / ms) * 1000) / 1000;
    const params = { inputs: n, keys, batch: 1000, interval: 500 };
    return [
      result(
        'inspector',
        { ...params, page: 'none' },
        rate(m.servedIdle.wall),
        rate(m.inspected.wall),
        'inputs/s',
        'higher',
        {
          bare: Math.round(rate(m.bare.wall)),
          cpuRatio: cpuRatio(m.servedIdle.cpu),
          eventsBuiltPerRun: perRun(plainBuilt),
        },
      ),
      result(
        'inspector',
        { ...params, page: 'one SSE client' },
        rate(m.servedSse.wall),
        rate(m.inspected.wall),
        'inputs/s',
        'higher',
        {
          bare: Math.round(rate(m.bare.wall)),
          cpuRatio: cpuRatio(m.servedSse.cpu),
          eventsBuiltPerRun: perRun(watchedBuilt),
          updatesSent: sent,
          updatesSkipped: skipped,
          bytesReceived: received,
          updateBusyShare: Math.round(busyShare * 1000) / 1000,
        },
      ),
    ];
  } finally {
    client.child.kill('SIGKILL');
    await idleServer.close();
    await watchedServer.close();
  }
}
