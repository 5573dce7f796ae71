/** JSON-like data: what memory can hold and what survives a round trip through a store. */
export type MemoryValue =
  null | boolean | number | string | readonly MemoryValue[] | { readonly [k: string]: MemoryValue };

/**
 * A view of one memory (short-term: per key, survives runs; sensory: per run).
 * Paths are dot-separated: `set('user.name', 'ada')` then `get('user')` is `{ name: 'ada' }`.
 *
 * Semantics: values are validated and deep-copied (then frozen) at `set`, so a later change
 * to the object you passed cannot change memory, and what you read is exactly what a store
 * will persist and restore. Only JSON-like data is accepted (see {@link MemoryValue}).
 *
 * @example
 * ctx.shortTermMemory.set('user.name', 'ada');
 * ctx.shortTermMemory.get('user'); // { name: 'ada' }
 */
export interface MemoryRef {
  /** The value at `path`, or `undefined`. A path that holds nested values returns a fresh plain object. */
  get<T extends MemoryValue = MemoryValue>(path: string): T | undefined;
  /** Stores `value` at `path`, creating intermediate levels. Throws `MemoryValueError` for non-JSON-like values. */
  set(path: string, value: MemoryValue): void;
  has(path: string): boolean;
  /** Removes the value or subtree at `path`; returns whether something was there. */
  delete(path: string): boolean;
  /** The names directly under `path` (or at the top level), in insertion order. */
  keys(path?: string): string[];
  /** The whole memory as a plain object. */
  toJSON(): Record<string, MemoryValue>;
}
