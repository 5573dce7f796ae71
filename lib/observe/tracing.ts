import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import { MissingPeerDependencyError, describe, optionError } from '../errors';
import type { Inspector, LifecycleEvent } from '../runtime/lifecycle';
import { errorSummary, resolveRedaction, type RedactionOptions } from './redaction';

/**
 * An OpenTelemetry `Tracer`, as far as its type goes: any `Tracer` of `@opentelemetry/api` is one.
 * Declared here, not imported, so that the published types compile for consumers who have not
 * installed the optional peer `@opentelemetry/api` (`skipLibCheck: false`).
 */
export interface TracingTracer {
  // Method syntax on purpose: a real Tracer, whose parameters are otel's own types, is assignable.
  startSpan(name: string, options?: object, context?: object): object;
}

/** An OpenTelemetry `Context` (opaque here, for the same reason as {@link TracingTracer}). */
export type TracingContext = object;

/**
 * Options of {@link createTracing}. The {@link RedactionOptions} decide what spans carry about
 * user data: by default the key attribute is a hash and failures record only the error's name and
 * code; `payloads: true` records error messages and stacks (through `redact`), `keys: 'plain'` the key.
 */
export interface TracingOptions extends RedactionOptions {
  /** The tracer to create spans with (an OpenTelemetry `Tracer`). @default trace.getTracer('rx-agents') from the registered global provider */
  readonly tracer?: TracingTracer;
  /** Names the agent in span names and the `rx_agents.agent` attribute. @default 'agent' */
  readonly agentName?: string;
  /** Parent context of each run span (an OpenTelemetry `Context`, e.g. a request's). @default the root context: each run is its own trace */
  readonly parent?: (key: unknown, run: number) => TracingContext | undefined;
}

/** Turns lifecycle events into OpenTelemetry spans. */
export interface AgentTracing {
  /** Give this to `agentOperator(agent, { inspect })`, or subscribe it to `inspector.events$`. */
  readonly inspect: Inspector;
  /** Spans started and not yet ended (runs, actions, async blocks). */
  openSpans(): number;
}

type OtelApi = typeof import('@opentelemetry/api');
let api: OtelApi | undefined;

/** Loads `@opentelemetry/api` on first use: it is an optional peer dependency. */
function loadApi(): OtelApi {
  if (api !== undefined) return api;
  try {
    api = require('@opentelemetry/api') as OtelApi;
  } catch (error) {
    throw new MissingPeerDependencyError('@opentelemetry/api', 'createTracing', error);
  }
  return api;
}

interface CallSpan {
  readonly queuedAt: number;
  span: Span | null;
}
interface RunSpans {
  readonly span: Span;
  readonly context: Context;
  readonly actions: Map<string, { readonly span: Span; readonly context: Context }>;
  readonly calls: Map<string, CallSpan>;
}

/**
 * Creates OpenTelemetry tracing for an agent operator: a span per run, a child span per
 * action activation, and a grandchild span per async block execution.
 *
 * ```
 * run jobs            key=x run=0 queue_wait=3   |==================|
 *   action lookup                                |=================|
 *     async lookup    call=0>lookup#0              |=========|
 *   action reply                                                |=|
 * ```
 *
 * Semantics: span start and end times are the lifecycle events' `time` (the operator's
 * scheduler clock: epoch ms with the default scheduler, frames under a TestScheduler).
 * Attributes: `rx_agents.agent`, `rx_agents.key` (as a string), `rx_agents.run`,
 * `rx_agents.queue_wait` (ms the input waited behind its key's previous run), `rx_agents.action`,
 * `rx_agents.activation`, `rx_agents.event`, `rx_agents.call`, `rx_agents.executor_wait` (ms a
 * block waited for an executor slot), `rx_agents.outcome`. Suspensions, resumptions, sent events,
 * outputs and retries are span events. Failures set status ERROR and record the exception; an
 * aborted run ends its open spans with status ERROR `aborted`. A call whose outcome was replayed
 * from the journal after recovery (`replayed: true`) gets no execution span — the block did
 * not run — only a `call.replayed` event on its action's span. `@opentelemetry/api` is loaded
 * lazily and is an optional peer dependency; without a registered SDK every span is a no-op.
 *
 * @example
 * import { trace } from '@opentelemetry/api';
 * const tracing = createTracing({ tracer: trace.getTracer('my-service'), agentName: 'support' });
 * inputs$.pipe(agentOperator(agent, { key: (x) => x.userId, inspect: tracing.inspect }));
 */
