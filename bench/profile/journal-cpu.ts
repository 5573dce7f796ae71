// CPU-time split of the journal workload (ours, its commits, the raw-insert reference, no store), robust to a loaded machine:
// node --expose-gc -r ts-node/register/transpile-only bench/profile/journal-cpu.ts [inputs]   (CD=<commitDelay ms>)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '../../lib/sqlite';
import { plainInserts, runInputs } from '../workloads/journal';
const inputs = +(process.argv[2] ?? 5000);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rx-agents-jt-'));
  const t = { ours: [] as number[], ref: [] as number[], nostore: [] as number[] };
  let commitMs = 0;
  let rows = { calls: 0, ins: 0, ends: 0, nocalls: 0, commits: 0 };
  for (let r = 0; r < 6; r++) {
    const store = sqliteStore(join(dir, `p-${r}.db`), { commitDelay: +(process.env.CD ?? 1) });
    const c = store.commit.bind(store);
    commitMs = 0;
    rows = { calls: 0, ins: 0, ends: 0, nocalls: 0, commits: 0 };
    store.commit = (a, b) => {
      const t0 = cpu();
      c(a, b);
      commitMs += cpu() - t0;
      rows.calls += b.calls.length;
      rows.ins += b.inputs.length;
      rows.ends += b.ends.length;
      rows.nocalls += b.ends.filter((e) => e.calls === false).length;
      rows.commits++;
    };
    let t0 = cpu();
    await runInputs(inputs, 100, store);
    t.ours.push(cpu() - t0);
    store.close();
    t0 = cpu();
    plainInserts(join(dir, 'ref.db'), inputs);
    t.ref.push(cpu() - t0);
    t0 = cpu();
    await runInputs(inputs, 100, undefined);
    t.nostore.push(cpu() - t0);
  }
  const med = (a: number[]) => a.slice(1).sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)]!;
  const o = med(t.ours),
    rf = med(t.ref),
    n = med(t.nostore);
  console.log(
    `cpu ms: ours ${o.toFixed(0)} (last commit ${commitMs.toFixed(0)}) ref ${rf.toFixed(0)} nostore ${n.toFixed(0)}  ratio ours/ref ${(rf / o).toFixed(3)}  nostore ${(rf / n).toFixed(3)}`,
  );
  console.log(rows);
  rmSync(dir, { recursive: true, force: true });
})();
