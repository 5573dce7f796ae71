// CPU-time medians of the routing contestants in one process (robust to a loaded machine, unlike wall time):
// node --expose-gc -r ts-node/register/transpile-only bench/profile/routing-cpu.ts [inputs] [keys]
import { processPlan } from '../workloads/routing';
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
(async () => {
  const { contestants } = processPlan({ quick: true });
  const times: Record<string, number[]> = {};
  for (let r = 0; r < 7; r++) {
    for (const [name, task] of Object.entries(contestants)) {
      gc();
      const t0 = cpu();
      await task();
      (times[name] ??= []).push(cpu() - t0);
    }
  }
  const med = (a: number[]): number => [...a.slice(1)].sort((x, y) => x - y)[Math.floor((a.length - 2) / 2)] as number;
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, med(v)]));
  console.log(
    Object.entries(m)
      .map(([k, v]) => `${k} ${v.toFixed(0)} ms`)
      .join(', '),
  );
  const v = m['validated'] as number;
  const u = m['unvalidated'] as number;
  console.log(
    `validated/plain ${((m['plain'] as number) / v).toFixed(3)}, unvalidated/plain ${((m['plain'] as number) / u).toFixed(3)}, validated/naive ${((m['naive'] as number) / v).toFixed(2)}, unvalidated/naive ${((m['naive'] as number) / u).toFixed(2)}`,
  );
})();
