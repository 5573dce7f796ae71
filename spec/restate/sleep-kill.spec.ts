import { expect } from 'chai';
import { join } from 'node:path';
import { firstValueFrom, from, toArray } from 'rxjs';
import { registerDeployment, restateAgent } from '../../lib/restate';
import { freePort } from '../../lib/restate/restate-server';
import { useRestateServer } from './fixtures/server';
import { killService, query, spawnService, type ServiceProcess } from './fixtures/service-process';
import { sleeper } from './fixtures/wait-agents';

const SLEEP = 5_000;

describe('restate: S14 a durable ctx.sleep survives a SIGKILL of its service process (real child processes)', function () {
  this.timeout(180_000);
  const ctx = useRestateServer();
  const children: ServiceProcess[] = [];
  after(async () => {
    for (const child of children) await killService(child);
  });

  it('the sleep is journaled with its wake-up time: after the kill, the retry does not sleep again from zero', async () => {
    const port = await freePort();
    const module = { path: join(__dirname, 'fixtures', 'wait-agents'), name: 'sleeper' };
    const first = spawnService(port, '', module);
    children.push(first);
    await first.ready;
    await registerDeployment(ctx.server.admin, `http://127.0.0.1:${port}`);
    const result = firstValueFrom(
      from([{ ms: SLEEP }]).pipe(restateAgent(sleeper, { ingress: ctx.server.ingress }), toArray()),
    );
    // Kill once the Sleep command is in the journal (the run is mid-sleep).
    for (;;) {
      const rows = await query<{ entry_type: string }>(
        ctx.server.admin,
        `SELECT entry_type FROM sys_journal WHERE entry_type = 'Command: Sleep'`,
      );
      if (rows.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await killService(first);
    // A new process on the same port (the same deployment URL) serves the retry.
    const second = spawnService(port, '', module);
    children.push(second);
    await second.ready;
    const ready = Date.now();
    const [out] = (await result) as Array<{ t0: number; t1: number }>;
    expect(out).to.not.equal(undefined);
    const { t0, t1 } = out as { t0: number; t1: number };
    // The whole sleep elapsed (from the journaled start)...
    expect(t1 - t0).to.be.at.least(SLEEP);
    // ...and it was not restarted on the new process: a fresh sleep would end at ready + SLEEP or later.
    expect(t1).to.be.below(ready + SLEEP);
    // One Sleep command in the journal, not two.
    const sleeps = await query<{ entry_type: string }>(
      ctx.server.admin,
      `SELECT entry_type FROM sys_journal WHERE entry_type = 'Command: Sleep'`,
    );
    expect(sleeps.length).to.be.at.most(1);
  });
});
