import type { Agent } from '../agent/define-agent';
import { EventValidationError, optionError } from '../errors';
import { toIssues, type AgentEvent } from '../events/define-event';
import { SignalRejectedError } from '../runtime/wait-errors';
import { RestateNotRegisteredError, RestateRequestError, RestateUnreachableError } from './errors';
import { journalable } from './restate-run';
import { SIGNALS_SUFFIX, type DeliverAnswer } from './signals-object';

/** Options of {@link sendSignal}. */
export interface SendSignalOptions {
  /** Dedupes a resend: Restate delivers a signal with a given idempotency key once. @default none */
  readonly idempotencyKey?: string;
  /** Network attempts (connection refused or reset, 502/503/504) before `RestateUnreachableError`. @default 12 */
  readonly attempts?: number;
}

/**
 * Sends a signal (an external event for one key, S14) to an agent served on Restate: it goes to
 * the key's signals object (`<name>-signals`), which buffers it until a wait of the key takes it.
 * Resolves once the signal is durably buffered; rejects with `SignalRejectedError` when it is not
 * (its `code`: `ERR_SIGNAL_UNKNOWN_TYPE`, `ERR_SIGNAL_INVALID` — checked here with the agent's
 * schemas when `target` is the agent, and again on the service — or `ERR_SIGNAL_OVERFLOW`).
 *
 * A signal for a key with no parked run is buffered too, for the key's next wait (unlike the
 * embedded runtime, where it is rejected with `ERR_SIGNAL_NO_RUN`).
 *
 * @example
 * await sendSignal(server.ingress, desk, 't-42', Approval.of({ approved: true, by: 'ana' }));
 */
export async function sendSignal(
  ingress: string,
  target: Agent<never, unknown> | { readonly name: string },
  key: string | number,
  event: AgentEvent,
  options: SendSignalOptions = {},
): Promise<void> {
  if (typeof ingress !== 'string' || !/^https?:\/\/[^/]+/.test(ingress))
    throw optionError('ingress', 'the Restate ingress URL, e.g. "http://127.0.0.1:8080"', ingress);
  if (typeof target !== 'object' || target === null || typeof target.name !== 'string')
    throw optionError('target', 'an agent made by defineAgent or restateService(name)', target);
  if (typeof key !== 'string' && typeof key !== 'number')
    throw optionError('key', 'a string or a number (the object key)', key);
  const type = typeof event === 'object' && event !== null ? event.type : undefined;
  if (typeof type !== 'string')
    throw new SignalRejectedError(
      'ERR_SIGNAL_SHAPE',
      key,
      undefined,
      'A signal must be an event made by an event type: sendSignal(ingress, agent, key, Type.of(payload)).',
      event,
    );
  let payload = event.payload;
  const signalTypes = (target as Partial<Agent>).signalTypes;
  if (signalTypes instanceof Map) {
    const eventType = signalTypes.get(type);
    if (eventType === undefined)
      throw new SignalRejectedError(
        'ERR_SIGNAL_UNKNOWN_TYPE',
        key,
        type,
        `A signal of type \`${type}\` was sent for key \`${key}\`, but agent \`${target.name}\` lists no such type in its \`signals\`.`,
        event,
      );
    const parsed = eventType.schema.safeParse(payload);
    if (!parsed.success) {
      const error = new EventValidationError(type, toIssues(parsed.error), `in a signal for key \`${key}\``);
      throw new SignalRejectedError('ERR_SIGNAL_INVALID', key, type, error.message, event, { cause: error });
    }
    payload = parsed.data;
  }
  const body = JSON.stringify({ type, payload: journalable(payload, `The payload of a signal of type \`${type}\``) });
  const service = `${target.name}${SIGNALS_SUFFIX}`;
  const url = `${ingress.replace(/\/$/, '')}/${encodeURIComponent(service)}/${encodeURIComponent(String(key))}/deliver`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  const attempts = options.attempts ?? 12;
  let last: unknown = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let response: Response | null = null;
    try {
      response = await fetch(url, { method: 'POST', headers, body });
    } catch (error) {
      last = error;
    }
    if (response !== null) {
      const text = await response.text();
      if (response.ok) {
        const answer = JSON.parse(text) as DeliverAnswer;
        if (answer.ok) return;
        throw new SignalRejectedError(answer.code, key, type, answer.message, event);
      }
      if (response.status === 404) throw new RestateNotRegisteredError(service, text);
      if (response.status !== 502 && response.status !== 503 && response.status !== 504)
        throw new RestateRequestError(url, response.status, text);
      last = new Error(`HTTP ${response.status}: ${text}`);
    }
    if (attempt < attempts)
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** (attempt - 1), 2000)));
  }
  throw new RestateUnreachableError(url, attempts, last);
}
