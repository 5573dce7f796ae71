import { TestScheduler } from 'rxjs/testing';
import { isErrorMatcher } from './match-error';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { deepStrictEqual } = process.getBuiltinModule('node:assert');

/**
 * A TestScheduler that compares with `assert.deepStrictEqual`, where a {@link matchError} in the
 * expected value matches an error by the fields it names. Inside `scheduler.run(...)`, give it to
 * `agentOperator(agent, { scheduler })` and use Observable-returning async blocks (e.g.
 * {@link virtualDelay}); the agent is then deterministic in virtual time (S11).
 *
 * Semantics: a TestScheduler cannot see Promises, so under it an async action, or an async block
 * that returns a Promise, fails with `VirtualTimeError` saying what to change (instead of a marble
 * that silently shows nothing).
 *
 * @example
 * const ts = createTestScheduler();
 * ts.run(({ cold, expectObservable }) => {
 *   expectObservable(cold('a|').pipe(agentOperator(agent, { scheduler: ts }))).toBe('5ms (x|)', { x: 'done a' });
 * });
 */
export function createTestScheduler(
  assertEqual: (actual: unknown, expected: unknown) => void = (actual, expected) =>
    deepStrictEqual(actual, withMatchersResolved(expected, actual)),
): TestScheduler {
  return new TestScheduler(assertEqual);
}

/**
 * `expected` with each error matcher replaced by the actual value it matched, or, where it did
 * not match, by a record of why, so the assertion's diff points at it.
 */
export function withMatchersResolved(expected: unknown, actual: unknown): unknown {
  if (isErrorMatcher(expected)) {
    const why = expected.mismatch(actual);
    return why === undefined ? actual : { 'matchError failed': why, expected: expected.expected };
  }
  if (Array.isArray(expected)) {
    return expected.map((e: unknown, i) => withMatchersResolved(e, Array.isArray(actual) ? actual[i] : undefined));
  }
  if (typeof expected === 'object' && expected !== null && Object.getPrototypeOf(expected) === Object.prototype) {
    const out: Record<string, unknown> = {};
    const from = typeof actual === 'object' && actual !== null ? (actual as Record<string, unknown>) : {};
    for (const [k, v] of Object.entries(expected)) out[k] = withMatchersResolved(v, from[k]);
    return out;
  }
  return expected;
}
