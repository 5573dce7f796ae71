import type { ChildProcess } from 'node:child_process';
import { optionError } from '../errors';
import { appRequire } from '../load-peer';
import { RestateServerStartError } from './errors';

// Node built-ins through process.getBuiltinModule, not imports: an ESM bundle of this CommonJS package cannot require() them (see package.json `engines`).
const { spawn } = process.getBuiltinModule('node:child_process');
const { createWriteStream, mkdtempSync, rmSync } = process.getBuiltinModule('node:fs');
const { createServer } = process.getBuiltinModule('node:net');
const { arch, platform, tmpdir } = process.getBuiltinModule('node:os');
const { join } = process.getBuiltinModule('node:path');

/** Options of {@link startRestateServer}. */
export interface RestateServerOptions {
  /** Where the server keeps its log, metadata and state. Start again on the same dir to resume. @default a fresh temp dir, removed by `stop()` */
  readonly baseDir?: string;
  /** The interface every listener binds to. @default '127.0.0.1' */
  readonly bindIp?: string;
  /** @default a free port */
  readonly ingressPort?: number;
  /** @default a free port */
  readonly adminPort?: number;
  /** The node-to-node (message fabric) port. @default a free port */
  readonly nodePort?: number;
  /** Partitions of a new cluster (fewer is lighter on a small machine). @default 4 */
  readonly partitions?: number;
  /** First delay before Restate retries a failed invocation attempt (e.g. a killed service process). @default '50ms' */
  readonly retryInitialInterval?: string;
  /** Longest delay between retries of an invocation attempt. @default '1s' */
  readonly retryMaxInterval?: string;
  /** Extra `RESTATE_*` environment variables (see `restate-server --dump-config`). @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** A file that receives the server's stdout and stderr. @default discarded */
  readonly logFile?: string;
  /** Give up when the admin and ingress are not healthy after this many ms. @default 60000 */
  readonly startTimeout?: number;
  /** Remove `baseDir` when the server is stopped. @default true for the temp dir it made, false for a given dir */
  readonly removeBaseDir?: boolean;
  /** The `restate-server` binary. @default the one of the installed `@restatedev/restate-server-<os>-<arch>` package */
  readonly binary?: string;
}

/** A running Restate server started by {@link startRestateServer}. */
export interface RestateServer {
  /** Ingress base URL, e.g. `http://127.0.0.1:41234`. */
  readonly ingress: string;
  /** Admin API base URL. */
  readonly admin: string;
  readonly pid: number;
  readonly baseDir: string;
  /** The options it was started with, ports resolved (start a second one on the same base dir with these). */
  readonly options: RestateServerOptions & {
    readonly ingressPort: number;
    readonly adminPort: number;
    readonly nodePort: number;
  };
  /** Stops the server by its PID (SIGTERM, then SIGKILL after `graceMs`) and removes a temp base dir it made. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILLs the server (a crash); the base dir stays, so {@link restartRestateServer} resumes from it. */
  kill(): Promise<void>;
}

/** The path of the `restate-server` binary shipped in the npm package for this platform. */
export function restateServerBinary(): string {
  const name = `@restatedev/restate-server-${platform()}-${arch()}`;
  try {
    // Node's own resolution, also inside an ESM bundle (where `require.resolve` is a bundler shim).
    return appRequire().resolve(`${name}/bin/restate-server`);
  } catch (cause) {
    throw new RestateServerStartError(
      `The Restate server binary for ${platform()}-${arch()} is not installed (${name}). ` +
        'Install it with `npm install -D @restatedev/restate-server` (its platform package comes as an optional dependency).',
      { cause },
    );
  }
}

/** A port that was free a moment ago on `host`. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a real `restate-server` as a child process, bound to `bindIp` (loopback by default) on
 * free ports, and resolves once its admin API and ingress answer. Stop it with `stop()` (by PID).
 *
 * Semantics: every listener (ingress, admin, node fabric) binds to `bindIp`; the server listens on
 * TCP only. A server started on an existing `baseDir` resumes that cluster (its journal, state and
 * registered deployments); pass the same ports so clients and deployments still reach it.
 *
 * @example
 * const server = await startRestateServer();
 * await registerDeployment(server.admin, endpoint.url);
 * // ... inputs$.pipe(restateAgent(ref, { ingress: server.ingress, key }))
 * await server.stop();
 */
