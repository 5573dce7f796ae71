import { from, lastValueFrom } from 'rxjs';
import { count } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, defineAgent, defineEvent, InputEvent, OutputEvent } from '../../lib';
const Left = defineEvent('left', z.object({ value: z.number() }));
const Right = defineEvent('right', z.object({ value: z.number() }));
const agent = defineAgent<{ key: number; value: number }>({
  name: 'routing',
  actions: (action) => [
    action('a1', InputEvent, (event, ctx) => ctx.sendEvent(Left.of({ value: event.payload.value }))),
    action('a2', InputEvent, (event, ctx) => ctx.sendEvent(Right.of({ value: event.payload.value + 1 }))),
    action('onLeft', Left, (event, ctx) => ctx.sendEvent(OutputEvent.of(event.payload.value))),
    action('onRight', Right, (event, ctx) => ctx.sendEvent(OutputEvent.of(event.payload.value))),
  ],
});
const validate = process.argv[2] !== 'novalidate';
const inputs = Array.from({ length: 1_000_000 }, (_, i) => ({ key: i % 1000, value: i }));
(async () => {
  for (let r = 0; r < 4; r++) {
    const t0 = performance.now();
    await lastValueFrom(from(inputs).pipe(agentOperator(agent, { key: (x) => x.key, validateEvents: validate }), count()));
    console.log(validate, Math.round(1e6 / ((performance.now() - t0) / 1000)));
  }
})();
