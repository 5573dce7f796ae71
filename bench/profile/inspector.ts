// Profiling driver for the inspector workload: node --cpu-prof -r ts-node/register/transpile-only bench/profile/inspector.ts [inspected|sse|bare]
// The routing agent over 1000 keys, inputs 1000 per event-loop turn, with createInspector() attached;
// `sse`: plus serveInspector and one Server-Sent-Events client in a child process reading the stream;
// `bare`: no inspector. Prints inputs/s and CPU ms per round, and the lifecycle events built per run.
import { spawn } from 'node:child_process';
import { count, lastValueFrom, Observable } from 'rxjs';
import { agentOperator, type LifecycleEvent } from '../../lib';
import { serveInspector } from '../../lib/inspect';
import { createInspector } from '../../lib/observe';
import { agent } from '../workloads/routing';

const mode = process.argv[2] === 'sse' || process.argv[2] === 'bare' ? process.argv[2] : 'inspected';
const n = 200_000;
const inputs = Array.from({ length: n }, (_, i) => ({ key: i % 1000, value: i }));
const batched = new Observable<(typeof inputs)[number]>((subscriber) => {
  let i = 0;
  const step = (): void => {
    const end = Math.min(i + 1000, n);
    for (; i < end; i++) subscriber.next(inputs[i]!);
    if (i < n) setImmediate(step);
    else subscriber.complete();
  };
  setImmediate(step);
});
(async () => {
  const inspector = createInspector();
  const server = await serveInspector(inspector, { port: 0 });
  const child =
    mode === 'sse'
      ? spawn(process.execPath, [
          '-e',
          `require('node:http').get({ host: '127.0.0.1', port: ${server.port}, path: '/events' }, (r) => r.resume())`,
        ])
      : undefined;
  while (mode === 'sse' && server.stats().clients === 0) await new Promise((r) => setTimeout(r, 20));
  // Each event the runtime builds goes through the inspector's channel: count them.
  const channel = inspector.inspect.channel as { deliver: (e: LifecycleEvent) => void };
  const deliver = channel.deliver;
  let built = 0;
  channel.deliver = (e) => {
    built++;
    deliver(e);
  };
  const options = mode === 'bare' ? {} : { inspect: inspector.inspect };
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await lastValueFrom(batched.pipe(agentOperator(agent, { key: (x) => x.key, ...options }), count()));
    const c = process.cpuUsage(c0);
    console.log(
      mode,
      Math.round(n / ((performance.now() - t0) / 1000)),
      'inputs/s',
      Math.round((c.user + c.system) / 1000),
      'cpu ms',
    );
  }
  console.log({ ...server.stats(), eventsBuiltPerRun: built / (5 * n) });
  child?.kill('SIGKILL');
  await server.close();
})();
