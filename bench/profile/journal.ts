import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, range } from 'rxjs';
import { count, map } from 'rxjs/operators';
// Profiling driver for the journal workload: node --cpu-prof -r ts-node/register/transpile-only bench/profile/journal.ts [nostore]
import { agentOperator } from '../../lib';
import { sqliteStore } from '../../lib/sqlite';
import { ioAgent } from '../workloads/journal';
const withStore = process.argv[2] !== 'nostore';
const inputs = 20_000;
(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rx-agents-profile-journal-'));
  try {
    for (let r = 0; r < 4; r++) {
      const store = withStore ? sqliteStore(join(dir, `p-${r}.db`)) : undefined;
      const t0 = performance.now();
      await lastValueFrom(
        range(0, inputs).pipe(
          map((id) => ({ id, key: id % 100 })),
          agentOperator(ioAgent, { key: (x) => x.key, ...(store === undefined ? {} : { store }) }),
          count(),
        ),
      );
      console.log(
        withStore ? 'store' : 'nostore',
        Math.round(((inputs * 4) / (performance.now() - t0)) * 1000),
        'calls/s',
      );
      store?.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();
