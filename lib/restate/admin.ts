import { optionError } from '../errors';
import { RestateRegistrationError, RestateUnreachableError } from './errors';

/** What the admin API answered to a registration. */
export interface RegisteredDeployment {
  /** The deployment id (`dp_...`). */
  readonly id: string;
  /** The services it serves (one per agent). */
  readonly services: readonly string[];
}

/** Options of {@link registerDeployment}. */
export interface RegisterDeploymentOptions {
  /** Replace a deployment already registered at the same URI (services changed during development). @default true */
  readonly force?: boolean;
  /** Network attempts before {@link RestateUnreachableError}. @default 20 */
  readonly attempts?: number;
}

/**
 * Registers a service endpoint (e.g. the URL of {@link serveAgents}) with the Restate admin API
 * (`POST /deployments`). The server then discovers the agents it serves and routes their
 * invocations to it. Connection failures are retried with backoff (the server may still be starting).
 *
 * @example
 * const endpoint = await serveAgents([agent]);
 * await registerDeployment(server.admin, endpoint.url);
 */
export async function registerDeployment(
  admin: string,
  uri: string,
  options: RegisterDeploymentOptions = {},
): Promise<RegisteredDeployment> {
  if (typeof admin !== 'string' || !/^https?:\/\//.test(admin))
    throw optionError('admin', 'the admin API URL, e.g. "http://127.0.0.1:9070"', admin);
  if (typeof uri !== 'string' || !/^https?:\/\//.test(uri))
    throw optionError('uri', 'the endpoint URL, e.g. "http://127.0.0.1:9080"', uri);
  const attempts = options.attempts ?? 20;
  const url = `${admin.replace(/\/$/, '')}/deployments`;
  let lastError: unknown = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ uri, force: options.force ?? true }),
      });
    } catch (error) {
      lastError = error;
      await delay(Math.min(50 * 2 ** (attempt - 1), 1000));
      continue;
    }
    const text = await response.text();
    if (response.status >= 500 && response.status !== 500) {
      lastError = new Error(`HTTP ${response.status}: ${text}`);
      await delay(Math.min(50 * 2 ** (attempt - 1), 1000));
      continue;
    }
    if (!response.ok) throw new RestateRegistrationError(uri, response.status, errorText(text));
    const body = JSON.parse(text) as { id: string; services?: Array<{ name: string }> };
    return { id: body.id, services: (body.services ?? []).map((s) => s.name) };
  }
  throw new RestateUnreachableError(url, attempts, lastError);
}

function errorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : text;
  } catch {
    return text;
  }
}

// The admin helper runs outside any agent pipeline, so a plain timer is the clock here.
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
