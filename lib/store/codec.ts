import { JournalValueError, describe } from '../errors';
import { describeKey } from '../describe-key';

/**
 * The journal's value encoding: JSON text, with tagged objects (`{"$rx": tag, "v": …}`) for the
 * values JSON would silently change. Round trips are exact for JSON-like data and for
 * `undefined`, `NaN`, `±Infinity`, `-0`, `BigInt`, `Date`, `Map`, `Set` and array holes (nested
 * freely, at most {@link MAX_JOURNAL_DEPTH} levels). Anything else (class instances, functions,
 * symbols, cycles, values whose getters or Proxy traps throw) is rejected with
 * {@link JournalValueError} naming the spot — never stored as something else.
 */
const TAG = '$rx';

/** How deep a journaled value may nest; deeper values are refused with {@link JournalValueError}. */
export const MAX_JOURNAL_DEPTH = 2000;
/** How many characters of an error's own data fields are journaled (see {@link encodeError}); fields past it are dropped and listed. */
export const MAX_ERROR_FIELDS_CHARS = 8192;
/** How many nested `cause`s of an error are journaled. */
const MAX_CAUSE_DEPTH = 4;

/** Where a walk is, and the objects on its current path (cycles). */
interface Walk {
  readonly where: string;
  readonly seen: Set<object>;
  at: string;
}

/** Names a value in a {@link JournalValueError}: the text, or a function that makes it (called only when the value is refused). */
export type ValueWhere = string | (() => string);

/**
 * Encodes `value` as journal text; `where` names it in errors (e.g. "the result of call `3>a#0`").
 * Primitives and flat plain objects take a fast path that allocates nothing but the text; a getter
 * or Proxy trap that throws there is read again by the general path, which names the spot.
 */
export function encodeValue(value: unknown, where: ValueWhere): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (plainNumber(value)) return String(value);
      break;
    case 'object': {
      let text: string | undefined;
      try {
        text = encodePlain(value);
      } catch {
        text = undefined; // reading threw: the general path reads it again and reports where
      }
      if (text !== undefined) return text;
    }
  }
  const walk: Walk = { where: typeof where === 'string' ? where : where(), seen: new Set(), at: '(value)' };
  return JSON.stringify(guarded(walk, () => toJson(value, '(value)', walk, 0)));
}

/** A number JSON keeps as it is: finite and not `-0`. */
function plainNumber(value: number): boolean {
  return Number.isFinite(value) && !(value === 0 && 1 / value < 0);
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
      return plainNumber(value) ? String(value) : undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 'null';
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined; // arrays, class instances, null-prototype objects
  const names = Object.keys(value);
  let text = '{';
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (name === TAG || name === '__proto__') return undefined;
    const item = (value as Record<string, unknown>)[name];
    let part: string;
    if (typeof item === 'number') {
      if (!plainNumber(item)) return undefined;
      part = String(item);
    } else if (typeof item === 'string') part = JSON.stringify(item);
    else if (typeof item === 'boolean') part = item ? 'true' : 'false';
    else if (item === null) part = 'null';
    else return undefined;
    text += (i === 0 ? quotedName(name) : `,${quotedName(name)}`) + ':' + part;
  }
  return text + '}';
}

/** Property names as JSON text, remembered (payload, result and memory objects reuse a few names); at most 4096 kept. */
const quotedNames = new Map<string, string>();
function quotedName(name: string): string {
  let text = quotedNames.get(name);
  if (text === undefined) {
    text = JSON.stringify(name);
    if (quotedNames.size < 4096) quotedNames.set(name, text);
  }
  return text;
}

/** Runs a walk; whatever user code throws during it (a getter, a Proxy trap) becomes a {@link JournalValueError} at the spot. */
function guarded<T>(walk: Walk, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof JournalValueError) throw error;
    throw new JournalValueError(walk.where, walk.at, `reading the value threw (${describe(error)})`, { cause: error });
  }
}

