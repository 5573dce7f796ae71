import { expect } from 'chai';
import fc from 'fast-check';
import { z } from 'zod';
import {
  agentOperator,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  type AgentOutput,
  type LifecycleEvent,
} from '../../lib';
import { createTestScheduler, virtualDelay } from '../../lib/testing';

interface Job {
  readonly key: number;
  readonly seq: number;
  /** Per fan-out branch, the delays (frames) of its sequential async blocks. */
  readonly branches: readonly (readonly number[])[];
  readonly gap: number;
}

const Branch = defineEvent('branch', z.object({ b: z.number(), delays: z.array(z.number()) }));

/** Each input fans out to one event per branch; each branch awaits its delays in turn, emitting an output after each. */
const agent = defineAgent({
  name: 'prop',
  actions: (action) => [
    action('fanout', InputEvent, (event, ctx) => {
      const job = event.payload as Job;
      job.branches.forEach((delays, b) => ctx.sendEvent(Branch.of({ b, delays: [...delays] })));
    }),
    action('branch', Branch, function* (event, ctx) {
      const { b, delays } = event.payload;
      for (let i = 0; i < delays.length; i++) {
        yield* ctx.executeAsync(() => virtualDelay(null, delays[i] as number));
        ctx.sendEvent(OutputEvent.of(`${b}.${i}`));
      }
    }),
  ],
});

const jobs = fc
  .array(
    fc.record({
      key: fc.integer({ min: 0, max: 3 }),
      branches: fc.array(fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }), { minLength: 1, maxLength: 3 }),
      gap: fc.integer({ min: 0, max: 4 }),
    }),
    { maxLength: 12 },
  )
  .map((list) => list.map((j, seq) => ({ ...j, seq })));

function simulate(
  list: readonly Job[],
  concurrency: number,
): { outputs: Array<AgentOutput<string> & { frame: number }>; events: LifecycleEvent[] } {
  const ts = createTestScheduler();
  const outputs: Array<AgentOutput<string> & { frame: number }> = [];
  const events: LifecycleEvent[] = [];
  ts.run(({ cold }) => {
    let marble = '';
    const values: Record<string, Job> = {};
    list.forEach((job, i) => {
      const name = String.fromCharCode(0x4e00 + i);
      values[name] = job;
      marble += name + '-'.repeat(job.gap);
    });
    cold(marble + '|', values)
      .pipe(
        agentOperator(agent as import('../../lib').Agent<Job, string>, {
          key: (j) => j.key,
          scheduler: ts,
          concurrency,
          output: 'envelope',
          inspect: (e) => events.push(e),
        }),
      )
      .subscribe((o) => outputs.push({ ...o, frame: ts.now() }));
  });
  return { outputs, events };
}

describe('ordering properties (fast-check, virtual time)', () => {
  it('S1: per key, at most one run is active and runs start in arrival order; every input gets a run', () => {
    fc.assert(
      fc.property(jobs, fc.integer({ min: 1, max: 4 }), (list, concurrency) => {
        const { events } = simulate(list, concurrency);
        const active = new Map<unknown, number>();
        const started: Array<[unknown, number]> = [];
        for (const e of events) {
          if (e.type === 'run.started') {
            expect(
              active.has(e.key),
              `key ${String(e.key)} already has run ${active.get(e.key)} when run ${e.run} starts`,
            ).to.equal(false);
            active.set(e.key, e.run);
            started.push([e.key, e.run]);
          } else if (e.type === 'run.ended') {
            expect(active.get(e.key)).to.equal(e.run);
            active.delete(e.key);
          }
        }
        expect(active.size).to.equal(0);
        expect(started.map(([, run]) => run).sort((a, b) => a - b)).to.deep.equal(list.map((j) => j.seq));
        for (const key of new Set(list.map((j) => j.key))) {
          const runs = started.filter(([k]) => k === key).map(([, run]) => run);
          expect(runs).to.deep.equal([...runs].sort((a, b) => a - b));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('S8: per key, every output of run n precedes run n+1; within a run each branch emits in send order; nothing is lost', () => {
    fc.assert(
      fc.property(jobs, fc.integer({ min: 1, max: 4 }), (list, concurrency) => {
        const { outputs } = simulate(list, concurrency);
        const expected = list.reduce((n, j) => n + j.branches.reduce((m, d) => m + d.length, 0), 0);
        expect(outputs).to.have.length(expected);
        for (const key of new Set(list.map((j) => j.key))) {
          const runs = outputs.filter((o) => o.key === key).map((o) => o.run);
          expect(runs).to.deep.equal([...runs].sort((a, b) => a - b));
        }
        for (const job of list) {
          const mine = outputs.filter((o) => o.run === job.seq).map((o) => o.payload);
          job.branches.forEach((delays, b) => {
            expect(mine.filter((p) => p.startsWith(`${b}.`))).to.deep.equal(delays.map((_, i) => `${b}.${i}`));
          });
        }
        const ids = outputs.map((o) => o.id);
        expect(new Set(ids).size).to.equal(ids.length);
      }),
      { numRuns: 150 },
    );
  });

  it('S3: all actions triggered by one event start in the same frame; S2: a key never waits on another key', () => {
    fc.assert(
      fc.property(jobs, (list) => {
        const { events } = simulate(list, Infinity);
        const routed = events.filter((e) => e.type === 'event.routed');
        for (const r of routed) {
          const starts = events.filter(
            (e) => e.type === 'action.started' && e.event === (r as { event: string }).event,
          );
          expect(starts.every((s) => s.time === r.time)).to.equal(true);
        }
        // With unlimited concurrency, each run starts when its input arrives or when the key's previous run ends.
        const ended = new Map<number, number>();
        for (const e of events) if (e.type === 'run.ended') ended.set(e.run, e.time);
        let arrival = 0;
        const arrivals = list.map((j) => {
          const at = arrival;
          arrival += 1 + j.gap;
          return at;
        });
        for (const e of events) {
          if (e.type !== 'run.started') continue;
          const job = list[e.run] as Job;
          const previous = list.filter((j) => j.key === job.key && j.seq < job.seq).pop();
          const ready = Math.max(
            arrivals[e.run] as number,
            previous === undefined ? 0 : (ended.get(previous.seq) as number),
          );
          expect(e.time).to.equal(ready);
        }
      }),
      { numRuns: 100 },
    );
  });
});
