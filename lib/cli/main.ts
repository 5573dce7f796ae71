#!/usr/bin/env node
/**
 * The `rx-agents` command (package.json `bin`): look inside store files and event logs.
 *
 *   rx-agents inspect agents.db [--agent A] [--key K] [--json]
 *   rx-agents doctor agents.db [--json]
 *   rx-agents timeline events.jsonl -o timeline.html [--title T] [--width N] [--unit ms]
 *   rx-agents repair agents.db --agent A (--drop-input SEQ | --settle CALL (--value JSON | --error MSG)) [--reason R]
 *
 * Exit codes: see {@link EXIT}. Compiled to dist/cli/main.js; needs only Node and the package's own
 * dependencies (better-sqlite3, the optional peer, for the store commands).
 */
import { parseArgs } from 'node:util';
import { doctorCommand } from './doctor-command';
import { EXIT, exitCodeOf, UsageError } from './exit-codes';
import { inspectCommand } from './inspect-command';
import { repairCommand } from './repair-command';
import { timelineCommand } from './timeline-command';

const USAGE = `Usage:
  rx-agents inspect <agents.db> [--agent <name>] [--key <key>] [--json]
      agents, keys and their memory, unfinished runs and their journaled calls, in-doubt calls, sizes
      (read-only; safe beside a running agent)
  rx-agents doctor <agents.db> [--json]
      integrity check, schema version, writer lock owner, what recovery will do
  rx-agents timeline <events.jsonl> -o <timeline.html> [--title <t>] [--width <px>] [--unit <ms>]
      the run timeline of an event log written by createEventLog
  rx-agents repair <agents.db> --agent <name> --drop-input <run> [--reason <text>]
  rx-agents repair <agents.db> --agent <name> --settle <call id> (--value <json> | --error <message>) [--reason <text>]
      one journaled repair of a stuck journal; refused while a writer runs

Exit codes: 0 ok, 1 unexpected error, 2 bad arguments, 3 no such file, 4 not an rx-agents store / event log,
5 damaged file, 6 other schema version, 7 a live writer holds the journal, 8 repair target not in the journal.`;

/** Runs one command line; returns the exit code. `out`/`err` receive lines (stdout/stderr). */
export function main(argv: readonly string[], out: (line: string) => void, err: (line: string) => void): number {
  try {
    return run(argv, out, err);
  } catch (error) {
    const code = exitCodeOf(error);
    err(`rx-agents: ${error instanceof Error ? error.message : String(error)}`);
    if (code === EXIT.usage) err(`\n${USAGE}`);
    else if (code === EXIT.failed && error instanceof Error && error.stack !== undefined) err(error.stack);
    return code;
  }
}

function run(argv: readonly string[], out: (line: string) => void, err: (line: string) => void): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? err : out)(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values: v, positionals } = parsed;
  const file = positionals[0];
  if (positionals.length > 1) throw new UsageError(`Unexpected argument \`${positionals[1]}\`.`);
  if (file === undefined) throw new UsageError(`${command} needs a file.`);
  const only = (allowed: readonly string[]): void => {
    for (const name of Object.keys(v))
      if (!allowed.includes(name)) throw new UsageError(`Option --${name} does not apply to \`${command}\`.`);
  };
  switch (command) {
    case 'inspect':
      only(['agent', 'key', 'json']);
      inspectCommand({ file, agent: v.agent, key: v.key, json: v.json === true }, out);
      return EXIT.ok;
    case 'doctor':
      only(['json']);
      return doctorCommand({ file, json: v.json === true }, out);
    case 'timeline': {
      only(['output', 'title', 'width', 'unit', 'max-lanes']);
      const output = v.output;
      if (output === undefined) throw new UsageError('timeline needs -o <file.html> (where to write the page).');
      const width = v.width === undefined ? undefined : Number(v.width);
      const maxLanes = v['max-lanes'] === undefined ? undefined : Number(v['max-lanes']);
      const render = (): void =>
        timelineCommand(
          {
            file,
            output,
            options: {
              ...(v.title === undefined ? {} : { title: v.title }),
              ...(width === undefined ? {} : { width }),
              ...(v.unit === undefined ? {} : { unit: v.unit }),
              ...(maxLanes === undefined ? {} : { maxLanes }),
            },
          },
          out,
          err,
        );
      try {
        render();
      } catch (error) {
        // renderTimeline validates --width / --max-lanes / --title with TypeErrors: bad arguments.
        if (error instanceof TypeError) throw new UsageError(error.message);
        throw error;
      }
      return EXIT.ok;
    }
    case 'repair':
      only(['agent', 'drop-input', 'settle', 'value', 'error', 'reason']);
      repairCommand(
        {
          file,
          agent: v.agent,
          dropInput: v['drop-input'],
          settle: v.settle,
          value: v.value,
          error: v.error,
          reason: v.reason,
        },
        out,
      );
      return EXIT.ok;
    default:
      throw new UsageError(`Unknown command \`${command}\`.`);
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      agent: { type: 'string' },
      key: { type: 'string' },
      json: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      title: { type: 'string' },
      width: { type: 'string' },
      unit: { type: 'string' },
      'max-lanes': { type: 'string' },
      'drop-input': { type: 'string' },
      settle: { type: 'string' },
      value: { type: 'string' },
      error: { type: 'string' },
      reason: { type: 'string' },
    },
  });
}

if (require.main === module) {
  process.exitCode = main(
    process.argv.slice(2),
    (line) => process.stdout.write(`${line}\n`),
    (line) => process.stderr.write(`${line}\n`),
  );
}
