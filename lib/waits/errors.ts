import { RxAgentsError } from '../errors';

/**
 * Errors of the "waiting for the world" features: named budgets, retries with backoff, joins,
 * waits for external events, timers and busy-key policies. Same contract as `lib/errors.ts`:
 * a fixed `name`, a string `code`, a `cause` where one is wrapped, and a message that says what
 * is wrong, where, and what to do.
 */

/** `executeAsyncWith({ budget })` names a budget the operator was not given. */
export class UnknownBudgetError extends RxAgentsError {
  override readonly name = 'UnknownBudgetError';
  constructor(
    readonly budget: string,
    readonly action: string,
    known: readonly string[],
  ) {
    super(
      'ERR_UNKNOWN_BUDGET',
      `Action \`${action}\` asked for budget \`${budget}\`, but the operator has ` +
        (known.length === 0
          ? 'no budgets: pass `budgets: createBudgets({ ... })` to agentOperator.'
          : `only ${known.map((n) => `\`${n}\``).join(', ')}. Add it to createBudgets({ ... }) or fix the name.`),
    );
  }
}

/** A call's `retryIf` predicate or `retryDelay` function threw: the call fails with this error (`cause`: what was thrown). */
export class RetryPolicyError extends RxAgentsError {
  override readonly name = 'RetryPolicyError';
  constructor(
    readonly action: string,
    readonly option: 'retryIf' | 'retryDelay',
    cause: unknown,
  ) {
    super(
      'ERR_RETRY_POLICY',
      `The \`${option}\` of a call in action \`${action}\` threw, so the call failed without another attempt. ` +
        (option === 'retryIf'
          ? 'Make retryIf return a boolean for every error it gets.'
          : 'Make retryDelay return a number of ms for every attempt.'),
      { cause },
    );
  }
}
