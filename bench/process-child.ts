/**
 * One contestant of `npm run bench:process`, alone in this process: `process-child.ts <workload
 * file> <contestant> [--quick]`. Prepares, runs the contestant once untimed (warm-up), then once
 * timed after a GC, and prints the timed pass in ms as the last line of stdout.
 */
import { join } from 'node:path';
import { time, type ProcessPlan } from './harness';

async function main(): Promise<void> {
  const [file, contestant] = process.argv.slice(2);
  const quick = process.argv.includes('--quick');
  const mod = (await import(join(__dirname, 'workloads', file as string))) as {
    processPlan: (opts: { quick: boolean }) => ProcessPlan;
  };
  const task = mod.processPlan({ quick }).contestants[contestant as string];
  if (task === undefined) throw new Error(`process-child: ${file} has no contestant \`${contestant}\``);
  await task();
  process.stdout.write(`${await time(task)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(String(error instanceof Error ? (error.stack ?? error) : error) + '\n');
  process.exitCode = 1;
});
