import { optionError } from '../errors';
import { describeKey } from '../describe-key';

/**
 * What an input does when its key's run is still going (S15):
 * - `queue`: waits behind the run, in arrival order (S1, the default);
 * - `reject`: does not run; reported (`onDropped` with reason `rejected`, `input.dropped`);
 * - `latest`: waits, and replaces every input of its key that was still waiting (each reported `superseded`);
 * - `interrupt`: the running run is aborted now — its `AbortSignal` fires, its calls are aborted,
 *   its short-term memory writes are kept — and reported `interrupted`; the input then runs;
 * - `rollback`: as `interrupt`, and the key's short-term memory is put back as it was when the
 *   aborted run started (reported `rolled-back`).
 */
export type BusyPolicy = 'queue' | 'reject' | 'latest' | 'interrupt' | 'rollback';

/** The `busy` option: one policy for every input, or one chosen per input (and so per key). */
export type BusyOption<In = unknown> = BusyPolicy | ((input: In, key: unknown) => BusyPolicy);

const POLICIES: readonly BusyPolicy[] = ['queue', 'reject', 'latest', 'interrupt', 'rollback'];

/** Validates the `busy` option at operator creation. */
export function checkBusy(value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (!POLICIES.includes(value as BusyPolicy))
    throw optionError(
      'busy',
      `one of ${POLICIES.map((p) => `'${p}'`).join(', ')}, or a function (input, key) => policy`,
      value,
    );
}

/** The policy for one input whose key is busy; a chooser that throws or answers nonsense throws a `TypeError` / its error. */
export function choosePolicy(option: BusyOption, input: unknown, key: unknown): BusyPolicy {
  if (typeof option !== 'function') return option;
  const chosen = option(input, key);
  if (!POLICIES.includes(chosen))
    throw new TypeError(
      `The \`busy\` function returned \`${String(chosen)}\` for an input of key \`${describeKey(key)}\`; return one of ${POLICIES.map((p) => `'${p}'`).join(', ')}.`,
    );
  return chosen;
}

/** Whether runs must remember the key's memory at their start (a rollback may need it). */
export function mayRollBack(option: BusyOption): boolean {
  return option === 'rollback' || typeof option === 'function';
}
