/**
 * `npm run bench [-- --quick] [-- --only <name>[,<name>…]]`
 *
 * Runs every workload in bench/workloads/ (each file exports `run(opts)`, see harness.ts) in
 * file-name order and prints one JSON object per result line on stdout. Progress goes to stderr.
 * `--quick` runs smaller sizes so that the whole suite finishes in under a minute.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canGc, type BenchResult, type Workload } from './harness';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : [];
  const dir = join(__dirname, 'workloads');
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  const names = files.map((f) => f.replace(/\.(ts|js)$/, ''));
  const unknown = only.filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    process.stderr.write(`Unknown workload(s): ${unknown.join(', ')}. Known: ${names.join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  if (!canGc)
    process.stderr.write(
      'note: run with node --expose-gc (npm run bench does) for memory figures and steadier timings\n',
    );
  const started = Date.now();
  for (const [i, file] of files.entries()) {
    const name = names[i] as string;
    if (only.length > 0 && !only.includes(name)) continue;
    const t0 = Date.now();
    process.stderr.write(`# ${name}${quick ? ' (quick)' : ''}\n`);
    const mod = (await import(join(dir, file))) as { run?: Workload };
    if (typeof mod.run !== 'function') {
      process.stderr.write(`  skipped: ${file} does not export run(opts)\n`);
      continue;
    }
    let results: BenchResult[];
    try {
      results = await mod.run({ quick });
    } catch (error) {
      process.stderr.write(`  FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
      continue;
    }
    for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
    process.stderr.write(`  ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  process.stderr.write(`# total ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

// No process.exit on success: a worker pool or timer left behind by a workload would keep the
// process alive, and that is a bug the bench should show rather than hide.
main().catch((error: unknown) => {
  process.stderr.write(String(error) + '\n');
  process.exitCode = 1;
});
