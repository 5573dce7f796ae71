/**
 * Turns `npm run bench` output (JSON lines on stdin) into a Markdown table on stdout:
 *
 *   npm run bench --silent -- --quick | npx ts-node --transpile-only bench/table.ts
 *
 * Lines that are not JSON objects are ignored.
 */
import type { BenchResult } from './harness';

function format(value: number): string {
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US').replace(/,/g, ' ') : String(value);
}

function params(p: Record<string, unknown>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => (input += chunk));
process.stdin.on('end', () => {
  const rows: BenchResult[] = [];
  for (const line of input.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      rows.push(JSON.parse(line) as BenchResult);
    } catch {
      // not a result line
    }
  }
  const out = [
    '| workload | params | ours | reference | ratio (ours / ref) | unit | better |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.workload} | ${params(r.params)} | ${format(r.ours)} | ${format(r.reference)} | ${r.ratio} | ${r.unit} | ${String(r.extra?.['better'] ?? '')} |`,
    );
  }
  process.stdout.write(out.join('\n') + '\n');
});
