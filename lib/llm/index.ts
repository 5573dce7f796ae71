export type {
  ChatMessage,
  SystemMessage,
  UserMessage,
  AssistantMessage,
  ToolMessage,
  ToolCall,
  JsonValue,
} from './messages';
export { system, user, assistant, toolResult, chatMessageSchema } from './messages';
export type {
  ChatModel,
  ChatResponse,
  CallSettings,
  ModelRequest,
  ModelEvent,
  ModelChunk,
  TokenUsage,
  FinishReason,
  ToolSpec,
} from './chat-model';
export { responseText } from './chat-model';
export { fromAiSdk } from './from-ai-sdk';
export type { AiSdkLanguageModel, FromAiSdkOptions } from './from-ai-sdk';
export { withModelPolicy } from './model-policy';
export type { ModelPolicy } from './model-policy';
export { chat } from './chat';
export { defineTool, toToolSpec } from './define-tool';
export type { Tool, ToolConfig, ToolExecutionOptions, ToolOutcome } from './define-tool';
export { runTools } from './run-tools';
export type { RunToolsOptions, ApprovalDecision } from './run-tools';
export { reactAgent } from './react-agent';
export { mcpTools, connectStdioMcp } from './mcp-tools';
export type { McpClientLike, McpToolsOptions, StdioMcp } from './mcp-tools';
export type { ReactAgentOptions, AgentAnswer } from './react-agent';
export { structuredOutput } from './structured-output';
export type { StructuredOutput, OutputStrategy } from './structured-output';
export {
  ChatRequestEvent,
  ChatResponseEvent,
  ToolRequestEvent,
  ToolResponseEvent,
  ToolApprovalRequestEvent,
  ToolApprovalResponseEvent,
} from './events';
export { trimHistory } from './history';
export { isStreamChunk } from '../runtime/run-channel';
export type { StreamChunk } from '../runtime/run-channel';
export {
  ModelCallError,
  MaxStepsError,
  StructuredOutputError,
  ToolDefinitionError,
  ToolCallError,
  RecordingMissError,
  ModelAdapterError,
} from './errors';
export type { ModelFailureKind } from './errors';
