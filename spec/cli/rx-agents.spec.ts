import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { EMPTY, lastValueFrom, of, range, toArray, map, type Observable } from 'rxjs';
import ts from 'typescript';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { createEventLog } from '../../lib/observe';
import { sqliteStore } from '../../lib/sqlite';
import { deskAgent, type Ticket } from './fixtures/desk-agent';

/**
 * The `rx-agents` command as a real child process (plain node on compiled JavaScript, no ts-node)
 * against real SQLite files: a live writer in another process, that writer's file after SIGKILL,
 * a damaged file, foreign files.
 */
const ROOT = join(__dirname, '..', '..');
const CHILD = join(__dirname, 'fixtures', 'writer-child.ts');
const children = new Set<ChildProcess>();

/** Transpiles lib/ to CommonJS under .spec-build/ (inside the repo, so that node_modules resolve). */
function buildLib(out: string): string {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
    });
  for (const file of walk(join(ROOT, 'lib'))) {
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: file,
    }).outputText;
    const target = join(out, relative(join(ROOT, 'lib'), file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
  }
  return join(out, 'cli', 'main.js');
}

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('cli: rx-agents (a real child process on real SQLite files)', function () {
  this.timeout(60_000);
  let build: string;
  let main: string;
  let dir: string;
  const cli = (...args: string[]): Ran => {
    const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 30_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const json = (...args: string[]): Record<string, unknown> => {
    const r = cli(...args, '--json');
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  before(() => {
    build = join(ROOT, '.spec-build', `cli-${process.pid}`);
    main = buildLib(build);
    expect(readFileSync(main, 'utf8').startsWith('#!/usr/bin/env node')).to.equal(true);
  });
  after(() => rmSync(build, { recursive: true, force: true }));
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-cli-'))));
  afterEach(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  function startWriter(db: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD, db], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: ROOT,
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n')) resolve(child);
        else if (out.includes('error')) reject(new Error(out));
      });
      child.on('exit', (code) => reject(new Error(`writer exited with ${code}: ${out}`)));
    });
  }

  it('a live writer: inspect and doctor read beside it (WAL, read-only); a repair is refused with the owner named (exit 7)', async () => {
    const db = join(dir, 'agents.db');
    const writer = await startWriter(db);
    const state = json('inspect', db) as {
      agents: Array<{
        agent: string;
        owner: { pid: number };
        runs: Array<{ seq: number; input: unknown; calls: Array<{ id: string; state: string }> }>;
        inDoubt: Array<{ id: string }>;
        keys: Array<{ key: unknown; memory: unknown }>;
        nextSeq: number;
      }>;
    };
    const desk = state.agents[0]!;
    expect(desk.agent).to.equal('desk');
    expect(desk.owner.pid).to.equal(writer.pid);
    expect(desk.nextSeq).to.equal(8);
    expect(desk.runs.map((r) => r.seq)).to.deep.equal([6, 7]);
    expect(desk.runs[0]!.input).to.deep.equal({ id: 6, customer: 'c0' });
    expect(desk.runs[0]!.calls).to.deep.include.members([
      {
        id: '6>answer#0',
        state: 'in-doubt',
        seq: 6,
        action: 'answer',
        fingerprint: desk.runs[0]!.calls[0]!['fingerprint' as never],
      },
    ]);
    expect(desk.inDoubt.map((c) => c.id)).to.deep.equal(['6>answer#0']);
    expect(desk.keys).to.deep.equal([
      { key: 'c0', memory: { last: { id: 3, result: 3 } } },
      { key: 'c1', memory: { last: { id: 4, result: 4 } } },
      { key: 'c2', memory: { last: { id: 5, result: 5 } } },
    ]);

    const human = cli('inspect', db);
    expect(human.code).to.equal(0);
    expect(human.stdout).to.include('run 6  input {"id":6,"customer":"c0"}');
    expect(human.stdout).to.include('6>answer#0  IN DOUBT');
    expect(human.stdout).to.include(`last writer pid ${writer.pid}`);
    const one = cli('inspect', db, '--key', 'c1');
    expect(one.stdout).to.include('c1  {"last":{"id":4,"result":4}}').and.not.include('c0  {');
    // --agent picks one agent's journal; an agent that never wrote is said so (not an error).
    expect((json('inspect', db, '--agent', 'desk') as typeof state).agents.map((a) => a.agent)).to.deep.equal(['desk']);
    expect((json('inspect', db, '--agent', 'nobody') as typeof state).agents).to.deep.equal([]);
    const nobody = cli('inspect', db, '--agent', 'nobody');
    expect(nobody.code).to.equal(0);
    expect(nobody.stdout).to.include('no journal for agent `nobody`');

    const doctor = cli('doctor', db);
    expect(doctor.code, doctor.stderr).to.equal(0);
    expect(doctor.stdout).to.include('integrity       ok');
    expect(doctor.stdout).to.match(/writer lock +HELD by a live process \(recorded owner pid \d+/);
    expect(doctor.stdout).to.include('replays 2 unfinished runs first, in order: 6, 7');
    expect(doctor.stdout).to.include('1 call in doubt (6>answer#0)');

    const refused = cli('repair', db, '--agent', 'desk', '--drop-input', '7');
    expect(refused.code).to.equal(7);
    expect(refused.stderr).to.include(`is locked by another process (pid ${writer.pid}`);
    expect(writer.exitCode).to.equal(null); // the writer was never disturbed
    expect((json('inspect', db) as typeof state).agents[0]!.runs).to.have.length(2); // nothing changed
  });

  it("a SIGKILLed writer's file: doctor sees the lock free; repairs apply, are journaled, and recovery obeys them", async () => {
    const db = join(dir, 'agents.db');
    const writer = await startWriter(db);
    const pid = writer.pid;
    const gone = new Promise((resolve) => writer.on('exit', resolve));
    writer.kill('SIGKILL');
    await gone;

    const doctor = cli('doctor', db);
    expect(doctor.code).to.equal(0);
    expect(doctor.stdout).to.include(`writer lock     free — the recorded owner pid ${pid} is gone`);

    const settled = cli(
      'repair',
      db,
      '--agent',
      'desk',
      '--settle',
      '6>answer#0',
      '--value',
      '42',
      '--reason',
      'charged, checked by hand',
    );
    expect(settled.code, settled.stderr).to.equal(0);
    expect(settled.stdout).to.include('repair #1 journaled');
    const dropped = cli('repair', db, '--agent', 'desk', '--drop-input', '7', '--reason', 'poison');
    expect(dropped.code, dropped.stderr).to.equal(0);
    const again = cli('repair', db, '--agent', 'desk', '--settle', '6>answer#0', '--value', '1');
    expect(again.code).to.equal(8);
    expect(again.stderr)
      .to.include('is not in doubt: its outcome (ok) is already journaled')
      .and.include('Nothing was changed.');
    expect(cli('repair', db, '--agent', 'desk', '--drop-input', '99').code).to.equal(8);
    expect(cli('repair', db, '--agent', 'desk', '--drop-input', 'x').code).to.equal(2);

    const after = json('inspect', db) as {
      agents: Array<{ runs: Array<{ seq: number; calls: Array<{ state: string; value?: unknown }> }> }>;
      repairs: Array<{ op: string; seq: number; detail: string }>;
    };
    expect(after.agents[0]!.runs.map((r) => r.seq)).to.deep.equal([6]);
    expect(after.agents[0]!.runs[0]!.calls[0]).to.include({ state: 'ok', value: 42 });
    expect(after.repairs.map((r) => [r.op, r.seq])).to.deep.equal([
      ['settle-call', 6],
      ['drop-input', 7],
    ]);
    expect(after.repairs[0]!.detail).to.include('charged, checked by hand');

    // Recovery replays run 6 with the settled outcome: neither the block nor the reconciler runs; run 7 is gone.
    const store = sqliteStore(db);
    try {
      const agent = deskAgent(
        () => Promise.reject(new Error('the block must not run again')),
        () => {
          throw new Error('the reconciler must not run');
        },
      );
      const outputs = await lastValueFrom(
        (EMPTY as Observable<Ticket>).pipe(agentOperator(agent, { key: (x) => x.customer, store }), toArray()),
      );
      expect(outputs).to.deep.equal([{ id: 6, result: 42 }]);
    } finally {
      store.close();
    }
    const done = json('inspect', db) as {
      agents: Array<{ runs: unknown[]; keys: Array<{ key: string; memory: unknown }> }>;
    };
    expect(done.agents[0]!.runs).to.deep.equal([]);
    expect(done.agents[0]!.keys[0]).to.deep.equal({ key: 'c0', memory: { last: { id: 6, result: 42 } } });
  });

  it('a damaged file: doctor and inspect exit 5 and say so; the file is not touched', async () => {
    const db = join(dir, 'agents.db');
    const store = sqliteStore(db);
    const agent = defineAgent({
      name: 'big',
      actions: (action) => [
        action('remember', InputEvent, (e, ctx) => {
          ctx.shortTermMemory.set('text', `${String(e.payload)} `.repeat(40));
          ctx.sendEvent(OutputEvent.of(e.payload));
        }),
      ],
    });
    await lastValueFrom(range(0, 400).pipe(agentOperator(agent, { key: (x) => x, store }), toArray()));
    store.close();
    const size = statSync(db).size;
    expect(size).to.be.greaterThan(20 * 4096);
    const fd = openSync(db, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 3, 0x5a), 0, 4096 * 3, 4096 * 4); // pages 5..7: b-tree pages become garbage
    closeSync(fd);
    const before = readFileSync(db);
    const doctor = cli('doctor', db);
    expect(doctor.code).to.equal(5);
    expect(doctor.stdout).to.match(/integrity +(?!ok)/);
    expect(doctor.stdout).to.include('PROBLEM: The file is damaged');
    const inspect = cli('inspect', db);
    expect(inspect.code).to.equal(5);
    expect(inspect.stderr)
      .to.include(`Cannot open the rx-agents store at \`${db}\``)
      .and.include('Restore it from a backup');
    expect(readFileSync(db).equals(before)).to.equal(true);
  });

  it('missing, foreign and other-version files, and bad arguments, each get their own exit code and message', () => {
    const missing = cli('inspect', join(dir, 'nope.db'));
    expect(missing.code).to.equal(3);
    expect(missing.stderr).to.include('There is no rx-agents store at').and.include('the file does not exist');
    expect(cli('doctor', join(dir, 'nope.db')).code).to.equal(3);

    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a database at all\n'.repeat(100));
    expect(cli('inspect', text)).to.include({ code: 4 });
    const d = cli('doctor', text);
    expect(d.code).to.equal(4);
    expect(d.stdout).to.include('It is not a SQLite database');

    const foreign = join(dir, 'app.db');
    const other = new Database(foreign);
    other.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)');
    other.close();
    const f = cli('inspect', foreign);
    expect(f.code).to.equal(4);
    expect(f.stderr).to.include('a SQLite database of another application (application_id 0, tables: users)');
    expect(cli('doctor', foreign).code).to.equal(4);

    const newer = join(dir, 'newer.db');
    sqliteStore(newer).close();
    const raw = new Database(newer);
    raw.pragma('user_version = 3');
    raw.close();
    const v = cli('inspect', newer);
    expect(v.code).to.equal(6);
    expect(v.stderr).to.include('has schema version 3, but this version of rx-agents reads version 2');
    expect(cli('doctor', newer).code).to.equal(6);

    expect(cli().code).to.equal(2);
    expect(cli('--help')).to.include({ code: 0 });
    const unknown = cli('frobnicate', 'x');
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include('Unknown command `frobnicate`').and.include('Usage:');
    expect(cli('inspect', newer, '--bogus').code).to.equal(2);
    expect(cli('doctor', newer, '--agent', 'a').stderr).to.include('Option --agent does not apply to `doctor`');
  });

  it('timeline: an event-log file becomes the run timeline page; lines that are not events are counted, never silently', async () => {
    const log = join(dir, 'events.jsonl');
    const eventLog = createEventLog({ path: log, level: 'all', keys: 'plain' }); // keys are hashed by default;
    const agent = defineAgent({
      name: 'tl',
      actions: (action) => [
        action('work', InputEvent, function* (e, ctx) {
          yield* ctx.executeAsync(() => new Promise((resolve) => setTimeout(resolve, 2)));
          ctx.sendEvent(OutputEvent.of(e.payload));
        }),
      ],
    });
    await lastValueFrom(
      of(0, 1, 2, 3, 4, 5).pipe(
        map((i) => ({ i, k: `c${i % 3}` })),
        agentOperator(agent, { key: (x) => x.k, inspect: eventLog.inspect }),
        toArray(),
      ),
    );
    await eventLog.close();
    const html = join(dir, 'timeline.html');
    const ok = cli('timeline', log, '-o', html, '--title', 'from the log');
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.include('timeline of 6 runs');
    const page = readFileSync(html, 'utf8');
    expect(page).to.include('<title>from the log</title>');
    for (const k of ['c0', 'c1', 'c2']) expect(page).to.include(`<g class="lane" data-key="${k}"`);
    expect(page.match(/<rect class="async/g)).to.have.length(6);

    appendFileSync(log, 'garbage line\n{"type":"nope"}\n');
    const warned = cli('timeline', log, '-o', html);
    expect(warned.code).to.equal(0);
    expect(warned.stderr).to.match(/warning: skipped 2 lines that are not lifecycle events \(line \d+, \d+\)/);

    const notLog = join(dir, 'x.jsonl');
    writeFileSync(notLog, '{"a":1}\n');
    const bad = cli('timeline', notLog, '-o', html);
    expect(bad.code).to.equal(4);
    expect(bad.stderr).to.include('is not an rx-agents event log: none of its 1 line is a lifecycle event');
    expect(cli('timeline', join(dir, 'none.jsonl'), '-o', html).code).to.equal(3);
    expect(cli('timeline', log).code).to.equal(2);
    expect(cli('timeline', log, '-o', html, '--width', '10').stderr).to.include(
      'Expected `width` to be an integer >= 400',
    );
  });
});
