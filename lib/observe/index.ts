/**
 * `rx-agents/observe`: consumers of the operator's `inspect` lifecycle stream — an inspector with
 * stats, a JSON-lines event log, OpenTelemetry tracing (the optional peer `@opentelemetry/api` is
 * loaded only by `createTracing`) and an HTML run timeline.
 *
 * @example
 * import { createInspector } from 'rx-agents/observe';
 * const inspector = createInspector();
 * inputs$.pipe(agentOperator(agent, { inspect: inspector.inspect })).subscribe();
 * inspector.stats().runsCompleted;
 */
export { createInspector } from './inspector';
export type { AgentInspector, InspectorOptions } from './inspector';
export type { AgentStats, ActionStats, SlowBlockStats } from './stats';
export type { LatencySummary } from './latency';
export { createEventLog } from './event-log';
export type { EventLog, EventLogLevel, EventLogOptions, EventLogStats } from './event-log';
export { createTracing } from './tracing';
export type { RedactionOptions, KeyMode } from './redaction';
export type { AgentTracing, TracingContext, TracingOptions, TracingTracer } from './tracing';
export { renderTimeline, renderTimelineParts } from './timeline';
export type { TimelineOptions, TimelineParts } from './timeline';
export type {
  LifecycleEvent,
  LifecycleEventType,
  Inspector,
  InspectorChannel,
  LifecycleCounters,
  RunOutcome,
} from '../runtime/lifecycle';