/** Decodes journal text made by {@link encodeValue}. Throws (SyntaxError, TypeError) on text it did not make: the journal names the row. */
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
  /** The error's own enumerable data fields (encoded values), e.g. `status`, `retryAfter`. */
  readonly fields?: Record<string, unknown>;
  /** Its `cause`: an error record or an encoded value. */
  readonly cause?: unknown;
  /** Own fields (or the cause) left out: not data, or past {@link MAX_ERROR_FIELDS_CHARS}. */
  readonly dropped?: readonly string[];
}

/** Error classes rebuilt by name on replay; any other name gives an `Error` with that `name`. */
const BUILT_IN: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * Encodes a thrown value. An `Error` keeps its `name`, `message`, `stack`, string `code`, its own
 * enumerable data fields (`status`, `retryAfter`, a non-string `code`, …, encoded like any
 * journaled value, at most {@link MAX_ERROR_FIELDS_CHARS} characters in all) and its `cause`
 * (nested up to 4 levels); fields that are not data, or past the budget, are left out and their
 * names listed. Other thrown values are encoded as values (or, if they are not encodable,
 * described as an `Error`). Never throws.
 */
export function encodeError(error: unknown): string {
  try {
    return JSON.stringify(errorToJson(error, 0));
  } catch {
    return JSON.stringify({ [TAG]: 'error', name: 'Error', message: describe(error) } satisfies ErrorRecord);
  }
}

function errorToJson(error: unknown, depth: number): unknown {
  if (!(error instanceof Error)) {
    try {
      return JSON.parse(encodeValue(error, 'a thrown value'));
    } catch {
      return { [TAG]: 'error', name: 'Error', message: describe(error) } satisfies ErrorRecord;
    }
  }
  const name = typeof error.name === 'string' ? error.name : describeKey(error.name);
  const message = typeof error.message === 'string' ? error.message : describeKey(error.message);
  const code = (error as { code?: unknown }).code;
  const fields: Record<string, unknown> = {};
  const dropped: string[] = [];
  let budget = MAX_ERROR_FIELDS_CHARS;
  let any = false;
  for (const field of Object.keys(error)) {
    if (field === 'name' || field === 'message' || field === 'stack' || field === 'cause') continue;
    if (field === 'code' && typeof code === 'string') continue;
    let json: unknown;
    let size: number;
    try {
      const walk: Walk = { where: 'an error field', seen: new Set([error]), at: `(error).${field}` };
      json = toJson((error as unknown as Record<string, unknown>)[field], walk.at, walk, 1);
      size = field.length + JSON.stringify(json).length;
    } catch {
      dropped.push(field);
      continue;
    }
    if (size > budget) {
      dropped.push(field);
      continue;
    }
    budget -= size;
    put(fields, field, json);
    any = true;
  }
  let cause: unknown;
  if (Object.hasOwn(error, 'cause')) {
    const value = (error as { cause?: unknown }).cause;
    if (depth < MAX_CAUSE_DEPTH) cause = errorToJson(value, depth + 1);
    else dropped.push('cause');
  }
  return {
    [TAG]: 'error',
    name,
    message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof error.stack === 'string' ? { stack: error.stack } : {}),
    ...(any ? { fields } : {}),
    ...(cause !== undefined || Object.hasOwn(error, 'cause') ? { cause } : {}),
    ...(dropped.length > 0 ? { dropped } : {}),
  } satisfies ErrorRecord;
}

