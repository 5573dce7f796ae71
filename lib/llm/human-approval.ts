import { z } from 'zod/v4';
import type { ActionDef, ActionFactory } from '../agent/define-agent';
import { defineEvent } from '../events/define-event';
import { WaitTimeoutError } from '../runtime/wait-errors';
import { ToolApprovalRequestEvent, ToolApprovalResponseEvent } from './events';
import type { JsonValue } from './messages';

/**
 * The signal a person sends to decide a run's pending tool calls, by tool call id: approve
 * (`approved: true`), reject (`approved: false`, with a `reason` the model sees), or edit
 * (`approved: true` with new `arguments`, validated by the tool's schema before it runs).
 * List it in `reactAgent({ signals: [ToolApprovalSignal] })` and push it with
 * `signals.next(signal(key, ToolApprovalSignal.of({ decisions })))`.
 */
export const ToolApprovalSignal = defineEvent(
  'rx-agents/llm/tool-approval',
  z.object({
    decisions: z.record(
      z.string(),
      z.object({
        approved: z.boolean(),
        reason: z.string().optional(),
        arguments: z.custom<JsonValue>((v) => v !== undefined).optional(),
      }),
    ),
  }),
);

/** Options of {@link humanApproval}. */
export interface HumanApprovalOptions {
  /** Reject every undecided call after this many ms (scheduler time) without a decision. @default no timeout */
  readonly timeout?: number;
  /** The action's name. @default 'llm.human-approval' */
  readonly name?: string;
}

/**
 * Human-in-the-loop for tools marked `needsApproval` (S14): an action for `reactAgent({ actions })`
 * that parks the run on `ctx.waitForEvent(ToolApprovalSignal)` — holding no executor slot, durable
 * with a store — until a decision covering every pending call arrives for the run's key, then
 * answers the loop with `ToolApprovalResponseEvent` (edited arguments replace the call's).
 * A call left undecided (or every call, at the `timeout`) is rejected with a reason the model sees.
 *
 * @example
 * const agent = reactAgent({
 *   model, tools: [refund], signals: [ToolApprovalSignal],
 *   actions: (action) => [humanApproval(action, { timeout: 15 * 60_000 })],
 * });
 * // from the approval UI:
 * signals.next(signal(ticketId, ToolApprovalSignal.of({ decisions: { [callId]: { approved: true } } })));
 */
export function humanApproval<In>(action: ActionFactory<In>, options: HumanApprovalOptions = {}): ActionDef {
  const { timeout, name = 'llm.human-approval' } = options;
  return action(name, ToolApprovalRequestEvent, function* (event, ctx) {
    const pending = event.payload.pending;
    const covers = (e: { payload: z.output<typeof ToolApprovalSignal.schema> }): boolean =>
      pending.every((c) => Object.hasOwn(e.payload.decisions, c.id));
    let decisions: z.output<typeof ToolApprovalSignal.schema>['decisions'] = {};
    let why = 'no decision was given for this call';
    try {
      decisions = (yield* ctx.waitForEvent(ToolApprovalSignal, {
        match: covers,
        ...(timeout === undefined ? {} : { timeout }),
      })).payload.decisions;
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      why = `no decision arrived within ${timeout} ms`;
    }
    const calls = event.payload.calls.map((c) => {
      const edited = decisions[c.id]?.arguments;
      return edited === undefined ? c : { ...c, arguments: edited };
    });
    const approvals = Object.fromEntries(
      pending.map((c) => {
        const d = decisions[c.id];
        return [
          c.id,
          d === undefined
            ? { approved: false, reason: why }
            : { approved: d.approved, ...(d.reason === undefined ? {} : { reason: d.reason }) },
        ];
      }),
    );
    ctx.sendEvent(ToolApprovalResponseEvent.of({ ...event.payload, calls, approvals }));
  });
}
