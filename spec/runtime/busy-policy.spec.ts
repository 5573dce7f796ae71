import { expect } from 'chai';
import { z } from 'zod';
import {
  agentOperator,
  defineAgent,
  InputEvent,
  memoryStore,
  OutputEvent,
  type AgentOperatorOptions,
  type BusyOption,
  type InputDropReason,
  type LifecycleEvent,
} from '../../lib';
import { createTestScheduler, virtualDelay } from '../../lib/testing';

interface Job {
  readonly key: string;
  readonly id: number;
}

/** Each run appends its id to the key's `seen` memory at once, works 10 frames, then outputs `<id>:[seen]`. */
function worker(aborted: string[]) {
  return defineAgent({
    name: 'busy',
    input: z.object({ key: z.string(), id: z.number() }),
    actions: (action) => [
      action('work', InputEvent, function* (event, ctx) {
        const id = event.payload.id;
        ctx.signal.addEventListener('abort', () => aborted.push(`${id}@${ctx.now()}`));
        ctx.shortTermMemory.set('seen', [...(ctx.shortTermMemory.get<number[]>('seen') ?? []), id]);
        yield* ctx.executeAsync(() => virtualDelay(null, 10));
        ctx.sendEvent(OutputEvent.of(`${id}:${JSON.stringify(ctx.shortTermMemory.get('seen'))}`));
      }),
    ],
  });
}

/** Inputs 1, 2, 3 of one key at frames 0, 3, 5 (and 4 of key `other` at 4) under `busy`. */
function scenario(busy: BusyOption<Job>, extra: Partial<AgentOperatorOptions<Job>> = {}) {
  const ts = createTestScheduler();
  const seen: string[] = [];
  const dropped: string[] = [];
  const aborted: string[] = [];
  const events: LifecycleEvent[] = [];
  ts.run(({ cold }) => {
    cold<Job>('a--bdc|', {
      a: { key: 'k', id: 1 },
      b: { key: 'k', id: 2 },
      d: { key: 'other', id: 4 },
      c: { key: 'k', id: 3 },
    })
      .pipe(
        agentOperator(worker(aborted), {
          key: (j) => j.key,
          busy,
          onDropped: (input: Job, _key: unknown, reason: InputDropReason) =>
            dropped.push(`${input.id}:${reason}@${ts.now()}`),
          inspect: (e) => void events.push(e),
          ...extra,
        }),
      )
      .subscribe({
        next: (v) => seen.push(`${ts.now()}:${String(v)}`),
        error: (e: Error) => seen.push(`${ts.now()}:# ${e.message}`),
        complete: () => seen.push(`${ts.now()}:|`),
      });
  });
  return { seen, dropped, aborted, events };
}

describe('S15 busy-key policies (virtual time)', () => {
  it('queue (default): inputs wait behind the running run, in order (S1)', () => {
    const { seen, dropped } = scenario('queue');
    expect(seen).to.deep.equal(['10:1:[1]', '14:4:[4]', '20:2:[1,2]', '30:3:[1,2,3]', '30:|']);
    expect(dropped).to.deep.equal([]);
  });

  it('reject: inputs that find their key busy do not run, and each is reported', () => {
    const { seen, dropped, events } = scenario('reject');
    expect(seen).to.deep.equal(['10:1:[1]', '14:4:[4]', '14:|']);
    expect(dropped).to.deep.equal(['2:rejected@3', '3:rejected@5']);
    expect(events.filter((e) => e.type === 'input.dropped').map((e) => (e as { reason: string }).reason)).to.deep.equal(
      ['rejected', 'rejected'],
    );
  });

  it('latest: only the newest waiting input is kept; the replaced ones are reported', () => {
    const { seen, dropped } = scenario('latest');
    expect(seen).to.deep.equal(['10:1:[1]', '14:4:[4]', '20:3:[1,3]', '20:|']);
    expect(dropped).to.deep.equal(['2:superseded@5']);
  });

  it('interrupt: the running run is aborted (its signal fires), its memory writes are kept, the new input runs', () => {
    const { seen, dropped, aborted } = scenario('interrupt');
    expect(seen).to.deep.equal(['14:4:[4]', '15:3:[1,2,3]', '15:|']);
    expect(dropped).to.deep.equal(['1:interrupted@3', '2:interrupted@5']);
    expect(aborted).to.deep.equal(['1@3', '2@5']);
  });

  it("rollback: as interrupt, and the key's memory goes back to what it was when the aborted run started", () => {
    const { seen, dropped, events } = scenario('rollback');
    expect(seen).to.deep.equal(['14:4:[4]', '15:3:[3]', '15:|']);
    expect(dropped).to.deep.equal(['1:rolled-back@3', '2:rolled-back@5']);
    expect(
      events.filter((e) => e.type === 'run.ended').map((e) => `${e.run}:${(e as { outcome: string }).outcome}`),
    ).to.deep.equal(['0:rolled-back', '1:rolled-back', '2:completed', '3:completed']);
  });

  it('per key, by a function of the input: key `k` rejects while busy, other keys queue', () => {
    const { seen, dropped } = scenario((job) => (job.key === 'k' ? 'reject' : 'queue'));
    expect(seen).to.deep.equal(['10:1:[1]', '14:4:[4]', '14:|']);
    expect(dropped).to.deep.equal(['2:rejected@3', '3:rejected@5']);
  });

  it('with a store, nothing accepted is lost without a report: the journal ends empty under every policy', () => {
    for (const busy of ['reject', 'latest', 'interrupt', 'rollback'] as const) {
      const store = memoryStore();
      const { seen, dropped } = scenario(busy, { store });
      expect(seen[seen.length - 1], busy).to.match(/:\|$/);
      expect(dropped.length, busy).to.be.greaterThan(0);
      const snapshot = store.load('busy') as unknown as { inputs: unknown[]; calls: unknown[]; nextSeq: number };
      expect(snapshot.inputs, busy).to.deep.equal([]);
      expect(snapshot.calls, busy).to.deep.equal([]);
      expect(snapshot.nextSeq, busy).to.equal(4);
    }
  });

  it('bad busy options are refused: an unknown name at creation, a bad answer of the function per input', () => {
    expect(() => agentOperator(worker([]), { busy: 'drop' as never })).to.throw(
      TypeError,
      "Expected `busy` to be one of 'queue', 'reject', 'latest', 'interrupt', 'rollback', or a function",
    );
    const { seen } = scenario(() => 'maybe' as never);
    expect(seen[seen.length - 1]).to.contain(
      'The `busy` callback threw: TypeError: The `busy` function returned `maybe` for an input of key `k`',
    );
  });
});
