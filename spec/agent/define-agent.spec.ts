import { expect } from 'chai';
import { z } from 'zod';
import {
  AgentDefinitionError,
  action,
  defineAgent,
  defineEvent,
  InputEvent,
  OutputEvent,
  type ActionDef,
} from '../../lib';

const noop = (): void => {};
const Other = defineEvent('other', z.string());

function definitionError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(AgentDefinitionError);
    expect((error as AgentDefinitionError).code).to.equal('ERR_AGENT_DEFINITION');
    return (error as Error).message;
  }
  throw new Error('expected an AgentDefinitionError');
}

describe('defineAgent / action: definition-time validation', () => {
  it('accepts a valid agent and classifies action styles', () => {
    const agent = defineAgent({
      name: 'ok',
      actions: [
        action('plain', InputEvent, noop),
        action('gen', [InputEvent, Other], function* () {}),
        action('asy', Other, async () => {}),
      ],
    });
    expect(agent.actions.map((a) => a.style)).to.deep.equal(['plain', 'generator', 'async']);
    expect(agent.routes.get(InputEvent.type)?.map((a) => a.name)).to.deep.equal(['plain', 'gen']);
    expect(agent.routes.get('other')?.map((a) => a.name)).to.deep.equal(['gen', 'asy']);
    expect(agent.hasAsyncActions).to.equal(true);
  });

  const cases: Array<[string, () => unknown, string]> = [
    [
      'a key that is not a function',
      () => defineAgent({ name: 'k', key: 'userId' as never, actions: [action('a', InputEvent, noop)] }),
      'The `key` of agent `k` must be a function of the input (e.g. key: (input) => input.userId), got "userId" (string).',
    ],
    [
      'no name',
      () => defineAgent({ name: '', actions: [action('a', InputEvent, noop)] }),
      'Expected the agent name to be a non-empty string, got "" (string).',
    ],
    [
      'no actions',
      () => defineAgent({ name: 'x', actions: [] }),
      'Agent `x` has no actions: give at least one action triggered by InputEvent.',
    ],
    [
      'no trigger',
      () => action('a', [], noop),
      "action `a` has no trigger: pass the event type(s) that start it, e.g. action('a', InputEvent, fn).",
    ],
    [
      'a trigger that is not an event type',
      () => action('a', ['input' as never], noop),
      'Trigger 0 of action `a` is not an event type (got "input" (string)): make one with defineEvent(type, schema).',
    ],
    [
      'OutputEvent as trigger',
      () => action('a', OutputEvent, noop),
      'action `a` is triggered by OutputEvent, but OutputEvents go downstream and are never routed to actions.',
    ],
    [
      'empty action name',
      () => action('', InputEvent, noop),
      'Expected the action name to be a non-empty string, got `` (string).',
    ],
    [
      'not a function',
      () => action('a', InputEvent, 42 as never),
      'Expected the function of action `a` to be a function, got `42` (number).',
    ],
    [
      'async generator',
      () => action('a', InputEvent, async function* () {} as never),
      'action `a` is an async generator, which is not supported: use a generator (yield* ctx.executeAsync(...)) or an async function (await ctx.executeAsync(...)).',
    ],
    [
      'duplicate names',
      () => defineAgent({ name: 'dup', actions: [action('a', InputEvent, noop), action('a', Other, noop)] }),
      'Agent `dup` has two actions named `a`: action names must be unique.',
    ],
    [
      'no action for InputEvent',
      () => defineAgent({ name: 'idle', actions: [action('a', Other, noop)] }),
      "Agent `idle` has no action triggered by InputEvent, so its runs would do nothing: add action('start', InputEvent, fn).",
    ],
    [
      'two event types with one name',
      () =>
        defineAgent({
          name: 'clash',
          actions: [action('a', [InputEvent, Other], noop), action('b', defineEvent('other', z.number()), noop)],
        }),
      'Agent `clash` uses two different event types named `other`: give each defineEvent a unique type name.',
    ],
    [
      'an action not made by action()',
      () => defineAgent({ name: 'raw', actions: [{ name: 'a' } as unknown as ActionDef] }),
      'Action 0 of agent `raw` was not made with action(name, triggers, fn); got an object.',
    ],
    [
      'a bad input schema',
      () => defineAgent({ name: 's', input: {} as never, actions: [action('a', InputEvent, noop)] }),
      'The `input` of agent `s` must be a zod schema (e.g. z.object({...})), got an object that is not a schema.',
    ],
    [
      'bad resources',
      () => defineAgent({ name: 'r', resources: [] as never, actions: [action('a', InputEvent, noop)] }),
      'The `resources` of agent `r` must be an object of named resources, got an array.',
    ],
  ];
  for (const [what, fn, message] of cases) {
    it(`rejects ${what} with a message that says what to fix`, () => {
      expect(definitionError(fn)).to.equal(message);
    });
  }
});
