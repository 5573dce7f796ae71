// CPU-time split of the journal workload (ours, its commits, the raw-insert reference, no store), robust to a loaded machine,
// with the SQLite statements and transactions ours executes (every statement goes through better-sqlite3's Statement methods):
// node -r ts-node/register/transpile-only bench/profile/journal-cpu.ts [inputs]   (CD=<commitDelay ms>, ROUNDS=<n>)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sqliteStore } from '../../lib/sqlite';
import { plainInserts, runInputs } from '../workloads/journal';
const inputs = +(process.argv[2] ?? 5000);
const rounds = +(process.env['ROUNDS'] ?? 7);
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let counting = false;
const count = { statements: 0, transactions: 0 };
const probe = new Database(':memory:');
const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>;
probe.close();
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = proto[method] as (...args: unknown[]) => unknown;
  proto[method] = function (this: { source: string }, ...args: unknown[]) {
    if (counting) {
      if (/^BEGIN/i.test(this.source)) count.transactions++;
      else if (!/^(COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/i.test(this.source)) count.statements++;
    }
    return original.apply(this, args);
  };
}
(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rx-agents-jt-'));
  const t = { ours: [] as number[], commits: [] as number[], ref: [] as number[], nostore: [] as number[] };
  const rows = {
    calls: [] as number[],
    commits: [] as number[],
    statements: [] as number[],
    transactions: [] as number[],
  };
  for (let r = 0; r < rounds; r++) {
    const store = sqliteStore(join(dir, `p-${r}.db`), { commitDelay: +(process.env['CD'] ?? 1) });
    const commit = store.commit.bind(store);
    let commitMs = 0;
    let calls = 0;
    let commits = 0;
    store.commit = (a, b) => {
      const t0 = cpu();
      commit(a, b);
      commitMs += cpu() - t0;
      calls += b.calls.length;
      commits++;
    };
    count.statements = 0;
    count.transactions = 0;
    counting = true;
    let t0 = cpu();
    await runInputs(inputs, 100, store);
    t.ours.push(cpu() - t0);
    counting = false;
    store.close();
    t.commits.push(commitMs);
    rows.calls.push(calls);
    rows.commits.push(commits);
    rows.statements.push(count.statements);
    rows.transactions.push(count.transactions);
    t0 = cpu();
    plainInserts(join(dir, 'ref.db'), inputs);
    t.ref.push(cpu() - t0);
    t0 = cpu();
    await runInputs(inputs, 100, undefined);
    t.nostore.push(cpu() - t0);
  }
  // Medians, leaving out the first (warm-up) round.
  const med = (a: number[]): number => a.slice(1).sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)] as number;
  const o = med(t.ours);
  const rf = med(t.ref);
  const n = med(t.nostore);
  console.log(
    `cpu ms: ours ${o.toFixed(0)} (its commits ${med(t.commits).toFixed(0)}) ref ${rf.toFixed(0)} nostore ${n.toFixed(0)}  ratio ref/ours ${(rf / o).toFixed(3)}  ref/nostore ${(rf / n).toFixed(3)}`,
  );
  console.log(
    `per round (median): ${med(rows.statements)} statements (${(med(rows.statements) / inputs).toFixed(2)} per run), ` +
      `${med(rows.transactions)} transactions, ${med(rows.commits)} commits, ${med(rows.calls)} call rows; reference: ${inputs * 4} inserts in 1 transaction`,
  );
  rmSync(dir, { recursive: true, force: true });
})();
