import { expect } from 'chai';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { lines, prng, startTsChild, type TsChild } from '../fixtures/child-process';

/**
 * S14 crash test: a child process runs a durable agent on a real SQLite file whose runs sleep (a
 * durable timer) and then park on waitForEvent; the parent sends each run's signal (some while the
 * run sleeps — buffered —, some while it is parked) and SIGKILLs the child at seeded random
 * points, then restarts it; a last child finishes. Checks: every run resumes with its own signal
 * (a signal acknowledged by `onSignalAccepted` is never needed again; a lost one would leave its
 * run parked and the last child would never finish), a sleep keeps the absolute deadline it
 * journaled (read from the SQLite file between kills), no run woke before its deadline, outputs
 * are at-least-once with identical duplicates, and the journal ends empty.
 */
const CHILD = join(__dirname, 'fixtures', 'wait-crash-child.ts');
const INPUTS = 60;
const KEYS = 4;
const KILLS = 8;
const SLEEP = 60;

function startChild(db: string, dir: string): TsChild {
  return startTsChild(CHILD, [db, dir, String(INPUTS), String(KEYS), String(SLEEP)]);
}

/** Sleep deadlines journaled while the sleeps are parked: `<seq>/<call id>` → deadline. */
function sleepDeadlines(db: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(db)) return out;
  const conn = new Database(db, { readonly: true });
  try {
    const rows = conn
      .prepare(
        "SELECT seq, id, value FROM calls WHERE agent = 'wait-crash' AND state = 0 AND fingerprint LIKE 'rx-agents.sleep/%'",
      )
      .all() as { seq: number; id: string; value: string }[];
    for (const r of rows) out.set(`${r.seq}/${r.id}`, JSON.parse(r.value) as number);
  } finally {
    conn.close();
  }
  return out;
}

/** The parent's side: sends run i's signal once the child logged `S:i` (even i: while it sleeps) or `W:i` (odd i: parked). */
function sender(dir: string): { pump(): void; sent: Set<number> } {
  const sent = new Set<number>();
  return {
    sent,
    pump() {
      for (const line of lines(join(dir, 'effects'))) {
        const [tag] = line.split(' ') as [string];
        const m = /^([SW]):(\d+)$/.exec(tag);
        if (m === null) continue;
        const i = Number(m[2]);
        if (sent.has(i) || (m[1] === 'S') !== (i % 2 === 0)) continue;
        sent.add(i);
        appendFileSync(join(dir, 'signals'), `${JSON.stringify({ i, by: `p${i}` })}\n`);
      }
    },
  };
}

describe('S14 crash recovery of parked runs, timers and signals (SQLite, SIGKILL)', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-waits-crash-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resumes every parked run with its signal, keeps sleep deadlines, loses no acknowledged signal', async () => {
    const seed = Number(process.env['CRASH_SEED'] ?? 20261201);
    const random = prng(seed);
    const db = join(dir, 'waits.db');
    const send = sender(dir);
    const deadlines = new Map<string, number>();
    const checkDeadlines = (): void => {
      for (const [id, deadline] of sleepDeadlines(db)) {
        const before = deadlines.get(id);
        if (before !== undefined)
          expect(deadline, `seed ${seed}: the deadline of sleep ${id} changed`).to.equal(before);
        deadlines.set(id, deadline);
      }
    };
    let killed = 0;
    for (let k = 0; k < KILLS; k++) {
      const { child, ready, exited } = startChild(db, dir);
      await ready;
      const until = Date.now() + 60 + Math.floor(random() * 200);
      while (Date.now() < until && child.exitCode === null) {
        send.pump();
        checkDeadlines();
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      const done = child.exitCode !== null;
      child.kill('SIGKILL');
      const code = await exited;
      if (!done && code === null) killed++;
      if (process.env['CRASH_DEBUG']) console.log({ k, done, code, effects: lines(join(dir, 'effects')).length });
      checkDeadlines();
    }
    expect(killed, 'most children were killed mid-way').to.be.greaterThan(KILLS / 2);
    const last = startChild(db, dir);
    const pumping = setInterval(() => {
      send.pump();
    }, 3);
    try {
      expect(await last.exited).to.equal(0);
    } finally {
      clearInterval(pumping);
    }
    expect(deadlines.size, 'sleeps were seen parked in the journal').to.be.greaterThan(0);

    // Every run answered with its own signal; duplicates (at-least-once output) are identical.
    const outputs = new Map<number, string>();
    for (const line of lines(join(dir, 'outputs'))) {
      const out = JSON.parse(line) as {
        run: number;
        payload: { i: number; by: string; startedAt: number; wokeAt: number };
      };
      expect(out.payload.by).to.equal(`p${out.payload.i}`);
      expect(out.payload.wokeAt - out.payload.startedAt, `run ${out.payload.i} woke early`).to.be.at.least(SLEEP);
      const seen = outputs.get(out.payload.i);
      if (seen !== undefined) expect(JSON.parse(line)).to.deep.equal(JSON.parse(seen));
      outputs.set(out.payload.i, line);
    }
    expect([...outputs.keys()].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: INPUTS }, (_, i) => i));
    // Each run's journaled sleep deadline is after its start (startedAt is journaled, so stable across replays).
    for (const line of outputs.values()) {
      const out = JSON.parse(line) as { run: number; payload: { startedAt: number; wokeAt: number } };
      const deadline = [...deadlines].find(([id]) => id.startsWith(`${out.run}/`))?.[1];
      if (deadline !== undefined) {
        expect(deadline).to.be.at.least(out.payload.startedAt + SLEEP);
        expect(out.payload.wokeAt).to.be.at.least(deadline);
      }
    }
    // The journal is empty at the end: nothing parked, nothing buffered.
    const conn = new Database(db, { readonly: true });
    try {
      expect(
        conn.prepare('SELECT (SELECT count(*) FROM inputs) AS i, (SELECT count(*) FROM calls) AS c').get(),
      ).to.deep.equal({
        i: 0,
        c: 0,
      });
    } finally {
      conn.close();
    }
    if (process.env['CRASH_DEBUG'])
      console.log({ killed, rejected: lines(join(dir, 'rejected')).length, acks: lines(join(dir, 'acks')).length });
  });
});
