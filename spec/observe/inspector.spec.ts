import { expect } from 'chai';
import { Subject } from 'rxjs';
import { agentOperator, type LifecycleEvent } from '../../lib';
import { createInspector } from '../../lib/observe';
import { createTestScheduler } from '../../lib/testing';
import { byKey, jobAgent, type Job } from './fixtures';

describe('observe: createInspector', () => {
  it('events$ is hot and typed: run started/ended with queue wait, actions, async blocks, routing, outputs', () => {
    const ts = createTestScheduler();
    const inspector = createInspector();
    const seen: LifecycleEvent[] = [];
    ts.run(({ cold }) => {
      inspector.events$.subscribe((e) => seen.push(e));
      const inputs = cold<Job>('a-b|', { a: { id: 1, key: 'k', work: 5 }, b: { id: 2, key: 'k', work: 3 } });
      inputs.pipe(agentOperator(jobAgent(), { key: byKey, scheduler: ts, inspect: inspector.inspect })).subscribe();
    });
    const runs = seen
      .filter((e) => e.type === 'run.started' || e.type === 'run.ended')
      .map((e) => `${e.time}:${e.type}:${e.run}` + (e.type === 'run.started' ? `:waited=${e.waited}` : ''));
    // run 1 arrives at frame 2 while run 0 (5 frames of work) is active: it waits 3 frames (S1).
    expect(runs).to.deep.equal([
      '0:run.started:0:waited=0',
      '5:run.ended:0',
      '5:run.started:1:waited=3',
      '8:run.ended:1',
    ]);
    const run0 = seen.filter((e) => e.run === 0).map((e) => e.type);
    expect(run0).to.include.members([
      'input.accepted',
      'run.started',
      'event.routed',
      'action.started',
      'async.queued',
      'async.started',
      'action.suspended',
      'async.completed',
      'action.resumed',
      'event.sent',
      'action.finished',
      'output.emitted',
      'run.ended',
    ]);
    const sent = seen.find((e) => e.type === 'event.sent' && e.eventType === 'looked');
    expect(sent).to.include({ action: 'lookup', event: '0>lookup:0' });
    expect(sent).to.have.deep.property('payload', { id: 1, value: 'v1' });
    const out = seen.find((e) => e.type === 'output.emitted' && e.run === 1);
    expect(out).to.include({ payload: '2:v2', time: 8 });
    const accepted = seen
      .filter((e) => e.type === 'input.accepted')
      .map((e) => (e.type === 'input.accepted' ? e.buffered : null));
    expect(accepted).to.deep.equal([false, true]);
  });

  it('stats(): counts runs, outputs and per-action latency percentiles in scheduler time', () => {
    const ts = createTestScheduler();
    const inspector = createInspector();
    ts.run(({ cold }) => {
      const jobs: Record<string, Job> = {};
      for (let i = 0; i < 10; i++) jobs[String.fromCharCode(97 + i)] = { id: i, key: `k${i % 3}`, work: i + 1 };
      cold<Job>('(abcdefghij)|', jobs)
        .pipe(agentOperator(jobAgent(), { key: byKey, scheduler: ts, inspect: inspector.inspect }))
        .subscribe();
    });
    const s = inspector.stats();
    expect(s).to.include({
      runsStarted: 10,
      runsCompleted: 10,
      runsFailed: 0,
      outputs: 10,
      activeKeys: 0,
      activeRuns: 0,
      bufferedInputs: 0,
      inFlightAsync: 0,
      inputsAccepted: 10,
    });
    expect(s.asyncCompleted).to.equal(20);
    const lookup = s.actions['lookup']!;
    expect(lookup).to.include({ started: 10, finished: 10, failed: 0 });
    // lookup i takes i+1 frames: samples 1..10.
    expect(lookup.latency).to.deep.equal({ count: 10, mean: 5.5, min: 1, p50: 5, p90: 9, p99: 10, max: 10 });
    expect(lookup.asyncLatency).to.include({ count: 10, min: 1, max: 10 });
    expect(s.actions['reply']!.latency).to.include({ count: 10, max: 0 });
  });

  it('stats() mid-stream: active keys, buffered inputs and in-flight async blocks', () => {
    const ts = createTestScheduler();
    const inspector = createInspector();
    const snapshots: Array<
      Pick<
        ReturnType<typeof inspector.stats>,
        'activeKeys' | 'activeRuns' | 'bufferedInputs' | 'inFlightAsync' | 'queuedAsync'
      >
    > = [];
    ts.run(({ cold }) => {
      const jobs = {
        a: { id: 0, key: 'x', work: 10 },
        b: { id: 1, key: 'x', work: 10 },
        c: { id: 2, key: 'y', work: 10 },
      };
      cold<Job>('(abc)|', jobs)
        .pipe(agentOperator(jobAgent(), { key: byKey, scheduler: ts, concurrency: 3, inspect: inspector.inspect }))
        .subscribe();
      ts.schedule(() => {
        const { activeKeys, activeRuns, bufferedInputs, inFlightAsync, queuedAsync } = inspector.stats();
        snapshots.push({ activeKeys, activeRuns, bufferedInputs, inFlightAsync, queuedAsync });
      }, 0);
    });
    // x has run 0 active and run 1 waiting; y has run 2 active; 4 blocks submitted (lookup+audit per run), 3 slots.
    expect(snapshots).to.deep.equal([
      { activeKeys: 2, activeRuns: 2, bufferedInputs: 1, inFlightAsync: 4, queuedAsync: 1 },
    ]);
    expect(inspector.stats()).to.include({
      activeKeys: 0,
      inFlightAsync: 0,
      peakActiveKeys: 2,
      peakActiveRuns: 2,
      peakBufferedInputs: 1,
      peakInFlightAsync: 4,
    });
  });

  it('failed runs under isolate and runs cut off by unsubscribe leave no phantom work in stats', () => {
    const ts = createTestScheduler();
    const inspector = createInspector();
    const ended: string[] = [];
    inspector.events$.subscribe((e) => {
      if (e.type === 'run.ended') ended.push(`${e.run}:${e.outcome}`);
      if (e.type === 'input.dropped') ended.push(`${e.run}:dropped:${e.reason}`);
    });
    ts.run(({ cold }) => {
      const jobs = {
        a: { id: 0, key: 'x', work: 2, fail: true },
        b: { id: 1, key: 'y', work: 50 },
        c: { id: 2, key: 'y', work: 1 },
      };
      const sub = cold<Job>('(abc)', jobs)
        .pipe(
          agentOperator(jobAgent(), { key: byKey, scheduler: ts, errorPolicy: 'isolate', inspect: inspector.inspect }),
        )
        .subscribe();
      ts.schedule(() => sub.unsubscribe(), 10);
    });
    expect(ended).to.deep.equal(['0:failed', '1:aborted', '2:dropped:aborted']);
    const s = inspector.stats();
    expect(s).to.include({
      runsFailed: 1,
      runsAborted: 1,
      inputsDropped: 1,
      activeKeys: 0,
      activeRuns: 0,
      bufferedInputs: 0,
      inFlightAsync: 0,
    });
    expect(s.actions['lookup']).to.include({ failed: 1 });
  });

  it('zero cost when unobserved: events are not pushed to events$ without subscribers; stats: false keeps no counters', () => {
    const inspector = createInspector({ stats: false });
    const subject = new Subject<LifecycleEvent>();
    let pushed = 0;
    subject.subscribe(() => pushed++);
    const event: LifecycleEvent = { type: 'run.started', time: 0, key: 'k', run: 0, waited: 0 };
    inspector.inspect(event);
    const got: LifecycleEvent[] = [];
    const sub = inspector.events$.subscribe((e) => got.push(e));
    inspector.inspect(event);
    sub.unsubscribe();
    inspector.inspect(event);
    expect(got).to.have.length(1);
    expect(() => inspector.stats()).to.throw(TypeError, /stats: true/);
  });

  it('stats: false — inactive while events$ has no subscriber, so the runtime builds no events; a late subscriber sees events from then on', () => {
    const inspector = createInspector({ stats: false });
    expect(inspector.inspect.active).to.equal(false);
    const ts = createTestScheduler();
    const got: string[] = [];
    ts.run(({ cold }) => {
      const jobs = { a: { id: 0, key: 'a', work: 3 }, b: { id: 1, key: 'b', work: 3 } };
      cold<Job>('a 9ms b|', jobs)
        .pipe(agentOperator(jobAgent(), { key: byKey, scheduler: ts, inspect: inspector.inspect }))
        .subscribe();
      ts.schedule(() => inspector.events$.subscribe((e) => got.push(`${e.type}:${e.run}`)), 5);
    });
    expect(got.length).to.be.greaterThan(0);
    expect(got.every((e) => e.endsWith(':1'))).to.equal(true);
    expect(got[0]).to.equal('input.accepted:1');
  });

  it('rejects bad options with a TypeError that names the option', () => {
    expect(() => createInspector({ latencyWindow: 0 })).to.throw(
      TypeError,
      'Expected `latencyWindow` to be an integer >= 1, got `0` (number)',
    );
    expect(() => createInspector({ stats: 'yes' as unknown as boolean })).to.throw(
      TypeError,
      /`stats` to be a boolean/,
    );
  });

  it('latency window keeps the most recent samples only, counts all', () => {
    const ts = createTestScheduler();
    const inspector = createInspector({ latencyWindow: 2 });
    ts.run(({ cold }) => {
      const jobs = {
        a: { id: 0, key: 'a', work: 9 },
        b: { id: 1, key: 'b', work: 2 },
        c: { id: 2, key: 'c', work: 4 },
      };
      cold<Job>('a 20ms b 20ms c|', jobs)
        .pipe(agentOperator(jobAgent(), { key: byKey, scheduler: ts, inspect: inspector.inspect }))
        .subscribe();
    });
    expect(inspector.stats().actions['lookup']!.latency).to.include({ count: 3, min: 2, max: 4, mean: 5 });
  });
});
