import type { SchedulerLike } from 'rxjs';
import { AbortedError } from '../errors';
import {
  RestateNotRegisteredError,
  RestateRequestError,
  RestateRunFailedError,
  RestateUnreachableError,
} from './errors';
import type { RestateRunResult } from './restate-run';

/** Backoff of network retries: attempt n waits `min(initialDelay * 2^(n-1), maxDelay)` ms. */
export interface RetryOptions {
  /** Attempts per request before {@link RestateUnreachableError}. @default 12 */
  readonly attempts?: number;
  /** @default 50 */
  readonly initialDelay?: number;
  /** @default 2000 */
  readonly maxDelay?: number;
}

/** One ingress target: service, key, idempotency key, body. */
export interface IngressRequest {
  readonly service: string;
  readonly key: string;
  readonly handler: string;
  readonly idempotencyKey: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The two ingress calls the client operator makes, with typed errors and retries:
 * `send` (accepted durably, deduplicated by the idempotency key) and `attach` (the result).
 * Both are safe to repeat, which is what makes retrying them after a network error correct.
 */
export class IngressClient {
  private readonly attempts: number;
  private readonly initialDelay: number;
  private readonly maxDelay: number;

  constructor(
    private readonly ingress: string,
    retry: RetryOptions,
    private readonly scheduler: SchedulerLike,
  ) {
    this.attempts = retry.attempts ?? 12;
    this.initialDelay = retry.initialDelay ?? 50;
    this.maxDelay = retry.maxDelay ?? 2000;
  }

  /** Sends one input; resolves with its invocation id once Restate has accepted it (durably enqueued for the key). */
  async send(request: IngressRequest, signal: AbortSignal): Promise<string> {
    const url = `${this.ingress}/${encodeURIComponent(request.service)}/${encodeURIComponent(request.key)}/${request.handler}/send`;
    const response = await this.retrying(url, signal, () =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': request.idempotencyKey, ...request.headers },
        body: request.body,
        signal,
      }),
    );
    const text = await response.text();
    if (response.status === 404) throw new RestateNotRegisteredError(request.service, messageOf(text));
    if (!response.ok) throw new RestateRequestError(url, response.status, messageOf(text));
    const parsed = JSON.parse(text) as { invocationId?: unknown };
    if (typeof parsed.invocationId !== 'string')
      throw new RestateRequestError(url, response.status, `no invocation id in ${text}`);
    return parsed.invocationId;
  }

  /** Waits for the result of an accepted invocation. */
  async attach(invocationId: string, request: IngressRequest, signal: AbortSignal): Promise<RestateRunResult> {
    const url = `${this.ingress}/restate/invocation/${encodeURIComponent(invocationId)}/attach`;
    const response = await this.retrying(url, signal, () => fetch(url, { signal }));
    const text = await response.text();
    if (response.ok) return JSON.parse(text) as RestateRunResult;
    if (response.headers.get('x-restate-error-source') === 'invocation') {
      let parsed: { message?: string; metadata?: Record<string, string> } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        parsed = { message: text };
      }
      throw new RestateRunFailedError(
        request.service,
        request.key,
        parsed.metadata?.['rx-agents-code'] ?? 'ERR_UNKNOWN',
        parsed.metadata?.['rx-agents-name'] ?? 'Error',
        parsed.message ?? text,
        invocationId,
      );
    }
    if (response.status === 404) throw new RestateNotRegisteredError(request.service, messageOf(text));
    throw new RestateRequestError(url, response.status, messageOf(text));
  }

  /** Runs `request` until it answers with something other than a network error or a 502/503/504. */
  private async retrying(url: string, signal: AbortSignal, request: () => Promise<Response>): Promise<Response> {
    let last: unknown = null;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (signal.aborted) throw new AbortedError('the subscription ended');
      try {
        const response = await request();
        if (response.status !== 502 && response.status !== 503 && response.status !== 504) return response;
        last = new Error(`HTTP ${response.status}: ${await response.text()}`);
      } catch (error) {
        if (signal.aborted) throw new AbortedError('the subscription ended');
        last = error;
      }
      if (attempt < this.attempts)
        await this.delay(Math.min(this.initialDelay * 2 ** (attempt - 1), this.maxDelay), signal);
    }
    throw new RestateUnreachableError(url, this.attempts, last);
  }

  private delay(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const sub = this.scheduler.schedule(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        sub.unsubscribe();
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function messageOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : text;
  } catch {
    return text;
  }
}
