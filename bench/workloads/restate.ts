/**
 * restate: the same agent distributed on a real restate-server (started here from the npm package,
 * loopback, temp base dir, stopped by PID at the end).
 *
 * 1. io-shaped throughput (per run: 5+10 ms in sequence ‖ 10 ms alongside, the io workload's agent)
 *    through `restateAgent` with one service process, and with two behind one deployment (an HTTP/2
 *    round-robin balancer). Lines: one process vs the embedded `agentOperator` on the same inputs
 *    (what distribution costs), and two processes vs one (how it scales; target ≥ 1.6×).
 * 2. Per-run overhead against a hand-written Restate virtual-object handler doing the same three
 *    sequential `ctx.run` steps, a state get and a state set, called through the same client
 *    operator (target ≤ 1.2×).
 *
 * Unit: inputs/s (higher is better). Figures from this machine are taken while other work shares
 * its two cores; ratios are same-run.
 */
import './../../lib/restate/polyfill';
import * as restate from '@restatedev/restate-sdk';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom } from 'rxjs';
import { count } from 'rxjs/operators';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import {
  registerDeployment,
  restateAgent,
  restateService,
  serveAgents,
  startRestateServer,
  type RestateServer,
} from '../../lib/restate';
import { freePort } from '../../lib/restate/restate-server';
import { startBalancer } from '../../spec/restate/fixtures/balancer';
import { killService, spawnService, type ServiceProcess } from '../../spec/restate/fixtures/service-process';
import { result, type BenchResult } from '../harness';
import { agent as ioAgent } from './io';

interface In {
  readonly key: number;
  readonly id: number;
}

/** Three sequential trivial steps: what the hand-written handler below does too. */
export const stepAgent = defineAgent<In>({
  name: 'steps',
  actions: (action) => [
    action('steps', InputEvent, function* (event, ctx) {
      const a = yield* ctx.executeAsync(() => 1);
      const b = yield* ctx.executeAsync(() => 2);
      const c = yield* ctx.executeAsync(() => 3);
      ctx.shortTermMemory.set('sum', (ctx.shortTermMemory.get<number>('sum') ?? 0) + a + b + c);
      ctx.sendEvent(OutputEvent.of(event.payload.id));
    }),
  ],
});

/** The reference: a hand-written virtual object with the same steps and the same answer shape. */
const handWritten = restate.object({
  name: 'stepsbyhand',
  handlers: {
    run: async (ctx: restate.ObjectContext, input: In) => {
      const sum = (await ctx.get<number>('sum')) ?? 0;
      const a = await ctx.run('a', () => 1);
      const b = await ctx.run('b', () => 2);
      const c = await ctx.run('c', () => 3);
      ctx.set('sum', sum + a + b + c);
      return { run: 0, outputs: [{ id: String(input.id), payload: input.id }] };
    },
  },
});

/**
 * Settings to probe what bounds throughput: `RX_RESTATE_BENCH_KEYS` (keys per batch; a key's runs
 * are serial, so keys are the concurrency) and `RX_RESTATE_BENCH_INFLIGHT` (the client's maxInFlight).
 */
const envInt = (name: string): number | undefined => {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? undefined : Number(raw);
};
const IN_FLIGHT = envInt('RX_RESTATE_BENCH_INFLIGHT') ?? 256;

