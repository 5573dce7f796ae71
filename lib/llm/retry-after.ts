/**
 * The server's `Retry-After` (or `retry-after-ms`) header, in ms. The HTTP-date form is read
 * relative to the response's own `Date` header (no clock is read here), and ignored without one.
 * Returns `undefined` when the response says nothing usable.
 */
export function parseRetryAfter(headers: Readonly<Record<string, string | undefined>>): number | undefined {
  const get = (name: string): string | undefined => {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return headers[k];
    return undefined;
  };
  const ms = get('retry-after-ms');
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.ceil(Number(ms));
  const value = get('retry-after');
  if (value === undefined) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  const date = get('date');
  const now = date === undefined ? NaN : Date.parse(date);
  return Number.isFinite(at) && Number.isFinite(now) ? Math.max(0, at - now) : undefined;
}
