import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { lines, prng, startTsChild, type TsChild } from '../fixtures/child-process';

/**
 * S13 crash test: a child process runs a durable agent on a real SQLite file and is killed with
 * SIGKILL at seeded random points, then restarted, many times; a last run finishes the source.
 * Checks: no accepted input lost or run twice (memory equals a crash-free run, per-key order
 * kept), no call whose outcome was journaled executed again, reconciled calls executed exactly
 * once, every output id emitted (at-least-once, identical duplicates), the journal pruned.
 */
const CHILD = join(__dirname, 'fixtures', 'crash-child.ts');
const INPUTS = 400;
const KEYS = 7;
const KILLS = 16;

interface Files {
  readonly db: string;
  readonly effects: string;
  readonly outputs: string;
}

function startChild(files: Files): TsChild {
  return startTsChild(CHILD, [files.db, files.effects, files.outputs, String(INPUTS), String(KEYS)]);
}

/** Effect tag of a journaled call id (ids are `<seq>>a#<n>` and `<seq>>a:0>b#0`; seq = input i here). */
function tagOf(id: string): string | undefined {
  const m = /^(\d+)>a#(\d+)$/.exec(id);
  if (m !== null)
    return m[2] === '0' ? `A:${m[1]}` : m[2] === '1' ? `P:${m[1]}:0` : m[2] === '2' ? `P:${m[1]}:1` : undefined;
  const r = /^(\d+)>a:0>b#0$/.exec(id);
  return r === null ? undefined : `R:${r[1]}`;
}

/** What the store holds after a kill: the effect tags whose outcome is durable. */
function durableTags(db: string): { tags: Set<string>; nextSeq: number } {
  const tags = new Set<string>();
  if (!existsSync(db)) return { tags, nextSeq: 0 };
  const conn = new Database(db);
  try {
    const head = conn.prepare("SELECT next_seq FROM agents WHERE agent = 'crash'").get() as
      { next_seq: number } | undefined;
    const nextSeq = head?.next_seq ?? 0;
    const pending = new Set(
      (conn.prepare("SELECT seq FROM inputs WHERE agent = 'crash'").all() as { seq: number }[]).map((r) => r.seq),
    );
    for (let i = 0; i < nextSeq; i++) {
      if (!pending.has(i)) for (const t of [`A:${i}`, `P:${i}:0`, `P:${i}:1`, `R:${i}`]) tags.add(t); // run completed: all its calls are done
    }
    for (const { id } of conn.prepare("SELECT id FROM calls WHERE agent = 'crash' AND state != 0").all() as {
      id: string;
    }[]) {
      const tag = tagOf(id);
      if (tag !== undefined) tags.add(tag);
    }
    return { tags, nextSeq };
  } finally {
    conn.close();
  }
}

function finalMemory(db: string): Record<string, unknown> {
  const conn = new Database(db, { readonly: true });
  try {
    const rows = conn.prepare("SELECT key, data FROM memory WHERE agent = 'crash' ORDER BY key").all() as {
      key: string;
      data: string;
    }[];
    const counts = conn
      .prepare('SELECT (SELECT count(*) FROM inputs) AS inputs, (SELECT count(*) FROM calls) AS calls')
      .get() as { inputs: number; calls: number };
    return { memory: Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.data)])), ...counts };
  } finally {
    conn.close();
  }
}

describe('store: crash recovery with SIGKILLed child processes (S13)', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-crash-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loses no accepted input, never re-executes a journaled call, and ends with the memory of a crash-free run', async () => {
    const reference: Files = {
      db: join(dir, 'ref.db'),
      effects: join(dir, 'ref.effects'),
      outputs: join(dir, 'ref.outputs'),
    };
    const ref = startChild(reference);
    expect(await ref.exited).to.equal(0);
    const expected = finalMemory(reference.db);

    const seed = Number(process.env['CRASH_SEED'] ?? 20261125);
    const random = prng(seed);
    const files: Files = {
      db: join(dir, 'crash.db'),
      effects: join(dir, 'crash.effects'),
      outputs: join(dir, 'crash.outputs'),
    };
    const durable = new Set<string>();
    const progress: number[] = [];
    let killed = 0;
    for (let k = 0; k < KILLS; k++) {
      const { child, ready, exited } = startChild(files);
      await ready;
      const delay = Math.floor(random() * 120);
      await new Promise((resolve) => setTimeout(resolve, delay));
      const done = child.exitCode !== null;
      child.kill('SIGKILL');
      const code = await exited;
      if (!done && code === null) killed++;
      // Calls executed by this process must not include any call that was durable before it started.
      const executed = lines(files.effects)
        .filter((l) => l.split(' ')[1] === String(child.pid))
        .map((l) => l.split(' ')[0] as string);
      const again = executed.filter((tag) => durable.has(tag));
      expect(again, `seed ${seed}, process ${k}: journaled calls executed again`).to.deep.equal([]);
      const after = durableTags(files.db);
      progress.push(after.nextSeq);
      for (const tag of after.tags) durable.add(tag);
    }
    if (process.env['CRASH_DEBUG'])
      console.log({
        killed,
        progress,
        reconciled: lines(files.effects)
          .filter((l) => l.startsWith('~'))
          .map((l) => l.split(' ')[2]),
        effects: lines(files.effects).length,
      });
    expect(killed, 'most children were killed mid-way').to.be.greaterThan(KILLS / 2);

    const last = startChild(files);
    expect(await last.exited).to.equal(0);
    const executed = lines(files.effects)
      .filter((l) => l.split(' ')[1] === String(last.child.pid))
      .map((l) => l.split(' ')[0] as string);
    expect(
      executed.filter((tag) => durable.has(tag)),
      `seed ${seed}: journaled calls executed again`,
    ).to.deep.equal([]);

    // Memory equals the crash-free run: every input processed exactly once, per-key order kept.
    const got = finalMemory(files.db);
    expect(got).to.deep.equal(expected);
    expect(got['inputs']).to.equal(0);
    expect(got['calls']).to.equal(0);
    const memory = got['memory'] as Record<string, { seen: number[] }>;
    for (let k = 0; k < KEYS; k++) {
      expect(memory[`sk${k}`]!.seen).to.deep.equal(
        Array.from({ length: INPUTS }, (_, i) => i).filter((i) => i % KEYS === k),
      );
    }

    // Reconciled calls: executed exactly once across all crashes; other calls at least once.
    const counts = new Map<string, number>();
    for (const line of lines(files.effects))
      counts.set(line.split(' ')[0]!, (counts.get(line.split(' ')[0]!) ?? 0) + 1);
    for (let i = 0; i < INPUTS; i++) {
      expect(counts.get(`R:${i}`), `R:${i}`).to.equal(1);
      for (const tag of [`A:${i}`, `P:${i}:0`, `P:${i}:1`]) expect(counts.get(tag) ?? 0, tag).to.be.at.least(1);
    }

    // Outputs: at-least-once, deterministic ids, duplicates identical, run sequence = input position.
    const outputs = new Map<string, string>();
    for (const line of lines(files.outputs)) {
      const out = JSON.parse(line) as { id: string; run: number; payload: { i: number } };
      expect(out.run).to.equal(out.payload.i);
      const seen = outputs.get(out.id);
      if (seen !== undefined) expect(line).to.equal(seen);
      outputs.set(out.id, line);
    }
    expect([...outputs.keys()].sort()).to.deep.equal(Array.from({ length: INPUTS }, (_, i) => `${i}>a:0>b:0`).sort());
  });
});
