/**
 * Text helpers of the `rx-agents` command: values as one-line JSON (journal values included:
 * Map, Set, BigInt, Date, undefined), cut to a width, and byte sizes.
 */

/** Journal values as JSON: bigints as strings, Dates as ISO text, Maps and Sets as tagged arrays, undefined as null. */
export function toJsonText(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    function (this: unknown, key: string, v: unknown) {
      // `this[key]` is the value before toJSON ran (a Date's toJSON would already have made it a string).
      const raw = (this as Record<string, unknown>)[key];
      if (typeof raw === 'bigint') return `${raw}n`;
      if (raw instanceof Map) return { $map: [...raw] };
      if (raw instanceof Set) return { $set: [...raw] };
      if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? 'Invalid Date' : raw.toISOString();
      if (typeof raw === 'number' && !Number.isFinite(raw)) return String(raw);
      return v === undefined ? null : v;
    },
    indent,
  );
}

/** One line, at most `width` characters (an ellipsis marks the cut). */
export function short(value: unknown, width = 120): string {
  const text = typeof value === 'string' ? value : toJsonText(value);
  const line = text.replace(/\s+/g, ' ');
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** `12.3 KiB`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** `3 runs` / `1 run`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
