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

/** A `waitForEvent` timed out: thrown into the action at its deadline (catch it to go on without the event). */
export class WaitTimeoutError extends RxAgentsError {
  override readonly name = 'WaitTimeoutError';
  constructor(
    readonly action: string,
    readonly eventType: string,
    readonly timeout: number,
  ) {
    super(
      'ERR_WAIT_TIMEOUT',
      `Action \`${action}\` waited ${timeout} ms for event \`${eventType}\` and none arrived for its key. ` +
        'Catch WaitTimeoutError to go on without it, or give a longer `timeout`.',
    );
  }
}

/** A wait or a timer was asked for wrongly (a wait on OutputEvent, an undeclared signal type, a bad timeout or delay). */
export class WaitError extends RxAgentsError {
  override readonly name = 'WaitError';
  constructor(
    code: 'ERR_WAIT_OUTPUT' | 'ERR_WAIT_UNDECLARED' | 'ERR_WAIT_TIME',
    readonly action: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** Why a signal was not delivered. */
export type SignalRejection =
  | 'ERR_SIGNAL_SHAPE'
  | 'ERR_SIGNAL_UNKNOWN_TYPE'
  | 'ERR_SIGNAL_INVALID'
  | 'ERR_SIGNAL_NO_RUN'
  | 'ERR_SIGNAL_OVERFLOW'
  | 'ERR_SIGNAL_UNCONSUMED';

/**
 * A signal (an external event for a key) was not delivered; it goes to `onSignalRejected`, or —
 * without that callback — fails the stream. Never dropped in silence.
 */
export class SignalRejectedError extends RxAgentsError {
  override readonly name = 'SignalRejectedError';
  constructor(
    code: SignalRejection,
    readonly key: unknown,
    readonly eventType: string | undefined,
    message: string,
    /** The signal's event as it arrived (`ERR_SIGNAL_UNCONSUMED`: as it was buffered), so a sender can send it again later. */
    readonly event: unknown,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
