/**
 * journal: durable execution throughput (S13). Each input's run makes 4 async calls (two in
 * sequence, then two in parallel with ctx.all) and updates short-term memory, on a real SQLite
 * file (WAL, synchronous=NORMAL). Every input, run end and memory is journaled by group commit,
 * and every call outcome whose run is still running one commit later (a run that ends first is
 * written as its end); finished runs are pruned. Unit: journaled calls per second (higher is better).
 *
 * Reference: plain better-sqlite3 inserts of the same call rows (same table shape, same encoded
 * values) in one transaction, with a prepared statement — the fastest way to write those rows,
 * doing none of the agent work. Each side reuses its file across rounds. Also reported: the same
 * agent without a store (the cost of durability), commits made, file pages in use after the runs
 * (retention), the same agent with `checkpoint: 'worker'` (its ratio, and the checkpointer threads
 * started in its last round), and the acknowledgement latency (p50/p99/p99.9 and the longest commit,
 * see {@link ackLatency}) of the default (`commitDelay: 'auto'`, `checkpoint: 'inline'`) against
 * `checkpoint: 'worker'` and the fixed 1 ms window, at low and high load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { lastValueFrom, Observable, range } from 'rxjs';
import { count, map } from 'rxjs/operators';
import { agentOperator, defineAgent, InputEvent, OutputEvent, type AgentStore } from '../../lib';
import { sqliteStore } from '../../lib/sqlite';
import { alternate, result, round as roundTo, type BenchResult, type ProcessPlan } from '../harness';

const CALLS_PER_RUN = 4;

function score(id: number, part: number): number {
  return (id * 31 + part) % 1000;
}

/** The async block: its result arrives on a later macrotask (like I/O), so its outcome is committed before the run ends. */
function fetchScore(id: number, part: number): Promise<number> {
  return new Promise((resolve) => setImmediate(() => resolve(score(id, part))));
}

/** The same, resolving at once: runs end within one tick, so the group commit writes only their ends (elision). */
function fetchScoreNow(id: number, part: number): number {
  return score(id, part);
}

const makeAgent = (fetch: (id: number, part: number) => number | Promise<number>) =>
  defineAgent<{ id: number; key: number }>({
    name: 'journal-bench',
    actions: (action) => [
      action('score', InputEvent, function* (event, ctx) {
        const id = event.payload.id;
        const a = yield* ctx.executeAsync(fetch, id, 0);
        const b = yield* ctx.executeAsync(fetch, id, 1);
        const [c, d] = yield* ctx.all([ctx.executeAsync(fetch, id, 2), ctx.executeAsync(fetch, id, 3)]);
        ctx.shortTermMemory.set('total', (ctx.shortTermMemory.get<number>('total') ?? 0) + a + b + c + d);
        ctx.sendEvent(OutputEvent.of(a + b + c + d));
      }),
    ],
  });
export const ioAgent = makeAgent(fetchScore);
export const instantAgent = makeAgent(fetchScoreNow);

/** Runs `inputs` inputs over `keys` keys through `agent`, journaled in `store` if given; resolves to the output count. */
export function runInputs(
  inputs: number,
  keys: number,
  store: AgentStore | undefined,
  agent = ioAgent,
): Promise<number> {
  const source = range(0, inputs).pipe(map((id) => ({ id, key: id % keys })));
  return lastValueFrom(
    source.pipe(agentOperator(agent, { key: (x) => x.key, ...(store === undefined ? {} : { store }) }), count()),
  );
}

/**
 * Acknowledgement latency (input emitted → `onAccepted`), in wall-clock ms: median, 99th and 99.9th
 * percentile; the commits made and the longest one (ms: the WAL checkpoint's commit, when the writer
 * checkpoints inline).
 */
export interface AckLatency {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly commits: number;
  readonly longestCommit: number;
}

/**
 * Acknowledgement latency of `store` at two loads, with the I/O agent. `low`: one input every 2 ms
 * (the event loop mostly idle). `high`: 40 inputs per event-loop turn for 4,000 inputs (the loop
 * saturated, like a socket delivering a burst of messages per read). Latency is the wall-clock
 * time from the input's emission to its `onAccepted`.
 */
