import { from, isObservable, type Observable, type ObservableInput } from 'rxjs';
import { eachValueFrom } from 'rxjs-for-await';
import type { Agent } from '../agent/define-agent';
import { agentOperator, runtimeStarter } from './agent-operator';
import { optionError } from '../errors';
import type { AgentOperatorOptions } from './options';

/** Options of {@link runAgent}: the operator's options plus the pull bound. */
export type RunAgentOptions<T, Key = unknown> = AgentOperatorOptions<T, Key> & {
  readonly output?: 'payload';
  /**
   * Pull sources (AsyncIterables) only: at most this many accepted inputs may be unfinished
   * (running or waiting) at once; the next input is pulled only below it. @default 1024
   */
  readonly maxInFlight?: number;
};

/**
 * Runs an agent over any input source and returns its outputs as an `AsyncIterable`, for
 * `for await` code that does not use RxJS itself.
 *
 * Semantics: `from(inputs).pipe(agentOperator(agent, options))`, consumed with rxjs-for-await's
 * `eachValueFrom`: nothing starts until iteration starts; outputs that arrive while the loop body
 * is busy are buffered (lossless; the buffer grows if the consumer is slower than the agent);
 * `break`/`return` in the loop unsubscribes, which aborts in-flight async blocks and returns the
 * input iterator; an agent error is thrown from the loop.
 *
 * Backpressure: when `inputs` is an `AsyncIterable` (a queue consumer, a paginated API, a file
 * reader) it is *pulled*: the next input is taken only while fewer than `maxInFlight` accepted
 * inputs are unfinished and fewer than `maxBufferedInputs` wait behind their keys' active runs,
 * so memory stays bounded and nothing overflows or is dropped — the source simply waits. Push
 * sources (Observables, arrays) are subscribed as usual (bound them with `maxBufferedInputs`).
 *
 * @example
 * for await (const reply of runAgent(agent, tickets, { key: (t) => t.customer })) console.log(reply);
 */
export function runAgent<In, Out, Key, T extends In = In>(
  agent: Agent<In, Out, Key>,
  inputs: ObservableInput<T>,
  options: RunAgentOptions<T, NoInfer<Key>> = {},
): AsyncIterable<Out> {
  const { maxInFlight = 1024, ...operatorOptions } = options;
  if (!((Number.isInteger(maxInFlight) && maxInFlight >= 1) || maxInFlight === Infinity)) {
    throw optionError('maxInFlight', 'an integer >= 1 or Infinity', maxInFlight);
  }
  const outputs =
    isAsyncIterable(inputs) && !isObservable(inputs)
      ? (pulled(agent, inputs, operatorOptions, maxInFlight) as Observable<Out>)
      : from(inputs as ObservableInput<T>).pipe(agentOperator(agent, operatorOptions));
  return eachValueFrom(outputs);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

/** Runs the agent over a pull source, taking the next input only when the input buffer has room. */
function pulled<In, T extends In>(
  agent: Agent<In, unknown>,
  inputs: AsyncIterable<T>,
  options: AgentOperatorOptions<T>,
  maxInFlight: number,
): Observable<unknown> {
  return runtimeStarter(
    agent,
    options as AgentOperatorOptions<In> | undefined,
  )((runtime, subscriber) => {
    const iterator = inputs[Symbol.asyncIterator]();
    subscriber.add(() => void iterator.return?.()?.catch(() => undefined));
    const pump = async (): Promise<void> => {
      for (;;) {
        const room = runtime.whenRoom(maxInFlight);
        if (room !== undefined) await room;
        if (subscriber.closed) return;
        const step = await iterator.next();
        if (subscriber.closed) return;
        if (step.done === true) return runtime.sourceComplete();
        runtime.accept(step.value);
      }
    };
    pump().catch((error: unknown) => runtime.sourceError(error));
  });
}
