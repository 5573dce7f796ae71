/** Thrown inside the walk when the budget is spent; never escapes {@link boundedJson}. */
const FULL = Symbol('budget spent');

/**
 * Serialises `value` as JSON, but stops walking once `limit` characters are produced, so a
 * huge payload costs O(limit), not O(size). Returns valid JSON either way: the value itself,
 * or `{"$truncated":"<the first limit characters of its JSON>"}`. Cycles become `"[Circular]"`,
 * bigints strings, Errors `{ name, code?, message }`; functions and symbols are left out as
 * JSON.stringify would. `redact`, if given, sees every value with its path below `root`
 * (`input.user.password`, `payload.items[0]`) and its result is written instead.
 */
export function boundedJson(
  value: unknown,
  limit: number,
  redact?: (path: string, value: unknown) => unknown,
  root = '',
): string {
  const parts: string[] = [];
  let length = 0;
  const seen = new Set<object>();
  const put = (s: string): void => {
    parts.push(s);
    length += s.length;
    if (length > limit) throw FULL;
  };
  const walk = (v: unknown, path: string, redactThis = true): void => {
    if (redact !== undefined && redactThis) {
      try {
        v = redact(path, v);
      } catch {
        v = '[redact failed]';
      }
    }
    switch (typeof v) {
      case 'string':
        // Long strings are cut before quoting, so quoting never walks more than the budget.
        return put(JSON.stringify(v.length > limit ? v.slice(0, limit + 1) : v));
      case 'number':
        return put(Number.isFinite(v) ? String(v) : 'null');
      case 'boolean':
        return put(v ? 'true' : 'false');
      case 'bigint':
        return put(`"${v}"`);
      case 'undefined':
      case 'function':
      case 'symbol':
        return put('null');
      default:
        break;
    }
    if (v === null) return put('null');
    const obj = v as object;
    if (seen.has(obj)) return put('"[Circular]"');
    seen.add(obj);
    try {
      if (obj instanceof Error) {
        const code = (obj as { code?: unknown }).code;
        return walk(
          { name: obj.name, ...(typeof code === 'string' ? { code } : {}), message: obj.message },
          path,
          false,
        );
      }
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return walk(toJSON.call(obj), path, false);
      if (Array.isArray(obj)) {
        put('[');
        for (let i = 0; i < obj.length; i++) {
          if (i > 0) put(',');
          walk(obj[i], redact === undefined ? path : `${path}[${i}]`);
        }
        return put(']');
      }
      put('{');
      let first = true;
      for (const k in obj) {
        if (!Object.hasOwn(obj, k)) continue;
        const item = (obj as Record<string, unknown>)[k];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        put(first ? `${JSON.stringify(k)}:` : `,${JSON.stringify(k)}:`);
        first = false;
        walk(item, redact === undefined ? path : path === '' ? k : `${path}.${k}`);
      }
      return put('}');
    } finally {
      seen.delete(obj);
    }
  };
  try {
    walk(value, root);
    return parts.join('');
  } catch (error) {
    if (error !== FULL) return JSON.stringify({ $unserializable: String(error) });
    return JSON.stringify({ $truncated: parts.join('').slice(0, limit) });
  }
}
