import { expect } from 'chai';
import { firstValueFrom, lastValueFrom, from, Subject, toArray } from 'rxjs';
import { defineAgent, InputEvent, signal, SignalRejectedError, type Signal } from '../../lib';
import {
  registerDeployment,
  restateAgent,
  sendSignal,
  serveAgents,
  type AgentEndpoint,
  type RestateAgentOptions,
} from '../../lib/restate';
import { useRestateServer } from './fixtures/server';
import { query } from './fixtures/service-process';
import { Approval, held, waiter, WaitInput } from './fixtures/wait-agents';
import type { z } from 'zod';

type In = z.infer<typeof WaitInput> & { key: string };

describe('restate: S14 waits and timers on Restate (awakeables, durable ctx.sleep, the signals object)', function () {
  this.timeout(60_000);
  const ctx = useRestateServer();
  let endpoint: AgentEndpoint;
  const run = (inputs: In[], options: Omit<Partial<RestateAgentOptions<In>>, 'output'> = {}): Promise<unknown[]> =>
    lastValueFrom(
      from(inputs).pipe(
        restateAgent(waiter, { ingress: ctx.server.ingress, key: (x) => x.key, ...options }),
        toArray(),
      ),
    );
  /** The signals object's state for a key: which types have a doorbell (a parked wait) and what is buffered. */
  const signalsState = async (
    key: string,
  ): Promise<{ buffers: Record<string, unknown[]>; doorbells: Record<string, string> } | null> => {
    const rows = await query<{ value_utf8: string }>(
      ctx.server.admin,
      `SELECT value_utf8 FROM state WHERE service_name = 'waiter-signals' AND service_key = '${key}'`,
    );
    return rows[0] === undefined ? null : (JSON.parse(rows[0].value_utf8) as never);
  };
  const until = async (check: () => Promise<boolean>): Promise<void> => {
    while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 25));
  };

  before(async () => {
    endpoint = await serveAgents([waiter], { logLevel: 'off' });
    await registerDeployment(ctx.server.admin, endpoint.url);
  });
  after(async () => endpoint?.close());

  it('S14: a signal sent before the wait is buffered by the signals object and taken by the wait', async () => {
    await sendSignal(ctx.server.ingress, waiter, 'before', Approval.of({ n: 7 }));
    expect((await signalsState('before'))?.buffers['approval']).to.have.length(1);
    expect(await run([{ key: 'before', mode: 'wait' }])).to.deep.equal([{ got: 7, id: '1:signal#0' }]);
    expect((await signalsState('before'))?.buffers['approval']).to.equal(undefined);
  });

  it('S14: a signal sent after the run parked (through the `signals` option) rings its doorbell and ends the wait', async () => {
    const signals = new Subject<Signal>();
    const outputs = run([{ key: 'after', mode: 'wait' }], { signals });
    // The run is parked: its doorbell for `approval` is registered in the signals object.
    await until(async () => (await signalsState('after'))?.doorbells['approval'] !== undefined);
    signals.next(signal('after', Approval.of({ n: 3 })));
    expect(await outputs).to.deep.equal([{ got: 3, id: '1:signal#0' }]);
  });

  it('S14: a parked wait survives a crash of its service process: the retry replays the take and the doorbell, then the signal ends the wait', async () => {
    const outputs = run([{ key: 'crash', mode: 'wait' }]);
    await until(async () => (await signalsState('crash'))?.doorbells['approval'] !== undefined);
    const port = endpoint.port;
    await endpoint.close();
    endpoint = await serveAgents([waiter], { port, logLevel: 'off' });
    await sendSignal(ctx.server.ingress, waiter, 'crash', Approval.of({ n: 9 }));
    expect(await outputs).to.deep.equal([{ got: 9, id: '1:signal#0' }]);
    expect(await signalsState('crash')).to.deep.equal({ buffers: {}, doorbells: {} });
  });

  it('S14: a wait with a timeout fails with WaitTimeoutError in the action (durable timer); a later signal stays buffered for the next wait', async () => {
    expect(await run([{ key: 'timeout', mode: 'wait', timeout: 100 }])).to.deep.equal([{ got: 'timeout' }]);
    await sendSignal(ctx.server.ingress, waiter, 'timeout', Approval.of({ n: 1 }));
    expect(await run([{ key: 'timeout', mode: 'wait', timeout: 10_000 }])).to.deep.equal([
      { got: 1, id: '2:signal#0' },
    ]);
  });

  it('S14: a signal racing a timeout is never lost nor taken twice: the wait got it, or it is still buffered, or it is reported unconsumed', async () => {
    const keys = Array.from({ length: 8 }, (_, i) => `race-${i}`);
    const unconsumed: SignalRejectedError[] = [];
    const first = run(
      keys.map((key) => ({ key, mode: 'wait' as const, timeout: 400 })),
      { onSignalRejected: (e) => unconsumed.push(e) },
    );
    // Send key i's signal 100·i ms after the runs started: the early ones beat the timeout, the late ones lose.
    await Promise.all(
      keys.map(async (key, i) => {
        await new Promise((resolve) => setTimeout(resolve, 100 * i));
        await sendSignal(ctx.server.ingress, waiter, key, Approval.of({ n: i }));
      }),
    );
    const outputs = (await first) as Array<{ got: number | 'timeout' }>;
    let consumed = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const tookIt = outputs.filter((o) => o.got === i).length;
      const buffered = (await signalsState(key))?.buffers['approval']?.length ?? 0;
      const reported = unconsumed.filter((e) => e.key === key).length;
      expect(tookIt + buffered + reported, `key ${key}`).to.equal(1);
      consumed += tookIt;
    }
    expect(outputs.filter((o) => o.got === 'timeout')).to.have.length(keys.length - consumed);
  });

  it('S14: match is checked on the run side; a signal taken and not consumed is reported ERR_SIGNAL_UNCONSUMED', async () => {
    await sendSignal(ctx.server.ingress, waiter, 'match', Approval.of({ n: 1 }));
    await sendSignal(ctx.server.ingress, waiter, 'match', Approval.of({ n: 2 }));
    const rejected: SignalRejectedError[] = [];
    expect(await run([{ key: 'match', mode: 'match' }], { onSignalRejected: (e) => rejected.push(e) })).to.deep.equal([
      { got: 2 },
    ]);
    expect(rejected.map((e) => [e.code, e.eventType, (e.event as { payload: unknown }).payload])).to.deep.equal([
      ['ERR_SIGNAL_UNCONSUMED', 'approval', { n: 1 }],
    ]);
    // Without onSignalRejected, an unconsumed signal fails the stream (never dropped in silence).
    await sendSignal(ctx.server.ingress, waiter, 'match2', Approval.of({ n: 1 }));
    await sendSignal(ctx.server.ingress, waiter, 'match2', Approval.of({ n: 2 }));
    const error = await run([{ key: 'match2', mode: 'match' }]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(SignalRejectedError).with.property('code', 'ERR_SIGNAL_UNCONSUMED');
  });

  it('S14: ctx.any races a wait against a durable timer (the race order is the journaled one); the losing wait leaves later signals buffered', async () => {
    expect(await run([{ key: 'any', mode: 'any', ms: 50 }])).to.deep.equal([{ index: 1 }]);
    await sendSignal(ctx.server.ingress, waiter, 'any', Approval.of({ n: 5 }));
    expect(await run([{ key: 'any', mode: 'any', ms: 30_000 }])).to.deep.equal([{ index: 0 }]);
  });

  it('S14: a delayed sendEvent is a durable timer: the event is routed after the delay', async () => {
    const [out] = (await run([{ key: 'delayed', mode: 'delayed', ms: 200 }])) as Array<{ waited: number }>;
    expect(out?.waited).to.be.at.least(200);
  });

  it('allOf joins route inside the run as embedded', async () => {
    expect(await run([{ key: 'join', mode: 'join' }])).to.deep.equal([{ joined: 'l+r' }]);
  });

  it('signals are validated on the client (with the agent) and on the service (by name only); typed rejections', async () => {
    const invalid = await sendSignal(
      ctx.server.ingress,
      waiter,
      'v',
      Approval.of({ n: 'x' as unknown as number }),
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(invalid).to.be.instanceOf(SignalRejectedError).with.property('code', 'ERR_SIGNAL_INVALID');
    const remote = await sendSignal(ctx.server.ingress, { name: 'waiter' }, 'v', {
      type: 'approval',
      id: 'x',
      payload: { n: 'x' },
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(remote).to.be.instanceOf(SignalRejectedError).with.property('code', 'ERR_SIGNAL_INVALID');
    const unknown = await sendSignal(ctx.server.ingress, { name: 'waiter' }, 'v', {
      type: 'nope',
      id: 'x',
      payload: {},
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(unknown).to.be.instanceOf(SignalRejectedError).with.property('code', 'ERR_SIGNAL_UNKNOWN_TYPE');
    expect(await signalsState('v')).to.equal(null);
  });

  it('S14: the signals object is bounded: past maxBufferedSignals a signal is refused with ERR_SIGNAL_OVERFLOW, never dropped in silence', async () => {
    const tiny = defineAgent({
      name: 'tiny',
      signals: [Approval],
      actions: (action) => [action('main', InputEvent, () => undefined)],
    });
    const small = await serveAgents([tiny], { logLevel: 'off', maxBufferedSignals: 1 });
    try {
      await registerDeployment(ctx.server.admin, small.url);
      await sendSignal(ctx.server.ingress, tiny, 'k', Approval.of({ n: 1 }));
      const error = await sendSignal(ctx.server.ingress, tiny, 'k', Approval.of({ n: 2 })).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(SignalRejectedError).with.property('code', 'ERR_SIGNAL_OVERFLOW');
      expect((error as SignalRejectedError).event).to.deep.include({ type: 'approval', payload: { n: 2 } });
    } finally {
      await small.close();
    }
  });

  it("S15 busy: 'interrupt' cancels the key's running invocation through the admin API: its ctx.signal fires, its memory writes are kept", async () => {
    const inputs = new Subject<In>();
    const dropped: Array<[string, string]> = [];
    const outputs = firstValueFrom(
      inputs.pipe(
        restateAgent<In, unknown>(waiter, {
          ingress: ctx.server.ingress,
          admin: ctx.server.admin,
          key: (x) => x.key,
          busy: 'interrupt',
          onDropped: (input, _key, reason) => dropped.push([input.tag ?? '', reason]),
        }),
        toArray(),
      ),
    );
    inputs.next({ key: 'busy', mode: 'hold', tag: 'one' });
    await until(async () => held.started.includes('one'));
    inputs.next({ key: 'busy', mode: 'wait', timeout: 0, tag: 'two' });
    inputs.complete();
    expect(await outputs).to.deep.equal([{ got: 'timeout' }]);
    expect(held.aborted).to.include('one');
    expect(dropped).to.deep.equal([['one', 'interrupted']]);
    // The interrupted run counted and kept its memory write: the next run sees runs = 3.
    expect(await run([{ key: 'busy', mode: 'count' }])).to.deep.equal([{ runs: 3 }]);
  });

  it("S15 busy: 'reject' and 'latest' on the client; 'rollback' and 'interrupt' without admin are refused at creation", async () => {
    const dropped: Array<[string, string]> = [];
    const out = await run(
      [
        { key: 'rj', mode: 'any', ms: 100, tag: 'a' },
        { key: 'rj', mode: 'any', ms: 0, tag: 'b' },
      ],
      { busy: 'reject', onDropped: (input, _k, reason) => dropped.push([input.tag ?? '', reason]) },
    );
    expect(out).to.deep.equal([{ index: 1 }]);
    expect(dropped).to.deep.equal([['b', 'rejected']]);
    dropped.length = 0;
    const latest = await run(
      [
        { key: 'lt', mode: 'count', tag: 'a' },
        { key: 'lt', mode: 'count', tag: 'b' },
        { key: 'lt', mode: 'count', tag: 'c' },
      ],
      { busy: 'latest', onDropped: (input, _k, reason) => dropped.push([input.tag ?? '', reason]) },
    );
    expect(latest).to.deep.equal([
      { tag: 'a', runs: 1 },
      { tag: 'c', runs: 2 },
    ]);
    expect(dropped).to.deep.equal([['b', 'superseded']]);
    expect(() => restateAgent(waiter, { ingress: ctx.server.ingress, busy: 'rollback' as never })).to.throw(
      TypeError,
      /rollback/,
    );
    expect(() => restateAgent(waiter, { ingress: ctx.server.ingress, busy: 'interrupt' })).to.throw(/admin/);
  });
});
