import { diagnoseStore, type StoreDiagnosis } from '../store/sqlite-doctor';
import { SQLITE_APPLICATION_ID, SQLITE_SCHEMA_VERSION } from '../store/sqlite-store';
import { EXIT } from './exit-codes';
import { plural, short, toJsonText } from './format';

/**
 * `rx-agents doctor agents.db [--json]`: integrity check, schema version, lock owner and what
 * recovery will do (see `diagnoseStore`). Returns the exit code: 0 when the file is usable (a live
 * writer is fine), else the code of its problem (4 foreign, 5 damaged, 6 another version).
 */
export function doctorCommand(
  args: { readonly file: string; readonly json: boolean },
  out: (line: string) => void,
): number {
  const d = diagnoseStore(args.file);
  const code = d.ok ? EXIT.ok : codeOf(d);
  if (args.json) {
    out(toJsonText({ ...d, state: undefined, exitCode: code }, 2));
    return code;
  }
  out(`${d.location}`);
  const idOk = d.applicationId === SQLITE_APPLICATION_ID;
  out(
    `  application id  ${d.applicationId === undefined ? 'unreadable' : `0x${d.applicationId.toString(16)}`}${idOk ? ' (rx-agents)' : d.applicationId === undefined ? '' : ' (NOT rx-agents)'}`,
  );
  out(
    `  schema version  ${d.schemaVersion ?? 'unreadable'}${d.schemaVersion === SQLITE_SCHEMA_VERSION ? ' (this version reads it)' : d.migrationPending ? ` (readable; migration to ${SQLITE_SCHEMA_VERSION} pending: the next writer migrates it when it opens the file)` : ` (this version reads ${SQLITE_SCHEMA_VERSION})`}`,
  );
  out(`  journal mode    ${d.journalMode ?? 'unreadable'}`);
  out(
    `  integrity       ${d.integrity.length === 1 && d.integrity[0] === 'ok' ? 'ok' : short(d.integrity.join('; '), 200)}`,
  );
  if (!d.ok) {
    out(`PROBLEM: ${d.problem?.message ?? 'unknown'}`);
    return code;
  }
  if (d.agents.length === 0) out('  no agent has written to it yet: recovery has nothing to do');
  for (const a of d.agents) {
    const owner =
      a.owner === undefined ? '' : ` (recorded owner pid ${a.owner.pid} on ${a.owner.host} since ${a.owner.since})`;
    out(`agent ${a.agent}`);
    out(
      `  writer lock     ${a.lock === 'held' ? `HELD by a live process${owner}: recovery runs in that writer; stop it before a repair` : `free${a.owner === undefined ? '' : ` — the recorded owner pid ${a.owner.pid} is gone (crashed or stopped)`}`}`,
    );
    if (a.replay.length === 0) out('  recovery        nothing to replay');
    else {
      out(
        `  recovery        replays ${plural(a.replay.length, 'unfinished run')} first, in order: ${short(a.replay.join(', '), 120)}`,
      );
      out(`                  journaled outcomes: ${a.recordedCalls} (their calls settle without running again)`);
      if (a.inDoubt.length > 0)
        out(
          `                  ${plural(a.inDoubt.length, 'call')} in doubt (${short(a.inDoubt.join(', '), 100)}): their reconciler decides; settle one by hand with \`rx-agents repair\``,
        );
    }
    out(
      `  next run        ${a.nextSeq}${a.position === undefined ? '' : `; the source resumes after position ${short(a.position, 40)}`}`,
    );
  }
  return code;
}

function codeOf(d: StoreDiagnosis): number {
  switch (d.problem?.code) {
    case 'ERR_STORE_FOREIGN':
      return EXIT.foreign;
    case 'ERR_STORE_VERSION':
      return EXIT.version;
    default:
      return EXIT.damaged;
  }
}
