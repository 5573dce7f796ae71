import { expect } from 'chai';
import fc from 'fast-check';
import { defer, NEVER, concat, of, Subject, timer, map } from 'rxjs';
import { z } from 'zod';
import {
  agentOperator,
  createAgentState,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  signal,
  StateAccessError,
  type AgentStateSnapshot,
} from '../../lib';
import { createTestScheduler, virtualDelay } from '../../lib/testing';

interface Job {
  readonly key: number;
  readonly n: number;
  readonly delays: readonly number[];
}

const Pair = defineEvent('pair', z.object({ n: z.number() }));

describe('inspect: createAgentState (snapshots of a running operator)', () => {
  it('shows active keys, a running run (actions, calls in flight and for how long), waiting inputs and memory, in virtual time', () => {
    const ts = createTestScheduler();
    const state = createAgentState();
    const agent = defineAgent<{ k: string; n: number }>({
      name: 'shown',
      actions: (action) => [
        action('work', InputEvent, function* (event, ctx) {
          ctx.shortTermMemory.set('last', { n: event.payload.n });
          yield* ctx.executeAsync(() => virtualDelay(event.payload.n, 10));
          ctx.sendEvent(OutputEvent.of(event.payload.n));
        }),
      ],
    });
    let at5: AgentStateSnapshot | undefined;
    let keyA: ReturnType<typeof state.key>;
    ts.run(({ cold }) => {
      cold('(abc)|', { a: { k: 'a', n: 1 }, b: { k: 'a', n: 2 }, c: { k: 'b', n: 3 } })
        .pipe(agentOperator(agent, { key: (x) => x.k, scheduler: ts, state }))
        .subscribe();
      ts.schedule(() => {
        at5 = state.snapshot();
        keyA = state.key('a');
      }, 5);
    });
    expect(at5).to.deep.include({
      time: 5,
      attached: true,
      activeKeys: 2,
      activeRuns: 2,
      waitingInputs: 1,
      truncated: false,
    });
    expect(state.activeKeys()).to.deep.equal([]); // after the stream: detached and empty
    expect(state.attached).to.equal(false);
    expect(keyA).to.deep.equal({
      key: 'a',
      memory: { last: { n: 1 } },
      waiting: 1,
      run: {
        seq: 0,
        startedAt: 0,
        age: 5,
        input: { k: 'a', n: 1 },
        actions: [{ action: 'work', activation: '0>work', state: 'suspended', waitingFor: '0>work#0' }],
        calls: [{ id: '0>work#0', action: 'work', state: 'running', replayed: false, age: 5 }],
        parked: [],
      },
    });
  });

  it('S14/S15: what a parked run waits for (event type or timer), since when and until when, in virtual time', () => {
    const ts = createTestScheduler();
    const state = createAgentState();
    const Approval = defineEvent('approval', z.object({ by: z.string() }));
    type Ask = { k: string; mode: 'wait' | 'sleep' | 'later' };
    const agent = defineAgent<Ask>({
      name: 'parked',
      signals: [Approval],
      actions: (action) => [
        action('ask', InputEvent, function* (event, ctx) {
          const { mode } = event.payload;
          yield* ctx.executeAsync(() => virtualDelay(null, 2));
          if (mode === 'wait') {
            const answer = yield* ctx.waitForEvent(Approval, { timeout: 100 });
            ctx.sendEvent(OutputEvent.of(answer.payload.by));
          } else if (mode === 'sleep') yield* ctx.sleep(30);
          else ctx.sendEvent(OutputEvent.of('later'), { delay: 40 });
        }),
      ],
    });
    const at: Record<number, AgentStateSnapshot> = {};
    ts.run(({ cold }) => {
      cold<Ask>('(abc)|', { a: { k: 'a', mode: 'wait' }, b: { k: 'b', mode: 'sleep' }, c: { k: 'c', mode: 'later' } })
        .pipe(
          agentOperator(agent, {
            key: (x) => x.k,
            scheduler: ts,
            state,
            signals: cold('50ms s', { s: signal('a', Approval.of({ by: 'ana' })) }),
          }),
        )
        .subscribe();
      for (const frame of [1, 12, 35, 60]) ts.schedule(() => void (at[frame] = state.snapshot()), frame);
    });
    const parked = (snap: AgentStateSnapshot | undefined, key: string) =>
      snap?.keys.find((k) => k.key === key)?.run?.parked;
    // Before the waits: the runs are busy with their first call, nothing is parked.
    expect(at[1]!.parkedRuns).to.equal(0);
    expect(parked(at[1], 'a')).to.deep.equal([]);
    expect(at[12]!.parkedRuns).to.equal(3);
    expect(parked(at[12], 'a')).to.deep.equal([
      {
        call: '0>ask#1',
        action: 'ask',
        kind: 'event',
        eventType: 'approval',
        since: 2,
        deadline: 102,
        waited: 10,
        left: 90,
      },
    ]);
    expect(parked(at[12], 'b')).to.deep.equal([
      { call: '1>ask#1', action: 'ask', kind: 'timer', eventType: null, since: 2, deadline: 32, waited: 10, left: 20 },
    ]);
    expect(parked(at[12], 'c')).to.deep.equal([
      {
        call: '2>ask#1',
        action: 'ask',
        kind: 'delayed-send',
        eventType: OutputEvent.type,
        since: 2,
        deadline: 42,
        waited: 10,
        left: 30,
      },
    ]);
    const call = at[12]!.keys.find((k) => k.key === 'a')!.run!.calls[1];
    expect(call).to.deep.include({ id: '0>ask#1', state: 'parked', age: 10 });
    // The timer fired at 32: b's run is over; a still waits for its signal, c for its send at 42.
    expect(at[35]!.keys.map((k) => k.key)).to.deep.equal(['a', 'c']);
    expect(at[35]!.parkedRuns).to.equal(2);
    // The signal arrived at 50: nothing is parked any more.
    expect(at[60]!.parkedRuns).to.equal(0);
    expect(at[60]!.keys).to.deep.equal([]);
  });

  it('snapshots are deep copies: changing one never changes memory', () => {
    const ts = createTestScheduler();
    const state = createAgentState();
    const agent = defineAgent({
      name: 'copies',
      actions: (action) => [
        action('work', InputEvent, function* (_e, ctx) {
          ctx.shortTermMemory.set('profile', { tags: ['a'], nested: { x: 1 } });
          yield* ctx.executeAsync(() => virtualDelay(null, 10));
        }),
      ],
    });
    const seen: unknown[] = [];
    ts.run(({ cold }) => {
      cold('a|')
        .pipe(agentOperator(agent, { scheduler: ts, state }))
        .subscribe();
      ts.schedule(() => {
        const first = state.key(undefined)!;
        const profile = first.memory['profile'] as { tags: string[]; nested: { x: number } };
        profile.tags.push('mutated');
        profile.nested.x = 99;
        first.memory['extra'] = 'added';
        seen.push(state.key(undefined)!.memory);
      }, 3);
    });
    expect(seen).to.deep.equal([{ profile: { tags: ['a'], nested: { x: 1 } } }]);
  });

  it('S4: a snapshot asked for inside a sync block throws StateAccessError instead of showing half of the block', () => {
    const state = createAgentState();
    const failures: unknown[] = [];
    const agent = defineAgent({
      name: 'inside',
      actions: (action) => [
        action('peek', InputEvent, (_e, ctx) => {
          ctx.shortTermMemory.set('a', 1);
          state.key(undefined);
        }),
      ],
    });
    const ts = createTestScheduler();
    ts.run(({ cold }) => {
      cold('a|')
        .pipe(
          agentOperator(agent, {
            scheduler: ts,
            state,
            errorPolicy: 'isolate',
            onRunFailed: (f) => failures.push(f.error.cause),
          }),
        )
        .subscribe();
    });
    expect(failures).to.have.length(1);
    expect(failures[0]).to.be.instanceOf(StateAccessError).with.property('code', 'ERR_STATE_IN_SYNC_BLOCK');
    expect((failures[0] as Error).message).to.include('inside a sync block of action `peek` (run 0)');
  });

  it('async actions: inside their blocks snapshots throw; from outside they work', async () => {
    const state = createAgentState();
    const inside: unknown[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const agent = defineAgent({
      name: 'async-style',
      actions: (action) => [
        action('work', InputEvent, async (_e, ctx) => {
          await ctx.executeAsync(() => gate);
          try {
            state.snapshot();
          } catch (error) {
            inside.push((error as StateAccessError).code);
          }
          ctx.sendEvent(OutputEvent.of('done'));
        }),
      ],
    });
    let output: (value: unknown) => void = () => undefined;
    const emitted = new Promise((resolve) => (output = resolve));
    const sub = concat(of(1), NEVER).pipe(agentOperator(agent, { state })).subscribe(output);
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.snapshot().activeRuns).to.equal(1); // from outside, while the action awaits
    release();
    expect(await emitted).to.equal('done');
    expect(inside).to.deep.equal(['ERR_STATE_IN_SYNC_BLOCK']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.snapshot().activeRuns).to.equal(0);
    sub.unsubscribe();
  });

  it('one view serves one live subscription; it re-attaches once that one ended', () => {
    const state = createAgentState();
    const agent = defineAgent({ name: 'one', actions: (action) => [action('a', InputEvent, () => undefined)] });
    const first = NEVER.pipe(agentOperator(agent, { state })).subscribe();
    const errors: unknown[] = [];
    NEVER.pipe(agentOperator(agent, { state })).subscribe({ error: (e) => errors.push(e) });
    expect(errors[0]).to.be.instanceOf(StateAccessError).with.property('code', 'ERR_STATE_ATTACHED');
    first.unsubscribe();
    expect(state.attached).to.equal(false);
    const again = NEVER.pipe(agentOperator(agent, { state })).subscribe();
    expect(state.attached).to.equal(true);
    again.unsubscribe();
    expect(() => agentOperator(agent, { state: {} as never })).to.throw(
      TypeError,
      'Expected `state` to be a state view made by createAgentState()',
    );
  });

  it('property (S4): under a running workload, snapshots from timers, async blocks and lifecycle subscribers never see a half-applied sync block', () => {
    // Every sync block writes a pair (a, b) in two steps with a sendEvent in between; the lifecycle
    // subscriber of `event.sent` runs in the middle of the block, so an unguarded snapshot there sees a !== b.
    const jobs = fc.array(
      fc.record({
        key: fc.integer({ min: 0, max: 3 }),
        n: fc.integer({ min: 1, max: 1000 }),
        delays: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 10 },
    );
    fc.assert(
      fc.property(
        jobs,
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 3 }),
        (list, probes, concurrency) => {
          const ts = createTestScheduler();
          const state = createAgentState();
          const taken: AgentStateSnapshot[] = [];
          let refused = 0;
          const attempt = (): void => {
            try {
              taken.push(state.snapshot());
            } catch (error) {
              expect(error).to.be.instanceOf(StateAccessError);
              refused++;
            }
          };
          const agent = defineAgent<Job>({
            name: 'pairs',
            actions: (action) => [
              action('write', InputEvent, function* (event, ctx) {
                const { n, delays } = event.payload;
                for (let i = 0; i <= delays.length; i++) {
                  ctx.shortTermMemory.set('a', n * 10 + i);
                  ctx.sendEvent(Pair.of({ n }));
                  ctx.shortTermMemory.set('b', n * 10 + i);
                  if (i < delays.length)
                    yield* ctx.executeAsync(() =>
                      defer(() => (attempt(), timer(delays[i] as number))).pipe(map(() => i)),
                    );
                }
              }),
              action('pair', Pair, (event, ctx) => ctx.sendEvent(OutputEvent.of(event.payload.n))),
            ],
          });
          const events = new Subject<unknown>();
          ts.run(({ cold }) => {
            let marble = '';
            const values: Record<string, Job> = {};
            list.forEach((job, i) => {
              const name = String.fromCharCode(0x4e00 + i);
              values[name] = job;
              marble += `${name}-`;
            });
            cold(`${marble}|`, values)
              .pipe(
                agentOperator(agent, {
                  key: (j) => j.key,
                  scheduler: ts,
                  concurrency,
                  state,
                  inspect: (e) => {
                    if (e.type === 'event.sent' || e.type === 'run.ended') attempt();
                    events.next(e);
                  },
                }),
              )
              .subscribe(() => attempt());
            for (const frame of probes) ts.schedule(attempt, frame);
          });
          for (const s of taken)
            for (const k of s.keys) {
              expect(k.memory['a'], `key ${String(k.key)} at ${s.time}`).to.equal(k.memory['b']);
              if (k.run !== null) for (const a of k.run.actions) expect(['running', 'suspended']).to.include(a.state);
            }
          // The workload reached both kinds of place: every event.sent is inside a block.
          expect(refused).to.be.at.least(list.reduce((n, j) => n + j.delays.length + 1, 0));
          expect(taken.length).to.be.greaterThan(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
