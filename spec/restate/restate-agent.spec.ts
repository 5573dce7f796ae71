import { expect } from 'chai';
import { firstValueFrom, from, lastValueFrom, Subject, toArray } from 'rxjs';
import { z } from 'zod';
import { BufferOverflowError, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { registerDeployment, restateAgent, serveAgents, type AgentEndpoint } from '../../lib/restate';
import { useRestateServer } from './fixtures/server';
import { query } from './fixtures/service-process';

const Input = z.object({ user: z.string(), id: z.string(), hold: z.boolean().optional() });
let running = 0;
let maxRunning = 0;
const aborted: string[] = [];
const started = new Set<string>();

const agent = defineAgent({
  name: 'client',
  input: Input,
  actions: (action) => [
    action('main', InputEvent, function* (event, ctx) {
      const { id, hold } = event.payload;
      const signal = ctx.signal;
      const runs = (ctx.shortTermMemory.get<number>('runs') ?? 0) + 1;
      ctx.shortTermMemory.set('runs', runs);
      yield* ctx.executeAsync(async () => {
        started.add(id);
        running++;
        maxRunning = Math.max(maxRunning, running);
        try {
          if (hold === true)
            // Held until the invocation is cancelled: the abort reaches the block through ctx.signal.
            await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          else await new Promise((resolve) => setTimeout(resolve, 15));
        } finally {
          running--;
        }
        if (signal.aborted) aborted.push(id);
      });
      ctx.sendEvent(OutputEvent.of({ id, runs }));
    }),
  ],
});

type In = z.infer<typeof Input>;

/** An agent that declares its key (`defineAgent({ key })`): restateAgent's default key, ctx.key on the server. */
const keyedAgent = defineAgent({
  name: 'client-keyed',
  input: Input,
  output: z.object({ id: z.string(), key: z.string() }),
  key: (input) => input.user,
  actions: (action) => [
    action('main', InputEvent, (event, ctx) => ctx.sendEvent(OutputEvent.of({ id: event.payload.id, key: ctx.key }))),
  ],
});

describe('restate: restateAgent (the client operator) against a real server', function () {
  this.timeout(60_000);
  const ctx = useRestateServer();
  let endpoint: AgentEndpoint;

  before(async () => {
    endpoint = await serveAgents([agent, keyedAgent]);
    await registerDeployment(ctx.server.admin, endpoint.url);
  });
  after(async () => endpoint?.close());

  it('the agent’s own key (defineAgent({ key })) is the default object key; ctx.key on the server is it', async () => {
    const outputs = await lastValueFrom(
      from<In[]>([
        { user: 'ada', id: 'k1' },
        { user: 'bob', id: 'k2' },
      ]).pipe(restateAgent(keyedAgent, { ingress: ctx.server.ingress, output: 'envelope' }), toArray()),
    );
    expect(outputs.map((o) => [o.key, o.payload]).sort()).to.deep.equal([
      ['ada', { id: 'k1', key: 'ada' }],
      ['bob', { id: 'k2', key: 'bob' }],
    ]);
  });

  it('idempotency keys: an input sent twice with the same key runs once; both get that run’s outputs', async () => {
    const outputs = await lastValueFrom(
      from<In[]>([
        { user: 'i', id: 'x1' },
        { user: 'i', id: 'x1' },
        { user: 'i', id: 'x2' },
      ]).pipe(
        restateAgent<In, { id: string; runs: number }>(agent, {
          ingress: ctx.server.ingress,
          key: (x) => x.user,
          idempotencyKey: (x) => `idem-${x.id}`,
          output: 'envelope',
        }),
        toArray(),
      ),
    );
    expect(outputs.map((o) => [o.payload.id, o.payload.runs, o.run])).to.deep.equal([
      ['x1', 1, 1],
      ['x1', 1, 1],
      ['x2', 2, 2],
    ]);
    // A new subscription with the same idempotency key is deduplicated by Restate too (client restarts).
    const again = await firstValueFrom(
      from<In[]>([{ user: 'i', id: 'x2' }]).pipe(
        restateAgent<In, { id: string; runs: number }>(agent, {
          ingress: ctx.server.ingress,
          key: (x) => x.user,
          idempotencyKey: (x) => `idem-${x.id}`,
        }),
      ),
    );
    expect(again).to.deep.equal({ id: 'x2', runs: 2 });
  });

  it('maxInFlight bounds the invocations in flight across keys (S10)', async () => {
    running = 0;
    maxRunning = 0;
    const inputs = Array.from({ length: 12 }, (_, i): In => ({ user: `b${i % 6}`, id: `b${i}` }));
    const outputs = await lastValueFrom(
      from(inputs).pipe(
        restateAgent(agent, { ingress: ctx.server.ingress, key: (x) => x.user, maxInFlight: 2 }),
        toArray(),
      ),
    );
    expect(outputs).to.have.length(12);
    expect(maxRunning).to.be.at.most(2);
    expect(maxRunning).to.be.at.least(1);
  });

  it('maxBufferedInputs: more waiting inputs than allowed fail the stream with BufferOverflowError, never silently', async () => {
    const inputs = Array.from({ length: 10 }, (_, i): In => ({ user: 'o', id: `o${i}` }));
    const error = await lastValueFrom(
      from(inputs).pipe(
        restateAgent(agent, { ingress: ctx.server.ingress, key: (x) => x.user, maxInFlight: 1, maxBufferedInputs: 3 }),
      ),
    ).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(BufferOverflowError);
  });

  it('unsubscribe with `admin` cancels the accepted invocation: the abort reaches its block; nothing more is emitted', async () => {
    const inputs = new Subject<In>();
    const seen: unknown[] = [];
    const subscription = inputs
      .pipe(restateAgent(agent, { ingress: ctx.server.ingress, key: (x) => x.user, admin: ctx.server.admin }))
      .subscribe({ next: (o) => seen.push(o) });
    inputs.next({ user: 'c', id: 'held', hold: true });
    while (!started.has('held')) await new Promise((resolve) => setTimeout(resolve, 10));
    subscription.unsubscribe();
    while (!aborted.includes('held')) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).to.deep.equal([]);
    // The server ended the invocation as cancelled (its status is final, not running or retrying).
    let rows: Array<{ status: string }> = [];
    for (let i = 0; i < 200; i++) {
      rows = await query<{ status: string }>(
        ctx.server.admin,
        `SELECT status FROM sys_invocation WHERE target_service_name = 'client' AND target_service_key = 'c'`,
      );
      if (rows.length > 0 && rows.every((r) => r.status === 'completed')) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(rows.map((r) => r.status)).to.deep.equal(['completed']);
  });
});
