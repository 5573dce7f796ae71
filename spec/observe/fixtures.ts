import { z } from 'zod';
import { defineAgent, defineEvent, InputEvent, OutputEvent } from '../../lib';
import { virtualDelay, virtualFailure } from '../../lib/testing';

export interface Job {
  readonly id: number;
  readonly key: string;
  /** Frames the lookup block takes. */
  readonly work: number;
  readonly fail?: boolean | undefined;
}

export const byKey = (x: Job): string => x.key;
export const Looked = defineEvent('looked', z.object({ id: z.number(), value: z.string() }));

/**
 * A small agent in the seed's shape, for observability specs: `lookup` runs one async block of
 * `work` frames (failing when `fail`), `audit` runs in parallel on the same input, `reply` emits.
 */
export function jobAgent() {
  return defineAgent({
    name: 'jobs',
    input: z.object({ id: z.number(), key: z.string(), work: z.number(), fail: z.boolean().optional() }),
    actions: (action) => [
      action('lookup', InputEvent, function* (event, ctx) {
        const job = event.payload;
        const value = yield* ctx.executeAsync(
          (j: Job) =>
            j.fail === true
              ? virtualFailure(new Error(`lookup ${j.id} broke`), j.work)
              : virtualDelay(`v${j.id}`, j.work),
          job,
        );
        ctx.sendEvent(Looked.of({ id: job.id, value }));
      }),
      action('audit', InputEvent, function* (event, ctx) {
        yield* ctx.executeAsync(() => virtualDelay(true, 1));
        ctx.sensoryMemory.set('audited', event.payload.id);
      }),
      action('reply', Looked, (event, ctx) =>
        ctx.sendEvent(OutputEvent.of(`${event.payload.id}:${event.payload.value}`)),
      ),
    ],
  });
}
