/** What {@link matchError} compares: any subset of an error's fields. */
export interface ErrorMatch {
  /** The error's `name`, e.g. `'ActionError'`. */
  readonly name?: string;
  /** The error's `code`, e.g. `'ERR_ACTION_FAILED'`. */
  readonly code?: string;
  /** The whole message, or a RegExp it must match. */
  readonly message?: string | RegExp;
  /** The error's `cause`, matched the same way (or any value, compared deeply). */
  readonly cause?: ErrorMatch | ErrorMatcher | unknown;
  /** Other fields (`action`, `key`, `run`, …), compared deeply. */
  readonly [field: string]: unknown;
}

const MATCHER = Symbol.for('rx-agents.testing.error-matcher');

/** Made by {@link matchError}: stands for an error in an expected value. */
export interface ErrorMatcher {
  readonly [MATCHER]: true;
  /** The fields it compares. */
  readonly expected: ErrorMatch;
  /** Why `actual` does not match, or `undefined` if it does. */
  mismatch(actual: unknown): string | undefined;
}

/**
 * An error matcher for marble tests: `expectObservable(out).toBe('5ms #', undefined, matchError({ … }))`
 * compares only the fields given, so an `ActionError` (with its stack and cause) needs no `catchError`
 * mapping. Used by {@link createTestScheduler}'s comparison anywhere inside expected values.
 *
 * Semantics: each given field must equal the error's (`message` may be a RegExp; `cause` may itself
 * be an {@link ErrorMatch}); fields not given are not compared. A failed match shows, in the diff,
 * the actual error's fields next to what was expected.
 *
 * @example
 * expectObservable(out).toBe('5ms #', undefined, matchError({ name: 'ActionError', action: 'a', cause: { message: 'boom' } }));
 */
export function matchError(expected: ErrorMatch): ErrorMatcher {
  if (typeof expected !== 'object' || expected === null) {
    throw new TypeError(
      `Expected matchError to get the fields to match, e.g. { name: 'ActionError' }, got ${String(expected)}`,
    );
  }
  return { [MATCHER]: true, expected, mismatch: (actual) => mismatch(expected, actual, 'error') };
}

/** Is `value` made by {@link matchError}? */
export function isErrorMatcher(value: unknown): value is ErrorMatcher {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MATCHER] === true;
}

function mismatch(expected: ErrorMatch, actual: unknown, where: string): string | undefined {
  if (typeof actual !== 'object' || actual === null) return `${where} is ${String(actual)}, not an error`;
  const fields = actual as Record<string, unknown>;
  for (const [field, want] of Object.entries(expected)) {
    const got = fields[field];
    if (field === 'message' && want instanceof RegExp) {
      if (typeof got !== 'string' || !want.test(got))
        return `${where}.message ${JSON.stringify(got)} does not match ${want}`;
    } else if (field === 'cause' && isErrorMatcher(want)) {
      const inner = mismatch(want.expected, got, `${where}.cause`);
      if (inner !== undefined) return inner;
    } else if (field === 'cause' && isPlainObject(want)) {
      const inner = mismatch(want as ErrorMatch, got, `${where}.cause`);
      if (inner !== undefined) return inner;
    } else if (!sameValue(got, want)) {
      return `${where}.${field} is ${show(got)}, expected ${show(want)}`;
    }
  }
  return undefined;
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
