// Cost of validating one routing payload (z.object({ value: z.number() })): zod's safeParse vs the compiled fast path.
// node -r ts-node/register/transpile-only bench/profile/validate-cpu.ts
import { z } from 'zod';
import { fastParse } from '../../lib/events/fast-parse';
const schema = z.object({ value: z.number() });
const n = 1_000_000;
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let sink = 0;
const step = (name: string, fn: (p: { value: number }) => unknown): void => {
  const t0 = cpu();
  for (let i = 0; i < n; i++) if (fn({ value: i }) !== undefined) sink++;
  console.log(`${name}: ${(((cpu() - t0) / n) * 1e6).toFixed(0)} ns/payload`);
};
for (let r = 0; r < 3; r++) {
  step('zod safeParse', (p) => schema.safeParse(p).data);
  step('fast path    ', (p) => fastParse(schema, p));
  step('no validation', (p) => p);
}
if (sink === 0) console.log(sink);
