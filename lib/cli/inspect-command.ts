import { readStore, type StoredAgent, type StoreState } from '../store/sqlite-reader';
import { bytes, plural, short, toJsonText } from './format';

/** Arguments of `rx-agents inspect`. */
export interface InspectArgs {
  readonly file: string;
  readonly agent: string | undefined;
  /** Compared with `String(key)`: `--key 7` finds the number key 7 and the string key "7". */
  readonly key: string | undefined;
  readonly json: boolean;
}

/**
 * `rx-agents inspect agents.db [--agent A] [--key K] [--json]`: the state of a store file (see
 * `readStore`), human-readable or as JSON. Read-only; safe beside a running agent.
 */
export function inspectCommand(args: InspectArgs, out: (line: string) => void): void {
  const full = readStore(args.file, args.agent === undefined ? {} : { agent: args.agent });
  const state: StoreState =
    args.key === undefined
      ? full
      : {
          ...full,
          agents: full.agents.map((a) => ({
            ...a,
            runs: [],
            inDoubt: [],
            keys: a.keys.filter((k) => String(k.key) === args.key),
          })),
        };
  if (args.json) return out(toJsonText(state, 2));
  const f = state.file;
  out(
    `${state.location}: rx-agents store, schema ${state.schemaVersion}, ${bytes(f.bytes)}${f.walBytes > 0 ? ` + ${bytes(f.walBytes)} WAL` : ''}, ` +
      `${plural(f.pages, 'page')} of ${bytes(f.pageSize)} (${f.freePages} free)`,
  );
  if (state.agents.length === 0)
    out(args.agent === undefined ? '  no agent has written to it yet' : `  no journal for agent \`${args.agent}\``);
  for (const a of state.agents) agentLines(a, args.key, out);
  if (state.repairs.length > 0) {
    out(`repairs (${state.repairs.length}):`);
    for (const r of state.repairs)
      out(
        `  #${r.id} ${r.at} ${r.op} agent ${r.agent} run ${r.seq} by pid ${r.pid} on ${r.host}: ${short(r.detail, 160)}`,
      );
  }
}

function agentLines(a: StoredAgent, key: string | undefined, out: (line: string) => void): void {
  const owner =
    a.owner === undefined
      ? 'no writer recorded'
      : `last writer pid ${a.owner.pid} on ${a.owner.host} since ${a.owner.since}`;
  out(
    `agent ${a.agent}: next run ${a.nextSeq}${a.position === undefined ? '' : `, source position ${short(a.position, 40)}`}, ${owner}`,
  );
  if (key === undefined) {
    out(`  unfinished runs (${a.runs.length})${a.runs.length > 0 ? ': recovery replays them in this order' : ''}`);
    for (const r of a.runs) {
      out(`    run ${r.seq}  input ${short(r.input, 100)}`);
      for (const c of r.calls) {
        const outcome =
          c.state === 'ok'
            ? `ok ${short(c.value, 80)}`
            : c.state === 'failed'
              ? `failed ${c.error?.name ?? 'Error'}: ${short(c.error?.message ?? '', 80)}`
              : 'IN DOUBT (started, no outcome)';
        out(`      ${c.id}  ${outcome}`);
      }
    }
    if (a.inDoubt.length > 0) out(`  in-doubt calls (${a.inDoubt.length}): ${a.inDoubt.map((c) => c.id).join(', ')}`);
  } else out(`  (runs are not listed with --key: the journal does not record the keys of inputs)`);
  out(`  keys with short-term memory (${a.keys.length})`);
  for (const k of a.keys)
    out(`    ${short(typeof k.key === 'string' ? k.key : toJsonText(k.key), 30)}  ${short(k.memory, 110)}`);
  const s = a.sizes;
  out(
    `  holds ${plural(s.inputs, 'input')}, ${plural(s.calls, 'call')}, ${plural(s.keys, 'memory row')}; ${bytes(s.bytes)} encoded`,
  );
}
