import type { AsyncCallOptions } from '../context/call';

/** The most `retries` a call may have: its attempt count shares one number with its flags (lib/runtime/async-call.ts). */
export const MAX_RETRIES = 1_000_000;

/**
 * Checks the options of `ctx.executeAsyncWith` where they are given, so a typo fails the action
 * with a `TypeError` that says what is wrong (instead of a retry count that silently never retries).
 */
export function checkCallOptions(options: AsyncCallOptions, action: string): void {
  const where = `executeAsyncWith in action \`${action}\``;
  const bad = (name: string, expected: string, value: unknown): TypeError =>
    new TypeError(`Expected \`${name}\` of ${where} to be ${expected}, got \`${String(value)}\` (${typeof value}).`);
  const { timeout, retries, retryDelay, retryIf, budget, reconcile } = options;
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0 && !Number.isNaN(timeout)))
    throw bad('timeout', 'a number of ms > 0', timeout);
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0 && retries <= MAX_RETRIES))
    throw bad('retries', `an integer from 0 to ${MAX_RETRIES}`, retries);
  if (
    retryDelay !== undefined &&
    typeof retryDelay !== 'function' &&
    !(typeof retryDelay === 'number' && retryDelay >= 0 && Number.isFinite(retryDelay))
  )
    throw bad(
      'retryDelay',
      'a number of ms >= 0 or a function (attempt, error) => ms, e.g. exponentialBackoff()',
      retryDelay,
    );
  if (retryIf !== undefined && typeof retryIf !== 'function')
    throw bad('retryIf', 'a function (error) => boolean', retryIf);
  if (budget !== undefined && (typeof budget !== 'string' || budget.length === 0))
    throw bad('budget', 'the name of a budget given to createBudgets', budget);
  if (reconcile !== undefined && typeof reconcile !== 'function') throw bad('reconcile', 'a function', reconcile);
}
