/**
 * `npm run bench:process [-- --quick] [-- --only <name>[,<name>…]] [-- --runs N]`
 *
 * The whole-process comparison mode, beside the in-process one of `npm run bench`: each
 * contestant of a workload runs in a fresh Node process (one untimed warm-up, then one timed
 * pass, so no contestant inherits another's JIT state, heap or GC debt), the contestants
 * alternate (A B C, then B C A, …) for N rounds, and each one's median over its N processes is
 * reported. Lines have the format of `npm run bench`, with `extra.mode: 'process'` and
 * `extra.runs`. Only workloads that export `processPlan(opts)` (see {@link ProcessPlan}) take
 * part; progress goes to stderr.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessPlan } from './harness';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : [];
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 5;
  if (!(Number.isInteger(runs) && runs >= 1)) {
    process.stderr.write(`Expected --runs to be an integer >= 1, got \`${argv[runsAt + 1]}\`.\n`);
    process.exitCode = 2;
    return;
  }
  const dir = join(__dirname, 'workloads');
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  for (const file of files) {
    const name = file.replace(/\.(ts|js)$/, '');
    if (only.length > 0 && !only.includes(name)) continue;
    const mod = (await import(join(dir, file))) as { processPlan?: (opts: { quick: boolean }) => ProcessPlan };
    if (typeof mod.processPlan !== 'function') continue;
    const plan = mod.processPlan({ quick });
    const names = Object.keys(plan.contestants);
    process.stderr.write(`# ${name}${quick ? ' (quick)' : ''}: ${names.join(', ')} × ${runs} processes each\n`);
    const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < names.length; i++) {
        const contestant = names[(i + r) % names.length] as string;
        (times[contestant] as number[]).push(child(file, contestant, quick));
      }
    }
    const medians = Object.fromEntries(names.map((n) => [n, median(times[n] as number[])]));
    for (const line of plan.report(medians))
      process.stdout.write(JSON.stringify({ ...line, extra: { ...line.extra, mode: 'process', runs } }) + '\n');
  }
}

/** Runs one contestant in a fresh process; returns its timed pass in ms. */
function child(file: string, contestant: string, quick: boolean): number {
  const args = [
    '--expose-gc',
    '-r',
    'ts-node/register/transpile-only',
    join(__dirname, 'process-child.ts'),
    file,
    contestant,
  ];
  const out = execFileSync(process.execPath, quick ? [...args, '--quick'] : args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ms = Number(out.trim().split('\n').pop());
  if (!Number.isFinite(ms)) throw new Error(`bench:process: ${file} ${contestant} printed ${JSON.stringify(out)}`);
  return ms;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

main().catch((error: unknown) => {
  process.stderr.write(String(error instanceof Error ? (error.stack ?? error) : error) + '\n');
  process.exitCode = 1;
});
