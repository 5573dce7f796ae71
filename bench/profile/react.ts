/**
 * CPU and allocation per ReAct run (`bench/workloads/llm.ts`, case 2), for profiling:
 * `node --cpu-prof -r ts-node/register/transpile-only bench/profile/react.ts [ours|reference] [rounds] [--alloc]`.
 * Prints the CPU time (user + system) per run of each round after a warm-up. With `--alloc`, the
 * bytes allocated per run (V8's sampling heap profiler, collected objects included: steadier than
 * CPU time on a shared machine) and the functions that allocate most.
 */
import { Session } from 'node:inspector';
import { reactContestants } from '../workloads/llm';

interface SamplingNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly SamplingNode[];
}

/** Runs `task` `rounds` times under the sampling heap profiler; answers the sampled bytes per call site. */
async function allocations(task: () => Promise<unknown>, rounds: number): Promise<Map<string, number>> {
  const session = new Session();
  session.connect();
  const post = <R>(method: string, params?: object): Promise<R> =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as R))),
    );
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (let r = 0; r < rounds; r++) await task();
  const { profile } = await post<{ profile: { head: SamplingNode } }>('HeapProfiler.stopSampling');
  session.disconnect();
  const sites = new Map<string, number>();
  const walk = (node: SamplingNode): void => {
    const f = node.callFrame;
    const site = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber}`;
    sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
    node.children.forEach(walk);
  };
  walk(profile.head);
  return sites;
}

async function main(): Promise<void> {
  const which = (process.argv[2] ?? 'ours') as 'ours' | 'reference';
  const rounds = Number(process.argv[3] ?? 5);
  const inputs = 1000;
  const contestants = reactContestants(inputs, 1000);
  await contestants[which]();
  if (process.argv.includes('--alloc')) {
    const sites = await allocations(contestants[which], rounds);
    const runs = rounds * inputs;
    const total = [...sites.values()].reduce((a, b) => a + b, 0);
    const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, 15);
    console.log(
      JSON.stringify({
        which,
        allocatedBytesPerRun: Math.round(total / runs),
        top: top.map(([site, bytes]) => `${Math.round(bytes / runs)} ${site}`),
      }),
    );
    return;
  }
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
