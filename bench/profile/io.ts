// Profiling driver for the io workload at its largest scale: node --cpu-prof -r ts-node/register/transpile-only bench/profile/io.ts
import { from, lastValueFrom } from 'rxjs';
import { count } from 'rxjs/operators';
import { agentOperator } from '../../lib';
import { agent } from '../workloads/io';

const n = Number(process.argv[2] ?? 200_000);
const keys = Number(process.argv[3] ?? 10_000);
const inputs = Array.from({ length: n }, (_, id) => ({ key: id % keys, id }));
(async () => {
  for (let r = 0; r < 2; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await lastValueFrom(from(inputs).pipe(agentOperator(agent, { key: (x) => x.key, concurrency: Infinity }), count()));
    const cpu = process.cpuUsage(c0);
    console.log(
      `${n}/${keys}: ${Math.round(performance.now() - t0)} ms wall, ${Math.round((cpu.user + cpu.system) / 1000)} ms cpu`,
    );
  }
})();