export async function ackLatency(load: 'low' | 'high', makeStore: () => AgentStore): Promise<AckLatency> {
  const inputs = load === 'low' ? 300 : 4_000;
  const perTurn = load === 'low' ? 1 : 40;
  const emitted = new Float64Array(inputs);
  const latency: number[] = [];
  const source = new Observable<{ id: number; key: number }>((subscriber) => {
    let id = 0;
    let stop = (): void => undefined;
    const emit = (): void => {
      for (let i = 0; i < perTurn && id < inputs; i++, id++) {
        emitted[id] = performance.now();
        subscriber.next({ id, key: id % 100 });
      }
      if (id >= inputs) return subscriber.complete();
      if (load === 'low') {
        const timer = setTimeout(emit, 2);
        stop = () => clearTimeout(timer);
      } else {
        const immediate = setImmediate(emit);
        stop = () => clearImmediate(immediate);
      }
    };
    emit();
    return () => stop();
  });
  const store = makeStore();
  let commits = 0;
  let longestCommit = 0;
  const commit = store.commit.bind(store);
  store.commit = (agent, batch) => {
    commits++;
    const start = performance.now();
    const done = commit(agent, batch);
    longestCommit = Math.max(longestCommit, performance.now() - start);
    return done;
  };
  const outputs = await lastValueFrom(
    source.pipe(
      agentOperator(ioAgent, {
        key: (x) => x.key,
        store,
        onAccepted: (input) => void latency.push(performance.now() - (emitted[input.id] as number)),
      }),
      count(),
    ),
  );
  await store.close();
  if (outputs !== inputs || latency.length !== inputs)
    throw new Error(
      `journal bench: expected ${inputs} outputs and acknowledgements, got ${outputs} and ${latency.length}`,
    );
  latency.sort((a, b) => a - b);
  const at = (p: number): number =>
    Math.round((latency[Math.min(inputs - 1, Math.floor(p * inputs))] as number) * 1000) / 1000;
  return {
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    commits,
    longestCommit: Math.round(longestCommit * 100) / 100,
  };
}

/** The median of each figure over several latency runs. */
function medianLatency(runs: readonly AckLatency[]): AckLatency {
  const mid = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  return {
    p50: mid(runs.map((r) => r.p50)),
    p99: mid(runs.map((r) => r.p99)),
    p999: mid(runs.map((r) => r.p999)),
    commits: mid(runs.map((r) => r.commits)),
    longestCommit: mid(runs.map((r) => r.longestCommit)),
  };
}

/** The same rows our journal writes for the calls, inserted directly. */
export function plainInserts(path: string, inputs: number): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE IF NOT EXISTS calls (agent TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, fingerprint TEXT NOT NULL, state INTEGER NOT NULL, value TEXT, PRIMARY KEY (agent, seq, id)) WITHOUT ROWID',
  );
  db.exec('DELETE FROM calls');
  const insert = db.prepare('INSERT INTO calls (agent, seq, id, fingerprint, state, value) VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let seq = 0; seq < inputs; seq++) {
      for (let part = 0; part < CALLS_PER_RUN; part++) {
        insert.run(
          'journal-bench',
          seq,
          `${seq}>score#${part < 2 ? part : part + 1}`,
          'fetchScore/2/1x2y3z',
          1,
          String(score(seq, part)),
        );
      }
    }
  })();
  db.close();
}

