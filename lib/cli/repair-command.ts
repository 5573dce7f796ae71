import { repairStore, type StoreRepair } from '../store/sqlite-repair';
import { UsageError } from './exit-codes';
import { short } from './format';

/** Arguments of `rx-agents repair`. */
export interface RepairArgs {
  readonly file: string;
  readonly agent: string | undefined;
  readonly dropInput: string | undefined;
  readonly settle: string | undefined;
  readonly value: string | undefined;
  readonly error: string | undefined;
  readonly reason: string | undefined;
}

/**
 * `rx-agents repair agents.db --agent A --drop-input SEQ` or
 * `rx-agents repair agents.db --agent A --settle CALL (--value JSON | --error MESSAGE)`: one
 * journaled repair (see `repairStore`), refused while a live writer holds the journal.
 */
export function repairCommand(args: RepairArgs, out: (line: string) => void): void {
  if (args.agent === undefined)
    throw new UsageError('repair needs --agent <name> (the agent whose journal to repair).');
  if ((args.dropInput === undefined) === (args.settle === undefined))
    throw new UsageError('repair needs exactly one of --drop-input <run> or --settle <call id>.');
  const reason = args.reason === undefined ? {} : { reason: args.reason };
  let repair: StoreRepair;
  if (args.dropInput !== undefined) {
    const seq = Number(args.dropInput);
    if (!Number.isInteger(seq) || seq < 0)
      throw new UsageError(`--drop-input needs a run sequence number (an integer >= 0), got \`${args.dropInput}\`.`);
    repair = { op: 'drop-input', agent: args.agent, seq, ...reason };
  } else {
    const call = args.settle as string;
    // Call ids start with their run: `<seq>>action#index`.
    const seq = Number(call.slice(0, call.indexOf('>')));
    if (!/^\d+>/.test(call) || !Number.isInteger(seq))
      throw new UsageError(
        `--settle needs a call id such as \`7>charge#0\` (see \`rx-agents inspect\`), got \`${call}\`.`,
      );
    if ((args.value === undefined) === (args.error === undefined))
      throw new UsageError(
        '--settle needs exactly one of --value <JSON> (the call succeeded) or --error <message> (it failed).',
      );
    if (args.value !== undefined) {
      let value: unknown;
      try {
        value = JSON.parse(args.value);
      } catch (cause) {
        throw new UsageError(
          `--value must be JSON (quote strings: --value '"done"'), got \`${args.value}\`: ${(cause as Error).message}.`,
        );
      }
      repair = { op: 'settle-call', agent: args.agent, seq, call, value, ...reason };
    } else
      repair = { op: 'settle-call', agent: args.agent, seq, call, error: { message: args.error as string }, ...reason };
  }
  const done = repairStore(args.file, repair);
  out(`repair #${done.id} journaled in ${args.file}: ${short(done.detail, 200)}`);
}
