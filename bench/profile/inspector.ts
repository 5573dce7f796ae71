// Profiling driver for the inspector workload: node --cpu-prof -r ts-node/register/transpile-only bench/profile/inspector.ts [inspected|sse]
// The routing agent over 1000 keys, inputs 1000 per event-loop turn, with createInspector() attached;
// `sse`: plus serveInspector and one Server-Sent-Events client in a child process reading the stream.
import { spawn } from 'node:child_process';
import { count, lastValueFrom, Observable } from 'rxjs';
import { agentOperator } from '../../lib';
import { serveInspector } from '../../lib/inspect';
import { createInspector } from '../../lib/observe';
import { agent } from '../workloads/routing';

const mode = process.argv[2] === 'sse' ? 'sse' : 'inspected';
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
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    await lastValueFrom(batched.pipe(agentOperator(agent, { key: (x) => x.key, inspect: inspector.inspect }), count()));
    console.log(mode, Math.round(n / ((performance.now() - t0) / 1000)));
  }
  console.log(server.stats());
  child?.kill('SIGKILL');
  await server.close();
})();
