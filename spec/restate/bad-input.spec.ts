import { expect } from 'chai';
import { firstValueFrom, from, lastValueFrom, toArray } from 'rxjs';
import { z } from 'zod';
import { defineAgent, InputEvent, OutputEvent, RxAgentsError } from '../../lib';
import {
  RestateBlockError,
  RestateNotRegisteredError,
  RestateRunFailedError,
  RestateSerializationError,
  RestateUnreachableError,
  registerDeployment,
  restateAgent,
  restateService,
  serveAgents,
  type AgentEndpoint,
  type RestateRunFailure,
} from '../../lib/restate';
import { freePort } from '../../lib/restate/restate-server';
import { useRestateServer } from './fixtures/server';

const Input = z.object({ user: z.string(), n: z.number() });

class NotJson {
  constructor(readonly x: number) {}
}

const agent = defineAgent({
  name: 'badinput',
  input: Input,
  actions: (action) => [
    action('main', InputEvent, async (event, ctx) => {
      const { n } = event.payload;
      const count = (ctx.shortTermMemory.get<number>('count') ?? 0) + 1;
      ctx.shortTermMemory.set('count', count);
      if (n === 2) {
        // A block result Restate cannot journal: the action sees a typed error, the same on every replay.
        try {
          await ctx.executeAsync(() => new NotJson(1));
        } catch (error) {
          const e = error as RestateBlockError;
          ctx.sendEvent(OutputEvent.of({ n, caught: e.name, remoteCode: e.remoteCode ?? null, count }));
          return;
        }
      }
      if (n === 3) {
        // Touching the context after awaiting something that is not a ctx call: refused (determinism guard).
        await new Promise((resolve) => setTimeout(resolve, 5));
        ctx.sendEvent(OutputEvent.of({ n, count }));
        return;
      }
      const v = await ctx.executeAsync(async () => n * 2);
      ctx.sendEvent(OutputEvent.of({ n, v, count }));
    }),
  ],
});

type Out = { n: number; v?: number; count: number; caught?: string; remoteCode?: string | null };

