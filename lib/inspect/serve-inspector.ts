import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { optionError } from '../errors';
import type { AgentInspector } from '../observe/inspector';
import type { AgentState } from './agent-state';
import { inspectorPage } from './inspector-page';
import { LiveFeed } from './live-feed';

/** Options of {@link serveInspector}. */
export interface ServeInspectorOptions {
  /** TCP port; `0` picks a free one (read it from `server.url`). @default 0 */
  readonly port?: number;
  /** Interface to bind. Anything but loopback needs a `token`. @default '127.0.0.1' */
  readonly host?: string;
  /** Required on every request (`?token=` or `Authorization: Bearer`), compared in constant time. @default none (loopback only) */
  readonly token?: string;
  /** Host names accepted in the `Host` header besides loopback and `host` (DNS-rebinding guard). @default [] */
  readonly allowedHosts?: readonly string[];
  /** Show memory values, inputs and thrown non-Errors in the page. Off: names and shapes only. @default false */
  readonly payloads?: boolean;
  /** The running operator's state view (same one as `agentOperator(agent, { state })`): memory and runs in the drill-down. @default none */
  readonly state?: AgentState;
  /** Page title. @default 'rx-agents inspector' */
  readonly title?: string;
  /** How often connected pages get an update, in ms (wall clock). @default 500 */
  readonly interval?: number;
  /** Lifecycle events folded into the timeline's kept run records at most, while a page is connected (bounds the memory). @default 20000 */
  readonly maxEvents?: number;
  /** Keys drawn as timeline lanes (and recorded for the drill-down without a state view); idle ones make room. @default 24 */
  readonly maxLanes?: number;
  /** The timeline draws at most this many runs, the most recent (within `windowMs`). @default 100 */
  readonly maxRuns?: number;
  /** The timeline records at most this many run starts per second (sampling; in bursts of a tenth every 100 ms). @default 20 */
  readonly sampleRuns?: number;
  /** The timeline shows at most the last this many ms (scheduler time) of those events. @default 10000 */
  readonly windowMs?: number;
  /** Per page: updates are skipped (not queued) while more than this many bytes wait to be sent to it. @default 1048576 */
  readonly maxBufferedBytes?: number;
}

