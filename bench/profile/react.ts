/**
 * CPU per ReAct run (`bench/workloads/llm.ts`, case 2), for profiling:
 * `node --cpu-prof -r ts-node/register/transpile-only bench/profile/react.ts [ours|reference] [rounds]`.
 * Prints the CPU time (user + system) per run of each round after a warm-up.
 */
import { reactContestants } from '../workloads/llm';

async function main(): Promise<void> {
  const which = (process.argv[2] ?? 'ours') as 'ours' | 'reference';
  const rounds = Number(process.argv[3] ?? 5);
  const inputs = 1000;
  const contestants = reactContestants(inputs, 1000);
  await contestants[which]();
  const perRun: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const n = await contestants[which]();
    const c = process.cpuUsage(c0);
    if (n !== inputs) throw new Error(`expected ${inputs} answers, got ${n}`);
    perRun.push(Math.round((c.user + c.system) / inputs));
  }
  console.log(JSON.stringify({ which, cpuPerRunUs: perRun, min: Math.min(...perRun) }));
}

void main();
