import { describeKey } from '../describe-key';
import { optionError } from '../errors';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { createHmac, randomBytes } = process.getBuiltinModule('node:crypto');

/** How keys appear in logs and spans: an HMAC of the key (`hash`), the key itself (`plain`), or not at all (`omit`). */
export type KeyMode = 'hash' | 'plain' | 'omit';

/**
 * What observability outputs (event log, tracing) may write about user data. The default is
 * metadata only: types, ids, sizes, timings, error names and codes — never inputs, payloads,
 * error messages or keys in clear.
 */
export interface RedactionOptions {
  /**
   * Write inputs, payloads and error messages/stacks. `false`: a payload is written as its shape
   * (`{"$type":"object","keys":3}`, `{"$type":"string","length":12}`), an error as its `name`,
   * `code` and the names/codes of its causes. @default false
   */
  readonly payloads?: boolean;
  /**
   * With `payloads: true`: called for every value about to be written, with its path (e.g.
   * `input.user.password`, `payload.items[0]`, `error.message`); what it returns is written
   * instead (return the value itself to keep it). A throw writes `"[redact failed]"`.
   * @default none
   */
  readonly redact?: (path: string, value: unknown) => unknown;
  /**
   * `hash`: the key is written as `h:` + 16 hex digits of an HMAC-SHA256 of it, so lines of one key
   * can be matched without showing it. `plain`: as it is. `omit`: not written. @default 'hash'
   */
  readonly keys?: KeyMode;
  /**
   * The HMAC secret for `keys: 'hash'`. Give a fixed secret to match hashes across processes and
   * restarts; keep it out of the logs. @default random per log / tracing instance
   */
  readonly keySalt?: string;
}

/** Resolved, validated redaction settings. */
export interface Redaction {
  readonly payloads: boolean;
  readonly redact: ((path: string, value: unknown) => unknown) | undefined;
  readonly keys: KeyMode;
  /** The key as text for an attribute or a line, or `undefined` when keys are omitted. */
  keyText(key: unknown): string | undefined;
}

const KEY_MODES: readonly KeyMode[] = ['hash', 'plain', 'omit'];

/**
 * Validates {@link RedactionOptions} (as given to `createEventLog` / `createTracing`).
 *
 * @example
 * const r = resolveRedaction({ keys: 'hash', keySalt: 'secret' });
 * r.keyText('alice@example.com'); // 'h:…' (16 hex digits)
 */
export function resolveRedaction(options: RedactionOptions): Redaction {
  const { payloads = false, redact, keys = 'hash', keySalt } = options;
  if (typeof payloads !== 'boolean') throw optionError('payloads', 'a boolean', payloads);
  if (redact !== undefined && typeof redact !== 'function') throw optionError('redact', 'a function', redact);
  if (!KEY_MODES.includes(keys)) throw optionError('keys', `one of ${KEY_MODES.map((k) => `'${k}'`).join(', ')}`, keys);
  if (keySalt !== undefined && (typeof keySalt !== 'string' || keySalt === ''))
    throw optionError('keySalt', 'a non-empty string', keySalt);
  const salt = keySalt ?? randomBytes(16).toString('hex');
  const cache = new Map<unknown, string>();
  const keyText = (key: unknown): string | undefined => {
    if (keys === 'omit') return undefined;
    if (keys === 'plain') return describeKey(key);
    let text = cache.get(key);
    if (text === undefined) {
      // The type is part of the hashed text: key 1 and key '1' are different keys.
      const digest = createHmac('sha256', salt)
        .update(`${typeof key}:${describeKey(key)}`)
        .digest('hex');
      text = `h:${digest.slice(0, 16)}`;
      if (cache.size >= 10_000) cache.clear();
      cache.set(key, text);
    }
    return text;
  };
  return { payloads, redact, keys, keyText };
}

/** The shape of a value, without its content: what `payloads: false` writes. */
export function shapeOf(value: unknown): Record<string, unknown> {
  try {
    if (value === null) return { $type: 'null' };
    if (Array.isArray(value)) return { $type: 'array', length: value.length };
    switch (typeof value) {
      case 'string':
        return { $type: 'string', length: value.length };
      case 'object':
        return { $type: 'object', keys: Object.keys(value).length };
      default:
        return { $type: typeof value };
    }
  } catch {
    return { $type: 'object' }; // a revoked proxy
  }
}

/** An error without its message or stack (which may quote inputs or keys): `name`, `code`, and the same of its causes. */
export function errorSummary(error: unknown, depth = 0): Record<string, unknown> {
  try {
    if (!(error instanceof Error)) return { thrown: shapeOf(error) };
    const code = (error as { code?: unknown }).code;
    const cause = (error as { cause?: unknown }).cause;
    return {
      name: describeKey(error.name),
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      ...(cause !== undefined && depth < 4 ? { cause: errorSummary(cause, depth + 1) } : {}),
    };
  } catch {
    return { name: 'unknown' };
  }
}
