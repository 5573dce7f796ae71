import { expect } from 'chai';
import { NEVER, firstValueFrom, of, Subject } from 'rxjs';
import { filter } from 'rxjs/operators';
import {
  AgentDefinitionError,
  CallbackError,
  agentOperator,
  defineAgent,
  InputEvent,
  memoryStore,
  OutputEvent,
  type AgentStore,
} from '../../lib';

/** v1 of an agent: action `fetch` makes a call that completes, then one that never does (the run stays in flight). */
function version(actionName: string, executions: string[], upgradeCallIds?: (id: string) => string) {
  return defineAgent({
    name: 'upgraded',
    ...(upgradeCallIds === undefined ? {} : { upgradeCallIds }),
    actions: (action) => [
      action(actionName, InputEvent, function* (_e, ctx) {
        const a = yield* ctx.executeAsync(async () => (executions.push(`${actionName}: first`), 'a'));
        const b = yield* ctx.executeAsync(() =>
          executions.length < 2 && actionName === 'fetch' ? NEVER : of((executions.push(`${actionName}: second`), 'b')),
        );
        ctx.sendEvent(OutputEvent.of(`${a}${b}`));
      }),
    ],
  });
}

/** Runs v1 on `store` until its first call is journaled, then unsubscribes (a crash: the run stays in the journal). */
async function crashV1(store: AgentStore, executions: string[]): Promise<void> {
  const accepted = new Subject<void>();
  const sub = of('x')
    .pipe(agentOperator(version('fetch', executions), { store, onAccepted: () => accepted.next() }))
    .subscribe();
  await firstValueFrom(accepted);
  for (let i = 0; i < 50 && executions.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
  await new Promise((r) => setTimeout(r, 20)); // the outcome's commit
  sub.unsubscribe();
}

describe('defineAgent({ upgradeCallIds }): a new version replays the runs an older one journaled (S13)', () => {
  it('a renamed action: with the mapping the completed call is replayed, without it it runs again', async () => {
    for (const mapped of [true, false]) {
      const store = memoryStore();
      const executions: string[] = [];
      await crashV1(store, executions);
      expect(executions).to.deep.equal(['fetch: first']);
      const v2 = version('lookup', executions, mapped ? (id) => id.replace(/>fetch(?=[#:]|$)/g, '>lookup') : undefined);
      const out = await firstValueFrom(
        of<string>().pipe(
          agentOperator(v2, { store }),
          filter((v) => typeof v === 'string'),
        ),
      );
      expect(out).to.equal('ab');
      expect(executions).to.deep.equal(
        mapped ? ['fetch: first', 'lookup: second'] : ['fetch: first', 'lookup: first', 'lookup: second'],
      );
    }
  });

  it('a mapping that throws or returns no string fails the subscription with CallbackError, before any run', async () => {
    for (const bad of [
      () => {
        throw new Error('no');
      },
      () => 7 as unknown as string,
    ]) {
      const store = memoryStore();
      const executions: string[] = [];
      await crashV1(store, executions);
      const error = await firstValueFrom(
        of<string>().pipe(agentOperator(version('fetch', executions, bad), { store })),
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(CallbackError);
      expect((error as CallbackError).callback).to.equal('upgradeCallIds');
      expect(executions).to.deep.equal(['fetch: first'], 'no run started');
    }
  });

  it('must be a function (AgentDefinitionError at definition)', () => {
    expect(() => version('fetch', [], 'x' as unknown as (id: string) => string)).to.throw(
      AgentDefinitionError,
      /upgradeCallIds.*must be a function/,
    );
  });
});
