import { MissingPeerDependencyError } from './errors';

/**
 * The second chance of an optional peer dependency whose `require` failed, so that the peer loads
 * inside an ESM bundle of this CommonJS package too.
 *
 * The caller writes `try { m = require('pkg') } catch (e) { m = peerFallback(e, 'pkg', feature) }`:
 * the literal `require` lets bundlers see the peer (a CommonJS bundle includes it; inside a `try`,
 * a bundler accepts that it is not installed), and unbundled Node resolves it from rx-agents' folder.
 * In an ESM bundle (esbuild `format: 'esm'`) that `require` is the bundler's shim, which cannot load a
 * Node built-in or an external package ("Dynamic require of … is not supported") — and neither can
 * the peer's own bundled CommonJS build. This then loads the peer from `node_modules` at run time
 * with Node's real `require` ({@link appRequire}). If that fails too: `MissingPeerDependencyError`
 * naming the package and the feature.
 *
 * @internal shared by the optional features (restate, llm's MCP tools); not in the published types.
 */
export function peerFallback<T>(failure: unknown, specifier: string, feature: string, packageName = specifier): T {
  try {
    return appRequire()(specifier) as T;
  } catch (error) {
    // Unbundled, the first error is the real one (not installed); in an ESM bundle, the second.
    throw new MissingPeerDependencyError(packageName, feature, isShimError(failure) ? error : failure);
  }
}

/**
 * Node's own `require`, also inside an ESM bundle: made by `module.createRequire` for this file
 * when it is a CommonJS file on disk (then it is the same as `require`), else for the app's entry
 * script (`process.argv[1]`, the bundle), so a package resolves from the app's `node_modules`.
 *
 * @internal
 */
export function appRequire(): NodeJS.Require {
  const { createRequire } = process.getBuiltinModule('node:module');
  // `__filename` is not defined inside an ESM bundle (typeof is safe there).
  const base = typeof __filename === 'string' ? __filename : (process.argv[1] ?? `${process.cwd()}/[rx-agents]`);
  return createRequire(base);
}

/** The error a bundler's `require` shim throws for what it cannot load. */
function isShimError(error: unknown): boolean {
  return error instanceof Error && /Dynamic require of .* is not supported/.test(error.message);
}
