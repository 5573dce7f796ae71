import { expect } from 'chai';
import { agentOperator, type LifecycleEvent } from '../../lib';
import { createInspector, type AgentInspector } from '../../lib/observe';
import { failuresOf, listen } from '../../lib/observe/inspector-tap';
import type { InspectorChannel } from '../../lib/runtime/lifecycle';
import { createTestScheduler } from '../../lib/testing';
import { byKey, jobAgent, type Job } from './fixtures';

/**
 * Per-run interest (lib/runtime/inspection.ts, lib/observe/inspector-listeners.ts): `createInspector()`
 * counts every step through plain calls and builds lifecycle events only for the listeners that want
 * them. These specs check that nothing is lost: the counters equal the ones folded from every event,
 * a listener that wants everything gets exactly what a plain function gets, and a sampling listener
 * gets exactly its runs — while no event object is built for anybody else.
 */

/** Runs of three keys in virtual time: async blocks, inputs waiting behind their key (S1), failed runs (isolated), and runs the unsubscribe at frame 20 aborts. */
function workload(inspect: (e: LifecycleEvent) => void): void {
  const ts = createTestScheduler();
  ts.run(({ cold }) => {
    const jobs: Record<string, Job> = {};
    for (let i = 0; i < 12; i++)
      jobs[String.fromCharCode(97 + i)] = { id: i, key: `k${i % 3}`, work: 2 + (i % 4) * 3, fail: i % 5 === 4 };
    const subscription = cold<Job>('(abc) 3ms (def) 3ms (ghi) 3ms (jkl)|', jobs)
      .pipe(agentOperator(jobAgent(), { key: byKey, scheduler: ts, inspect, errorPolicy: 'isolate' }))
      .subscribe();
    ts.schedule(() => subscription.unsubscribe(), 20);
  });
}

/** Every event the runtime reports, as a plain function (no channel) receives them. */
function allEvents(): LifecycleEvent[] {
  const events: LifecycleEvent[] = [];
  workload((e) => void events.push(e));
  return events;
}

/** Counts the events the runtime builds for an inspector (each built event is delivered through its channel). */
function countBuilt(inspector: AgentInspector): { built: number } {
  const channel = inspector.inspect.channel as InspectorChannel & { deliver: InspectorChannel['deliver'] };
  const deliver = channel.deliver;
  const counted = { built: 0 };
  channel.deliver = (e) => {
    counted.built++;
    deliver(e);
  };
  return counted;
}

describe('observe: per-run interest (events built only for the listeners that want them)', () => {
  it('stats() through the counters equals stats() folded from every event, failures and aborted runs included — and no event is built', () => {
    const direct = createInspector({ clock: () => 0 });
    const built = countBuilt(direct);
    workload(direct.inspect);
    const folded = createInspector({ clock: () => 0 });
    // A function that passes events on: the runtime sees a plain inspector and builds every event.
    workload((e) => folded.inspect(e));

    const s = direct.stats();
    expect(s).to.deep.equal(folded.stats());
    expect(built.built).to.equal(0);
    // The workload does what the comparison needs: failed, aborted and waiting runs, async blocks.
    expect(s.runsFailed).to.be.greaterThan(0);
    expect(s.runsAborted).to.be.greaterThan(0);
    expect(s.peakBufferedInputs).to.be.greaterThan(0);
    expect(s.actions['lookup']!.latency.count).to.be.greaterThan(0);
    const failures = failuresOf(direct)!;
    expect(failures).to.deep.equal(failuresOf(folded));
    expect(failures.map((f) => f.outcome)).to.include.members(['failed', 'aborted']);
    expect(failures.length).to.equal(s.runsFailed + s.runsAborted);
  });

  it('a listener that wants everything (events$, or a tap without interest) gets exactly every event a plain function gets', () => {
    const expected = allEvents();
    const inspector = createInspector();
    const built = countBuilt(inspector);
    const viaEvents: LifecycleEvent[] = [];
    const viaTap: LifecycleEvent[] = [];
    const subscription = inspector.events$.subscribe((e) => viaEvents.push(e));
    const tap = listen(inspector, (e) => void viaTap.push(e));
    workload(inspector.inspect);
    subscription.unsubscribe();
    tap.stop();
    expect(viaEvents).to.deep.equal(expected);
    expect(viaTap).to.deep.equal(expected);
    expect(built.built).to.equal(expected.length);
  });

  it('a sampling listener gets exactly the events of the runs it took, from run.started to run.ended; the others are not built', () => {
    const expected = allEvents();
    const inspector = createInspector();
    const built = countBuilt(inspector);
    const asked: number[] = [];
    const got: LifecycleEvent[] = [];
    const sampling = listen(
      inspector,
      (e) => void got.push(e),
      (_key, run) => {
        asked.push(run);
        return run % 3 === 0;
      },
    );
    workload(inspector.inspect);
    sampling.stop();
    const started = expected.filter((e) => e.type === 'run.started').map((e) => e.run);
    expect(asked).to.deep.equal(started); // asked once per run, as it starts
    const outside = new Set(['input.accepted', 'input.dropped', 'signal.rejected']);
    const mine = expected.filter((e) => e.run % 3 === 0 && !outside.has(e.type));
    expect(got).to.deep.equal(mine);
    expect(got.filter((e) => e.type === 'run.ended').length).to.equal(
      got.filter((e) => e.type === 'run.started').length,
    );
    expect(built.built).to.equal(mine.length);
  });

  it('interest is per listener: with an events$ subscriber the sampler still gets only its runs; a paused sampler is not asked', () => {
    const expected = allEvents();
    const inspector = createInspector();
    const everything: LifecycleEvent[] = [];
    const sampled: LifecycleEvent[] = [];
    const subscription = inspector.events$.subscribe((e) => everything.push(e));
    const sampling = listen(
      inspector,
      (e) => void sampled.push(e),
      (_key, run) => run === 1,
    );
    workload(inspector.inspect);
    expect(everything).to.deep.equal(expected);
    expect(sampled).to.deep.equal(expected.filter((e) => e.run === 1 && e.type !== 'input.accepted'));

    let asked = 0;
    const paused = listen(
      createInspector(),
      () => undefined,
      () => ++asked > 0,
    );
    paused.sample(false);
    const other = createInspector();
    const pausedHere = listen(
      other,
      () => undefined,
      () => ++asked > 0,
    );
    pausedHere.sample(false);
    const built = countBuilt(other);
    workload(other.inspect);
    expect(asked).to.equal(0);
    expect(built.built).to.equal(0);
    expect(other.stats().runsStarted).to.equal(inspector.stats().runsStarted);
    subscription.unsubscribe();
    sampling.stop();
    paused.stop();
    pausedHere.stop();
  });
});
