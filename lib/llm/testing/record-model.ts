import { defer, from, throwError, type Observable } from 'rxjs';
import { filter, tap } from 'rxjs/operators';
import type { ChatModel, ModelEvent, ModelRequest } from '../chat-model';
import { RecordingMissError } from '../errors';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { existsSync, readFileSync, writeFileSync } = process.getBuiltinModule('node:fs');

/** Options of {@link recordModel}. */
export interface RecordModelOptions {
  /** The recording file (JSON). */
  readonly file: string;
  /**
   * `record`: call the real model and write every call to the file; `replay`: answer from the
   * file only, with no network (a call not in it is a `RecordingMissError`); `auto`: replay when
   * the file exists, record otherwise. @default 'auto'
   */
  readonly mode?: 'record' | 'replay' | 'auto';
}

interface Entry {
  readonly fingerprint: string;
  readonly request: string;
  readonly events: ModelEvent[];
}

/**
 * Record & replay: wraps a model so that its calls are recorded to a file once (against the
 * real endpoint) and answered from the file afterwards, with no network. Calls are matched by a
 * fingerprint of the whole request (messages, tools, settings; not `stream`); the same request
 * asked twice gets its recorded answers in order.
 *
 * @example
 * const model = recordModel(fromAiSdk(provider.chatModel('gpt-4o-mini')), { file: 'spec/recordings/support.json' });
 */
export function recordModel(model: ChatModel | undefined, options: RecordModelOptions): ChatModel {
  const { file } = options;
  const mode =
    options.mode === undefined || options.mode === 'auto' ? (existsSync(file) ? 'replay' : 'record') : options.mode;
  const entries: Entry[] =
    mode === 'replay' ? (JSON.parse(readFileSync(file, 'utf8')) as { calls: Entry[] }).calls : [];
  const used = new Set<number>();
  if (mode === 'record' && model === undefined)
    throw new TypeError('recordModel needs the real model to record with (mode "record").');
  const provider = model?.provider ?? 'recording';
  const modelId = model?.modelId ?? file;
  const call = (request: ModelRequest): Observable<ModelEvent> =>
    defer(() => {
      const fingerprint = fingerprintOf(request);
      if (mode === 'replay') {
        const i = entries.findIndex((e, n) => e.fingerprint === fingerprint && !used.has(n));
        if (i < 0) return throwError(() => new RecordingMissError(file, describeRequest(request), fingerprint));
        used.add(i);
        const events = (entries[i] as Entry).events;
        return from(request.stream === true ? events : events.filter((e) => e.type === 'response'));
      }
      const events: ModelEvent[] = [];
      // Recorded streaming (the chunks are kept), so the recording answers streaming and plain requests alike.
      const recorded = (model as ChatModel).call({ ...request, stream: true }).pipe(
        tap({
          next: (e) => events.push(e),
          complete: () => {
            entries.push({ fingerprint, request: describeRequest(request), events });
            writeFileSync(file, JSON.stringify({ version: 1, calls: entries }, null, 1));
          },
        }),
      );
      return request.stream === true ? recorded : recorded.pipe(filter((e) => e.type === 'response'));
    });
  return { provider, modelId, supportsJsonSchema: model?.supportsJsonSchema === true, call };
}

/** A stable fingerprint of a request: sorted-key JSON without `stream`, hashed (cyrb53). */
function fingerprintOf(request: ModelRequest): string {
  const { stream: _stream, ...rest } = request;
  const text = stableJson(rest);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** A one-line summary of a request for error messages: its last message. */
function describeRequest(request: ModelRequest): string {
  const last = request.messages[request.messages.length - 1];
  if (last === undefined) return '(no messages)';
  const text = last.role === 'tool' ? `tool result of ${last.toolName}` : last.content;
  return `${request.messages.length} message(s), the last (${last.role}): ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}`;
}
