/**
 * `rx-agents`: events, agents, the operator, its context and errors — what every agent needs,
 * and nothing that loads `node:worker_threads`, `node:vm`, `node:fs` or SQLite. Optional features
 * are subpaths: `rx-agents/sqlite` (durable store), `rx-agents/workers` (worker threads),
 * `rx-agents/observe` (inspector, event log, tracing, timeline), `rx-agents/testing` (marble kit).
 *
 * @example
 * import { agentOperator, defineAgent, InputEvent, OutputEvent } from 'rx-agents';
 */
export { defineEvent, isEventType, InputEvent, OutputEvent } from './events/define-event';
export type { AgentEvent, EventType, EventOf, OutputEventType, PayloadOf } from './events/define-event';
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
  KeySelector,
  TriggerEvent,
} from './agent/define-agent';
export type {
  RunnerContext,
  AllResults,
  AnyResult,
  Resources,
  WaitOptions,
  SendOptions,
} from './context/runner-context';
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
export {
  UnknownBudgetError,
  RetryPolicyError,
  WaitTimeoutError,
  WaitError,
  SignalRejectedError,
} from './runtime/wait-errors';
export type { SignalRejection } from './runtime/wait-errors';
export { signal } from './events/signal';
export type { Signal } from './events/signal';
export type { Executor, ExecutorTask } from './runtime/executor';
export type { MemoryData, MemoryRef, MemoryValue } from './context/memory-ref';
export type { LifecycleEvent, LifecycleEventType, Inspector } from './runtime/lifecycle';
export { createAgentState } from './inspect/agent-state';
export type {
  AgentState,
  AgentStateSnapshot,
  KeySnapshot,
  RunSnapshot,
  ActionSnapshot,
  CallSnapshot,
  ParkedSnapshot,
} from './inspect/agent-state';
export { memoryStore } from './store/memory-store';
export type { MemoryStore } from './store/memory-store';
export { recordedPosition } from './store/recorded-position';
export type { AgentStore, JournalBatch, JournalSnapshot, JournaledCall, JournaledInput, RunEnd } from './store/store';
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
  VirtualTimeError,
  MissingPeerDependencyError,
  StoreUnavailableError,
  StoreWriteError,
  StateAccessError,
  JournalValueError,
  JournalCorruptError,
  NonDeterminismError,
} from './errors';
export type { ValidationIssue, JournalRow } from './errors';
