import { z } from 'zod/v4';

/**
 * The zod versions whose schemas rx-agents accepts: what `peerDependencies.zod` in package.json
 * claims, and what the packaging spec installs at both ends.
 */
export const SUPPORTED_ZOD = 'zod ^4.0.0, or zod ^3.25.45 through its `zod/v4` entry';

/**
 * Says why `value` is not a schema rx-agents can use, or returns `undefined` if it is one.
 *
 * Semantics: a zod 4 classic schema passes, from any copy of zod 4 (zod recognises its own classes
 * across copies by their traits). The causes a user can act on are told apart: a zod 3 schema
 * (unsupported version, or a second copy of zod: the app's zod 3 beside the zod 4 rx-agents
 * loads), a zod/mini or zod/v4/core schema (no methods to parse with), or no schema at all.
 *
 * @example
 * const problem = zodSchemaProblem(schema);
 * if (problem !== undefined) throw new TypeError(`The schema of event \`x\` ${problem}`);
 */
export function zodSchemaProblem(value: unknown): string | undefined {
  if (value instanceof z.ZodType) return undefined;
  if (typeof value !== 'object' || value === null)
    return `must be a zod schema (e.g. z.object({...})), got ${shown(value)}.`;
  const schema = value as {
    readonly _zod?: { readonly version?: unknown };
    readonly _def?: unknown;
    readonly safeParse?: unknown;
  };
  if (typeof schema._zod === 'object' && schema._zod !== null) {
    return (
      `is a zod schema without parse methods (zod/mini or zod/v4/core${version(schema._zod.version)}): ` +
      `rx-agents needs zod's classic schemas. Build it with \`import { z } from 'zod'\` (${SUPPORTED_ZOD}).`
    );
  }
  if (schema._def !== undefined && typeof schema.safeParse === 'function') {
    return (
      `is a zod 3 schema: unsupported version, or two copies of zod are installed (your app's zod 3 beside the ` +
      `zod 4 rx-agents loads). rx-agents takes zod as a peer dependency (${SUPPORTED_ZOD}): upgrade to zod 4, ` +
      `or on zod 3.25 import from 'zod/v4'; then \`npm ls zod\` should show one copy (\`npm dedupe\` merges them).`
    );
  }
  return `must be a zod schema (e.g. z.object({...})), got ${shown(value)}.`;
}

function version(v: unknown): string {
  if (typeof v !== 'object' || v === null) return '';
  const { major, minor, patch } = v as { major?: unknown; minor?: unknown; patch?: unknown };
  return typeof major === 'number' ? `, version ${major}.${String(minor)}.${String(patch)}` : '';
}

function shown(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object that is not a schema' : `\`${String(value)}\` (${typeof value})`;
}
