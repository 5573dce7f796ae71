import { expect } from 'chai';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { lastValueFrom, of, toArray } from 'rxjs';
import { z } from 'zod';
import { agentOperator, defineAgent, InputEvent, OutputEvent, type JournalSnapshot } from '../../lib';
import { doctorCommand } from '../../lib/cli/doctor-command';
import { diagnoseStore, readStore, repairStore, sqliteStore, StoreOpenError } from '../../lib/sqlite';
import { SqliteAgentLock } from '../../lib/store/sqlite-lock';
import { V1_DDL } from './fixtures/v1-schema';

/**
 * S13: a store file written by the previous schema (version 1: tables `inputs`, `calls`, `memory`
 * keyed by agent name) opens. `fixtures/v1-store.db` was written by the code of commit 2911409 (the
 * last version-1 writer) and left as a SIGKILL leaves it: agent `orders` (input `{id, user}`, key
 * `user`, position `{offset}`) with runs 1–7 unfinished — run 1 with an ok and a failed call, run 2
 * with an ok call and an in-doubt reconciled call — memory of key `bob` from finished run 0, its
 * owners row; agent `notes` with its memory only. Read-only tools read it as it is; a writer
 * migrates it to version 2 in one transaction, and recovery then replays exactly what it held.
 */
const FIXTURE = join(__dirname, 'fixtures', 'v1-store.db');

/** What recovery of `orders` runs: the fixture's calls, now settling (none of the recorded ones may run again). */
const executed: string[] = [];
const ok = (x: number): Promise<number> => (executed.push(`ok ${x}`), Promise.resolve(x * 10));
const bad = (x: number): Promise<never> => (
  executed.push(`bad ${x}`),
  Promise.reject(Object.assign(new Error(`bad ${x}`), { code: 'E_BAD' }))
);
const never = (x: number): Promise<string> => (executed.push(`never ${x}`), Promise.resolve(`ran ${x}`));
const orders = defineAgent({
  name: 'orders',
  input: z.object({ id: z.number(), user: z.string() }),
  actions: (action) => [
    action('take', InputEvent, function* (event, ctx) {
      const { id } = event.payload;
      const a = yield* ctx.executeAsync(ok, id);
      ctx.shortTermMemory.set('last', id);
      ctx.shortTermMemory.set('total', (ctx.shortTermMemory.get<number>('total') ?? 0) + a);
      let tail = '';
      if (id % 4 === 1) {
        try {
          yield* ctx.executeAsync(bad, id);
        } catch (error) {
          tail = `caught ${(error as { code?: string }).code}`;
        }
        tail += ` ${yield* ctx.executeAsync(never, id)}`;
      }
      if (id % 4 === 2) tail = yield* ctx.executeAsyncWith({ reconcile: (n: number) => `reconciled ${n}` }, never, id);
      ctx.sendEvent(OutputEvent.of({ id, a, tail }));
    }),
  ],
});

