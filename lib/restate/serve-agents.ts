import type { Http2Session } from 'node:http2';
import type { Agent } from '../agent/define-agent';
import { optionError } from '../errors';
import { agentObject, type AgentObject } from './agent-object';
import { restateSdk } from './restate-sdk';
import { DEFAULT_MAX_BUFFERED_SIGNALS, signalsObject } from './signals-object';

// A Node built-in through process.getBuiltinModule, not an import: an ESM bundle of this CommonJS package cannot require() it (see package.json `engines`).
const { createServer } = process.getBuiltinModule('node:http2');

/** Options of {@link serveAgents}. */
export interface ServeAgentsOptions {
  /** The address to listen on. Restate must reach it. @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Restate SDK log lines at or above this level go to the console. @default 'error' */
  readonly logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'off';
  /** S14: signals the signals object of each agent with `signals` buffers per key and type. @default 1000 */
  readonly maxBufferedSignals?: number;
}

/** A running service endpoint. */
export interface AgentEndpoint {
  /** The URL to register with {@link registerDeployment}, e.g. `http://127.0.0.1:9080`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes open HTTP/2 sessions (in-flight invocations are retried by Restate elsewhere). */
  close(): Promise<void>;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'off'] as const;

/**
 * Serves agents (or agent objects from {@link agentObject}) as a Restate service endpoint on an
 * HTTP/2 server bound to `host` (loopback by default — the SDK's own `serve()` binds every
 * interface). Register the returned `url` with the admin API. An agent with `signals` is served
 * with its signals object (`<name>-signals`, see {@link signalsObject}).
 *
 * @example
 * const endpoint = await serveAgents([scorer], { port: 9080 });
 * await registerDeployment('http://127.0.0.1:9070', endpoint.url);
 */
export async function serveAgents(
  agents: ReadonlyArray<Agent<never, unknown> | AgentObject>,
  options: ServeAgentsOptions = {},
): Promise<AgentEndpoint> {
  if (!Array.isArray(agents) || agents.length === 0)
    throw optionError('agents', 'a non-empty array of agents (defineAgent) or agentObject(...) definitions', agents);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw optionError('port', 'an integer port 0..65535', port);
  const level = options.logLevel ?? 'error';
  if (!LEVELS.includes(level)) throw optionError('logLevel', `one of ${LEVELS.join(', ')}`, level);
  // An agent with `signals` also gets its signals object (`<name>-signals`, S14).
  const services = agents.flatMap((a) => {
    if (!('routes' in a)) return [a];
    const agent = a as Agent<never, unknown>;
    const object = agentObject(agent);
    return (agent as unknown as Agent).signalTypes.size > 0
      ? [
          object,
          signalsObject(agent, { maxBufferedSignals: options.maxBufferedSignals ?? DEFAULT_MAX_BUFFERED_SIGNALS }),
        ]
      : [object];
  });
  const min = LEVELS.indexOf(level);
  const handler = restateSdk('serveAgents').createEndpointHandler({
    services,
    logger: (meta, message, ...rest) => {
      if (LEVELS.indexOf(meta.level as (typeof LEVELS)[number]) >= min) console.warn('[restate]', message, ...rest);
    },
  });
  const server = createServer(handler);
  const sessions = new Set<Http2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
}
