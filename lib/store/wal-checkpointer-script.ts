/**
 * The code the WAL checkpointer's worker thread runs (see `wal-checkpointer.ts`), as plain
 * JavaScript evaluated by `new Worker(code, { eval: true })`: it works the same from `lib/*.ts`
 * under ts-node and from `dist/*.js`, with no file to ship beside the build (as the worker pool's
 * script does).
 *
 * `workerData`: `{ driver, path, synchronous, timeout, closed }` — the resolved path of
 * `better-sqlite3`, the database file, the store's `synchronous` level (a checkpoint syncs the WAL
 * before it copies it and the file after, at this level), the busy timeout, and an `Int32Array` over
 * shared memory whose element 0 the worker sets to 1 (and notifies) once its connection is closed.
 *
 * Protocol (main → worker): `'checkpoint'` runs `PRAGMA wal_checkpoint(PASSIVE)` — it copies WAL
 * frames into the file without taking the writer's lock and without waiting for any connection,
 * so the writer keeps committing meanwhile — and answers `{ kind: 'done', busy, log, checkpointed }`;
 * `'close'` closes the connection, sets the flag and ends the thread. Worker → main, on any
 * failure: `{ kind: 'error', stage, name, message, code }` (the main side makes it a typed error).
 * The connection never writes a row.
 */
export const CHECKPOINTER_SCRIPT = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const closed = workerData.closed;
let db = null;
const fail = (stage, error) => {
  const e = error !== null && typeof error === 'object' ? error : { message: String(error) };
  parentPort.postMessage({ kind: 'error', stage, name: String(e.name ?? 'Error'), message: String(e.message ?? e),
    code: e.code === undefined ? undefined : String(e.code) });
};
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.path, { fileMustExist: true, timeout: workerData.timeout });
  db.pragma('synchronous = ' + (workerData.synchronous === 'FULL' ? 'FULL' : 'NORMAL'));
} catch (error) {
  try { if (db !== null) db.close(); } catch {}
  db = null;
  fail('open', error);
}
parentPort.on('message', (message) => {
  if (message === 'close') {
    try { if (db !== null) db.close(); } catch (error) { fail('close', error); }
    db = null;
    Atomics.store(closed, 0, 1);
    Atomics.notify(closed, 0);
    parentPort.close();
    return;
  }
  if (db === null) return;
  try {
    const row = db.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ kind: 'done', busy: row.busy, log: row.log, checkpointed: row.checkpointed });
  } catch (error) {
    fail('checkpoint', error);
  }
});
`;
