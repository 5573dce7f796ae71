import { trace, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { agentOperator, type LifecycleEvent } from '../../lib';
import { createTracing } from '../../lib/observe';
import { createTestScheduler } from '../../lib/testing';
import { byKey, jobAgent, type Job } from './fixtures';

const ms = (t: readonly [number, number]): number => t[0] * 1e3 + t[1] / 1e6;
const duration = (s: ReadableSpan): number => Math.round(ms(s.endTime) - ms(s.startTime));
const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

function setup() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider, tracer: provider.getTracer('spec') };
}

function run(inspect: (e: LifecycleEvent) => void, marbles: string, jobs: Record<string, Job>): void {
  const ts = createTestScheduler();
  ts.run(({ cold }) => {
    cold<Job>(marbles, jobs)
      .pipe(agentOperator(jobAgent(), { key: byKey, scheduler: ts, errorPolicy: 'isolate', inspect }))
      .subscribe();
  });
}

describe('observe: createTracing (OpenTelemetry)', () => {
  it('run → action → async block spans with parent/child links, key/run attributes and scheduler-time durations', () => {
    const { exporter, tracer } = setup();
    const tracing = createTracing({ tracer, agentName: 'jobs', keys: 'plain', payloads: true });
    run(tracing.inspect, 'a-b|', { a: { id: 1, key: 'x', work: 5 }, b: { id: 2, key: 'x', work: 3 } });
    expect(tracing.openSpans()).to.equal(0);
    const spans = exporter.getFinishedSpans();
    const runs = spans.filter((s) => s.name === 'run jobs');
    expect(runs.map((s) => s.attributes)).to.deep.equal([
      {
        'rx_agents.agent': 'jobs',
        'rx_agents.key': 'x',
        'rx_agents.run': 0,
        'rx_agents.queue_wait': 0,
        'rx_agents.outcome': 'completed',
      },
      {
        'rx_agents.agent': 'jobs',
        'rx_agents.key': 'x',
        'rx_agents.run': 1,
        'rx_agents.queue_wait': 3,
        'rx_agents.outcome': 'completed',
      },
    ]);
    expect(runs.map(duration)).to.deep.equal([5, 3]);
    for (const r of runs) expect(parentOf(r)).to.equal(undefined);
    // Each run is its own trace; every other span hangs below its run.
    expect(new Set(runs.map((r) => r.spanContext().traceId)).size).to.equal(2);
    const run0 = runs[0]!;
    const inRun0 = spans.filter((s) => s.spanContext().traceId === run0.spanContext().traceId);
    expect(inRun0.map((s) => s.name).sort()).to.deep.equal([
      'action audit',
      'action lookup',
      'action reply',
      'async audit',
      'async lookup',
      'run jobs',
    ]);
    const byName = (n: string): ReadableSpan => inRun0.find((s) => s.name === n)!;
    expect(parentOf(byName('action lookup'))).to.equal(run0.spanContext().spanId);
    expect(parentOf(byName('action reply'))).to.equal(run0.spanContext().spanId);
    expect(parentOf(byName('async lookup'))).to.equal(byName('action lookup').spanContext().spanId);
    expect(parentOf(byName('async audit'))).to.equal(byName('action audit').spanContext().spanId);
    expect(byName('async lookup').attributes).to.include({
      'rx_agents.call': '0>lookup#0',
      'rx_agents.executor_wait': 0,
      'rx_agents.key': 'x',
      'rx_agents.run': 0,
    });
    expect(duration(byName('async lookup'))).to.equal(5);
    expect(duration(byName('action lookup'))).to.equal(5);
    expect(byName('action lookup').events.map((e) => e.name)).to.deep.equal(['suspended', 'resumed', 'event.sent']);
    expect(run0.events.map((e) => e.name)).to.deep.equal(['output']);
  });

  it('failures: async span, action span and run span get status ERROR and the exception', () => {
    const { exporter, tracer } = setup();
    const tracing = createTracing({ tracer, agentName: 'jobs', keys: 'plain', payloads: true });
    run(tracing.inspect, 'a|', { a: { id: 1, key: 'x', work: 2, fail: true } });
    const spans = exporter.getFinishedSpans();
    const get = (n: string): ReadableSpan => spans.find((s) => s.name === n)!;
    expect(get('async lookup').status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'Error: lookup 1 broke' });
    expect(get('action lookup').status.code).to.equal(SpanStatusCode.ERROR);
    expect(get('action lookup').events.some((e) => e.name === 'exception')).to.equal(true);
    expect(get('run jobs').status.code).to.equal(SpanStatusCode.ERROR);
    expect(get('run jobs').attributes['rx_agents.outcome']).to.equal('failed');
    expect(tracing.openSpans()).to.equal(0);
  });

  it('unsubscribe mid-run ends every open span as aborted', () => {
    const { exporter, tracer } = setup();
    const tracing = createTracing({ tracer });
    const ts = createTestScheduler();
    ts.run(({ cold }) => {
      const sub = cold<Job>('a', { a: { id: 1, key: 'x', work: 100 } })
        .pipe(agentOperator(jobAgent(), { key: byKey, scheduler: ts, inspect: tracing.inspect }))
        .subscribe();
      ts.schedule(() => sub.unsubscribe(), 10);
    });
    expect(tracing.openSpans()).to.equal(0);
    const spans = exporter.getFinishedSpans();
    const lookup = spans.find((s) => s.name === 'async lookup')!;
    expect(lookup.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'aborted: the run ended first' });
    expect(duration(lookup)).to.equal(10);
    expect(spans.find((s) => s.name === 'run agent')!.attributes['rx_agents.outcome']).to.equal('aborted');
  });

  it('replayed calls (after recovery) produce no execution span, only a call.replayed event on the action', () => {
    const { exporter, tracer } = setup();
    const tracing = createTracing({ tracer });
    const base = { key: 'k', run: 7 };
    const events: LifecycleEvent[] = [
      { type: 'run.started', time: 0, ...base, waited: 0 },
      { type: 'action.started', time: 0, ...base, action: 'a', activation: '7>a', event: '7' },
      { type: 'async.queued', time: 0, ...base, action: 'a', activation: '7>a', call: '7>a#0' },
      {
        type: 'async.completed',
        time: 0,
        ...base,
        action: 'a',
        activation: '7>a',
        call: '7>a#0',
        ok: true,
        replayed: true,
      },
      { type: 'async.queued', time: 0, ...base, action: 'a', activation: '7>a', call: '7>a#1' },
      { type: 'async.started', time: 1, ...base, action: 'a', activation: '7>a', call: '7>a#1' },
      {
        type: 'async.completed',
        time: 4,
        ...base,
        action: 'a',
        activation: '7>a',
        call: '7>a#1',
        ok: true,
        replayed: false,
      },
      { type: 'action.finished', time: 4, ...base, action: 'a', activation: '7>a' },
      { type: 'run.ended', time: 4, ...base, outcome: 'completed', duration: 4 },
    ];
    for (const e of events) tracing.inspect(e);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).to.deep.equal(['action a', 'async a', 'run agent']);
    const asyncSpan = spans.find((s) => s.name === 'async a')!;
    expect(asyncSpan.attributes['rx_agents.call']).to.equal('7>a#1');
    expect(asyncSpan.attributes['rx_agents.executor_wait']).to.equal(1);
    const replayed = spans.find((s) => s.name === 'action a')!.events.find((e) => e.name === 'call.replayed')!;
    expect(replayed.attributes).to.deep.equal({ 'rx_agents.call': '7>a#0', 'rx_agents.ok': true });
  });

  it('uses the globally registered provider by default, and is a no-op without one', () => {
    const noop = createTracing();
    run(noop.inspect, 'a|', { a: { id: 1, key: 'x', work: 1 } });
    expect(noop.openSpans()).to.equal(0);
    const { exporter, provider } = setup();
    expect(trace.setGlobalTracerProvider(provider)).to.equal(true);
    try {
      const tracing = createTracing({ parent: () => undefined });
      run(tracing.inspect, 'a|', { a: { id: 1, key: 'x', work: 1 } });
      expect(exporter.getFinishedSpans().map((s) => s.instrumentationScope.name)).to.include('rx-agents');
    } finally {
      trace.disable();
    }
  });

  it('rejects bad options, and names the missing peer dependency when @opentelemetry/api is absent', () => {
    expect(() => createTracing({ agentName: '' })).to.throw(TypeError, /`agentName` to be a non-empty string/);
    expect(() => createTracing({ tracer: {} as never })).to.throw(TypeError, /`tracer` to be an OpenTelemetry Tracer/);
    // A real child process in which resolving @opentelemetry/api fails, as in an install without it.
    const script = `
      const Module = require('node:module');
      const orig = Module._resolveFilename;
      Module._resolveFilename = function (req, ...rest) {
        if (req === '@opentelemetry/api') { const e = new Error("Cannot find module '@opentelemetry/api'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
        return orig.call(this, req, ...rest);
      };
      require('ts-node').register({ transpileOnly: true });
      const { createTracing } = require('./lib/observe/tracing');
      try { createTracing(); console.log('no error'); } catch (e) { console.log(e.name + '|' + e.code + '|' + e.message); }
    `;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: `${__dirname}/../..`, encoding: 'utf8' }).trim();
    expect(out).to.match(
      /^MissingPeerDependencyError\|ERR_MISSING_PEER_DEPENDENCY\|createTracing needs the optional peer dependency `@opentelemetry\/api`/,
    );
    expect(out).to.include('npm install @opentelemetry/api');
  });
});

