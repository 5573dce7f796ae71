import { WorkerFunctionError } from '../errors';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { Script } = process.getBuiltinModule('node:vm');

/**
 * The source text of a self-contained function, as an expression that evaluates to the function
 * on another thread. Throws {@link WorkerFunctionError} for functions that cannot travel as text:
 * non-functions, native and bound functions, classes, generators, and sources that do not compile
 * on their own. (Whether the function *captures* outer variables can only be seen when it runs;
 * the worker reports that as a `WorkerCaptureError`.)
 */
export function functionSource(fn: unknown): string {
  if (typeof fn !== 'function') {
    throw new WorkerFunctionError(
      `Expected pool.fn() to get a function, got \`${String(fn)}\` (${fn === null ? 'null' : typeof fn}).`,
    );
  }
  const label = functionLabel(fn);
  const src = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) {
    throw new WorkerFunctionError(
      `The function \`${label}\` given to pool.fn() is native or bound (fn.bind(...)), so its source cannot be sent to a worker. ` +
        'Pass a plain function or arrow function and give bound values as arguments.',
    );
  }
  if (/^class[\s{]/.test(src))
    throw new WorkerFunctionError(`pool.fn() got the class \`${label}\`; give it a function.`);
  const name = fn.constructor?.name;
  if (name === 'GeneratorFunction' || name === 'AsyncGeneratorFunction') {
    throw new WorkerFunctionError(
      `pool.fn() got the generator function \`${label}\`; a worker task must return a value or a Promise.`,
    );
  }
  // Method shorthand (`{ hash(x) {…} }`) prints without the `function` keyword; put it back.
  const candidates = [src, src.startsWith('async ') ? `async function ${src.slice(6)}` : `function ${src}`];
  for (const candidate of candidates) {
    try {
      new Script(`(${candidate})`); // compiles only; nothing runs
      return candidate;
    } catch {
      // try the next form
    }
  }
  throw new WorkerFunctionError(
    `The function \`${label}\` given to pool.fn() does not compile on its own (it may use \`super\` or be a getter). ` +
      'Give pool.fn() a standalone function, or put it in a module and use pool.task(modulePath, exportName).',
  );
}

/** A short name for messages: the function's name, or `anonymous`. */
export function functionLabel(fn: object): string {
  const name = (fn as { readonly name?: unknown }).name;
  return typeof name === 'string' && name.length > 0 ? name : 'anonymous';
}
