import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { diagnoseStore, readStore } from '../../lib/sqlite';
import { lines, prng, startTsChild, type TsChild } from '../fixtures/child-process';

/**
 * S13 with the background WAL checkpointer: a child journals heavily (the WAL passes the
 * checkpointer's threshold within each life) and is SIGKILLed at seeded random points after its
 * checkpointer thread started — during or between its checkpoints — then restarted. Checks: every
 * acknowledged input is processed exactly once (per-key count and sum equal a crash-free run), no
 * call whose outcome was committed runs again, the journal ends empty and the file intact; and on
 * each killed file (its WAL large, perhaps half-copied) the store reader and doctor agree with SQL.
 */
const CHILD = join(__dirname, 'fixtures', 'checkpoint-child.ts');
const INPUTS = 9000;
const KEYS = 20;
const KILLS = 5;

interface Files {
  readonly db: string;
  readonly effects: string;
  readonly acks: string;
}

function startChild(files: Files): TsChild {
  return startTsChild(CHILD, [files.db, files.effects, files.acks, String(INPUTS), String(KEYS)]);
}

/** Resolves to `true` once the child prints `word`, `false` if it exits first. */
function said(child: TsChild, word: string): Promise<boolean> {
  return new Promise((resolve) => {
    child.child.stdout!.on('data', (d: Buffer) => d.toString().includes(word) && resolve(true));
    void child.exited.then(() => resolve(false));
  });
}

/** Sequence numbers whose call outcome is durable: finished runs, and calls recorded ok. */
function durable(db: string): { done: Set<number>; pending: number } {
  const conn = new Database(db, { readonly: true });
  try {
    const nextSeq = (conn.prepare("SELECT next_seq FROM agents WHERE agent = 'ckpt'").get() as { next_seq: number })
      .next_seq;
    const pending = new Set(
      (conn.prepare("SELECT seq FROM inputs WHERE agent = 'ckpt'").all() as { seq: number }[]).map((r) => r.seq),
    );
    const done = new Set<number>();
    for (let i = 0; i < nextSeq; i++) if (!pending.has(i)) done.add(i);
    for (const { seq } of conn.prepare("SELECT seq FROM calls WHERE agent = 'ckpt' AND state = 1").all() as {
      seq: number;
    }[])
      done.add(seq);
    return { done, pending: pending.size };
  } finally {
    conn.close();
  }
}

describe('store: crash recovery with the WAL checkpointer running, SIGKILLed child processes (S13)', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-ckpt-crash-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('recovers exactly: acknowledged inputs processed once, journaled calls not run again, reader and doctor right on the killed file', async () => {
    const seed = Number(process.env['CRASH_SEED'] ?? 20261202);
    const random = prng(seed);
    const files: Files = { db: join(dir, 'c.db'), effects: join(dir, 'c.effects'), acks: join(dir, 'c.acks') };
    const seen = new Set<number>();
    let killed = 0;
    let checkpointing = 0;
    for (let k = 0; k < KILLS; k++) {
      const child = startChild(files);
      await child.ready;
      if (await said(child, k % 2 === 0 ? 'thread' : 'checkpointed')) checkpointing++;
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 60)));
      const running = child.child.exitCode === null;
      child.child.kill('SIGKILL');
      const code = await child.exited;
      if (running && code === null) killed++;
      const executed = lines(files.effects)
        .filter((l) => l.split(' ')[1] === String(child.child.pid))
        .map((l) => Number(l.split(' ')[0]));
      const again = executed.filter((i) => seen.has(i));
      expect(again, `seed ${seed}, process ${k}: journaled calls executed again`).to.deep.equal([]);
      // The killed file as the tools see it: a WAL that may hold thousands of frames, some copied.
      const { done, pending } = durable(files.db);
      const state = readStore(files.db);
      expect(state.agents[0]!.runs.length, 'readStore: the unfinished runs SQL sees').to.equal(pending);
      const diagnosis = diagnoseStore(files.db);
      expect(diagnosis.ok, JSON.stringify(diagnosis.integrity)).to.equal(true);
      expect(diagnosis.agents[0]!.replay.length).to.equal(pending);
      for (const i of done) seen.add(i);
    }
    expect(killed, 'children were killed mid-way').to.be.greaterThan(KILLS / 2);
    expect(checkpointing, 'each child was killed with its checkpointer thread running').to.equal(KILLS);
    if (process.env['CRASH_DEBUG']) console.log({ killed, acks: lines(files.acks).length, seen: seen.size });

    const last = startChild(files);
    expect(await last.exited).to.equal(0);
    const again = lines(files.effects)
      .filter((l) => l.split(' ')[1] === String(last.child.pid))
      .map((l) => Number(l.split(' ')[0]))
      .filter((i) => seen.has(i));
    expect(again, `seed ${seed}: journaled calls executed again`).to.deep.equal([]);

    const conn = new Database(files.db, { readonly: true });
    try {
      expect(conn.pragma('integrity_check', { simple: true })).to.equal('ok');
      expect(conn.prepare('SELECT count(*) AS n FROM journal').get()).to.deep.equal({ n: 0 });
      const memory = Object.fromEntries(
        (
          conn.prepare("SELECT key, data FROM memory WHERE agent = 'ckpt'").all() as { key: string; data: string }[]
        ).map((r) => [r.key, JSON.parse(r.data) as { count: number; sum: number }]),
      );
      for (let k = 0; k < KEYS; k++) {
        const mine = Array.from({ length: INPUTS }, (_, i) => i).filter((i) => i % KEYS === k);
        expect(memory[`sk${k}`], `key k${k}`).to.include({
          count: mine.length,
          sum: mine.reduce((a, i) => a + i * 7, 0),
        });
      }
    } finally {
      conn.close();
    }
    // Every acknowledged input was processed (its effect ran at least once).
    const effects = new Set(lines(files.effects).map((l) => Number(l.split(' ')[0])));
    for (const i of lines(files.acks).map(Number)) expect(effects.has(i), `acknowledged input ${i}`).to.equal(true);
  });
});
