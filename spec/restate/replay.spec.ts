import { expect } from 'chai';
import { firstValueFrom, from, toArray } from 'rxjs';
import { defineAgent, InputEvent, OutputEvent } from '../../lib';
import { registerDeployment, restateAgent, serveAgents, type AgentEndpoint } from '../../lib/restate';
import { useRestateServer } from './fixtures/server';
import { query } from './fixtures/service-process';

const executions = new Map<string, number>();
const gate = (): { promise: Promise<void>; release: () => void } => {
  let release: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
};
const gateA = gate();
const gateC = gate();

function count(label: string): void {
  executions.set(label, (executions.get(label) ?? 0) + 1);
}

/**
 * `a`'s first call is made first and finishes after both of `b`'s; `a` then makes another call, so
 * a replay that delivered `a#0` before `b`'s calls would issue `a#1` before `b#1` — a different
 * journal — and Restate would refuse it. `c` keeps the run going until after the crash.
 */
const agent = defineAgent({
  name: 'replay',
  actions: (action) => [
    action('a', InputEvent, function* (_event, ctx) {
      const x = yield* ctx.executeAsync(async () => {
        count('a#0');
        await gateA.promise;
        return 'A';
      });
      const y = yield* ctx.executeAsync(() => (count('a#1'), 'A1'));
      ctx.sendEvent(OutputEvent.of({ from: 'a', x: `${x}${y}` }));
    }),
    action('b', InputEvent, async (_event, ctx) => {
      const y = await ctx.executeAsync(() => (count('b#0'), 'B0'));
      const z = await ctx.executeAsync(() => (count('b#1'), 'B1'));
      ctx.sendEvent(OutputEvent.of({ from: 'b', x: `${y}${z}` }));
    }),
    action('c', InputEvent, function* (_event, ctx) {
      const x = yield* ctx.executeAsync(async () => {
        count('c#0');
        await gateC.promise;
        return 'C';
      });
      ctx.sendEvent(OutputEvent.of({ from: 'c', x }));
    }),
  ],
});

async function runNotifications(admin: string): Promise<number> {
  const rows = await query<{ entry_type: string }>(
    admin,
    `SELECT entry_type FROM sys_journal WHERE entry_type = 'Notification: Run'`,
  );
  return rows.length;
}

describe('restate: replay after a service crash, with blocks that completed out of call order (determinism rule)', function () {
  this.timeout(60_000);
  const ctx = useRestateServer();
  let endpoint: AgentEndpoint;

  before(async () => {
    endpoint = await serveAgents([agent], { logLevel: 'off' });
    await registerDeployment(ctx.server.admin, endpoint.url);
  });
  after(async () => endpoint?.close());

  it('deliveries follow the completion order Restate journaled; the replay repeats it: same commands, journaled blocks not run again, same outputs', async () => {
    const result = firstValueFrom(
      from([{}]).pipe(restateAgent(agent, { ingress: ctx.server.ingress, output: 'envelope' }), toArray()),
    );
    const until = async (n: number): Promise<void> => {
      while ((await runNotifications(ctx.server.admin)) < n) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    // b's two calls complete while a's earlier call is still running: b is resumed twice (rule 2: the race winner).
    await until(2);
    expect(executions.get('b#1')).to.equal(1);
    expect(executions.get('a#1') ?? 0).to.equal(0);
    // Then a's first call completes and a makes its second call; c still holds the run open.
    gateA.release();
    await until(4);
    expect(executions.get('a#1')).to.equal(1);
    // Crash the service: the attempt dies; a new endpoint on the same port serves the retry, which replays.
    const port = endpoint.port;
    await endpoint.close();
    endpoint = await serveAgents([agent], { port, logLevel: 'off' });
    gateC.release();
    const outputs = await result;
    expect(outputs.map((o) => o.payload)).to.deep.equal([
      { from: 'b', x: 'B0B1' },
      { from: 'a', x: 'AA1' },
      { from: 'c', x: 'C' },
    ]);
    expect(outputs.map((o) => o.id)).to.deep.equal(['1>b:0', '1>a:0', '1>c:0']);
    // Journaled before the crash: not run again. c#0 was in flight: run again (at-least-once in doubt).
    expect(executions.get('a#0')).to.equal(1);
    expect(executions.get('a#1')).to.equal(1);
    expect(executions.get('b#0')).to.equal(1);
    expect(executions.get('b#1')).to.equal(1);
    expect(executions.get('c#0')).to.equal(2);
  });
});