export async function startRestateServer(options: RestateServerOptions = {}): Promise<RestateServer> {
  if (typeof options !== 'object' || options === null) throw optionError('options', 'an object', options);
  const bindIp = options.bindIp ?? '127.0.0.1';
  const madeDir = options.removeBaseDir ?? options.baseDir === undefined;
  const baseDir = options.baseDir ?? mkdtempSync(join(tmpdir(), 'rx-agents-restate-'));
  const resolved = {
    ...options,
    baseDir,
    removeBaseDir: madeDir,
    bindIp,
    ingressPort: options.ingressPort ?? (await freePort(bindIp)),
    adminPort: options.adminPort ?? (await freePort(bindIp)),
    nodePort: options.nodePort ?? (await freePort(bindIp)),
  };
  const binary = options.binary ?? restateServerBinary();
  const env: Record<string, string> = {
    ...filteredEnv(),
    RESTATE_BIND_IP: bindIp,
    RESTATE_BIND_PORT: String(resolved.nodePort),
    RESTATE_INGRESS__BIND_PORT: String(resolved.ingressPort),
    RESTATE_ADMIN__BIND_PORT: String(resolved.adminPort),
    RESTATE_LISTEN_MODE: 'tcp',
    RESTATE_DISABLE_TELEMETRY: 'true',
    RESTATE_NODE_NAME: 'rx-agents',
    RESTATE_DEFAULT_NUM_PARTITIONS: String(options.partitions ?? 4),
    RESTATE_ROCKSDB_TOTAL_MEMORY_SIZE: '256MB',
    RESTATE_DEFAULT_RETRY_POLICY__INITIAL_INTERVAL: options.retryInitialInterval ?? '50ms',
    RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL: options.retryMaxInterval ?? '1s',
    RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS: '1000',
    ...(options.env ?? {}),
  };
  const child = spawn(binary, ['--no-logo', '--base-dir', baseDir], {
    env,
    stdio: [
      'ignore',
      options.logFile === undefined ? 'ignore' : 'pipe',
      options.logFile === undefined ? 'ignore' : 'pipe',
    ],
  });
  if (options.logFile !== undefined) {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: unknown = null;
  child.once('error', (error) => (spawnError = error));
  const ingress = `http://${hostPart(bindIp)}:${resolved.ingressPort}`;
  const admin = `http://${hostPart(bindIp)}:${resolved.adminPort}`;
  const cleanup = (): void => {
    if (madeDir) rmSync(baseDir, { recursive: true, force: true });
  };
  const killNow = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await waitHealthy(
      child,
      () => spawnError,
      `${admin}/health`,
      `${ingress}/restate/health`,
      options.startTimeout ?? 60_000,
    );
  } catch (error) {
    await killNow();
    cleanup();
    throw error;
  }
  return {
    ingress,
    admin,
    pid: child.pid as number,
    baseDir,
    options: resolved,
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid as number, 'SIGTERM');
        const timer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL');
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL');
      await exited;
    },
  };
}

/** Starts a server again on the base dir and ports of one that was stopped or killed (its cluster resumes). */
export function restartRestateServer(previous: RestateServer): Promise<RestateServer> {
  return startRestateServer({ ...previous.options });
}

async function waitHealthy(
  child: ChildProcess,
  spawnError: () => unknown,
  adminHealth: string,
  ingressHealth: string,
  timeout: number,
): Promise<void> {
  const deadline = Date.now() + timeout;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const failed = spawnError();
    if (failed !== null) throw new RestateServerStartError(`restate-server could not be spawned.`, { cause: failed });
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new RestateServerStartError(
        `restate-server exited during start (code ${child.exitCode}, signal ${child.signalCode}); ` +
          'pass `logFile` to see why (a port in use, or a base dir of another cluster).',
      );
    }
    try {
      const [a, i] = await Promise.all([fetch(adminHealth), fetch(ingressHealth)]);
      await Promise.all([a.arrayBuffer(), i.arrayBuffer()]);
      if (a.ok && i.ok) {
        // Healthy listeners are not enough: every partition needs a leader. A query over all of them
        // (the admin SQL API) answers only then ("node lookup for partition N failed" before).
        const q = await fetch(adminHealth.replace(/\/health$/, '/query'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ query: 'SELECT id FROM sys_invocation LIMIT 1' }),
        });
        const text = await q.text();
        if (q.ok) return;
        last = `admin query HTTP ${q.status}: ${text}`;
      } else last = `admin HTTP ${a.status}, ingress HTTP ${i.status}`;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new RestateServerStartError(`restate-server did not become healthy within ${timeout} ms.`, { cause: last });
}

function hostPart(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

/** The parent's environment without RESTATE_* settings that would override ours. */
function filteredEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !name.startsWith('RESTATE_')) out[name] = value;
  return out;
}
