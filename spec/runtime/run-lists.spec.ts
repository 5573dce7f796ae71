/**
 * A run keeps its event queue, its calls and its still-going activations as intrusive linked
 * lists, and an activation keeps only its failed calls (lib/runtime/run.ts, activation.ts).
 * These tests pin the orders and the unread-failure rule that those lists must preserve.
 */
import { expect } from 'chai';
import { NEVER } from 'rxjs';
import { finalize } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, defineAgent, defineEvent, InputEvent, OutputEvent, type RunFailure } from '../../lib';
import { createTestScheduler, virtualDelay, virtualFailure } from '../../lib/testing';

/** Runs `agent` over `marbles` in virtual time; returns `frame:value` notifications. */
function run(
  agent: Parameters<typeof agentOperator>[0],
  marbles: string,
  options: { isolate?: (f: RunFailure) => void } = {},
): string[] {
  const ts = createTestScheduler();
  const seen: string[] = [];
  ts.run(({ cold }) => {
    const policy =
      options.isolate === undefined ? {} : { errorPolicy: 'isolate' as const, onRunFailed: options.isolate };
    cold(marbles)
      .pipe(agentOperator(agent, { scheduler: ts, ...policy }))
      .subscribe({
        next: (v) => seen.push(`${ts.now()}:${JSON.stringify(v)}`),
        error: (e: Error) => seen.push(`${ts.now()}:# ${e.message}`),
        complete: () => seen.push(`${ts.now()}:|`),
      });
  });
  return seen;
}

describe('runtime: run lists (event queue, calls, activations) and unread failures', () => {
  it('routes a run’s sent events in send order across actions and sync blocks (S3, S4, S8)', () => {
    const Step = defineEvent('step', z.object({ n: z.number() }));
    const agent = defineAgent({
      name: 'fifo',
      actions: (action) => [
        action('fan', InputEvent, (_e, ctx) => {
          for (let n = 0; n < 40; n++) ctx.sendEvent(Step.of({ n }));
        }),
        action('echo', Step, function* (event, ctx) {
          if (event.payload.n % 2 === 1) yield* ctx.executeAsync(() => virtualDelay(null, 1));
          ctx.sendEvent(OutputEvent.of(event.payload.n));
        }),
      ],
    });
    const seen = run(agent, '(a|)');
    const even = Array.from({ length: 20 }, (_, i) => `0:${2 * i}`);
    const odd = Array.from({ length: 20 }, (_, i) => `1:${2 * i + 1}`);
    expect(seen).to.deep.equal([...even, ...odd, '1:|']);
  });

  it('a call that failed while its action was still going, and that nobody read, fails the action when it finishes', () => {
    // The failure is found when the action's last sync block ends, so that block's sends are not routed.
    const agent = defineAgent({
      name: 'unread',
      actions: (action) => [
        action('act', InputEvent, function* (_e, ctx) {
          ctx.executeAsync(() => {
            throw new Error('dropped on the floor');
          });
          yield* ctx.executeAsync(() => virtualDelay(null, 4));
          ctx.sendEvent(OutputEvent.of('finished'));
        }),
      ],
    });
    expect(run(agent, '(a|)')).to.deep.equal([
      '4:# Action `act` failed in run 0 (key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined): Error: dropped on the floor',
    ]);
  });

  it('a failed call that the action read (caught) before finishing does not fail it', () => {
    const agent = defineAgent({
      name: 'read',
      actions: (action) => [
        action('act', InputEvent, function* (_e, ctx) {
          const failing = ctx.executeAsync(() => {
            throw new Error('handled');
          });
          yield* ctx.executeAsync(() => virtualDelay(null, 4));
          try {
            yield* failing;
          } catch (error) {
            ctx.sendEvent(OutputEvent.of(`caught ${(error as Error).message}`));
          }
        }),
      ],
    });
    expect(run(agent, '(a|)')).to.deep.equal(['4:"caught handled"', '4:|']);
  });

  it('the first unread failure is the one reported when several calls failed', () => {
    const agent = defineAgent({
      name: 'several',
      actions: (action) => [
        action('act', InputEvent, function* (_e, ctx) {
          ctx.executeAsync(() => {
            throw new Error('first');
          });
          ctx.executeAsync(() => {
            throw new Error('second');
          });
          yield* ctx.executeAsync(() => virtualDelay(null, 2));
        }),
      ],
    });
    expect(run(agent, '(a|)')).to.deep.equal([
      '2:# Action `act` failed in run 0 (key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined): Error: first',
    ]);
  });

  it('ctx.all that is never waited on: a failure of one of its calls still fails the action, before or after it finishes', () => {
    const make = (failAt: number) =>
      defineAgent({
        name: `all-${failAt}`,
        actions: (action) => [
          action('act', InputEvent, function* (_e, ctx) {
            ctx.all([
              ctx.executeAsync(() => virtualDelay(1, 1)),
              ctx.executeAsync(() => virtualFailure(new Error('boom'), failAt)),
            ]);
            yield* ctx.executeAsync(() => virtualDelay(null, 3));
          }),
        ],
      });
    // The failing block errors at frame `failAt`; the action finishes at frame 3.
    expect(run(make(2), '(a|)')).to.deep.equal([
      '3:# Action `act` failed in run 0 (key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined): Error: boom',
    ]);
    expect(run(make(5), '(a|)')).to.deep.equal([
      '5:# Action `act` failed in run 0 (key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined): Error: boom',
    ]);
  });

  it('abandoning a run (isolate) aborts its in-flight calls in call order and ends suspended actions in start order', () => {
    const log: string[] = [];
    const pending = (name: string) => () => NEVER.pipe(finalize(() => log.push(`unsubscribed ${name}`)));
    const agent = defineAgent({
      name: 'abandon',
      actions: (action) => [
        action('first', InputEvent, function* (_e, ctx) {
          try {
            ctx.executeAsync(pending('c1'));
            yield* ctx.executeAsync(pending('c2'));
          } finally {
            log.push('first finally');
          }
        }),
        action('fire-and-forget', InputEvent, (_e, ctx) => {
          ctx.executeAsync(pending('c3'));
        }),
        action('second', InputEvent, function* (_e, ctx) {
          try {
            yield* ctx.executeAsync(pending('c4'));
          } finally {
            log.push('second finally');
          }
        }),
        action('failing', InputEvent, function* (_e, ctx) {
          yield* ctx.executeAsync(() => virtualDelay(null, 2));
          throw new Error('stop');
        }),
      ],
    });
    const failures: RunFailure[] = [];
    expect(run(agent, '(a|)', { isolate: (f) => failures.push(f) })).to.deep.equal(['2:|']);
    expect(failures.map((f) => f.error.message)).to.deep.equal([
      'Action `failing` failed in run 0 (key `undefined`: no key selector was given, so all inputs share one key, or it returned undefined): Error: stop',
    ]);
    expect(log).to.deep.equal([
      'unsubscribed c1',
      'unsubscribed c2',
      'unsubscribed c3',
      'unsubscribed c4',
      'first finally',
      'second finally',
    ]);
  });
});
