import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { NEVER, concat, lastValueFrom, of, toArray } from 'rxjs';
import {
  ActionError,
  agentOperator,
  defineAgent,
  InputEvent,
  JournalCorruptError,
  OutputEvent,
  recordedPosition,
  type RunFailure,
} from '../../lib';
import { sqliteStore } from '../../lib/sqlite';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * S13: a journal row that cannot be read back (garbage JSON, an unknown value tag, the wrong
 * shape) fails only what owns it, under the error policy, with a JournalCorruptError naming the
 * row, the agent and how to recover — the agent still starts, and other runs go on.
 */
describe('S13 unreadable journal rows are typed failures of what owns them (real SQLite files)', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rx-agents-rows-'));
    path = join(dir, 'agents.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** An agent whose call never settles while `hold` is set: its runs stay unfinished in the journal. */
  const gate = { hold: true };
  const agent = defineAgent({
    name: 'orders',
    actions: (action) => [
      action('work', InputEvent, function* (event, ctx) {
        const seen = ctx.shortTermMemory.get<number>('seen') ?? 0;
        const r = yield* ctx.executeAsync(function lookup(x: unknown) {
          return gate.hold ? new Promise<never>(() => undefined) : Promise.resolve(`done ${String(x)}`);
        }, event.payload);
        ctx.shortTermMemory.set('seen', seen + 1);
        ctx.sendEvent(OutputEvent.of(r));
      }),
    ],
  });

  /** Leaves runs of `inputs` unfinished in the store (their inputs journaled and acknowledged). */
  async function leaveUnfinished(inputs: string[], key: (x: string) => string = (x) => x): Promise<void> {
    gate.hold = true;
    const store = sqliteStore(path);
    let acked = 0;
    const sub = concat(of(...inputs), NEVER)
      .pipe(agentOperator(agent, { store, key, onAccepted: () => void acked++ }))
      .subscribe();
    while (acked < inputs.length) await settle();
    sub.unsubscribe();
    await settle();
    store.close();
  }

  function corrupt(sql: string, ...params: unknown[]): void {
    const db = new Database(path);
    db.prepare(sql).run(...params);
    db.close();
  }

  async function restart(
    errorPolicy: 'fail' | 'isolate',
    key: (x: string) => string = (x) => x,
  ): Promise<{ outputs: unknown[]; failures: RunFailure[]; error?: unknown }> {
    gate.hold = false;
    const store = sqliteStore(path);
    const failures: RunFailure[] = [];
    try {
      const outputs = await lastValueFrom(
        of<string>().pipe(
          agentOperator(agent, { store, key, errorPolicy, onRunFailed: (f) => failures.push(f) }),
          toArray(),
        ),
      );
      return { outputs, failures };
    } catch (error) {
      return { outputs: [], failures, error };
    } finally {
      store.close();
    }
  }

  it('garbage JSON in an input row, errorPolicy fail: the stream fails with JournalCorruptError naming row, agent and the fix', async () => {
    await leaveUnfinished(['a', 'b']);
    corrupt("UPDATE inputs SET input = '{not json' WHERE agent = 'orders' AND seq = 1");
    const { error } = await restart('fail');
    expect(error).to.be.instanceOf(JournalCorruptError);
    const e = error as JournalCorruptError;
    expect(e.code).to.equal('ERR_JOURNAL_CORRUPT');
    expect(e.row).to.deep.equal({ table: 'inputs', seq: 1 });
    expect(e.message).to.match(
      /^The journal of agent `orders` in store `.*agents\.db` holds a row it cannot read: table `inputs` \(seq = 1\): SyntaxError: /,
    );
    expect(e.message).to.include(
      "Restore the store from a backup, or delete that row to go on without it (in a sqliteStore file: `DELETE FROM inputs WHERE agent = 'orders' AND seq = 1`; that input is then lost).",
    );
  });

  it('garbage JSON in an input row, errorPolicy isolate: that run is reported and pruned, the other recovered run completes', async () => {
    await leaveUnfinished(['a', 'b']);
    corrupt("UPDATE inputs SET input = '{not json' WHERE agent = 'orders' AND seq = 1");
    const { outputs, failures, error } = await restart('isolate');
    expect(error).to.equal(undefined);
    expect(outputs).to.deep.equal(['done a']);
    expect(failures.map((f) => [f.run, (f.error as Error).name])).to.deep.equal([[1, 'JournalCorruptError']]);
    const store = sqliteStore(path);
    expect(store.size('orders').inputs).to.equal(0); // pruned: the next start is clean
    store.close();
  });

  it('an unknown value tag in a call row fails that run (ActionError caused by JournalCorruptError), not the whole agent', async () => {
    await leaveUnfinished(['a', 'b']);
    corrupt(
      "INSERT INTO calls (agent, seq, id, fingerprint, state, value) VALUES ('orders', 0, '0>work#0', ?, 1, ?)",
      'lookup/1/3:"a"',
      '{"$rx":"from-the-future","v":1}',
    );
    const { outputs, failures } = await restart('isolate');
    expect(outputs).to.deep.equal(['done b']);
    expect(failures).to.have.length(1);
    const error = failures[0]!.error as ActionError;
    expect(error).to.be.instanceOf(ActionError);
    expect(error.cause).to.be.instanceOf(JournalCorruptError);
    expect((error.cause as Error).message).to.include(
      'table `calls` (seq = 0, id = "0>work#0"): TypeError: unknown value tag "from-the-future" (was the store written by a newer version of rx-agents?)',
    );
  });

  it('a memory row of the wrong shape ([1,2]) is refused, not restored as {0:1,1:2}; the key then starts afresh', async () => {
    await leaveUnfinished(['a', 'b'], () => 'k');
    corrupt("INSERT INTO memory (agent, key, data) VALUES ('orders', 'sk', '[1,2]')");
    const { outputs, failures } = await restart('isolate', () => 'k');
    expect(failures).to.have.length(1);
    expect(((failures[0]!.error as ActionError).cause as Error).message).to.include(
      'table `memory` (key = "sk"): short-term memory must be an object of named entries, found [1,2]',
    );
    expect(outputs).to.deep.equal(['done b']);
  });

  it('garbage in the recorded position: recordedPosition rejects with JournalCorruptError', async () => {
    sqliteStore(path).close();
    corrupt("INSERT INTO agents (agent, next_seq, position) VALUES ('orders', 3, 'nope')");
    const store = sqliteStore(path);
    const error = await recordedPosition(store, 'orders').catch((e: unknown) => e);
    store.close();
    expect(error).to.be.instanceOf(JournalCorruptError);
    expect((error as JournalCorruptError).row).to.deep.equal({ table: 'agents' });
  });
});