describe('observe: createTracing with a real store (replay after a restart, S13)', () => {
  it('a call replayed from the journal gets no execution span; the in-doubt call that runs again does', async () => {
    const { memoryStore, defineAgent, defineEvent, InputEvent, OutputEvent } = await import('../../lib');
    const { z } = await import('zod');
    const { NEVER, concat, lastValueFrom, of } = await import('rxjs');
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const Step = defineEvent('step', z.object({ n: z.number() }));
    let gateOpen = false;
    const agent = defineAgent({
      name: 'traced',
      input: z.object({ key: z.string(), n: z.number() }),
      actions: (action) => [
        action('first', InputEvent, function* (event, ctx) {
          const a = yield* ctx.executeAsync((n: number) => Promise.resolve(n * 10), event.payload.n);
          ctx.sendEvent(Step.of({ n: a }));
        }),
        action('second', Step, function* (event, ctx) {
          const b = yield* ctx.executeAsync(
            (n: number) => (gateOpen ? Promise.resolve(n + 1) : new Promise<number>(() => {})),
            event.payload.n,
          );
          ctx.sendEvent(OutputEvent.of(b));
        }),
      ],
    });
    const store = memoryStore();
    const sub = concat(of({ key: 'k', n: 1 }), NEVER)
      .pipe(agentOperator(agent, { key: (x) => x.key, store }))
      .subscribe();
    await settle();
    await settle();
    sub.unsubscribe(); // "crash": first's call is journaled, second's is in flight

    gateOpen = true;
    const { exporter, tracer } = setup();
    const tracing = createTracing({ tracer, agentName: 'traced' });
    const out = await lastValueFrom(
      of<{ key: string; n: number }>().pipe(
        agentOperator(agent, { key: (x) => x.key, store, inspect: tracing.inspect }),
      ),
      { defaultValue: undefined },
    );
    expect(out).to.equal(11);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).to.deep.equal([
      'action first',
      'action second',
      'async second',
      'run traced',
    ]);
    const replayed = spans.find((s) => s.name === 'action first')!.events.filter((e) => e.name === 'call.replayed');
    expect(replayed.map((e) => e.attributes)).to.deep.equal([{ 'rx_agents.call': '0>first#0', 'rx_agents.ok': true }]);
    expect(tracing.openSpans()).to.equal(0);
  });
});
