import { expect } from 'chai';
import { z } from 'zod';
import { defineEvent } from '../../lib';

const Other = defineEvent('other', z.string());

describe('defineEvent', () => {
  const Scored = defineEvent('scored', z.object({ id: z.number(), score: z.number().min(0).max(1) }));

  it('creates, recognises and validates events', () => {
    const e = Scored.of({ id: 1, score: 0.5 });
    expect(e).to.deep.equal({ type: 'scored', id: '', payload: { id: 1, score: 0.5 } });
    expect(Scored.is(e)).to.equal(true);
    expect(Scored.is(Other.of('x'))).to.equal(false);
    expect(Scored.is(null)).to.equal(false);
    expect(Scored.parse({ id: 2, score: 1 })).to.deep.equal({ id: 2, score: 1 });
  });

  it('rejects an invalid payload with EventValidationError carrying zod issues as data', () => {
    try {
      Scored.parse({ id: 'x', score: 2 });
      expect.fail('should throw');
    } catch (error) {
      const e = error as import('../../lib').EventValidationError;
      expect(e.name).to.equal('EventValidationError');
      expect(e.code).to.equal('ERR_EVENT_VALIDATION');
      expect(e.issues.map((i) => [i.path.join('.'), i.code])).to.deep.equal([
        ['id', 'invalid_type'],
        ['score', 'too_big'],
      ]);
      expect(e.message).to.equal(
        'Invalid payload for event `scored` when it was sent: id: Invalid input: expected number, received string; score: Too big: expected number to be <=1. Fix the payload or the schema given to defineEvent.',
      );
    }
  });

  it('rejects a bad type name or schema at definition', () => {
    expect(() => defineEvent('', z.string())).to.throw(
      TypeError,
      'Expected the event type name to be a non-empty string, got `` (string)',
    );
    expect(() => defineEvent('x', {} as never)).to.throw(
      TypeError,
      'The schema of event `x` must be a zod schema (e.g. z.object({...})), got an object that is not a schema.',
    );
  });
});