export function createTracing(options: TracingOptions = {}): AgentTracing {
  if (typeof options !== 'object' || options === null) throw optionError('options', 'an object', options);
  const { agentName = 'agent', parent } = options;
  if (typeof agentName !== 'string' || agentName === '')
    throw optionError('agentName', 'a non-empty string', agentName);
  if (parent !== undefined && typeof parent !== 'function') throw optionError('parent', 'a function', parent);
  if (
    options.tracer !== undefined &&
    (typeof options.tracer !== 'object' || options.tracer === null || typeof options.tracer.startSpan !== 'function')
  ) {
    throw optionError('tracer', 'an OpenTelemetry Tracer', options.tracer);
  }
  const redaction = resolveRedaction(options);
  const otel = loadApi();
  // The declared shapes are otel's own types, loosened only so the published types need no otel install.
  const tracer = (options.tracer as Tracer | undefined) ?? otel.trace.getTracer('rx-agents');
  const ERROR = otel.SpanStatusCode.ERROR;
  const runs = new Map<number, RunSpans>();
  let open = 0;

  const start = (name: string, time: number, attributes: Attributes, context: Context): Span => {
    open++;
    return tracer.startSpan(name, { startTime: time, attributes }, context);
  };
  const end = (span: Span, time: number): void => {
    open--;
    span.end(time);
  };
  const fail = (span: Span, error: unknown): void => {
    if (redaction.payloads) {
      let message = describe(error);
      const redact = redaction.redact;
      if (redact !== undefined) {
        try {
          message = String(redact('error.message', message));
        } catch {
          message = '[redact failed]';
        }
        span.recordException({ name: errorSummary(error)['name'] as string, message });
      } else if (error instanceof Error) span.recordException(error);
      span.setStatus({ code: ERROR, message });
      return;
    }
    // Metadata only: messages and stacks may quote inputs or keys.
    const summary = errorSummary(error);
    const text = [summary['name'], summary['code']].filter((x) => x !== undefined).join(' ') || 'error';
    span.recordException({ name: String(summary['name'] ?? 'Error'), message: text });
    span.setStatus({ code: ERROR, message: text });
  };
  /** The key attribute, per `keys` (none when omitted). */
  const keyAttribute = (key: unknown): Attributes => {
    const text = redaction.keyText(key);
    return text === undefined ? {} : { 'rx_agents.key': text };
  };

  const inspect: Inspector = (e: LifecycleEvent) => {
    switch (e.type) {
      case 'run.started': {
        const ctx = (parent?.(e.key, e.run) as Context | undefined) ?? otel.ROOT_CONTEXT;
        const span = start(
          `run ${agentName}`,
          e.time,
          {
            'rx_agents.agent': agentName,
            ...keyAttribute(e.key),
            'rx_agents.run': e.run,
            'rx_agents.queue_wait': e.waited,
          },
          ctx,
        );
        runs.set(e.run, { span, context: otel.trace.setSpan(ctx, span), actions: new Map(), calls: new Map() });
        return;
      }
      case 'run.ended': {
        const run = runs.get(e.run);
        if (run === undefined) return;
        runs.delete(e.run);
        for (const call of run.calls.values()) {
          if (call.span === null) continue;
          call.span.setStatus({ code: ERROR, message: 'aborted: the run ended first' });
          end(call.span, e.time);
        }
        for (const action of run.actions.values()) {
          action.span.setStatus({ code: ERROR, message: 'aborted: the run ended first' });
          end(action.span, e.time);
        }
        run.span.setAttribute('rx_agents.outcome', e.outcome);
        if (e.outcome === 'failed') fail(run.span, e.error);
        else if (e.outcome === 'aborted') run.span.setStatus({ code: ERROR, message: 'aborted' });
        end(run.span, e.time);
        return;
      }
      case 'action.started': {
        const run = runs.get(e.run);
        if (run === undefined) return;
        const span = start(
          `action ${e.action}`,
          e.time,
          {
            'rx_agents.agent': agentName,
            ...keyAttribute(e.key),
            'rx_agents.run': e.run,
            'rx_agents.action': e.action,
            'rx_agents.activation': e.activation,
            'rx_agents.event': e.event,
          },
          run.context,
        );
        run.actions.set(e.activation, { span, context: otel.trace.setSpan(run.context, span) });
        return;
      }
      case 'action.suspended':
      case 'action.resumed':
        runs
          .get(e.run)
          ?.actions.get(e.activation)
          ?.span.addEvent(e.type === 'action.suspended' ? 'suspended' : 'resumed', e.time);
        return;
      case 'action.finished':
      case 'action.failed': {
        const run = runs.get(e.run);
        const action = run?.actions.get(e.activation);
        if (run === undefined || action === undefined) return;
        run.actions.delete(e.activation);
        if (e.type === 'action.failed') fail(action.span, e.error);
        end(action.span, e.time);
        return;
      }
      case 'async.queued':
        runs.get(e.run)?.calls.set(e.call, { queuedAt: e.time, span: null });
        return;
      case 'async.started': {
        const run = runs.get(e.run);
        const call = run?.calls.get(e.call);
        if (run === undefined || call === undefined) return;
        if (call.span !== null) {
          call.span.addEvent('retry', e.time);
          return;
        }
        const action = run.actions.get(e.activation);
        call.span = start(
          `async ${e.action}`,
          e.time,
          {
            'rx_agents.agent': agentName,
            ...keyAttribute(e.key),
            'rx_agents.run': e.run,
            'rx_agents.action': e.action,
            'rx_agents.call': e.call,
            'rx_agents.executor_wait': e.time - call.queuedAt,
          },
          action?.context ?? run.context,
        );
        return;
      }
      case 'async.slow':
        runs
          .get(e.run)
          ?.calls.get(e.call)
          ?.span?.addEvent('slow', { 'rx_agents.age_ms': e.age, 'rx_agents.attempt': e.attempt }, e.time);
        return;
      case 'async.completed': {
        const run = runs.get(e.run);
        if (run === undefined) return;
        const call = run.calls.get(e.call);
        run.calls.delete(e.call);
        if (e.replayed) {
          const target = run.actions.get(e.activation)?.span ?? run.span;
          target.addEvent('call.replayed', { 'rx_agents.call': e.call, 'rx_agents.ok': e.ok }, e.time);
          if (call?.span != null) {
            call.span.setAttribute('rx_agents.replayed', true);
            end(call.span, e.time);
          }
          return;
        }
        if (call?.span == null) return;
        if (!e.ok) fail(call.span, e.error);
        end(call.span, e.time);
        return;
      }
      case 'event.sent':
        runs
          .get(e.run)
          ?.actions.get(e.activation)
          ?.span.addEvent('event.sent', { 'rx_agents.event_type': e.eventType, 'rx_agents.event': e.event }, e.time);
        return;
      case 'output.emitted':
        runs.get(e.run)?.span.addEvent('output', { 'rx_agents.event': e.event }, e.time);
        return;
      // rx-agents/llm: the call's span becomes a GenAI span (OpenTelemetry GenAI semantic conventions).
      // These events come just before the call's async.completed, so its span is still open.
      case 'model.called':
      case 'tool.called': {
        const run = runs.get(e.run);
        const span = run?.calls.get(e.call)?.span;
        const attributes: Attributes =
          e.type === 'model.called'
            ? {
                'gen_ai.operation.name': 'chat',
                'gen_ai.provider.name': e.provider,
                'gen_ai.request.model': e.model,
                'gen_ai.response.model': e.model,
                ...(e.usage === undefined
                  ? {}
                  : {
                      'gen_ai.usage.input_tokens': e.usage.inputTokens,
                      'gen_ai.usage.output_tokens': e.usage.outputTokens,
                    }),
                ...(e.finishReason === undefined ? {} : { 'gen_ai.response.finish_reasons': [e.finishReason] }),
              }
            : { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': e.tool };
        const name = e.type === 'model.called' ? `chat ${e.model}` : `execute_tool ${e.tool}`;
        if (span == null) {
          const action = run?.actions.get(e.activation);
          if (e.replayed) {
            // the block did not run: noted on the action's span
            action?.span.addEvent(e.type, { ...attributes, 'rx_agents.call': e.call }, e.time);
            return;
          }
          // a call that settled synchronously (its async span is already closed): a span of its own
          if (run === undefined) return;
          const own = start(
            name,
            e.started,
            { ...attributes, 'rx_agents.call': e.call },
            action?.context ?? run.context,
          );
          if (!e.ok && e.type === 'tool.called') own.setAttribute('error.type', 'tool_error');
          end(own, e.time);
          return;
        }
        span.updateName(name);
        span.setAttributes(attributes);
        if (!e.ok && e.type === 'tool.called') span.setAttribute('error.type', 'tool_error');
        return;
      }
      default:
        return;
    }
  };
  return { inspect, openSpans: () => open };
}
