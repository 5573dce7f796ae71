import type { Writable } from 'node:stream';
import { optionError } from '../errors';
import type { Inspector, LifecycleEvent, LifecycleEventType } from '../runtime/lifecycle';
import { boundedJson } from './bounded-json';
import { errorSummary, resolveRedaction, shapeOf, type Redaction, type RedactionOptions } from './redaction';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { createWriteStream } = process.getBuiltinModule('node:fs');

/** How much the event log writes; each level includes the ones before it. */
export type EventLogLevel = 'errors' | 'runs' | 'actions' | 'all';

/**
 * Options of {@link createEventLog}. Give exactly one of `path` and `stream`. What is written about
 * user data is set by the {@link RedactionOptions}: by default metadata only (no inputs, payloads
 * or error messages; keys hashed).
 */
export interface EventLogOptions extends RedactionOptions {
  /** Append JSON lines to this file (created if missing). */
  readonly path?: string;
  /** Or write them to this stream (e.g. `process.stderr`); `close()` then flushes but does not end it. */
  readonly stream?: Writable;
  /**
   * `errors`: failed actions and runs, failed async blocks, slow async blocks (`async.slow`), dropped inputs. `runs`: plus inputs,
   * run start/end and outputs. `actions`: plus action start/suspend/resume/finish, sent and routed
   * events. `all`: plus async block queued/started/completed. @default 'runs'
   */
  readonly level?: EventLogLevel;
  /** With `payloads: true`: payloads, inputs, plain keys and errors longer than this (as JSON) are cut to `{"$truncated": "..."}`. @default 2048 */
  readonly maxPayloadChars?: number;
  /** Lines waiting to be written beyond this many characters are dropped (and counted) instead of buffered. @default 8388608 (8 Mi) */
  readonly maxBufferedChars?: number;
}

/** Counters of an {@link EventLog}. Every line handed to the log ends up in exactly one of written, dropped, failed, or pending. */
export interface EventLogStats {
  /** Lines the stream confirmed written. */
  readonly written: number;
  /** Lines dropped because the buffer was full (the stream is slower than the agent) or the log was closed. */
  readonly dropped: number;
  /** Lines lost to write errors. */
  readonly failed: number;
  /** Lines buffered or being written. */
  readonly pending: number;
  /** The last write error, if any. */
  readonly lastError: unknown;
}

/** An opt-in JSON-lines writer of lifecycle events. */
export interface EventLog {
  /** Give this to `agentOperator(agent, { inspect })`, or subscribe it to `inspector.events$`. */
  readonly inspect: Inspector;
  stats(): EventLogStats;
  /** Resolves when every line handed to the log so far is written (or counted as failed). Never rejects. */
  flush(): Promise<void>;
  /** Flushes, then ends the file stream (a given `stream` is left open). Later events are dropped. Never rejects. */
  close(): Promise<void>;
}

const LEVEL_OF: Record<LifecycleEventType, number> = {
  'input.dropped': 0,
  'action.failed': 0,
  'signal.rejected': 0,
  'async.slow': 0,
  'input.accepted': 1,
  'run.started': 1,
  'run.ended': 1,
  'output.emitted': 1,
  'action.started': 2,
  'action.suspended': 2,
  'action.resumed': 2,
  'action.finished': 2,
  'event.sent': 2,
  'event.routed': 2,
  'signal.received': 2,
  'model.called': 2,
  'tool.called': 2,
  'async.queued': 3,
  'async.started': 3,
  'async.completed': 3,
};
const LEVELS: readonly EventLogLevel[] = ['errors', 'runs', 'actions', 'all'];
/** Fields whose values come from user code (besides `key`): written only with `payloads: true`. */
const BOUNDED = new Set(['input', 'payload', 'error']);

/**
 * Creates a JSON-lines event log: one line per lifecycle event, `{"time":…,"type":…,"key":…,"run":…,…}`.
 *
 * Semantics: lines are serialised when the event happens (user values bounded by
 * `maxPayloadChars`, so a huge payload costs no more than a small one) and written in one
 * batch per event-loop turn (`setImmediate`: this is real file I/O, not agent time). While the
 * stream is busy (backpressure) lines are buffered up to `maxBufferedChars`; beyond that they
 * are dropped and counted. Write errors (a missing directory, a full disk, a closed pipe) are
 * counted in `stats().failed`, never thrown into the agent. Order is kept. Failed or aborted
 * runs and failed async blocks are written at every level (at `errors`, only those).
 *
 * @example
 * const log = createEventLog({ path: 'agent.jsonl', level: 'actions' });
 * await lastValueFrom(inputs$.pipe(agentOperator(agent, { inspect: log.inspect })), { defaultValue: undefined });
 * await log.close();
 * console.log(log.stats()); // { written: 1234, dropped: 0, failed: 0, pending: 0, lastError: undefined }
 */
