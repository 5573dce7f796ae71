import type { MemoryValue } from '../context/memory-ref';
import { MAX_MEMORY_DEPTH, MAX_MEMORY_PATH_SEGMENTS, MemoryPathError, MemoryValueError, describe } from '../errors';

/** A level of memory. Leaves are frozen values; levels are `MemoryNode`s. */
export class MemoryNode {
  readonly children = new Map<string, MemoryNode | MemoryValue>();

  static fromJSON(data: Record<string, MemoryValue>): MemoryNode {
    const node = new MemoryNode();
    for (const name of Object.keys(data)) node.children.set(name, freezeValue(data[name] as MemoryValue));
    return node;
  }

  get size(): number {
    return this.children.size;
  }

  get(path: string): MemoryValue | undefined {
    const found = this.find(split(path));
    return found instanceof MemoryNode ? found.toJSON() : found;
  }

  set(path: string, value: MemoryValue): void {
    const parts = split(path);
    const copy = checkValue(value, path);
    let node: MemoryNode = this;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i] as string;
      const next = node.children.get(part);
      if (next instanceof MemoryNode) node = next;
      else {
        // A stored plain object is a level too (S13: memory restored from a store holds levels as plain objects).
        const created = isRecord(next) ? MemoryNode.fromJSON(next) : new MemoryNode();
        node.children.set(part, created);
        node = created;
      }
    }
    node.children.set(parts[parts.length - 1] as string, copy);
  }

  has(path: string): boolean {
    return this.find(split(path)) !== undefined;
  }

  delete(path: string): boolean {
    const parts = split(path);
    const last = parts[parts.length - 1] as string;
    if (!this.has(path)) return false;
    let node: MemoryNode = this;
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i] as string;
      let next = node.children.get(part);
      // A stored plain object becomes a level, so deleting inside it works the same before and after a restore.
      if (!(next instanceof MemoryNode))
        node.children.set(part, (next = MemoryNode.fromJSON(next as Record<string, MemoryValue>)));
      node = next;
    }
    return node.children.delete(last);
  }

  keys(path?: string): string[] {
    const node = path === undefined ? this : this.find(split(path));
    if (node instanceof MemoryNode) return [...node.children.keys()];
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) return Object.keys(node);
    return [];
  }

  toJSON(): Record<string, MemoryValue> {
    const out: Record<string, MemoryValue> = {};
    for (const [name, child] of this.children) out[name] = child instanceof MemoryNode ? child.toJSON() : child;
    return out;
  }

  private find(parts: readonly string[]): MemoryNode | MemoryValue | undefined {
    let current: MemoryNode | MemoryValue | undefined = this;
    for (const part of parts) {
      if (current instanceof MemoryNode) current = current.children.get(part);
      else if (
        current !== null &&
        typeof current === 'object' &&
        !Array.isArray(current) &&
        Object.hasOwn(current, part)
      ) {
        current = (current as Record<string, MemoryValue>)[part];
      } else return undefined;
    }
    return current;
  }
}

const pathCache = new Map<string, readonly string[]>();

function split(path: string): readonly string[] {
  const cached = pathCache.get(path);
  if (cached !== undefined) return cached;
  if (typeof path !== 'string' || path.length === 0) throw new MemoryPathError(path);
  const parts = path.split('.');
  if (parts.length > MAX_MEMORY_PATH_SEGMENTS)
    throw new MemoryPathError(path, `it has ${parts.length} segments; nest the data in the value instead`);
  for (const part of parts) {
    if (part.length === 0) throw new MemoryPathError(path, 'a segment is empty');
    if (part === '__proto__') throw new MemoryPathError(path, 'the segment `__proto__` is not allowed');
  }
  if (pathCache.size < 10_000) pathCache.set(path, parts);
  return parts;
}

/**
 * Validates `value` and returns a frozen deep copy; throws {@link MemoryValueError} naming the bad
 * spot — also when merely reading the value throws (a getter, a Proxy trap, a revoked Proxy).
 */
export function checkValue(value: unknown, path: string): MemoryValue {
  const walk: Walk = { seen: new Set(), at: path };
  try {
    return copyValue(value, path, walk, 0);
  } catch (error) {
    if (error instanceof MemoryValueError) throw error;
    throw new MemoryValueError(walk.at, `reading the value threw (${describe(error)})`, { cause: error });
  }
}

/** The state of one {@link checkValue} walk: objects on the current path (cycles), and where it is (for errors thrown by user code). */
interface Walk {
  readonly seen: Set<object>;
  at: string;
}

function copyValue(value: unknown, path: string, walk: Walk, depth: number): MemoryValue {
  walk.at = path;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new MemoryValueError(path, `${value} is not a finite number`);
      return value;
    case 'undefined':
      throw new MemoryValueError(path, 'undefined is not storable (use delete to remove a value)');
    case 'bigint':
      throw new MemoryValueError(path, 'a bigint is not storable (store it as a string)');
    case 'function':
    case 'symbol':
      throw new MemoryValueError(path, `a ${typeof value} is not storable`);
  }
  if (value === null) return null;
  const obj = value as object;
  const seen = walk.seen;
  if (seen.has(obj)) throw new MemoryValueError(path, 'the value contains a cycle');
  if (depth >= MAX_MEMORY_DEPTH) throw new MemoryValueError(path, `it nests deeper than ${MAX_MEMORY_DEPTH} levels`);
  seen.add(obj);
  let out: MemoryValue;
  if (Array.isArray(obj)) {
    const items = new Array<MemoryValue>(obj.length);
    for (let i = 0; i < obj.length; i++) {
      walk.at = `${path}[${i}]`;
      // A hole reads as undefined and comes back from a store as null or undefined: refuse it here, where it is made.
      if (!(i in obj))
        throw new MemoryValueError(
          walk.at,
          'a hole in an array (a sparse array) is not storable; fill it, e.g. with null',
        );
      items[i] = copyValue(obj[i], walk.at, walk, depth + 1);
    }
    out = Object.freeze(items);
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj.constructor as { name?: string } | undefined)?.name ?? 'unknown';
      throw new MemoryValueError(
        path,
        `a ${name} instance is not storable${name === 'Date' ? ' (store date.toISOString())' : ''}`,
      );
    }
    const copy: Record<string, MemoryValue> = {};
    if (Object.hasOwn(obj, '__proto__'))
      throw new MemoryValueError(
        `${path}.__proto__`,
        'the key `__proto__` is not storable (it would change the prototype of restored objects)',
      );
    for (const name of Object.keys(obj)) {
      const at = `${path}.${name}`;
      walk.at = at; // a getter that throws is reported at its own path
      copy[name] = copyValue((obj as Record<string, unknown>)[name], at, walk, depth + 1);
    }
    out = Object.freeze(copy);
  }
  seen.delete(obj);
  return out;
}

function freezeValue(value: MemoryValue): MemoryValue {
  return checkValue(value, '(restored)');
}

function isRecord(value: MemoryNode | MemoryValue | undefined): value is { readonly [k: string]: MemoryValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof MemoryNode);
}
