import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { NEVER, concat, lastValueFrom, of, range, toArray, map } from 'rxjs';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { sqliteStore, StoreOpenError, StoreVersionError, SQLITE_APPLICATION_ID } from '../../lib/sqlite';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('store: sqliteStore (real SQLite files)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-sqlite-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('refuses files it cannot trust (never a silent fresh start)', () => {
    it('a file that is not a SQLite database', () => {
      const path = join(dir, 'junk.db');
      writeFileSync(
        path,
        Buffer.from('this is definitely not a database file, it is a text file of a reasonable length '.repeat(60)),
      );
      expect(() => sqliteStore(path))
        .to.throw(
          StoreOpenError,
          `Cannot open the rx-agents store at \`${path}\`: it is not a SQLite database. Restore it from a backup`,
        )
        .with.property('code', 'ERR_STORE_CORRUPT');
      expect(readFileSync(path, 'utf8')).to.match(/^this is definitely/); // untouched
    });

    it('a SQLite database of another application', () => {
      const path = join(dir, 'foreign.db');
      const db = new Database(path);
      db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)');
      db.close();
      expect(() => sqliteStore(path))
        .to.throw(
          StoreOpenError,
          'it is a SQLite database of another application (application_id 0, tables: users). Point the store at a file of its own',
        )
        .with.property('code', 'ERR_STORE_FOREIGN');
    });

    it('a store of an incompatible schema version', () => {
      const path = join(dir, 'old.db');
      sqliteStore(path).close();
      const db = new Database(path);
      db.pragma('user_version = 7');
      db.close();
      expect(() => sqliteStore(path))
        .to.throw(
          StoreVersionError,
          `The rx-agents store at \`${path}\` has schema version 7, but this version of rx-agents reads version 2. Upgrade rx-agents`,
        )
        .with.property('code', 'ERR_STORE_VERSION');
    });

    it('a store whose pages are corrupt', () => {
      const path = join(dir, 'corrupt.db');
      sqliteStore(path).close();
      const db = new Database(path);
      db.pragma('journal_mode = DELETE');
      db.close();
      const bytes = readFileSync(path);
      const pageSize = bytes.readUInt16BE(16);
      expect(bytes.length).to.be.greaterThan(pageSize); // more than the header page
      bytes.fill(0xa5, pageSize, bytes.length); // scribble over every page after the first (the schema pages)
      writeFileSync(path, bytes);
      expect(() => sqliteStore(path))
        .to.throw(StoreOpenError)
        .with.property('code', 'ERR_STORE_CORRUPT');
    });

    it('opens an empty file as a fresh store and marks it as ours', () => {
      const path = join(dir, 'empty.db');
      writeFileSync(path, '');
      sqliteStore(path).close();
      const db = new Database(path, { readonly: true });
      expect(db.pragma('application_id', { simple: true })).to.equal(SQLITE_APPLICATION_ID);
      expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
      db.close();
    });
  });

  describe('reconciler (in-doubt calls after a crash)', () => {
    /** Runs until the reconciled call has started (its start marker is committed), then "crashes". */
    async function crashMidCall(path: string, agent: ReturnType<typeof reconcilingAgent>): Promise<void> {
      const store = sqliteStore(path);
      const sub = concat(of('order-1'), NEVER).pipe(agentOperator(agent, { store })).subscribe();
      await settle();
      sub.unsubscribe();
      store.close();
      const db = new Database(path, { readonly: true });
      expect(db.prepare('SELECT id, state FROM calls').all()).to.deep.equal([{ id: '0>a#0', state: 0 }]); // started, no outcome
      db.close();
    }

    function reconcilingAgent(log: string[], reconcile: (order: string) => unknown) {
      return defineAgent({
        name: 'pay',
        actions: (action) => [
          action('a', InputEvent, function* (event, ctx) {
            let result: unknown;
            try {
              result = yield* ctx.executeAsyncWith(
                { reconcile },
                function charge(order: string) {
                  log.push(`charge ${order}`);
                  return new Promise(() => {}); // never settles before the crash
                },
                event.payload as string,
              );
            } catch (error) {
              result = `failed: ${(error as Error).message}`;
            }
            ctx.sendEvent(OutputEvent.of(result));
          }),
        ],
      });
    }

    it("resolves an in-doubt call by the reconciler's return value, without running the block again", async () => {
      const path = join(dir, 'r1.db');
      const log: string[] = [];
      const agent = reconcilingAgent(log, (order) => {
        log.push(`reconcile ${order}`);
        return Promise.resolve({ charged: true, order });
      });
      await crashMidCall(path, agent);
      const store = sqliteStore(path);
      const out = await lastValueFrom(of<string>().pipe(agentOperator(agent, { store }), toArray()));
      expect(out).to.deep.equal([{ charged: true, order: 'order-1' }]);
      expect(log).to.deep.equal(['charge order-1', 'reconcile order-1']);
      expect(store.size('pay')).to.deep.equal({ inputs: 0, calls: 0, keys: 0 });
      store.close();
    });

    it("resolves an in-doubt call by the reconciler's thrown error, which becomes the recorded outcome", async () => {
      const path = join(dir, 'r2.db');
      const log: string[] = [];
      const gate: Array<() => void> = [];
      const agent = defineAgent({
        name: 'pay',
        actions: (action) => [
          action('a', InputEvent, function* (event, ctx) {
            let result: unknown;
            try {
              result = yield* ctx.executeAsyncWith(
                {
                  reconcile: (order: string) => {
                    log.push(`reconcile ${order}`);
                    throw Object.assign(new Error(`no record of ${order}`), { code: 'E_UNKNOWN' });
                  },
                },
                function charge(order: string) {
                  log.push(`charge ${order}`);
                  return new Promise(() => {});
                },
                event.payload as string,
              );
            } catch (error) {
              result = `${(error as Error).message} (${(error as { code: string }).code})`;
            }
            yield* ctx.executeAsync(function hold() {
              return new Promise<void>((resolve) => gate.push(resolve));
            });
            ctx.sendEvent(OutputEvent.of(result));
          }),
        ],
      });
      await crashMidCall(path, agent);
      // Second life: the reconciler throws; crash again while `hold` is pending.
      let store = sqliteStore(path);
      const sub = of<string>().pipe(agentOperator(agent, { store })).subscribe();
      await settle();
      sub.unsubscribe();
      store.close();
      // Third life: the thrown error is replayed from the journal; neither block nor reconciler runs.
      store = sqliteStore(path);
      const out = lastValueFrom(of<string>().pipe(agentOperator(agent, { store }), toArray()));
      await settle();
      gate[gate.length - 1]!();
      expect(await out).to.deep.equal(['no record of order-1 (E_UNKNOWN)']);
      expect(log).to.deep.equal(['charge order-1', 'reconcile order-1']);
      store.close();
    });
  });

  it('prunes finished runs: rows and file size stay bounded however many runs pass (retention)', async () => {
    const path = join(dir, 'retention.db');
    const store = sqliteStore(path);
    const agent = defineAgent({
      name: 'ret',
      actions: (action) => [
        action('a', InputEvent, function* (event, ctx) {
          const n = event.payload as number;
          const doubled = yield* ctx.executeAsync(function double(x: number) {
            return Promise.resolve(2 * x);
          }, n);
          ctx.shortTermMemory.set('last', doubled);
          ctx.sendEvent(OutputEvent.of(doubled));
        }),
      ],
    });
    const pages: number[] = [];
    for (let round = 0; round < 4; round++) {
      const out = await lastValueFrom(
        range(round * 2000, 2000).pipe(agentOperator(agent, { store, key: (n) => n % 50 }), toArray()),
      );
      expect(out).to.have.length(2000);
      expect(store.size('ret')).to.deep.equal({ inputs: 0, calls: 0, keys: 50 });
      const db = new Database(path, { readonly: true });
      pages.push(
        (db.pragma('page_count', { simple: true }) as number) -
          (db.pragma('freelist_count', { simple: true }) as number),
      );
      db.close();
    }
    // The pages in use do not grow with the number of runs processed.
    expect(pages[3]).to.be.at.most(pages[0]! + 2);
    store.close();
  });

  it('round-trips short-term memory exactly through a restart (Flink Agents #1029, #872)', async () => {
    const path = join(dir, 'mem.db');
    const value = {
      n: -0,
      big: 1e300,
      tiny: 5e-324,
      s: 'é\u0000\ud83d\ude00',
      list: [1, null, [true, { deep: 'x' }]],
      empty: {},
      none: [],
      $rx: 'tag-like',
    };
    const agent = defineAgent({
      name: 'mem',
      actions: (action) => [
        action('a', InputEvent, (event, ctx) => {
          const memory = ctx.shortTermMemory;
          if (event.payload === 'write') {
            memory.set('v', value);
            memory.set('user.name', 'ada');
            memory.set('user.langs', ['en']);
          } else {
            memory.set('user.age', 36); // a nested set after the restore keeps the other fields
            memory.delete('user.langs');
            ctx.sendEvent(OutputEvent.of(memory.toJSON()));
          }
        }),
      ],
    });
    let store = sqliteStore(path);
    await lastValueFrom(of('write').pipe(agentOperator(agent, { store })), { defaultValue: null });
    store.close();
    store = sqliteStore(path);
    const [restored] = await lastValueFrom(of('read').pipe(agentOperator(agent, { store }), toArray()));
    expect(restored).to.deep.equal({ v: value, user: { name: 'ada', age: 36 } });
    expect(Object.is((restored as { v: { n: number } }).v.n, -0)).to.equal(true);
    store.close();
  });

  it('journals inputs in one group commit per tick, not one per input', async () => {
    const store = sqliteStore(join(dir, 'batch.db'));
    let commits = 0;
    const commit = store.commit.bind(store);
    store.commit = (agent, batch) => {
      commits++;
      return commit(agent, batch);
    };
    const agent = defineAgent({
      name: 'batch',
      actions: (action) => [action('a', InputEvent, (e, ctx) => ctx.sendEvent(OutputEvent.of(e.payload)))],
    });
    const out = await lastValueFrom(
      range(0, 1000).pipe(
        map((i) => ({ i })),
        agentOperator(agent, { store, key: (x) => x.i % 10 }),
        toArray(),
      ),
    );
    expect(out).to.have.length(1000);
    expect(commits).to.be.at.most(2);
    store.close();
  });
});