describe('restate: bad input gets typed errors, nothing is lost silently', function () {
  this.timeout(60_000);
  const ctx = useRestateServer();
  let endpoint: AgentEndpoint;

  before(async () => {
    endpoint = await serveAgents([agent]);
    await registerDeployment(ctx.server.admin, endpoint.url);
  });
  after(async () => endpoint?.close());

  it('an unreachable ingress: RestateUnreachableError after the configured retries', async () => {
    const port = await freePort();
    const error = await firstValueFrom(
      from([{ user: 'u', n: 1 }]).pipe(
        restateAgent(agent, { ingress: `http://127.0.0.1:${port}`, retry: { attempts: 3, initialDelay: 1 } }),
      ),
    ).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RestateUnreachableError);
    expect((error as RestateUnreachableError).code).to.equal('ERR_RESTATE_UNREACHABLE');
    expect((error as RestateUnreachableError).attempts).to.equal(3);
  });

  it('a service that is not registered: RestateNotRegisteredError', async () => {
    const error = await firstValueFrom(
      from([{ n: 1 }]).pipe(
        restateAgent(restateService<{ n: number }, unknown>('nosuchagent'), { ingress: ctx.server.ingress }),
      ),
    ).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RestateNotRegisteredError);
    expect((error as RxAgentsError).code).to.equal('ERR_RESTATE_NOT_REGISTERED');
    expect((error as Error).message).to.contain('nosuchagent');
  });

  it("an input failing the agent's schema: the run fails with the remote EventValidationError; isolate goes on, memory untouched", async () => {
    const failures: Array<RestateRunFailure<unknown>> = [];
    const outputs = await lastValueFrom(
      from([
        { user: 'v', n: 1 },
        { user: 'v', n: 'one' },
        { user: 'v', n: 4 },
      ] as Array<{ user: string; n: number }>).pipe(
        restateAgent<{ user: string; n: number }, Out>(agent, {
          ingress: ctx.server.ingress,
          key: (x) => x.user,
          errorPolicy: 'isolate',
          onRunFailed: (f) => failures.push(f),
        }),
        toArray(),
      ),
    );
    expect(outputs).to.deep.equal([
      { n: 1, v: 2, count: 1 },
      { n: 4, v: 8, count: 2 },
    ]);
    expect(failures).to.have.length(1);
    const error = failures[0]!.error as RestateRunFailedError;
    expect(error).to.be.instanceOf(RestateRunFailedError);
    expect(error.remoteCode).to.equal('ERR_EVENT_VALIDATION');
    expect(error.remoteName).to.equal('EventValidationError');
    expect(error.message).to.contain('n: Invalid input');
    // errorPolicy 'fail' (the default) fails the stream with the same error.
    const failed = await lastValueFrom(
      from([{ user: 'w', n: 'x' }] as unknown as Array<{ user: string; n: number }>).pipe(
        restateAgent(agent, { ingress: ctx.server.ingress, key: (x) => x.user }),
      ),
    ).catch((e: unknown) => e);
    expect((failed as RestateRunFailedError).remoteCode).to.equal('ERR_EVENT_VALIDATION');
  });

  it('a payload Restate cannot serialise: an input (client side, never sent) and a block result (service side)', async () => {
    const failures: Array<RestateRunFailure<unknown>> = [];
    const outputs = await lastValueFrom(
      from([
        { user: 's', n: 1 },
        { user: 's', n: 10n },
        { user: 's', n: 2 },
      ] as unknown as Array<{
        user: string;
        n: number;
      }>).pipe(
        restateAgent<{ user: string; n: number }, Out>(agent, {
          ingress: ctx.server.ingress,
          key: (x) => x.user,
          errorPolicy: 'isolate',
          onRunFailed: (f) => failures.push(f),
        }),
        toArray(),
      ),
    );
    expect(failures).to.have.length(1);
    expect(failures[0]!.error).to.be.instanceOf(RestateSerializationError);
    expect(failures[0]!.error.code).to.equal('ERR_RESTATE_SERIALIZATION');
    expect(failures[0]!.error.message).to.contain('bigint');
    // The bigint input never reached Restate (count 2 for the next run); the block result was refused with a typed error.
    expect(outputs).to.deep.equal([
      { n: 1, v: 2, count: 1 },
      { n: 2, caught: 'RestateBlockError', remoteCode: 'ERR_RESTATE_SERIALIZATION', count: 2 },
    ]);
  });

  it('an action awaiting something that is not a ctx call: the run fails (typed), never a non-deterministic journal', async () => {
    const failed = await lastValueFrom(
      from([{ user: 't', n: 3 }]).pipe(restateAgent(agent, { ingress: ctx.server.ingress, key: (x) => x.user })),
    ).catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(RestateRunFailedError);
    // Nothing journaled is pending while the action waits on a timer: the driver refuses to go on.
    expect((failed as RestateRunFailedError).remoteCode).to.equal('ERR_RESTATE_STUCK');
    expect((failed as Error).message).to.contain('wait on something that is not a ctx call');
  });

  it('bad options are refused when the operator is made', () => {
    expect(() => restateAgent(agent, { ingress: 'localhost:8080' })).to.throw(TypeError, /ingress/);
    expect(() => restateAgent(agent, { ingress: ctx.server.ingress, maxInFlight: 0 })).to.throw(
      TypeError,
      /maxInFlight/,
    );
    expect(() => restateAgent(agent, { ingress: ctx.server.ingress, errorPolicy: 'skip' as 'fail' })).to.throw(
      TypeError,
      /errorPolicy/,
    );
    expect(() => restateAgent(null as unknown as typeof agent, { ingress: ctx.server.ingress })).to.throw(
      TypeError,
      /target/,
    );
  });
});