function toJson(value: unknown, path: string, walk: Walk, depth: number): unknown {
  walk.at = path;
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
      throw new JournalValueError(walk.where, path, `a ${typeof value} is not data`);
  }
  if (value === null) return null;
  const obj = value as object;
  const seen = walk.seen;
  if (seen.has(obj)) throw new JournalValueError(walk.where, path, 'the value contains a cycle');
  if (depth >= MAX_JOURNAL_DEPTH)
    throw new JournalValueError(walk.where, path, `the value nests deeper than ${MAX_JOURNAL_DEPTH} levels`);
  seen.add(obj);
  let out: unknown;
  if (Array.isArray(obj)) {
    const items = new Array<unknown>(obj.length);
    for (let i = 0; i < obj.length; i++) {
      const at = `${path}[${i}]`;
      walk.at = at;
      items[i] = i in obj ? toJson(obj[i], at, walk, depth + 1) : HOLE;
    }
    out = items;
  } else if (obj instanceof Date) {
    out = { [TAG]: 'date', v: obj.getTime() };
    if (Number.isNaN(obj.getTime())) out = { [TAG]: 'date', v: null };
  } else if (obj instanceof Map) {
    const entries: unknown[] = [];
    let i = 0;
    for (const [k, v] of obj) {
      entries.push([
        toJson(k, `${path}<key ${i}>`, walk, depth + 1),
        toJson(v, `${path}<value ${i}>`, walk, depth + 1),
      ]);
      i++;
    }
    out = { [TAG]: 'map', v: entries };
  } else if (obj instanceof Set) {
    const items: unknown[] = [];
    let i = 0;
    for (const v of obj) items.push(toJson(v, `${path}<item ${i++}>`, walk, depth + 1));
    out = { [TAG]: 'set', v: items };
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj.constructor as { name?: string } | undefined)?.name ?? 'unknown';
      throw new JournalValueError(walk.where, path, `a ${describeKey(name)} instance is not data`);
    }
    const copy: Record<string, unknown> = {};
    for (const name of Object.keys(obj)) {
      const at = `${path}.${name}`;
      walk.at = at; // a getter that throws is reported at its own path
      put(copy, name, toJson((obj as Record<string, unknown>)[name], at, walk, depth + 1));
    }
    out = Object.hasOwn(obj, TAG) ? { [TAG]: 'obj', v: copy } : copy;
  }
  seen.delete(obj);
  return out;
}

/** An array hole (`new Array(3)`, `[1, , 3]`): kept as a hole, not turned into `undefined` or `null`. */
const HOLE = { [TAG]: 'hole' };

function fromJson(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) {
    for (let i = 0; i < json.length; i++) {
      const item = json[i] as unknown;
      if (item !== null && typeof item === 'object' && (item as Record<string, unknown>)[TAG] === 'hole')
        delete json[i];
      else json[i] = fromJson(item);
    }
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
    case 'error':
      return errorFromJson(obj as unknown as ErrorRecord);
    default:
      throw new TypeError(
        `unknown value tag ${JSON.stringify(obj[TAG])} (was the store written by a newer version of rx-agents?)`,
      );
  }
}

function errorFromJson(record: ErrorRecord): Error {
  const Ctor = Object.hasOwn(BUILT_IN, record.name) ? (BUILT_IN[record.name] as ErrorConstructor) : Error;
  const error = new Ctor(String(record.message));
  if (error.name !== record.name) error.name = String(record.name);
  if (record.code !== undefined) Object.assign(error, { code: record.code });
  if (record.stack !== undefined) error.stack = record.stack;
  if (record.fields !== undefined) {
    const fields = record.fields;
    for (const name of Object.keys(fields))
      Object.defineProperty(error, name, {
        value: fromJson(fields[name]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  if (Object.hasOwn(record, 'cause'))
    Object.defineProperty(error, 'cause', {
      value: fromJson(record.cause),
      enumerable: false,
      writable: true,
      configurable: true,
    });
  if (record.dropped !== undefined)
    Object.defineProperty(error, 'journalDroppedFields', { value: [...record.dropped], enumerable: false });
  return error;
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
      // Numbers and strings (most arguments) directly; the same text encodeValue makes.
      part =
        typeof arg === 'number' && plainNumber(arg)
          ? String(arg)
          : typeof arg === 'string'
            ? JSON.stringify(arg)
            : encodeValue(arg, 'an argument');
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
