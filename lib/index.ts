export { defineEvent, isEventType, InputEvent, OutputEvent } from './events/define-event';
export type { AgentEvent, EventType, EventOf, PayloadOf } from './events/define-event';
export { defineAgent, action } from './agent/define-agent';
export { allOf } from './agent/all-of';
export type { JoinTrigger, JoinedEvents } from './agent/all-of';
export type {
  Agent,
  AgentConfig,
  ActionDef,
  ActionFn,
  ActionFactory,
  ActionStyle,
  TriggerEvent,
} from './agent/define-agent';
export type { RunnerContext, AllResults, AnyResult, WaitOptions, SendOptions } from './context/runner-context';
export { agentOperator } from './operator/agent-operator';
export { runAgent } from './operator/run-agent';
export type { RunAgentOptions } from './operator/run-agent';
export type { AgentOperatorOptions } from './operator/options';
export type { AgentOutput, RunFailure, InputDropReason } from './runtime/settings';
export type { BusyPolicy, BusyOption } from './runtime/busy-policy';
export type { AsyncCall, AsyncCallOptions, BlockResult, Call, RetryDelay } from './context/call';
export { createExecutor } from './runtime/executor';
export { createBudgets } from './runtime/budgets';
export type { Budgets, BudgetsConfig, BudgetSpec, BudgetStats, BudgetsOptions } from './runtime/budgets';
export { exponentialBackoff } from './runtime/backoff';
export type { BackoffOptions } from './runtime/backoff';
export { UnknownBudgetError, RetryPolicyError, WaitTimeoutError, WaitError, SignalRejectedError } from './waits/errors';
export type { SignalRejection } from './waits/errors';
export { signal } from './waits/signal';
export type { Signal } from './waits/signal';
export type { Executor, ExecutorTask } from './runtime/executor';
export type { MemoryRef, MemoryValue } from './context/memory-ref';
export type { LifecycleEvent, LifecycleEventType, Inspector } from './runtime/lifecycle';
export { createInspector } from './observe/inspector';
export type { AgentInspector, InspectorOptions } from './observe/inspector';
export type { AgentStats, ActionStats } from './observe/stats';
export type { LatencySummary } from './observe/latency';
export { createEventLog } from './observe/event-log';
export type { EventLog, EventLogLevel, EventLogOptions, EventLogStats } from './observe/event-log';
export { createTracing } from './observe/tracing';
export type { RedactionOptions, KeyMode } from './observe/redaction';
export type { AgentTracing, TracingOptions } from './observe/tracing';
export { renderTimeline } from './observe/timeline';
export type { TimelineOptions } from './observe/timeline';
export { sqliteStore, SQLITE_APPLICATION_ID, SQLITE_SCHEMA_VERSION } from './store/sqlite-store';
export type { SqliteStore, SqliteStoreOptions } from './store/sqlite-store';
export { memoryStore } from './store/memory-store';
export type { MemoryStore } from './store/memory-store';
export { recordedPosition } from './store/recorded-position';
export type { AgentStore, JournalBatch, JournalSnapshot, JournaledCall, JournaledInput, RunEnd } from './store/store';
export { createWorkerPool } from './workers/worker-pool';
export type { WorkerPool, WorkerPoolOptions } from './workers/worker-pool';
export type { WorkerFunction } from './workers/worker-function';
export { closeWorkerPoolOnEnd } from './workers/close-worker-pool-on-end';
export {
  RxAgentsError,
  AgentDefinitionError,
  EventValidationError,
  AsyncBlockAccessError,
  MemoryValueError,
  MemoryPathError,
  ActionError,
  CallbackError,
  BufferOverflowError,
  RunLimitError,
  UnroutedEventError,
  UnknownResourceError,
  AsyncTimeoutError,
  AbortedError,
  EmptyAsyncResultError,
  MissingPeerDependencyError,
  StoreOpenError,
  StoreVersionError,
  StoreUnavailableError,
  StoreWriteError,
  JournalValueError,
  JournalCorruptError,
  NonDeterminismError,
  WorkerFunctionError,
  WorkerCaptureError,
  WorkerTaskError,
  WorkerCrashedError,
  WorkerPoolClosedError,
} from './errors';
export type { ValidationIssue, JournalRow, StoreOpenErrorCode } from './errors';
