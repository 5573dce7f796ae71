import { expect } from 'chai';
import { z } from 'zod';
import { z as z3 } from 'zod/v3';
import * as zm from 'zod/mini';
import { AgentDefinitionError, defineAgent, defineEvent, InputEvent, action } from '../../lib';

describe('zod schemas: the peer range and what a wrong schema is told', () => {
  it('accepts zod 4 schemas (zod and zod/v4 are one entry)', async () => {
    const v4 = await import('zod/v4');
    expect(defineEvent('a', z.object({ n: z.number() })).parse({ n: 1 })).to.deep.equal({ n: 1 });
    expect(defineEvent('b', v4.z.string()).parse('x')).to.equal('x');
  });

  it('a zod 3 schema: says unsupported version or two copies of zod, and how to check (npm ls zod)', () => {
    expect(() => defineEvent('x', z3.object({}) as never)).to.throw(
      TypeError,
      'The schema of event `x` is a zod 3 schema: unsupported version, or two copies of zod are installed',
    );
    const agent = () =>
      defineAgent({ name: 's', output: z3.string() as never, actions: [action('a', InputEvent, () => {})] });
    expect(agent).to.throw(AgentDefinitionError, 'The `output` of agent `s` is a zod 3 schema');
    expect(agent).to.throw(AgentDefinitionError, '`npm ls zod` should show one copy (`npm dedupe` merges them)');
  });

  it('a zod/mini schema: says it has no parse methods and names the version', () => {
    expect(() => defineEvent('m', zm.string() as never)).to.throw(
      TypeError,
      /^The schema of event `m` is a zod schema without parse methods \(zod\/mini or zod\/v4\/core, version 4\.\d+\.\d+\)/,
    );
  });

  it('not a schema at all', () => {
    for (const [value, shown] of [
      [null, 'null'],
      [() => 1, 'a function'],
      [[], 'an array'],
      [3, '`3` (number)'],
    ] as const) {
      expect(() => defineEvent('n', value as never)).to.throw(
        TypeError,
        `The schema of event \`n\` must be a zod schema (e.g. z.object({...})), got ${shown}.`,
      );
    }
  });
});
