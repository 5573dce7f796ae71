/** Longest text a described key keeps; longer keys are cut (an error message must not carry a 10 MB key). */
const MAX_KEY_CHARS = 200;

/**
 * Turns a key — or any value a user handed in — into text for a message, an id or a span
 * attribute, and never throws.
 *
 * Semantics: strings are shown as they are, numbers, booleans, bigints, `null` and `undefined`
 * as `String()` shows them, symbols as `Symbol(description)`, functions as `[function name]`.
 * Objects get `String(key)` (their own `toString`) when that works and returns a string;
 * when it throws (a null-prototype object, a throwing `toString` or `Symbol.toPrimitive`, a
 * revoked Proxy) they are shown as `[object <Constructor>]`, `[object null-prototype]` or
 * `[unprintable object]`. Text longer than 200 characters is cut, with its length noted.
 *
 * @example
 * describeKey('user-7');                   // 'user-7'
 * describeKey(Object.create(null));        // '[object null-prototype]'
 * const { proxy, revoke } = Proxy.revocable({}, {}); revoke();
 * describeKey(proxy);                      // '[unprintable object]'
 */
export function describeKey(key: unknown): string {
  switch (typeof key) {
    case 'string':
      return cut(key);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(key);
    case 'symbol':
      return cut(symbolText(key));
    case 'function':
      return `[function ${cut(functionName(key as (...args: never[]) => unknown))}]`;
  }
  if (key === null) return 'null';
  try {
    const text: unknown = String(key);
    if (typeof text === 'string') return cut(text);
  } catch {
    // fall through: the object cannot turn itself into text
  }
  return objectLabel(key as object);
}

function cut(text: string): string {
  return text.length <= MAX_KEY_CHARS ? text : `${text.slice(0, MAX_KEY_CHARS)}… (${text.length} chars)`;
}

function symbolText(symbol: symbol): string {
  try {
    return symbol.toString();
  } catch {
    return 'Symbol()';
  }
}

function functionName(fn: (...args: never[]) => unknown): string {
  try {
    const name: unknown = fn.name;
    return typeof name === 'string' && name !== '' ? name : '(anonymous)';
  } catch {
    return '(anonymous)';
  }
}

/** `[object Name]` from the prototype chain, read without running user code that could throw (a revoked Proxy throws on every trap). */
function objectLabel(obj: object): string {
  try {
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto === null) return '[object null-prototype]';
    const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as { name?: unknown } | undefined;
    const name = typeof ctor === 'function' ? Object.getOwnPropertyDescriptor(ctor, 'name')?.value : undefined;
    return typeof name === 'string' && name !== '' ? `[object ${cut(name)}]` : '[object]';
  } catch {
    return '[unprintable object]';
  }
}
