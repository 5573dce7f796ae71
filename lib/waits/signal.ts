import type { AgentEvent } from '../events/define-event';

/** An external event for one key: what the operator's `signals` Observable carries. */
export interface Signal<E extends AgentEvent = AgentEvent> {
  /** The key whose current run should get it (compared like input keys). */
  readonly key: unknown;
  /** The event, made with its event type's `of(payload)`; validated by that type's schema on arrival. */
  readonly event: E;
}

/**
 * Makes a {@link Signal}: `signal(ticketId, Approval.of({ approved: true }))`. Push it into the
 * Observable given as the operator's `signals` option (a `Subject` is the usual choice).
 *
 * @example
 * const signals = new Subject<Signal>();
 * inputs$.pipe(agentOperator(agent, { key: (t) => t.id, signals }));
 * // later, from a webhook or a UI:
 * signals.next(signal('t-42', Approval.of({ approved: true, by: 'ana' })));
 */
export function signal<E extends AgentEvent>(key: unknown, event: E): Signal<E> {
  return { key, event };
}
