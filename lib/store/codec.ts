import { JournalValueError } from '../errors';

/**
 * The journal's value encoding: JSON text, with tagged objects (`{"$rx": tag, "v": …}`) for the
 * values JSON would silently change. Round trips are exact for JSON-like data and for
 * `undefined`, `NaN`, `±Infinity`, `-0`, `BigInt`, `Date`, `Map` and `Set` (nested freely).
 * Anything else (class instances, functions, symbols, cycles) is rejected with
 * {@link JournalValueError} naming the spot — never stored as something else.
 */
const TAG = '$rx';

/** Encodes `value` as journal text; `where` names it in errors (e.g. "the result of call `3>a#0`"). */
export function encodeValue(value: unknown, where: string): string {
  return encodePlain(value) ?? JSON.stringify(toJson(value, where, '(value)', new Set()));
}

/**
 * The fast path of {@link encodeValue}: the text of a primitive JSON keeps as it is, or of a
 * plain object whose own values all are such primitives (the common payload, result and memory
 * shapes), built without the copy and cycle set of the general path. `undefined` when the value
 * needs the general path; the text is then exactly what the general path makes. Reads each
 * property once (a getter runs once, as in the general path).
 */
function encodePlain(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? String(value) : undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 'null';
  if (Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  let text = '{';
  for (const name of Object.keys(value)) {
    if (name === TAG || name === '__proto__') return undefined;
    const item = (value as Record<string, unknown>)[name];
    let part: string;
    if (typeof item === 'number') {
      if (!Number.isFinite(item) || Object.is(item, -0)) return undefined;
      part = String(item);
    } else if (typeof item === 'string') part = JSON.stringify(item);
    else if (typeof item === 'boolean') part = item ? 'true' : 'false';
    else if (item === null) part = 'null';
    else return undefined;
    text += `${text.length === 1 ? '' : ','}${JSON.stringify(name)}:${part}`;
  }
  return `${text}}`;
}

/** Decodes journal text made by {@link encodeValue}. */
export function decodeValue(text: string): unknown {
  return fromJson(JSON.parse(text));
}

/** An encoded error: enough to rethrow a faithful `Error` on replay. */
interface ErrorRecord {
  readonly [TAG]: 'error';
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

/**
 * Encodes a thrown value. An `Error` keeps its `name`, `message`, `code` and `stack`; other thrown
 * values are encoded as values (or, if they are not encodable, described as an `Error`).
 */
export function encodeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const record: ErrorRecord = {
      [TAG]: 'error',
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof error.stack === 'string' ? { stack: error.stack } : {}),
    };
    return JSON.stringify(record);
  }
  try {
    return encodeValue(error, 'a thrown value');
  } catch {
    return JSON.stringify({ [TAG]: 'error', name: 'Error', message: String(error) } satisfies ErrorRecord);
  }
}

/** Decodes a thrown value made by {@link encodeError}: an `Error` with the recorded name, message, code and stack. */
export function decodeError(text: string): unknown {
  return decodeValue(text);
}

function toJson(value: unknown, where: string, path: string, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { [TAG]: 'num', v: Object.is(value, -0) ? '-0' : String(value) };
    case 'undefined':
      return { [TAG]: 'undef' };
    case 'bigint':
      return { [TAG]: 'bigint', v: value.toString() };
    case 'function':
    case 'symbol':
      throw new JournalValueError(where, path, `a ${typeof value} is not data`);
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) throw new JournalValueError(where, path, 'the value contains a cycle');
  seen.add(obj);
  let out: unknown;
  if (Array.isArray(obj)) {
    out = Array.from(obj, (item, i) => toJson(item, where, `${path}[${i}]`, seen));
  } else if (obj instanceof Date) {
    out = { [TAG]: 'date', v: obj.getTime() };
    if (Number.isNaN(obj.getTime())) out = { [TAG]: 'date', v: null };
  } else if (obj instanceof Map) {
    out = {
      [TAG]: 'map',
      v: Array.from(obj, ([k, v], i) => [
        toJson(k, where, `${path}<key ${i}>`, seen),
        toJson(v, where, `${path}<value ${i}>`, seen),
      ]),
    };
  } else if (obj instanceof Set) {
    out = { [TAG]: 'set', v: Array.from(obj, (v, i) => toJson(v, where, `${path}<item ${i}>`, seen)) };
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj.constructor as { name?: string } | undefined)?.name ?? 'unknown';
      throw new JournalValueError(where, path, `a ${name} instance is not data`);
    }
    const copy: Record<string, unknown> = {};
    for (const name of Object.keys(obj))
      put(copy, name, toJson((obj as Record<string, unknown>)[name], where, `${path}.${name}`, seen));
    out = Object.hasOwn(obj, TAG) ? { [TAG]: 'obj', v: copy } : copy;
  }
  seen.delete(obj);
  return out;
}

function fromJson(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) {
    for (let i = 0; i < json.length; i++) json[i] = fromJson(json[i]);
    return json;
  }
  const obj = json as Record<string, unknown>;
  if (Object.hasOwn(obj, TAG)) return fromTagged(obj);
  for (const name of Object.keys(obj)) put(obj, name, fromJson(obj[name]));
  return obj;
}

function fromTagged(obj: Record<string, unknown>): unknown {
  const v = obj['v'];
  switch (obj[TAG]) {
    case 'num':
      return v === '-0' ? -0 : Number(v);
    case 'undef':
      return undefined;
    case 'bigint':
      return BigInt(v as string);
    case 'date':
      return new Date(v === null ? NaN : (v as number));
    case 'map':
      return new Map((v as [unknown, unknown][]).map(([k, x]) => [fromJson(k), fromJson(x)]));
    case 'set':
      return new Set((v as unknown[]).map(fromJson));
    case 'obj': {
      const inner = v as Record<string, unknown>;
      for (const name of Object.keys(inner)) put(inner, name, fromJson(inner[name]));
      return inner;
    }
    case 'error': {
      const record = obj as unknown as ErrorRecord;
      const error = new Error(record.message);
      error.name = record.name;
      if (record.code !== undefined) Object.assign(error, { code: record.code });
      if (record.stack !== undefined) error.stack = record.stack;
      return error;
    }
    default:
      throw new TypeError(
        `rx-agents journal: unknown value tag ${JSON.stringify(obj[TAG])} (was the store written by a newer version?)`,
      );
  }
}

/** Assigns an own property, also for the name `__proto__` (a plain assignment would set the prototype instead). */
function put(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__')
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}

/**
 * The identity of a call for non-determinism checks: the function's name and its encoded
 * arguments (hashed when longer than 64 characters; an argument that is not data counts by its
 * type name only).
 */
export function fingerprint(fn: { readonly name: string }, args: readonly unknown[]): string {
  let text = '';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let part: string;
    try {
      part = typeof arg === 'string' ? JSON.stringify(arg) : encodeValue(arg, 'an argument');
    } catch {
      part = `<${typeof arg === 'object' && arg !== null ? ((arg.constructor as { name?: string } | undefined)?.name ?? 'object') : typeof arg}>`;
    }
    text += `${part.length}:${part}`;
  }
  // Short argument lists are kept as they are (exact, and readable in a NonDeterminismError); long ones are hashed.
  return `${fn.name || '(anonymous)'}/${args.length}/${text.length <= 64 ? text : hash(text)}`;
}

/** cyrb53: a fast 53-bit string hash (not cryptographic; it only has to notice a different call). */
function hash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