export function createEventLog(options: EventLogOptions): EventLog {
  if (typeof options !== 'object' || options === null) throw optionError('options', 'an object', options);
  const { path, stream: given, level = 'runs', maxPayloadChars = 2048, maxBufferedChars = 8 * 1024 * 1024 } = options;
  if ((path === undefined) === (given === undefined)) {
    throw new TypeError(
      'createEventLog needs exactly one of `path` (a file to append to) or `stream` (a Writable such as process.stderr).',
    );
  }
  if (path !== undefined && (typeof path !== 'string' || path === ''))
    throw optionError('path', 'a non-empty string', path);
  if (
    given !== undefined &&
    (typeof given !== 'object' || given === null || typeof (given as Writable).write !== 'function')
  ) {
    throw optionError('stream', 'a Writable stream', given);
  }
  if (!LEVELS.includes(level)) throw optionError('level', `one of ${LEVELS.map((l) => `'${l}'`).join(', ')}`, level);
  if (!Number.isInteger(maxPayloadChars) || maxPayloadChars < 16)
    throw optionError('maxPayloadChars', 'an integer >= 16', maxPayloadChars);
  if (!(Number.isInteger(maxBufferedChars) && maxBufferedChars >= 1))
    throw optionError('maxBufferedChars', 'an integer >= 1', maxBufferedChars);

  const redaction = resolveRedaction(options);
  const threshold = LEVELS.indexOf(level);
  const stream: Writable = given ?? createWriteStream(path as string, { flags: 'a' });
  let written = 0;
  let dropped = 0;
  let failed = 0;
  let lastError: unknown;
  let lines: string[] = [];
  let bufferedChars = 0;
  let inWrite = 0;
  let waitingForDrain = false;
  let scheduled: NodeJS.Immediate | null = null;
  let broken = false;
  let closed = false;
  let idle: Array<() => void> = [];

  const onError = (error: unknown): void => {
    lastError = error;
    broken = true;
    // A broken stream never drains: release what waits so it is counted as failed.
    if (waitingForDrain) {
      waitingForDrain = false;
      schedule();
    }
  };
  stream.on('error', onError);

  const settleIdle = (): void => {
    if (lines.length > 0 || inWrite > 0) return;
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  };

  const writeOut = (): void => {
    scheduled = null;
    if (lines.length === 0 || waitingForDrain) return settleIdle();
    const batch = lines;
    lines = [];
    bufferedChars = 0;
    if (broken || stream.destroyed || stream.writableEnded) {
      failed += batch.length;
      return settleIdle();
    }
    inWrite += batch.length;
    let ok: boolean;
    try {
      ok = stream.write(batch.join(''), (error) => {
        inWrite -= batch.length;
        if (error) {
          failed += batch.length;
          onError(error);
        } else written += batch.length;
        settleIdle();
      });
    } catch (error) {
      inWrite -= batch.length;
      failed += batch.length;
      onError(error);
      return settleIdle();
    }
    if (!ok) {
      waitingForDrain = true;
      stream.once('drain', () => {
        waitingForDrain = false;
        schedule();
      });
    }
  };

  const schedule = (): void => {
    if (scheduled === null) scheduled = setImmediate(writeOut);
  };

  const inspect: Inspector = (event) => {
    if (LEVEL_OF[event.type] > threshold && !isFailure(event)) return;
    if (closed) {
      dropped++;
      return;
    }
    const line = serialise(event, maxPayloadChars, redaction);
    if (bufferedChars + line.length > maxBufferedChars) {
      dropped++;
      return;
    }
    lines.push(line);
    bufferedChars += line.length;
    schedule();
  };

  const flush = (): Promise<void> =>
    new Promise<void>((resolve) => {
      idle.push(resolve);
      if (lines.length > 0) schedule();
      else settleIdle();
    });

  return {
    inspect,
    stats: () => ({ written, dropped, failed, pending: lines.length + inWrite, lastError }),
    flush,
    close: async () => {
      if (closed) return flush();
      await flush();
      closed = true;
      if (given !== undefined || broken || stream.writableEnded) return;
      await new Promise<void>((resolve) => {
        stream.end(() => resolve());
        stream.once('error', () => resolve());
      });
    },
  };
}

/** Failed and aborted runs and failed async blocks are written at every level. */
function isFailure(event: LifecycleEvent): boolean {
  if (event.type === 'run.ended') return event.outcome !== 'completed';
  if (event.type === 'async.completed') return !event.ok;
  return false;
}

/** One line: fields in the event's own order, user values redacted (see {@link RedactionOptions}) and bounded. */
function serialise(event: LifecycleEvent, limit: number, redaction: Redaction): string {
  let line = '{';
  let first = true;
  for (const name in event) {
    const value = (event as unknown as Record<string, unknown>)[name];
    if (value === undefined) continue;
    let json: string;
    if (name === 'key') {
      if (redaction.keys === 'omit') continue;
      json =
        redaction.keys === 'plain'
          ? boundedJson(value, limit, redaction.redact, 'key')
          : JSON.stringify(redaction.keyText(value));
    } else if (!BOUNDED.has(name)) json = JSON.stringify(value);
    else if (redaction.payloads) json = boundedJson(value, limit, redaction.redact, name);
    else json = JSON.stringify(name === 'error' ? errorSummary(value) : shapeOf(value));
    line += `${first ? '' : ','}"${name}":${json}`;
    first = false;
  }
  return `${line}}\n`;
}
