import { expect } from 'chai';
import { lastValueFrom, of } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { ActionError, agentOperator, defineAgent, InputEvent, OutputEvent, type RunFailure } from '../lib';
import { describeKey } from '../lib/describe-key';

/** Keys that cannot be turned into text by `String()`; each one made fresh per use. */
const hostileKeys = (): Array<[string, unknown]> => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return [
    ['a null-prototype object', Object.create(null)],
    [
      'an object whose toString throws',
      {
        toString() {
          throw new Error('no text for you');
        },
      },
    ],
    [
      'an object whose Symbol.toPrimitive throws',
      {
        [Symbol.toPrimitive]() {
          throw new Error('no primitive');
        },
      },
    ],
    ['a revoked proxy', proxy],
  ];
};

describe('describeKey: a key describer that never throws (S9)', () => {
  it('shows ordinary keys as String() does, cut when long', () => {
    expect(describeKey('user-7')).to.equal('user-7');
    expect(describeKey(42)).to.equal('42');
    expect(describeKey(null)).to.equal('null');
    expect(describeKey(undefined)).to.equal('undefined');
    expect(describeKey(10n)).to.equal('10');
    expect(describeKey(Symbol('s'))).to.equal('Symbol(s)');
    expect(describeKey(function named() {})).to.equal('[function named]');
    expect(describeKey({ toString: () => 'custom' })).to.equal('custom');
    expect(describeKey('x'.repeat(500))).to.equal(`${'x'.repeat(200)}… (500 chars)`);
  });

  it('describes keys that cannot be turned into text', () => {
    const labels = hostileKeys().map(([, key]) => describeKey(key));
    expect(labels).to.deep.equal([
      '[object null-prototype]',
      '[object Object]',
      '[object Object]',
      '[unprintable object]',
    ]);
  });

  for (const [label, key] of hostileKeys()) {
    for (const style of ['generator', 'async'] as const) {
      it(`S9 isolate: a failing ${style} run of ${label} is reported with a readable ActionError and the stream completes`, async () => {
        const failures: RunFailure[] = [];
        const agent = defineAgent({
          name: 'k',
          actions: (action) => [
            style === 'generator'
              ? action('boom', InputEvent, function* (event) {
                  if (event.payload === 'bad') throw new Error('bad input');
                  yield* [];
                })
              : action('boom', InputEvent, async (event, ctx) => {
                  await ctx.executeAsync(() => Promise.resolve(1));
                  if (event.payload === 'bad') throw new Error('bad input');
                }),
            action('echo', InputEvent, (event, ctx) => ctx.sendEvent(OutputEvent.of(event.payload))),
          ],
        });
        const out = await lastValueFrom(
          of('bad', 'good').pipe(
            agentOperator(agent, {
              key: (x) => (x === 'bad' ? key : 'control'),
              errorPolicy: 'isolate',
              onRunFailed: (f) => failures.push(f),
            }),
            toArray(),
          ),
        );
        expect(out).to.include('good');
        expect(failures).to.have.length(1);
        const error = failures[0]!.error as ActionError;
        expect(error).to.be.instanceOf(ActionError);
        expect(error.message).to.equal(
          `Action \`boom\` failed in run 0 of key \`${describeKey(key)}\`: Error: bad input`,
        );
      });
    }
  }

  it('S9 fail: the stream errors with the ActionError (not a TypeError from formatting the key)', async () => {
    const agent = defineAgent({
      name: 'k',
      actions: (action) => [
        action('boom', InputEvent, () => {
          throw new Error('bad');
        }),
      ],
    });
    for (const [, key] of hostileKeys()) {
      const error = await lastValueFrom(of(1).pipe(agentOperator(agent, { key: () => key }))).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ActionError);
    }
  });
});
