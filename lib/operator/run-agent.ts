import { from, type ObservableInput } from 'rxjs';
import { eachValueFrom } from 'rxjs-for-await';
import type { Agent } from '../agent/define-agent';
import { agentOperator } from './agent-operator';
import type { AgentOperatorOptions } from './options';

/**
 * Runs an agent over any input source and returns its outputs as an `AsyncIterable`, for
 * `for await` code that does not use RxJS itself.
 *
 * Semantics: exactly `from(inputs).pipe(agentOperator(agent, options))`, consumed with
 * rxjs-for-await's `eachValueFrom`: nothing starts until iteration starts; outputs that arrive
 * while the loop body is busy are buffered (lossless; the buffer grows if the consumer is slower
 * than the agent); `break`/`return` in the loop unsubscribes, which aborts in-flight async blocks;
 * an agent error is thrown from the loop.
 *
 * @example
 * for await (const reply of runAgent(agent, tickets, { key: (t) => t.customer })) console.log(reply);
 */
export function runAgent<In, Out, T extends In = In>(
  agent: Agent<In, Out>,
  inputs: ObservableInput<T>,
  options?: AgentOperatorOptions<T> & { readonly output?: 'payload' },
): AsyncIterable<Out> {
  return eachValueFrom(from(inputs).pipe(agentOperator(agent, options)));
}
