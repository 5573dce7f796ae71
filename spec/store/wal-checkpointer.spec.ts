import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { lastValueFrom, range } from 'rxjs';
import { count, map } from 'rxjs/operators';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { StoreCheckpointError } from '../../lib/errors';
import { diagnoseStore, readStore, sqliteStore, type SqliteStore } from '../../lib/sqlite';
import type { JournalBatch } from '../../lib/store/store';
import { CHECKPOINT_PAGES, WalCheckpointer } from '../../lib/store/wal-checkpointer';

/**
 * The WAL checkpointer (`sqliteStore`'s `checkpoint: 'worker'`), on real SQLite files with a real
 * worker thread: checkpoints leave the writer's commits (S13: same rows, same durability), the WAL
 * has a hard bound, failures are typed errors, and nothing is left behind (S9).
 */

/** Threads of this process (the main thread, V8's and libuv's, worker threads). */
const threads = (): number => readdirSync('/proc/self/task').length;

/** Waits (event-loop turns, bounded by mocha's timeout) until `done()` holds. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A WAL file's size in pages (frames) of 4 KiB (+24 bytes of frame header). */
const walPages = (db: string): number => (existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size / 4120 : 0);

const PAD = 'x'.repeat(3000);

/** A WAL-mode connection with one table `t (k, v)`, as the writer the checkpointer is attached to. */
function walWriter(path: string, { autocheckpoint }: { readonly autocheckpoint: boolean }): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  if (!autocheckpoint) db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
  return db;
}

/** `n` inputs (each ~3 KB, so about one page apiece) in one batch, starting at `from`. */
function batch(from: number, n: number): JournalBatch {
  const inputs = [];
  for (let i = 0; i < n; i++) inputs.push({ seq: from + i, input: JSON.stringify({ i: from + i, pad: PAD }) });
  return { nextSeq: from + n, position: undefined, inputs, calls: [], ends: [] };
}

