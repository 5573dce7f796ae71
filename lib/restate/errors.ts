import { RxAgentsError, describe } from '../errors';

/** The Restate server binary could not be started or did not become healthy. */
export class RestateServerStartError extends RxAgentsError {
  override readonly name = 'RestateServerStartError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_RESTATE_SERVER_START', message, options);
  }
}

/** The ingress or admin API could not be reached (connection refused, reset, timeout) after every retry. */
export class RestateUnreachableError extends RxAgentsError {
  override readonly name = 'RestateUnreachableError';
  constructor(
    readonly url: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      'ERR_RESTATE_UNREACHABLE',
      `Restate at ${url} could not be reached after ${attempts} attempt(s): ${describe(cause)}. ` +
        'Check that restate-server is running and that `ingress` / `admin` point at it (default ingress port 8080, admin 9070).',
      { cause },
    );
  }
}

/** The ingress does not know the service or handler: the deployment serving the agent was never registered. */
export class RestateNotRegisteredError extends RxAgentsError {
  override readonly name = 'RestateNotRegisteredError';
  constructor(
    readonly service: string,
    detail: string,
  ) {
    super(
      'ERR_RESTATE_NOT_REGISTERED',
      `Restate has no service \`${service}\` (${detail}). Serve the agent with serveAgents(...) and register the ` +
        'endpoint with registerDeployment(admin, url) before sending inputs.',
    );
  }
}

/** The admin API refused to register a deployment. */
export class RestateRegistrationError extends RxAgentsError {
  override readonly name = 'RestateRegistrationError';
  constructor(
    readonly uri: string,
    readonly status: number,
    detail: string,
  ) {
    super(
      'ERR_RESTATE_REGISTRATION',
      `Restate refused to register the deployment ${uri} (HTTP ${status}): ${detail}. ` +
        'Check that the endpoint is listening on an address the server can reach and speaks HTTP/2.',
    );
  }
}

/** The ingress refused a request for another reason (HTTP 4xx other than 404). */
export class RestateRequestError extends RxAgentsError {
  override readonly name = 'RestateRequestError';
  constructor(
    readonly url: string,
    readonly status: number,
    detail: string,
  ) {
    super('ERR_RESTATE_REQUEST', `Restate refused ${url} (HTTP ${status}): ${detail}.`);
  }
}

/**
 * A run executed on Restate ended with a failure (an action threw, an input failed the agent's
 * schema, a block returned something Restate cannot journal). `remoteCode` and `remoteName` are the
 * rx-agents error's `code` and `name` on the service side (e.g. `ERR_EVENT_VALIDATION`).
 */
export class RestateRunFailedError extends RxAgentsError {
  override readonly name = 'RestateRunFailedError';
  constructor(
    readonly service: string,
    readonly key: string,
    readonly remoteCode: string,
    readonly remoteName: string,
    readonly remoteMessage: string,
    readonly invocationId: string | undefined,
  ) {
    super(
      'ERR_RESTATE_RUN_FAILED',
      `The run of key \`${key}\` on Restate service \`${service}\` failed with ${remoteName} (${remoteCode}): ${remoteMessage}`,
    );
  }
}

/** A value cannot travel through Restate: it is not JSON-like (bigint, function, class instance, cycle, non-finite number). */
export class RestateSerializationError extends RxAgentsError {
  override readonly name = 'RestateSerializationError';
  constructor(
    readonly where: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'ERR_RESTATE_SERIALIZATION',
      `${where} cannot be sent through Restate: ${detail}. Restate journals JSON; pass plain objects, arrays, ` +
        'strings, finite numbers, booleans and null (dates as ISO strings, bigints as strings).',
      options,
    );
  }
}

/**
 * An action used its context outside a step of the Restate driver (e.g. after awaiting a timer or
 * an I/O promise directly instead of `ctx.executeAsync`). Its effect could land at a different
 * journal position on replay, so it is refused instead of risking a non-deterministic replay.
 */
export class RestateStepError extends RxAgentsError {
  override readonly name = 'RestateStepError';
  constructor(
    readonly action: string,
    readonly member: string,
  ) {
    super(
      'ERR_RESTATE_OUTSIDE_STEP',
      `Action \`${action}\` used \`ctx.${member}\` outside a step of the Restate run (after awaiting something that is ` +
        'not a ctx call). On Restate an action may await only ctx.executeAsync / ctx.all; move timers and I/O into executeAsync blocks.',
    );
  }
}

/**
 * An `executeAsync` block of an agent running on Restate failed. The original error does not
 * survive the journal as an object, so the action gets this error both on the first execution and
 * on every replay: `remoteName`, `remoteCode` (an rx-agents `code`, when the error had one) and the
 * original message.
 */
export class RestateBlockError extends RxAgentsError {
  override readonly name = 'RestateBlockError';
  constructor(
    readonly action: string,
    readonly remoteName: string,
    readonly remoteCode: string | undefined,
    readonly remoteMessage: string,
  ) {
    super(
      'ERR_RESTATE_BLOCK_FAILED',
      `An async block of action \`${action}\` failed with ${remoteName}${remoteCode === undefined ? '' : ` (${remoteCode})`}: ${remoteMessage}`,
    );
  }
}
