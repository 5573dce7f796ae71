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
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { count, lastValueFrom, Observable } from 'rxjs';
import { agentOperator } from '../../lib';
import { createInspector, type AgentInspector } from '../../lib/observe';
import { serveInspector } from '../../lib/inspect';
import { alternate, result, type BenchResult } from '../harness';
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
    const t = await alternate(rounds, {
      bare: () => runOnce(inputs, undefined),
      inspected: () => runOnce(inputs, plain),
      servedIdle: () => runOnce(inputs, idle),
      servedSse: withPage,
    });
    const rate = (ms: number): number => n / (ms / 1000);
    const { sent, skipped, busyMs } = watchedServer.stats();
    // The server's own share of the thread while the page was connected (robust to machine load):
    // ms spent building and writing updates per ms of the contestant's runs (warm-up included).
    const busyShare = busyMs / (t.servedSse * (rounds + 1));
    const params = { inputs: n, keys, batch: 1000, interval: 500 };
    return [
      result('inspector', { ...params, page: 'none' }, rate(t.servedIdle), rate(t.inspected), 'inputs/s', 'higher', {
        bare: Math.round(rate(t.bare)),
      }),
      result(
        'inspector',
        { ...params, page: 'one SSE client' },
        rate(t.servedSse),
        rate(t.inspected),
        'inputs/s',
        'higher',
        {
          bare: Math.round(rate(t.bare)),
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
