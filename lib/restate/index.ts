/**
 * `rx-agents/restate`: the same agent, distributed on Restate. Serve agents as Restate virtual
 * objects (`serveAgents`, `agentObject`), register them (`registerDeployment`), and send inputs
 * through the client operator (`restateAgent`). `startRestateServer` runs a local server from the
 * `@restatedev/restate-server` package (tests, examples, development).
 *
 * Loading this subpath installs `Promise.withResolvers` on Node 20 (the Restate SDK needs it).
 */
import './polyfill';

export { agentObject, RUN_HANDLER } from './agent-object';
export type { AgentObject, AgentObjectOptions } from './agent-object';
export { serveAgents } from './serve-agents';
export type { AgentEndpoint, ServeAgentsOptions } from './serve-agents';
export { registerDeployment } from './admin';
export type { RegisteredDeployment, RegisterDeploymentOptions } from './admin';
export { restateAgent, restateService } from './restate-agent';
export type {
  RestateAgentOptions,
  RestateAgentOutput,
  RestateBusyPolicy,
  RestateDropReason,
  RestateRunFailure,
  RestateServiceRef,
} from './restate-agent';
export { sendSignal } from './send-signal';
export type { SendSignalOptions } from './send-signal';
export { signalsObject, SIGNALS_SUFFIX } from './signals-object';
export type { DeliverAnswer, SignalsObjectOptions, StoredSignal, TakeAnswer } from './signals-object';
export type { RetryOptions } from './ingress-client';
export type { RestateOutput, RestateRunResult } from './restate-run';
export { startRestateServer, restartRestateServer, restateServerBinary } from './restate-server';
export type { RestateServer, RestateServerOptions } from './restate-server';
export {
  RestateBlockError,
  RestateNotRegisteredError,
  RestateRegistrationError,
  RestateRequestError,
  RestateRunFailedError,
  RestateSerializationError,
  RestateServerStartError,
  RestateStepError,
  RestateUnreachableError,
} from './errors';
