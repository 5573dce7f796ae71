import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { NEVER, concat, lastValueFrom, of, toArray } from 'rxjs';
import { agentOperator, defineAgent, InputEvent, OutputEvent, StoreUnavailableError } from '../../lib';
import { sqliteStore } from '../../lib/sqlite';
import { sqliteLockPath } from '../../lib/store/sqlite-lock';

/** One writer per journal across processes (S13): real child processes, a real SIGKILL. */
const CHILD = join(__dirname, 'fixtures', 'lock-child.ts');

/** Children still running, killed after each test (also when it fails). */
const children = new Set<ChildProcess>();

function startChild(db: string): { child: ChildProcess; output: Promise<string>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD, db], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
  });
  let out = '';
  const output = new Promise<string>((resolve) =>
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    }),
  );
  children.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, output, exited };
}

/** The same agent as the child's, but its call settles: it finishes the recovered run. */
const finisher = defineAgent({
  name: 'locked',
  actions: (action) => [
    action('wait', InputEvent, function* (event, ctx) {
      yield* ctx.executeAsync(() => Promise.resolve());
      ctx.sendEvent(OutputEvent.of(event.payload));
    }),
  ],
});
/** The child's agent, in this process: its call never settles, so its run stays unfinished. */
const holder = defineAgent({
  name: 'locked',
  actions: (action) => [
    action('wait', InputEvent, function* (_e, ctx) {
      yield* ctx.executeAsync(() => new Promise(() => undefined));
    }),
  ],
});
const other = defineAgent({
  name: 'other',
  actions: (action) => [action('a', InputEvent, (e, ctx) => ctx.sendEvent(OutputEvent.of(e.payload)))],
});

const errorOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'completed',
    (e: unknown) => e,
  );

describe('store: sqliteStore single-writer lock across processes (S13)', function () {
  this.timeout(90_000);
  let dir: string;
  let db: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rx-agents-lock-'));
    db = join(dir, 'agents.db');
  });
  afterEach(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second process while the owner lives; a SIGKILLed owner does not block recovery', async () => {
    const owner = startChild(db);
    expect(await owner.output).to.equal('ready');
    const pid = owner.child.pid!;

    // A second process: its stream fails with StoreUnavailableError naming the owner.
    const second = startChild(db);
    expect(await second.output).to.match(
      new RegExp(
        `^error ERR_STORE_UNAVAILABLE The journal of agent \`locked\` in \`.*agents\\.db\` is locked by another process \\(pid ${pid} on host \`${hostname()}\`, since \\d{4}-`,
      ),
    );
    expect(await second.exited).to.equal(3);

    // This process (a third one), on its own store: refused too; another agent in the same file is not affected.
    const store = sqliteStore(db);
    try {
      const error = await errorOf(lastValueFrom(of('x').pipe(agentOperator(finisher, { store }))));
      expect(error).to.be.instanceOf(StoreUnavailableError);
      expect((error as Error).message).to.include(`locked by another process (pid ${pid} on host`);
      expect((error as Error).message).to.include('A crashed owner does not block: its lock ends with its process.');
      expect(await lastValueFrom(of(1, 2).pipe(agentOperator(other, { store }), toArray()))).to.deep.equal([1, 2]);

      owner.child.kill('SIGKILL');
      expect(await owner.exited).to.equal(null);
      // The kernel dropped the dead owner's lock: this process takes over and finishes its unfinished run.
      const out = await lastValueFrom(of(`from ${process.pid}`).pipe(agentOperator(finisher, { store }), toArray()));
      expect(out).to.deep.equal([`from ${pid}`, `from ${process.pid}`]);
      expect(store.size('locked')).to.deep.equal({ inputs: 0, calls: 0, keys: 0 });
    } finally {
      store.close();
    }
  });

  it('refuses a second store instance in the same process, and releases the lock when the subscription ends', async () => {
    const a = sqliteStore(db);
    const b = sqliteStore(db);
    try {
      const sub = concat(of('a'), NEVER)
        .pipe(agentOperator(holder, { store: a }))
        .subscribe();
      const owners = new Database(db, { readonly: true });
      expect(owners.prepare('SELECT agent, pid FROM owners').all()).to.deep.equal([
        { agent: 'locked', pid: process.pid },
      ]);
      const error = await errorOf(lastValueFrom(of('b').pipe(agentOperator(finisher, { store: b }))));
      expect(error).to.have.property('code', 'ERR_STORE_UNAVAILABLE');
      expect((error as Error).message).to.include(`is locked by this process (pid ${process.pid} on host`);
      sub.unsubscribe(); // 'a' stays unfinished in the journal
      expect(owners.prepare('SELECT agent, pid FROM owners').all()).to.deep.equal([]);
      owners.close();
      expect(await lastValueFrom(of('b').pipe(agentOperator(finisher, { store: b }), toArray()))).to.deep.equal([
        'a',
        'b',
      ]);
      expect(existsSync(sqliteLockPath(db, 'locked'))).to.equal(true); // kept on purpose: deleting could split the lock
    } finally {
      a.close();
      b.close();
    }
  });

  it('store.close() releases the locks it holds', async () => {
    const a = sqliteStore(db);
    let accepted!: () => void;
    const durable = new Promise<void>((resolve) => (accepted = resolve));
    const sub = concat(of('a'), NEVER)
      .pipe(agentOperator(holder, { store: a, onAccepted: () => accepted() }))
      .subscribe();
    await durable;
    a.close();
    sub.unsubscribe(); // its last commit fails on the closed store; nothing to report to after unsubscribe
    const b = sqliteStore(db);
    try {
      expect(await lastValueFrom(of('b').pipe(agentOperator(finisher, { store: b }), toArray()))).to.deep.equal([
        'a',
        'b',
      ]);
    } finally {
      b.close();
    }
  });

  it('an in-memory SQLite store needs no lock file', async () => {
    const a = sqliteStore(':memory:');
    try {
      expect(await lastValueFrom(of(1).pipe(agentOperator(other, { store: a }), toArray()))).to.deep.equal([1]);
      expect(await lastValueFrom(of(2).pipe(agentOperator(other, { store: a }), toArray()))).to.deep.equal([2]);
    } finally {
      a.close();
    }
    expect(readdirSync(dir)).to.deep.equal([]);
  });
});