export async function run(opts: { quick: boolean }): Promise<BenchResult[]> {
  const inputs = opts.quick ? 5_000 : 25_000;
  const keys = 100;
  const rounds = opts.quick ? 3 : 5;
  const dir = mkdtempSync(join(tmpdir(), 'rx-agents-bench-journal-'));
  try {
    let round = 0;
    let commits = 0;
    let callRows = 0;
    let checkpointThreads = 0;
    // Like the reference, ours reuses its file across rounds (a store is long-lived; creating a fresh SQLite
    // file costs five fsyncs the reference never pays); the pages check reads it after the timed rounds.
    const durable = async (agent: typeof ioAgent, worker = false): Promise<void> => {
      const name = agent === ioAgent ? (worker ? 'ours-worker.db' : 'ours.db') : 'ours-elided.db';
      const store = sqliteStore(join(dir, name), worker ? { checkpoint: 'worker' } : {});
      const commit = store.commit.bind(store);
      commits = 0;
      callRows = 0;
      store.commit = (name, batch) => {
        commits++;
        callRows += batch.calls.length;
        return commit(name, batch);
      };
      const outputs = await runInputs(inputs, keys, store, agent);
      if (outputs !== inputs) throw new Error(`journal bench: expected ${inputs} outputs, got ${outputs}`);
      const sizes = store.size('journal-bench');
      if (sizes.inputs !== 0 || sizes.calls !== 0)
        throw new Error(`journal bench: journal not pruned: ${JSON.stringify(sizes)}`);
      if (worker) checkpointThreads = store.checkpoints().threads;
      store.close();
    };
    const times = await alternate(rounds, {
      ours: () => durable(ioAgent),
      oursWorker: () => durable(ioAgent, true),
      reference: () => plainInserts(join(dir, 'reference.db'), inputs),
      noStore: () => runInputs(inputs, keys, undefined),
    });
    const ioCommits = commits;
    const ioCallRows = callRows;
    const ioThreads = checkpointThreads;
    const db = new Database(join(dir, 'ours.db'), { readonly: true });
    const pages =
      (db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number);
    db.close();
    const instant = await alternate(rounds, { ours: () => durable(instantAgent) });
    const instantCallRows = callRows;
    // Acknowledgement latency, the default ('auto', SQLite's checkpoints inside the commit) against the same with
    // checkpoints in a worker thread (`checkpoint: 'worker'`) and the fixed 1 ms window of stop 9.
    // One untimed run of each first (the first high-load run of a process is the one that compiles its paths:
    // its p99 measured the JIT, and always fell on whichever mode came first), then rounds in rotating order.
    const modes = { auto: {}, autoWorker: { checkpoint: 'worker' }, fixed1ms: { commitDelay: 1 } } as const;
    const names = Object.keys(modes) as Array<keyof typeof modes>;
    const latency: Record<string, Record<string, AckLatency[]>> = { low: {}, high: {} };
    const ackRun = (load: 'low' | 'high', mode: keyof typeof modes): Promise<AckLatency> =>
      ackLatency(load, () => sqliteStore(join(dir, `latency-${round++}.db`), modes[mode]));
    for (const mode of names) await ackRun('high', mode);
    for (let r = 0; r < 3; r++)
      for (const load of ['low', 'high'] as const)
        for (let m = 0; m < names.length; m++) {
          const mode = names[(m + r) % names.length] as keyof typeof modes;
          ((latency[load] as Record<string, AckLatency[]>)[mode] ??= []).push(await ackRun(load, mode));
        }
    const ackLatencyMs = Object.fromEntries(
      Object.entries(latency).map(([load, modes]) => [
        load,
        Object.fromEntries(Object.entries(modes).map(([mode, runs]) => [mode, medianLatency(runs)])),
      ]),
    );
    const calls = inputs * CALLS_PER_RUN;
    const perSecond = (ms: number): number => (calls / ms) * 1000;
    return [
      result(
        'journal',
        { inputs, keys, callsPerRun: CALLS_PER_RUN, blocks: 'next macrotask' },
        perSecond(times.ours),
        perSecond(times.reference),
        'calls/s',
        'higher',
        {
          target: 50_000,
          callRowsWritten: ioCallRows,
          commits: ioCommits,
          withoutStore: Math.round(perSecond(times.noStore)),
          pagesInUseAfter: pages,
          checkpointWorker: { ratio: roundTo(times.reference / times.oursWorker, 3), threadsStarted: ioThreads },
          ackLatencyMs,
        },
      ),
      result(
        'journal',
        { inputs, keys, callsPerRun: CALLS_PER_RUN, blocks: 'immediate (elided)' },
        perSecond(instant.ours),
        perSecond(times.reference),
        'calls/s',
        'higher',
        {
          callRowsWritten: instantCallRows,
          note: 'runs that end within one group commit are written as their end only',
        },
      ),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The whole-process mode (`npm run bench:process`): each contestant alone in a fresh process, on a fresh file. */
export function processPlan({ quick }: { readonly quick: boolean }): ProcessPlan {
  const inputs = quick ? 5_000 : 25_000;
  const calls = inputs * CALLS_PER_RUN;
  const perSecond = (ms: number): number => (calls / ms) * 1000;
  let round = 0;
  const inDir = async (task: (path: string) => Promise<unknown> | unknown): Promise<void> => {
    const dir = mkdtempSync(join(tmpdir(), 'rx-agents-bench-journal-'));
    try {
      await task(join(dir, `j-${round++}.db`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const durable = (agent: typeof ioAgent) => () =>
    inDir(async (path) => {
      const store = sqliteStore(path);
      const outputs = await runInputs(inputs, 100, store, agent);
      store.close();
      if (outputs !== inputs) throw new Error(`journal bench: expected ${inputs} outputs, got ${outputs}`);
    });
  return {
    contestants: {
      ours: durable(ioAgent),
      oursElided: durable(instantAgent),
      reference: () => inDir((path) => plainInserts(path, inputs)),
    },
    report: (t) => [
      result(
        'journal',
        { inputs, keys: 100, callsPerRun: CALLS_PER_RUN, blocks: 'next macrotask' },
        perSecond(t['ours'] as number),
        perSecond(t['reference'] as number),
        'calls/s',
        'higher',
      ),
      result(
        'journal',
        { inputs, keys: 100, callsPerRun: CALLS_PER_RUN, blocks: 'immediate (elided)' },
        perSecond(t['oursElided'] as number),
        perSecond(t['reference'] as number),
        'calls/s',
        'higher',
      ),
    ],
  };
}
