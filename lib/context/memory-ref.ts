/** JSON-like data: what memory can hold and what survives a round trip through a store. */
export type MemoryValue =
  null | boolean | number | string | readonly MemoryValue[] | { readonly [k: string]: MemoryValue };

/**
 * The compile-time check of a memory type `T`: satisfied (`unknown`) when `T` is JSON-like data —
 * strings, finite numbers, booleans, `null`, arrays and tuples of them, and objects of them,
 * including interfaces without an index signature and optional fields as zod infers them
 * (`name?: string | undefined`). Otherwise it is the shape `T` fails, so a function, a symbol, a
 * bigint, a `Date`, a `Map` or an object with a method is a compile error where it sits.
 *
 * It is structural: a class instance with data fields only passes here and is still refused at run
 * time (`MemoryValueError`), and an optional field set to `undefined` is refused at run time too
 * (omit it, or `delete` the path).
 *
 * @example
 * interface User { name: string; tags: string[]; city?: string }
 * ctx.shortTermMemory.get<User>('user');        // ok: an interface
 * ctx.shortTermMemory.set('at', new Date());    // compile error: store `date.toISOString()`
 */
export type MemoryData<T> = [T] extends [MemoryValue]
  ? unknown
  : [T] extends [MemoryShape<T>]
    ? unknown
    : MemoryShape<T>;

/** The JSON-like shape of `T` (internal helper of {@link MemoryData}); a part that cannot be stored becomes `never`. */
type MemoryShape<T> = T extends string | number | boolean | null
  ? T
  : T extends (...args: never[]) => unknown
    ? never
    : T extends readonly unknown[]
      ? { readonly [I in keyof T]: MemoryShape<T[I]> }
      : T extends object
        ? { readonly [K in keyof T]: K extends string ? MemoryField<T[K]> : never }
        : never;

/** An object field: `undefined` is allowed beside the value, as zod infers optional fields (internal helper). */
type MemoryField<T> = T extends undefined ? undefined : MemoryShape<T>;

/**
 * A view of one memory (short-term: per key, survives runs; sensory: per run).
 * Paths are dot-separated: `set('user.name', 'ada')` then `get('user')` is `{ name: 'ada' }`.
 *
 * Semantics: values are validated and deep-copied (then frozen) at `set`, so a later change
 * to the object you passed cannot change memory, and what you read is exactly what a store
 * will persist and restore. Only JSON-like data is accepted (see {@link MemoryValue}); the types
 * say so at compile time (see {@link MemoryData}).
 *
 * @example
 * ctx.shortTermMemory.set('user.name', 'ada');
 * ctx.shortTermMemory.get('user'); // { name: 'ada' }
 * const user = ctx.shortTermMemory.get<z.infer<typeof User>>('user'); // a zod type or an interface
 */
export interface MemoryRef {
  /**
   * The value at `path`, or `undefined`. A path that holds nested values returns a fresh plain object.
   * `T` is what you know is there (not checked at run time); it must be JSON-like ({@link MemoryData}).
   */
  get<T extends MemoryData<T> = MemoryValue>(path: string): T | undefined;
  /** Stores `value` at `path`, creating intermediate levels. Throws `MemoryValueError` for non-JSON-like values. */
  set<T extends MemoryData<T>>(path: string, value: T): void;
  has(path: string): boolean;
  /** Removes the value or subtree at `path`; returns whether something was there. */
  delete(path: string): boolean;
  /** The names directly under `path` (or at the top level), in insertion order. */
  keys(path?: string): string[];
  /** The whole memory as a plain object. */
  toJSON(): Record<string, MemoryValue>;
}