describe('store: a schema-version-1 file opens (read as it is, migrated by a writer) (S13)', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rx-agents-migrate-'));
    path = join(dir, 'v1.db');
    copyFileSync(FIXTURE, path);
    executed.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const version = (file = path): number => {
    const db = new Database(file, { readonly: true });
    try {
      return db.pragma('user_version', { simple: true }) as number;
    } finally {
      db.close();
    }
  };
  const tables = (file = path): string[] => {
    const db = new Database(file, { readonly: true });
    try {
      return (
        db
          .prepare(
            "SELECT type || ' ' || name AS t FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY type, name",
          )
          .all() as {
          t: string;
        }[]
      ).map((r) => r.t);
    } finally {
      db.close();
    }
  };

  it('readStore and diagnoseStore read it without changing it; doctor says a migration is pending', () => {
    const state = readStore(path);
    expect(state.schemaVersion).to.equal(1);
    expect(state.agents.map((a) => a.agent)).to.deep.equal(['notes', 'orders']);
    const o = state.agents[1]!;
    expect(o.nextSeq).to.equal(8);
    expect(o.position).to.deep.equal({ offset: 7 });
    expect(o.runs.map((r) => r.seq)).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(o.runs[0]!.input).to.deep.equal({ id: 1, user: 'ann' });
    expect(o.runs[0]!.calls.map((c) => [c.id, c.state])).to.deep.equal([
      ['1>take#0', 'ok'],
      ['1>take#1', 'failed'],
    ]);
    expect(o.inDoubt.map((c) => c.id)).to.deep.equal(['2>take#1']);
    expect(o.keys).to.deep.equal([{ key: 'bob', memory: { last: 0, total: 0 } }]);
    expect(state.agents[0]!.keys).to.deep.equal([{ key: 'k', memory: { text: 'world' } }]);

    const d = diagnoseStore(path);
    expect(d).to.include({ ok: true, schemaVersion: 1, migrationPending: true });
    expect(d.agents.map((a) => [a.agent, a.lock, a.replay.length])).to.deep.equal([
      ['notes', 'free', 0],
      ['orders', 'free', 7],
    ]);
    const lines: string[] = [];
    expect(doctorCommand({ file: path, json: false }, (l) => lines.push(l))).to.equal(0);
    expect(lines).to.include(
      '  schema version  1 (readable; migration to 2 pending: the next writer migrates it when it opens the file)',
    );
    expect(version()).to.equal(1);
    expect(tables()).to.deep.equal(['table agents', 'table calls', 'table inputs', 'table memory', 'table owners']);
  });

  it('sqliteStore migrates it to version 2; the snapshot is what the version-1 tables held, and recovery replays it', async () => {
    const raw = new Database(path, { readonly: true });
    const v1 = {
      inputs: raw.prepare("SELECT seq, input FROM inputs WHERE agent = 'orders' ORDER BY seq").all(),
      calls: raw
        .prepare("SELECT seq, id, fingerprint, state, value FROM calls WHERE agent = 'orders' ORDER BY seq, id")
        .all(),
      memory: raw.prepare("SELECT key, data FROM memory WHERE agent = 'orders'").all(),
    };
    raw.close();
    const store = sqliteStore(path);
    expect(version()).to.equal(2);
    expect(tables()).to.deep.equal([
      'table agents',
      'table journal',
      'table key_memory',
      'table owners',
      'view calls',
      'view inputs',
      'view memory',
    ]);
    const snapshot = store.load('orders') as JournalSnapshot;
    expect(snapshot.nextSeq).to.equal(8);
    expect(snapshot.position).to.equal('{"offset":7}');
    expect(snapshot.inputs).to.deep.equal(v1.inputs);
    expect([...snapshot.calls].sort((a, b) => a.seq - b.seq || a.id.localeCompare(b.id))).to.deep.equal(v1.calls);
    expect(snapshot.memory).to.deep.equal(v1.memory);
    expect((store.load('notes') as JournalSnapshot).memory).to.deep.equal([{ key: 'sk', data: '{"text":"world"}' }]);

    // Recovery from the migrated journal: recorded outcomes replay, the in-doubt call is reconciled, the rest runs.
    const outputs = await lastValueFrom(
      of<{ id: number; user: string }>().pipe(agentOperator(orders, { key: (x) => x.user, store }), toArray()),
    );
    store.close();
    const byId = new Map((outputs as Array<{ id: number }>).map((p) => [p.id, p]));
    expect([...byId.keys()].sort()).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(byId.get(1)).to.deep.equal({ id: 1, a: 10, tail: 'caught E_BAD ran 1' });
    expect(byId.get(2)).to.deep.equal({ id: 2, a: 20, tail: 'reconciled 2' });
    expect(executed).to.not.include.members(['ok 1', 'bad 1', 'ok 2', 'never 2']); // journaled: replayed, not run
    expect(executed).to.include.members(['never 1', 'ok 3', 'ok 7']);
    const after = readStore(path);
    expect(after.schemaVersion).to.equal(2);
    const o = after.agents.find((a) => a.agent === 'orders')!;
    expect(o.runs).to.deep.equal([]);
    const total = [0, 2, 4, 6].reduce((n, id) => n + id * 10, 0);
    expect(o.keys.find((k) => k.key === 'bob')?.memory).to.deep.equal({ last: 6, total });
  });

  it('the migration is one transaction: if it fails, the file is left exactly as version 1', () => {
    const raw = new Database(path);
    raw.exec('CREATE TABLE journal (anything TEXT)'); // makes the migration fail half-way (its table name is taken)
    raw.close();
    expect(() => sqliteStore(path))
      .to.throw(StoreOpenError, 'table journal already exists')
      .with.property('code', 'ERR_STORE_CORRUPT');
    expect(version()).to.equal(1);
    expect(tables()).to.deep.equal([
      'table agents',
      'table calls',
      'table inputs',
      'table journal',
      'table memory',
      'table owners',
    ]);
    expect(readStore(path).agents.find((a) => a.agent === 'orders')!.runs).to.have.length(7);
  });

  it('is not migrated while a writer holds one of its agents (an older rx-agents still running)', () => {
    const lock = SqliteAgentLock.acquire(Database, path, 'notes', () => undefined);
    try {
      expect(() => sqliteStore(path))
        .to.throw(
          StoreOpenError,
          'it has schema version 1, which this version migrates to 2 when it opens the file, but a live writer holds the journal of agent `notes`',
        )
        .with.property('code', 'ERR_STORE_BUSY');
      expect(version()).to.equal(1);
    } finally {
      lock.release();
    }
    sqliteStore(path).close(); // the writer is gone: now it migrates
    expect(version()).to.equal(2);
  });

  it('repairStore is a writer too: it migrates the file, then applies the repair', () => {
    const repair = repairStore(path, {
      op: 'settle-call',
      agent: 'orders',
      seq: 2,
      call: '2>take#1',
      value: 'settled by hand',
    });
    expect(repair.detail).to.include('settled in-doubt call 2>take#1 as ok');
    expect(version()).to.equal(2);
    const dropped = repairStore(path, { op: 'drop-input', agent: 'orders', seq: 1 });
    expect(dropped.detail).to.match(/^dropped the input of run 1 and its 2 journaled calls; input was \{"id":1/);
    const o = readStore(path).agents.find((a) => a.agent === 'orders')!;
    expect(o.runs.map((r) => r.seq)).to.deep.equal([2, 3, 4, 5, 6, 7]);
    expect(o.runs[0]!.calls.map((c) => [c.id, c.state, c.value])).to.deep.equal([
      ['2>take#0', 'ok', 20],
      ['2>take#1', 'ok', 'settled by hand'],
    ]);
  });

  it('a version-1 file made from the checked-in DDL: every agent gets an id, those with memory rows only too', () => {
    const file = join(dir, 'ddl.db');
    const raw = new Database(file);
    raw.pragma('journal_mode = WAL');
    raw.exec(V1_DDL);
    raw.exec(`
      INSERT INTO agents VALUES ('a', 3, '"p2"');
      INSERT INTO inputs VALUES ('a', 2, '"two"');
      INSERT INTO calls VALUES ('a', 2, '2>x#0', 'f/0/', 1, '42');
      INSERT INTO memory VALUES ('a', 'sk', '{"n":1}'), ('only-memory', 'n7', '{"m":[1,2]}');
    `);
    raw.close();
    expect(readStore(file).agents.map((a) => a.agent)).to.deep.equal(['a', 'only-memory']);
    const store = sqliteStore(file);
    expect(store.load('a')).to.deep.equal({
      nextSeq: 3,
      position: '"p2"',
      inputs: [{ seq: 2, input: '"two"' }],
      calls: [{ seq: 2, id: '2>x#0', fingerprint: 'f/0/', state: 1, value: '42' }],
      memory: [{ key: 'sk', data: '{"n":1}' }],
    });
    expect(store.load('only-memory')).to.deep.include({ nextSeq: 0, memory: [{ key: 'n7', data: '{"m":[1,2]}' }] });
    expect(store.size('a')).to.deep.equal({ inputs: 1, calls: 1, keys: 1 });
    store.close();
    const state = readStore(file);
    expect(state.schemaVersion).to.equal(2);
    expect(state.agents.map((a) => [a.agent, a.runs.length, a.keys.length])).to.deep.equal([
      ['a', 1, 1],
      ['only-memory', 0, 1],
    ]);
  });

  it('the version-1 names stay usable in the sqlite3 shell: views over the version-2 tables, writable through triggers', () => {
    const file = join(dir, 'fresh.db');
    const store = sqliteStore(file);
    store.commit('shop', {
      nextSeq: 2,
      position: undefined,
      inputs: [
        { seq: 0, input: '"a"' },
        { seq: 1, input: '"b"' },
      ],
      calls: [{ seq: 0, id: '0>x#0', fingerprint: 'f/0/', state: 1, value: '1' }],
      ends: [],
    });
    store.close();
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
    expect(db.prepare('SELECT agent, seq, input FROM inputs ORDER BY seq').all()).to.deep.equal([
      { agent: 'shop', seq: 0, input: '"a"' },
      { agent: 'shop', seq: 1, input: '"b"' },
    ]);
    expect(db.prepare('SELECT agent, seq, id, state, value FROM calls').all()).to.deep.equal([
      { agent: 'shop', seq: 0, id: '0>x#0', state: 1, value: '1' },
    ]);
    db.exec("DELETE FROM inputs WHERE agent = 'shop' AND seq = 1"); // what a JournalCorruptError's advice does
    db.exec("UPDATE calls SET value = '2' WHERE agent = 'shop' AND seq = 0 AND id = '0>x#0'");
    db.exec("INSERT INTO memory (agent, key, data) VALUES ('shop', 'sk', '{}')");
    expect(db.prepare('SELECT agent_id, seq, call, value FROM journal ORDER BY seq, call').all()).to.deep.equal([
      { agent_id: 1, seq: 0, call: '', value: '"a"' },
      { agent_id: 1, seq: 0, call: '0>x#0', value: '2' },
    ]);
    expect(db.prepare('SELECT agent_id, key, data FROM key_memory').all()).to.deep.equal([
      { agent_id: 1, key: 'sk', data: '{}' },
    ]);
    db.close();
  });
});