describe('store: the WAL checkpointer off the acknowledged path (S13, S9)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-ckpt-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("'worker': no commit checkpoints (the WAL grows past 1000 pages); a worker thread does; close ends it and removes the WAL", async () => {
    const base = threads();
    const path = join(dir, 'w.db');
    const store = sqliteStore(path, { checkpoint: 'worker' });
    // ~3000 pages in one synchronous stretch: the worker's answers cannot arrive in between, so only a commit could reset the WAL.
    for (let seq = 0; seq < 3000; seq += 100) store.commit('a', batch(seq, 100));
    expect(walPages(path)).to.be.greaterThan(2 * CHECKPOINT_PAGES);
    expect(store.checkpoints()).to.include({ mode: 'worker', threads: 1 });
    expect(threads()).to.equal(base + 1);
    await until(() => store.checkpoints().byWorker >= 1);
    // What a reader sees is the same while the WAL is large (the worker copied it; the WAL still holds it).
    expect(readStore(path).agents[0]!.runs).to.have.length(3000);
    expect(diagnoseStore(path)).to.include({ ok: true, journalMode: 'wal' });
    store.close();
    expect(existsSync(`${path}-wal`), 'the last close removes the WAL').to.equal(false);
    await until(() => threads() === base);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM journal WHERE call = ''").get()).to.deep.equal({ n: 3000 });
    expect(db.pragma('integrity_check', { simple: true })).to.equal('ok');
    db.close();
  });

  it("'inline' (the default): SQLite's own auto-checkpoint inside the commit that crosses 1000 pages, and no thread", () => {
    const base = threads();
    const path = join(dir, 'i.db');
    const store = sqliteStore(path);
    for (let seq = 0; seq < 3000; seq += 100) store.commit('a', batch(seq, 100));
    expect(walPages(path)).to.be.lessThan(CHECKPOINT_PAGES + 200);
    expect(store.checkpoints()).to.deep.equal({ mode: 'inline', threads: 0, byWorker: 0, byWriter: 0 });
    expect(threads()).to.equal(base);
    store.close();
  });

  it('the hard bound: past it the writer checkpoints itself (PASSIVE) and the WAL starts over', () => {
    const path = join(dir, 'h.db');
    const db = walWriter(path, { autocheckpoint: false });
    const errors: StoreCheckpointError[] = [];
    const checkpointer = new WalCheckpointer(db, path, {
      driver: require.resolve('better-sqlite3'),
      synchronous: 'NORMAL',
      busyTimeout: 5000,
      onError: (e) => errors.push(e),
      checkpointPages: 300,
      limitPages: 1500,
    });
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const write = db.transaction((from: number) => {
      for (let i = 0; i < 50; i++) insert.run(from + i, PAD);
    });
    let largest = 0;
    // ~20,000 pages: without the bound the WAL would hold them all.
    for (let k = 0; k < 20_000; k += 50) {
      write(k);
      checkpointer.committed();
      largest = Math.max(largest, walPages(path));
    }
    const counts = checkpointer.counts();
    checkpointer.close();
    db.close();
    expect(errors).to.deep.equal([]);
    expect(counts.byWriter).to.be.greaterThan(0);
    expect(largest, 'the bound plus what one worker checkpoint lets through').to.be.lessThan(6000);
  });

  it('a worker that cannot start its connection is one StoreCheckpointError for onCheckpointError, and the writer checkpoints inline from then on', async () => {
    const base = threads();
    const path = join(dir, 'e.db');
    const db = walWriter(path, { autocheckpoint: false });
    const errors: StoreCheckpointError[] = [];
    const checkpointer = new WalCheckpointer(db, path, {
      driver: join(dir, 'no-such-driver.js'),
      synchronous: 'NORMAL',
      busyTimeout: 5000,
      onError: (e) => errors.push(e),
      checkpointPages: 10,
    });
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    for (let k = 0; k < 40; k++) {
      insert.run(k, PAD);
      checkpointer.committed();
    }
    await until(() => errors.length > 0);
    expect(errors).to.have.length(1);
    const error = errors[0]!;
    expect(error).to.be.instanceOf(StoreCheckpointError);
    expect(error).to.include({ name: 'StoreCheckpointError', code: 'ERR_STORE_CHECKPOINT', location: path });
    expect(error.message).to.match(/could not open the file.*Cannot find module/);
    expect(error.message).to.include("checkpoint: 'inline'");
    expect((error.cause as Error).message).to.match(/Cannot find module/);
    expect(checkpointer.counts().mode).to.equal('inline');
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(CHECKPOINT_PAGES);
    for (let k = 40; k < 1400; k++) insert.run(k, PAD);
    expect(walPages(path), "SQLite's own checkpoints again").to.be.lessThan(CHECKPOINT_PAGES + 50);
    checkpointer.close();
    db.close();
    await until(() => threads() === base);
    expect(errors).to.have.length(1);
  });

  it('an onCheckpointError that throws becomes process warnings (the error and the throw), never an unhandled error', async () => {
    const path = join(dir, 'x.db');
    const db = walWriter(path, { autocheckpoint: true });
    const warnings: Array<Error | string> = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const checkpointer = new WalCheckpointer(db, path, {
        driver: join(dir, 'no-such-driver.js'),
        synchronous: 'NORMAL',
        busyTimeout: 5000,
        onError: () => {
          throw new Error('boom');
        },
        checkpointPages: 1,
      });
      db.prepare('INSERT INTO t (k, v) VALUES (1, ?)').run(PAD);
      checkpointer.committed();
      await until(() => warnings.length >= 2);
      checkpointer.close();
    } finally {
      process.off('warning', onWarning);
      db.close();
    }
    expect(warnings[0]).to.be.instanceOf(StoreCheckpointError);
    expect(String((warnings[1] as Error).message)).to.include('onCheckpointError threw: boom');
  });

  it('refuses bad options at creation, saying what is expected', () => {
    const path = join(dir, 'o.db');
    expect(() => sqliteStore(path, { checkpoint: 'thread' as never })).to.throw(
      TypeError,
      /Expected `checkpoint` to be 'worker' or 'inline', got `thread`/,
    );
    expect(() => sqliteStore(path, { onCheckpointError: 42 as never })).to.throw(
      TypeError,
      /Expected `onCheckpointError` to be a function/,
    );
  });

  it('S9: when the last subscription on the store has ended, its checkpointer thread is gone too (the store stays open)', async () => {
    const base = threads();
    const path = join(dir, 'u.db');
    const store: SqliteStore = sqliteStore(path, { checkpoint: 'worker' });
    const agent = defineAgent<{ id: number; pad: string }>({
      name: 'u',
      actions: (action) => [
        action('a', InputEvent, function* (event, ctx) {
          const n = yield* ctx.executeAsync(
            (x: number) => new Promise<number>((r) => setImmediate(() => r(x))),
            event.payload.id,
          );
          ctx.shortTermMemory.set('pad', event.payload.pad);
          ctx.sendEvent(OutputEvent.of(n));
        }),
      ],
    });
    const outputs = await lastValueFrom(
      range(0, 3000).pipe(
        map((id) => ({ id, pad: PAD })),
        agentOperator(agent, { key: (x) => x.id % 50, store }),
        count(),
      ),
    );
    expect(outputs).to.equal(3000);
    expect(store.checkpoints().threads, 'the WAL passed the threshold: a thread was started').to.be.greaterThan(0);
    await until(() => threads() === base);
    expect(store.size('u')).to.deep.equal({ inputs: 0, calls: 0, keys: 50 });
    store.close();
    expect(threads()).to.equal(base);
  });
});
