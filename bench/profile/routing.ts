import { from, lastValueFrom } from 'rxjs';
import { count } from 'rxjs/operators';
// Profiling driver for the routing workload: node --cpu-prof -r ts-node/register/transpile-only bench/profile/routing.ts [novalidate]
import { agentOperator } from '../../lib';
import { agent } from '../workloads/routing';
const validate = process.argv[2] !== 'novalidate';
const inputs = Array.from({ length: 1_000_000 }, (_, i) => ({ key: i % 1000, value: i }));
(async () => {
  for (let r = 0; r < 4; r++) {
    const t0 = performance.now();
    await lastValueFrom(
      from(inputs).pipe(agentOperator(agent, { key: (x) => x.key, validateEvents: validate }), count()),
    );
    console.log(validate, Math.round(1e6 / ((performance.now() - t0) / 1000)));
  }
})();
