/**
 * `rx-agents/inspect`: the live inspector page — an HTTP server on 127.0.0.1 that streams an
 * inspector's updates to a browser over Server-Sent Events (loads `node:http`, so it is not in the
 * root). The state API it reads (`createAgentState`) comes from the root package.
 *
 * @example
 * import { createAgentState } from 'rx-agents';
 * import { createInspector } from 'rx-agents/observe';
 * import { serveInspector } from 'rx-agents/inspect';
 * const inspector = createInspector();
 * const state = createAgentState();
 * inputs$.pipe(agentOperator(agent, { inspect: inspector.inspect, state })).subscribe();
 * const server = await serveInspector(inspector, { state, port: 4600 });
 */
export { serveInspector } from './serve-inspector';
export type { InspectorServer, ServeInspectorOptions } from './serve-inspector';