/** A running inspector server: what {@link serveInspector} resolves to. */
export interface InspectorServer {
  /** `http://host:port/` (with `?token=…` when a token is set): open it in a browser. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /**
   * Pages connected now, updates sent, updates skipped because a page read too slowly, requests
   * refused, updates that carried new or changed timeline runs (`draws`: the page redraws then), and the wall-clock and CPU ms the server spent building and
   * writing the periodic updates (its share of the agent's thread; `busyCpuMs` is `process.cpuUsage`
   * over those calls, so other processes on a loaded machine do not inflate it).
   */
  stats(): {
    readonly clients: number;
    readonly sent: number;
    readonly skipped: number;
    readonly rejected: number;
    readonly draws: number;
    readonly busyMs: number;
    readonly busyCpuMs: number;
  };
  /** Disconnects every page and stops listening. Never rejects. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Serves a live inspector page for a running agent: runs/s, active keys, in-flight async blocks,
 * latency percentiles per action, tokens per model (`rx-agents/llm` agents), the scrolling run
 * timeline (keys as lanes, drawn in the browser by the same renderer as `renderTimeline`), failed runs with their
 * errors, and a per-key drill-down (memory, the current run's actions and calls, what it is parked
 * on: S14 waits and timers with their deadlines).
 *
 * ```
 * agent events ─▶ inspector ─▶ (sampled runs folded into compact records, only while a page is connected)
 *                     │ stats()          │ every `interval` ms: counters + the runs that changed, JSON
 *                     └──────────────────┴──▶ SSE /events ──▶ page 1, page 2 … (each draws the timeline itself)
 * ```
 *
 * Semantics: one self-contained page (no CDN, no external resource); updates stream over
 * Server-Sent Events, and the browser reconnects by itself when the server restarts. Each update is
 * built once per tick for every page: the counters, and the timeline's runs recorded or changed since
 * the last tick, as compact records (no payloads) that the page draws with the static timeline's
 * renderer. A page that reads slowly just misses updates (`stats().skipped`) — nothing is queued for
 * it beyond `maxBufferedBytes`, the agent never waits for a page, and once the page reads again it gets
 * the whole state instead of the change. With no page connected the server holds no subscription to the inspector:
 * it costs the agent nothing. With a page, the timeline is a sample: at most `sampleRuns` run starts per
 * second (of the `maxLanes` keys drawn) are recorded for it, and the latest `maxRuns` are drawn, and the page says so; the runtime builds
 * lifecycle events only for those runs (per-run interest), and while the sampling budget is spent it
 * is not even asked. The counters, latencies, tokens and failed runs come from the inspector's
 * counters: exact for every run, and complete from the inspector's creation. Payloads (memory values, inputs) are
 * hidden unless `payloads: true`. Bound to 127.0.0.1 by default; requests whose `Host` header names
 * another host are refused with 403 (DNS rebinding); with `token`, requests without it get 401.
 * Binding a non-loopback `host` without a `token` is refused with a TypeError.
 *
 * @example
 * const inspector = createInspector();
 * const state = createAgentState();
 * const server = await serveInspector(inspector, { port: 4600, state });
 * console.log(`inspector at ${server.url}`);
 * inputs$.pipe(agentOperator(agent, { key: (t) => t.customer, inspect: inspector.inspect, state })).subscribe();
 * // later: await server.close();
 */
export async function serveInspector(
  inspector: AgentInspector,
  options: ServeInspectorOptions = {},
): Promise<InspectorServer> {
  if (
    typeof inspector !== 'object' ||
    inspector === null ||
    typeof inspector.stats !== 'function' ||
    typeof inspector.events$?.subscribe !== 'function'
  )
    throw optionError('inspector', 'an inspector made by createInspector()', inspector);
  inspector.stats(); // a `stats: false` inspector fails here, with its own message
  if (typeof options !== 'object' || options === null) throw optionError('options', 'an object', options);
  const {
    port = 0,
    host = '127.0.0.1',
    token,
    allowedHosts = [],
    payloads = false,
    state,
    title = 'rx-agents inspector',
    interval = 500,
    maxEvents = 20_000,
    maxLanes = 24,
    maxRuns = 100,
    sampleRuns = 20,
    windowMs = 10_000,
    maxBufferedBytes = 1024 * 1024,
  } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw optionError('port', 'an integer 0..65535', port);
  if (typeof host !== 'string' || host === '') throw optionError('host', 'a host name or address', host);
  if (token !== undefined && (typeof token !== 'string' || token.length < 16))
    throw optionError('token', 'a string of at least 16 characters', token);
  if (!LOOPBACK.has(host) && token === undefined)
    throw new TypeError(
      `serveInspector would expose the agent's state on \`${host}\` without a token. Pass \`token\` (e.g. crypto.randomBytes(24).toString('hex')), or keep the default host 127.0.0.1.`,
    );
  if (!Array.isArray(allowedHosts) || allowedHosts.some((h) => typeof h !== 'string'))
    throw optionError('allowedHosts', 'an array of host names', allowedHosts);
  if (typeof payloads !== 'boolean') throw optionError('payloads', 'a boolean', payloads);
  if (state !== undefined && (typeof state !== 'object' || state === null || typeof state.snapshot !== 'function'))
    throw optionError('state', 'a state view made by createAgentState()', state);
  if (typeof title !== 'string') throw optionError('title', 'a string', title);
  for (const [name, value, min] of [
    ['interval', interval, 10],
    ['maxEvents', maxEvents, 1],
    ['maxLanes', maxLanes, 1],
    ['maxRuns', maxRuns, 1],
    ['sampleRuns', sampleRuns, 1],
    ['windowMs', windowMs, 1],
    ['maxBufferedBytes', maxBufferedBytes, 1024],
  ] as const)
    if (!Number.isInteger(value) || value < min) throw optionError(name, `an integer >= ${min}`, value);

  const feed = new LiveFeed(inspector, {
    payloads,
    maxEvents,
    windowMs,
    maxFailures: 20,
    maxLanes,
    maxRuns,
    sampleRuns,
    state,
  });
  const hosts = new Set([...LOOPBACK, host.toLowerCase(), ...allowedHosts.map((h) => h.toLowerCase())]);
  /** Each page, and whether it needs the whole state next (it connected, or an update to it was skipped). */
  const clients = new Map<ServerResponse, { full: boolean }>();
  const counts = { sent: 0, skipped: 0, rejected: 0, draws: 0, busyMs: 0, busyCpuMs: 0 };
  let timer: NodeJS.Timeout | null = null;

  // One update per tick, built once for every page: counters, and the timeline's runs that changed since the
  // last tick (the page draws them). A page that missed an update gets the whole state instead, once it reads again.
  const broadcast = (): void => {
    if (clients.size === 0) return;
    const started = performance.now();
    const cpu = process.cpuUsage();
    try {
      const update = feed.update(started);
      if (update.runs > 0) counts.draws++;
      const delta = `event: snapshot\ndata: ${update.delta}\n\n`;
      let full: string | undefined;
      for (const [res, page] of clients)
        page.full = !send(res, page.full ? (full ??= `event: snapshot\ndata: ${update.full()}\n\n`) : delta);
    } catch (error) {
      // A snapshot must never take the process down; the page shows the message instead.
      const message = `event: problem\ndata: ${JSON.stringify(String(error))}\n\n`;
      for (const [res, page] of clients) page.full = !send(res, message) || page.full;
    }
    const used = process.cpuUsage(cpu);
    counts.busyCpuMs += (used.user + used.system) / 1000;
    counts.busyMs += performance.now() - started;
  };
  /** Writes unless the page is behind by more than `maxBufferedBytes` (then skipped, not queued): whether it was written. */
  const send = (res: ServerResponse, message: string): boolean => {
    if (res.writableLength > maxBufferedBytes) {
      counts.skipped++;
      return false;
    }
    res.write(message);
    counts.sent++;
    return true;
  };
  const connect = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    feed.start();
    if (timer === null) {
      timer = setInterval(broadcast, interval);
      timer.unref();
    }
    clients.set(res, { full: !send(res, `event: snapshot\ndata: ${feed.snapshot(performance.now())}\n\n`) });
    const gone = (): void => {
      if (!clients.delete(res)) return;
      if (clients.size === 0) {
        if (timer !== null) clearInterval(timer);
        timer = null;
        feed.stop();
      }
    };
    req.on('close', gone);
    res.on('error', gone);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const reject = (status: number, text: string): void => {
      counts.rejected++;
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(`${text}\n`);
    };
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    const hostname = hostHeader.startsWith('[')
      ? hostHeader.slice(0, hostHeader.indexOf(']') + 1)
      : hostHeader.split(':')[0];
    if (hostname === undefined || !hosts.has(hostname))
      return reject(
        403,
        `Host \`${hostHeader}\` is not allowed (DNS-rebinding guard); add it to allowedHosts if it is yours.`,
      );
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (token !== undefined && !hasToken(req, url, token)) return reject(401, 'A valid token is required (?token=…).');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reject(405, 'Only GET is served.');
    const common = {
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    switch (url.pathname) {
      case '/': {
        const nonce = randomBytes(16).toString('base64');
        res.writeHead(200, {
          ...common,
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        });
        return void res.end(inspectorPage(title, nonce));
      }
      case '/events':
        return connect(req, res);
      case '/api/snapshot':
        res.writeHead(200, { ...common, 'Content-Type': 'application/json' });
        return void res.end(feed.snapshot(performance.now()));
      case '/api/key': {
        const key = url.searchParams.get('key');
        if (key === null) return reject(400, 'Give ?key=<key>.');
        const found = feed.key(key);
        if (found === undefined) return reject(404, `No state for key \`${key}\`.`);
        res.writeHead(200, { ...common, 'Content-Type': 'application/json' });
        return void res.end(found);
      }
      default:
        return reject(404, 'Not found.');
    }
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      // A state snapshot or a bad request must not crash the host process.
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${String(error)}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${address.port}/${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`,
    port: address.port,
    host: address.address,
    stats: () => ({ clients: clients.size, ...counts }),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        if (timer !== null) clearInterval(timer);
        timer = null;
        for (const res of clients.keys()) res.end();
        clients.clear();
        feed.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function hasToken(req: IncomingMessage, url: URL, token: string): boolean {
  const auth = req.headers.authorization;
  const given = url.searchParams.get('token') ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
