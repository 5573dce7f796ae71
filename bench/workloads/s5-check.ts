/**
 * s5-check: what S5's stack check costs async actions (lib/runtime/action-frames.ts). Per input, an
 * async action uses its context `uses` times (memory get + set count as two), awaits one async block
 * (a resolved Promise), and uses it `uses` times again: two turns of the action's own code. The first
 * (before the first await) is checked without a stack; the second captures one stack, once for all its
 * uses. 20k inputs over 1000 keys. Unit: inputs/s (higher is better).
 *
 * Reference: the same workload, in the same process, with the check turned off (`setOwnCodeCheck(false)`:
 * the scope-only rule). Also reported: the cost per context use and per turn, from the two times.
 */
import { from, lastValueFrom } from 'rxjs';
import { count } from 'rxjs/operators';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { setOwnCodeCheck } from '../../lib/runtime/action-frames';
import { alternate, result, type BenchResult } from '../harness';

interface In {
  readonly key: number;
  readonly id: number;
}

function agentWith(uses: number) {
  return defineAgent<In>({
    name: 's5-check',
    actions: (action) => [
      action('a', InputEvent, async (event, ctx) => {
        for (let i = 0; i < uses / 2; i++)
          ctx.shortTermMemory.set('n', ((ctx.shortTermMemory.get('n') as number) ?? 0) + 1);
        await ctx.executeAsync(() => Promise.resolve(event.payload.id));
        for (let i = 0; i < uses / 2; i++)
          ctx.shortTermMemory.set('n', ((ctx.shortTermMemory.get('n') as number) ?? 0) + 1);
        ctx.sendEvent(OutputEvent.of(event.payload.id));
      }),
    ],
  });
}

function once(agent: ReturnType<typeof agentWith>, inputs: readonly In[], check: boolean): Promise<number> {
  setOwnCodeCheck(check);
  return lastValueFrom(from(inputs).pipe(agentOperator(agent, { key: (x) => x.key }), count())).finally(() =>
    setOwnCodeCheck(true),
  );
}

export async function run({ quick }: { readonly quick: boolean }): Promise<BenchResult[]> {
  const n = quick ? 20_000 : 100_000;
  const inputs = Array.from({ length: n }, (_, id) => ({ key: id % 1000, id }));
  const out: BenchResult[] = [];
  for (const uses of [2, 20]) {
    const agent = agentWith(uses);
    const got = [await once(agent, inputs, true), await once(agent, inputs, false)];
    if (got[0] !== n || got[1] !== n) throw new Error(`s5-check: expected ${n} outputs, got ${got.join(' / ')}`);
    const t = await alternate(quick ? 5 : 7, {
      checked: () => once(agent, inputs, true),
      unchecked: () => once(agent, inputs, false),
    });
    const extraUs = ((t.checked - t.unchecked) * 1000) / n; // µs per input
    out.push(
      result(
        's5-check',
        { inputs: n, keys: 1000, usesPerInput: uses * 2, turnsPerInput: 2, checkedTurnsPerInput: 1 },
        n / (t.checked / 1000),
        n / (t.unchecked / 1000),
        'inputs/s',
        'higher',
        {
          extraMicrosecondsPerInput: Math.round(extraUs * 100) / 100,
          // one turn per input captures a stack (the continuation after the await)
          extraMicrosecondsPerCheckedTurn: Math.round(extraUs * 100) / 100,
          extraMicrosecondsPerUse: Math.round((extraUs / (uses * 2)) * 1000) / 1000,
        },
      ),
    );
  }
  return out;
}