function through(server: RestateServer, service: string, inputs: readonly In[]): Promise<number> {
  return lastValueFrom(
    from(inputs).pipe(
      restateAgent(restateService<In, number>(service), {
        ingress: server.ingress,
        key: (x) => x.key,
        maxInFlight: IN_FLIGHT,
      }),
      count(),
    ),
  );
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

async function timed(task: () => Promise<number>, expected: number, label: string): Promise<number> {
  const t0 = performance.now();
  const got = await task();
  const ms = performance.now() - t0;
  if (got !== expected) throw new Error(`restate bench (${label}): expected ${expected} outputs, got ${got}`);
  return ms;
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  const n = quick ? 300 : 1000;
  const keys = envInt('RX_RESTATE_BENCH_KEYS') ?? (quick ? 50 : 100);
  const rounds = quick ? 3 : 5;
  const dir = mkdtempSync(join(tmpdir(), 'rx-restate-bench-'));
  const server = await startRestateServer({ logFile: join(dir, 'server.log') });
  const services: ServiceProcess[] = [];
  const out: BenchResult[] = [];
  try {
    // One deployment per shape: service names differ so the two registrations do not replace each other.
    const ports = [await freePort(), await freePort()];
    for (const port of ports)
      services.push(spawnService(port, join(dir, 'effects.log'), { path: join(__dirname, 'io'), name: 'agent' }));
    await Promise.all(services.map((s) => s.ready));
    // Both shapes go through the same kind of balancer (one target, two targets), so the ratio is the second process alone.
    const single = await startBalancer([`http://127.0.0.1:${ports[0]}`]);
    const balancer = await startBalancer(ports.map((p) => `http://127.0.0.1:${p}`));
    const local = await serveAgents([stepAgent, handWritten]);
    await registerDeployment(server.admin, local.url);

    let batch = 0;
    const ioInputs = (): In[] => {
      const b = batch++;
      return Array.from({ length: n }, (_, id) => ({ key: b * keys + (id % keys), id }));
    };
    const embedded = (inputs: readonly In[]): Promise<number> =>
      lastValueFrom(from(inputs).pipe(agentOperator(ioAgent, { key: (x) => x.key, concurrency: Infinity }), count()));

    const one: number[] = [];
    const two: number[] = [];
    const emb: number[] = [];
    // Where the CPU goes during the two-process runs: the server, each service process, this process (client).
    const pids = {
      server: server.pid,
      service1: services[0]?.child.pid ?? 0,
      service2: services[1]?.child.pid ?? 0,
      client: process.pid,
    };
    const cpu: Record<string, number> = { server: 0, service1: 0, service2: 0, client: 0 };
    let twoWall = 0;
    for (let r = 0; r < rounds; r++) {
      await registerDeployment(server.admin, single.url);
      one.push(await timed(() => through(server, 'io', ioInputs()), 2 * n, 'one process'));
      await registerDeployment(server.admin, balancer.url);
      const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
      const ms = await timed(() => through(server, 'io', ioInputs()), 2 * n, 'two processes');
      for (const [k, pid] of Object.entries(pids)) cpu[k] = (cpu[k] ?? 0) + cpuSeconds(pid) - (before[k] ?? 0);
      twoWall += ms / 1000;
      two.push(ms);
      emb.push(await timed(() => embedded(ioInputs()), 2 * n, 'embedded'));
    }
    // The median round: this machine's load drifts, and rounds of the compared shapes alternate.
    const rate = (ms: number[]): number => {
      const sorted = [...ms].sort((a, b) => a - b);
      return n / ((sorted[Math.floor((sorted.length - 1) / 2)] as number) / 1000);
    };
    const params = { inputs: n, keys, maxInFlight: IN_FLIGHT, blocks: '5+10 ms ‖ 10 ms' };
    // A key's runs are serial: with min(keys, maxInFlight) runs in flight, the latency of one run is about concurrency / rate.
    const runLatency = (ms: number[]): number => Math.round((Math.min(keys, IN_FLIGHT) / rate(ms)) * 10000) / 10;
    out.push(
      result(
        'restate',
        { ...params, processes: 1, reference: 'embedded agentOperator' },
        rate(one),
        rate(emb),
        'inputs/s',
        'higher',
        { msPerRun: runLatency(one), msPerRunEmbedded: runLatency(emb) },
      ),
      result(
        'restate',
        { ...params, processes: 2, reference: 'one service process' },
        rate(two),
        rate(one),
        'inputs/s',
        'higher',
        {
          target: '>= 1.6',
          msPerRun: runLatency(two),
          forwarded: Object.fromEntries(balancer.forwarded),
          // CPU cores each process kept busy during the two-process runs (cpu s / wall s), and the machine's load.
          coresBusy: Object.fromEntries(
            Object.entries(cpu).map(([k, v]) => [k, Math.round((v / twoWall) * 100) / 100]),
          ),
          loadAverage: Math.round((loadavg()[0] ?? 0) * 10) / 10,
        },
      ),
    );

    const steps: number[] = [];
    const byHand: number[] = [];
    for (let r = 0; r < rounds + 2; r++) {
      steps.push(await timed(() => through(server, 'steps', ioInputs()), n, 'agent steps'));
      byHand.push(await timed(() => through(server, 'stepsbyhand', ioInputs()), n, 'hand-written'));
    }
    out.push(
      result(
        'restate',
        { inputs: n, keys, steps: 3, reference: 'hand-written Restate handler (same ctx.run steps)' },
        rate(steps),
        rate(byHand),
        'inputs/s',
        'higher',
        {
          target: '>= 0.83 (per-run overhead <= 1.2x)',
          overhead: Math.round((rate(byHand) / rate(steps)) * 1000) / 1000,
          msPerRun: runLatency(steps),
          msPerRunByHand: runLatency(byHand),
        },
      ),
    );
    await balancer.close();
    await single.close();
    await local.close();
  } finally {
    await Promise.all(services.map((s) => killService(s)));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
