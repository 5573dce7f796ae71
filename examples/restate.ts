/**
 * `npm run example:restate`: the demo workload (support tickets, three model calls per ticket)
 * run embedded and then distributed on Restate — the same agent, one changed line in the pipeline.
 * It starts its own restate-server (from the npm package, on 127.0.0.1, temp base dir), serves the
 * agent on an HTTP/2 endpoint, registers it, sends the tickets through `restateAgent`, checks that
 * both runs produced the same replies, and stops everything.
 */
import { lastValueFrom, range } from 'rxjs';
import { map, toArray } from 'rxjs/operators';
import { agentOperator } from '../lib';
import { registerDeployment, restateAgent, serveAgents, startRestateServer } from '../lib/restate';
import { supportAgent } from './demo';

interface Ticket {
  readonly id: number;
  readonly customer: string;
  readonly text: string;
}

export async function main({ inputs = 100, customers = 20 } = {}) {
  const tickets = () =>
    range(0, inputs).pipe(
      map((id): Ticket => ({
        id,
        customer: `c${id % customers}`,
        text: `ticket ${id} from customer ${id % customers}`,
      })),
    );
  const server = await startRestateServer(); // restate-server on 127.0.0.1, free ports, temp base dir
  const endpoint = await serveAgents([supportAgent]); // the agent as a Restate virtual object, HTTP/2 on 127.0.0.1
  try {
    await registerDeployment(server.admin, endpoint.url);

    let t0 = performance.now();
    const embedded = await lastValueFrom(
      tickets().pipe(agentOperator(supportAgent, { key: (t) => t.customer }), toArray()),
    );
    const embeddedMs = performance.now() - t0;

    t0 = performance.now();
    const distributed = await lastValueFrom(
      tickets().pipe(restateAgent(supportAgent, { ingress: server.ingress, key: (t) => t.customer }), toArray()),
    );
    const distributedMs = performance.now() - t0;

    const byId = (list: ReadonlyArray<{ id: number; reply: string }>) => [...list].sort((a, b) => a.id - b.id);
    const same = JSON.stringify(byId(embedded)) === JSON.stringify(byId(distributed));
    return { embeddedMs, distributedMs, same, outputs: distributed.length };
  } finally {
    await endpoint.close();
    await server.stop(); // by PID; removes the temp base dir
  }
}

if (require.main === module) {
  main().then(
    (r) => {
      console.log(`embedded:    ${r.outputs} replies in ${r.embeddedMs.toFixed(0)} ms`);
      console.log(`on Restate:  ${r.outputs} replies in ${r.distributedMs.toFixed(0)} ms (every model call journaled)`);
      console.log(`same replies: ${r.same}`);
      if (!r.same) process.exitCode = 1;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
