/**
 * The code every pool worker runs, as plain JavaScript evaluated by `new Worker(code, { eval: true })`.
 * Keeping it a string means it works the same from `lib/*.ts` under ts-node and from `dist/*.js`,
 * with no loader and no file to ship next to the build.
 *
 * Protocol (main → worker): `{ id, fn, src?, path?, name?, label, args }` — `fn` is the pool-wide id
 * of the function; `src` (self-contained functions) or `path` + `name` (module tasks) are sent the
 * first time this worker sees `fn`. Worker → main: `{ id, ok: true, value }` or
 * `{ id, ok: false, error: { name, message, stack, kind, variable? } }`, `kind` being
 * `task` (the function threw), `capture` (it used an outer variable), or `function` (it cannot run here).
 */
export const WORKER_SCRIPT = String.raw`
'use strict';
const { parentPort } = require('node:worker_threads');
const { createRequire } = require('node:module');
const { pathToFileURL } = require('node:url');
// Self-contained functions may require() modules inside their body; resolve from the working directory.
globalThis.require = createRequire(process.cwd() + '/[rx-agents-worker]');

// A worker shares its process with the host: process.kill(process.pid) (or of its group, or of every
// process) from a task would kill the host. process.kill calls process._kill, so guarding _kill guards
// both; the real one is kept only in this closure and the guard cannot be replaced. (process.exit in a
// worker already ends only the worker; process.abort is refused by Node in workers.)
{
  const hostPid = process.pid;
  const realKill = process._kill;
  const refuse = (pid) => {
    const error = new Error('process.kill(' + String(pid) + ') inside a worker task would signal the host process ' +
      '(or its process group); rx-agents worker pools refuse it. A task ends by returning or throwing.');
    error.code = 'ERR_WORKER_KILL_REFUSED';
    return error;
  };
  const guarded = function _kill(pid, signal) {
    const target = Number(pid);
    if (signal !== 0 && (target === hostPid || !(target > 0))) throw refuse(pid);
    return realKill.call(process, pid, signal);
  };
  Object.defineProperty(process, '_kill', { value: guarded, writable: false, configurable: false, enumerable: false });
  const kill = process.kill;
  Object.defineProperty(process, 'kill', {
    value: function kill_(pid, signal) {
      const target = Number(pid);
      if (signal !== 0 && (target === hostPid || !(target > 0))) throw refuse(pid);
      return kill.call(process, pid, signal);
    },
    writable: false,
    configurable: false,
    enumerable: false,
  });
}
const fns = new Map();

function compile(msg) {
  if (msg.src !== undefined) {
    const f = (0, eval)('(' + msg.src + ')');
    return { call: f, src: msg.src };
  }
  return { load: loadExport(msg.path, msg.name) };
}

async function loadExport(path, name) {
  let mod;
  try {
    mod = require(path);
  } catch (error) {
    if (error && (error.code === 'ERR_REQUIRE_ESM' || error.code === 'ERR_REQUIRE_ASYNC_MODULE')) mod = await import(pathToFileURL(path).href);
    else throw Object.assign(error, { kind: 'function' });
  }
  const f = name === 'default' && typeof mod === 'function' ? mod : mod == null ? undefined : mod[name];
  if (typeof f !== 'function') {
    const names = mod == null ? [] : Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    const error = new Error('module ' + path + ' has no function export ' + JSON.stringify(name) +
      ' (its function exports: ' + (names.length ? names.join(', ') : 'none') + ')');
    throw Object.assign(error, { kind: 'function' });
  }
  return f;
}

function describeError(error, entry) {
  const e = error instanceof Error ? error : new Error(typeof error === 'string' ? error : 'non-Error thrown: ' + String(error));
  const out = { name: e.name, message: e.message, stack: e.stack, kind: e.kind || 'task' };
  const m = /^(\S+) is not defined$/.exec(e.message);
  if (e.name === 'ReferenceError' && m && entry && entry.src !== undefined && !(m[1] in globalThis) &&
      new RegExp('(^|[^\\w$.])' + m[1].replace(/\$/g, '\\$') + '($|[^\\w$])').test(entry.src)) {
    out.kind = 'capture';
    out.variable = m[1];
  }
  return out;
}

function reply(id, ok, payload, entry) {
  try {
    parentPort.postMessage(ok ? { id, ok: true, value: payload } : { id, ok: false, error: describeError(payload, entry) });
  } catch (error) {
    // The value cannot be structured-cloned (a function, a class instance with private state, ...).
    const e = Object.assign(new Error('the task returned a value that cannot be sent between threads: ' + (error && error.message)), { kind: 'function' });
    parentPort.postMessage({ id, ok: false, error: describeError(e) });
  }
}

parentPort.on('message', (msg) => {
  let entry = fns.get(msg.fn);
  try {
    if (entry === undefined) {
      entry = compile(msg);
      fns.set(msg.fn, entry);
    }
    if (entry.call === undefined) {
      entry.load.then((f) => {
        entry.call = f;
        run(msg, entry);
      }, (error) => {
        fns.delete(msg.fn);
        reply(msg.id, false, error, entry);
      });
      return;
    }
  } catch (error) {
    fns.delete(msg.fn);
    return reply(msg.id, false, Object.assign(error, { kind: error.kind || 'function' }), entry);
  }
  run(msg, entry);
});

function run(msg, entry) {
  let value;
  try {
    value = entry.call.apply(undefined, msg.args);
  } catch (error) {
    return reply(msg.id, false, error, entry);
  }
  if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
    value.then((v) => reply(msg.id, true, v), (error) => reply(msg.id, false, error, entry));
  } else reply(msg.id, true, value);
}
`;
