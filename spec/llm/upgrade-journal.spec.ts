import { expect } from 'chai';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lines, startTsChild } from '../fixtures/child-process';

const child = join(__dirname, 'fixtures', 'react-journal-child.ts');
const lib = join(__dirname, '..', '..', 'lib');

/** Runs the ReAct child in `phase` on `file`; resolves with its stdout lines once it exits 0. */
async function runChild(file: string, effects: string, phase: 'crash' | 'resume'): Promise<string[]> {
  const c = startTsChild(child, [lib, file, effects, phase]);
  let out = '';
  c.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  expect(await c.exited).to.equal(0, `the ${phase} child failed: ${out}`);
  return out.split('\n').filter((l) => l.length > 0);
}

describe('reactAgent: a run in flight across an upgrade replays its completed calls (S13, real SQLite, child processes)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rx-upgrade-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a journal written by the loop with llm.decide / llm.observe (cf6ac48): no tool or model call runs twice', async () => {
    const file = join(dir, 'journal.db');
    copyFileSync(join(__dirname, 'fixtures', 'react-v0-journal.db'), file);
    const effects = join(dir, 'effects');
    const out = await runChild(file, effects, 'resume');
    // Two model calls and four refunds completed before the crash; only the call in flight runs again.
    expect(lines(effects)).to.deep.equal(['model 4']);
    expect(out).to.deep.equal(['output "refunded"', 'complete']);
  });

  it('a journal written by this version, crashed the same way: the same', async () => {
    const file = join(dir, 'journal.db');
    const before = join(dir, 'effects-crash');
    await runChild(file, before, 'crash');
    expect(lines(before)).to.deep.equal([
      'model 0',
      'refund 0',
      'refund 1',
      'model 2',
      'refund 2',
      'refund 3',
      'model 4',
    ]);
    const after = join(dir, 'effects-resume');
    expect(await runChild(file, after, 'resume')).to.deep.equal(['output "refunded"', 'complete']);
    expect(lines(after)).to.deep.equal(['model 4']);
  });
});
