// A consumer of the optional features `rx-agents/llm`, `rx-agents/llm/testing` and `rx-agents/restate`.
// The packaging spec installs the tarball with rxjs, zod and @restatedev/restate-sdk, bundles this file
// with esbuild into one ESM file (no banner, no externals) and runs it: it exits non-zero and says why
// when anything it checks is wrong, and prints `features ok` at the end. No Restate server is needed:
// the SDK answers service discovery over real HTTP/2, and the client meets a closed port.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:http2';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, of } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { z } from 'zod';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from 'rx-agents';
import { defineTool, reactAgent } from 'rx-agents/llm';
import { recordModel, scriptedModel } from 'rx-agents/llm/testing';
import {
  agentObject,
  restateAgent,
  restateServerBinary,
  RestateServerStartError,
  RestateUnreachableError,
  serveAgents,
} from 'rx-agents/restate';

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`features check failed: ${what}`);
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** GET /discover of a Restate service endpoint over HTTP/2: status and body. */
async function discover(url: string): Promise<{ status: number; body: string }> {
  const client = connect(url);
  try {
    const request = client.request({
      ':path': '/discover',
      accept: 'application/vnd.restate.endpointmanifest.v3+json',
    });
    let status = 0;
    let body = '';
    request.on('response', (headers) => (status = Number(headers[':status'])));
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    await new Promise<void>((done, fail) => {
      request.on('end', done);
      request.on('error', fail);
    });
    return { status, body };
  } finally {
    client.close();
  }
}

async function llm(): Promise<void> {
  // rx-agents/llm with its scripted model: a tool call, then the answer, through agentOperator.
  const lookup = defineTool({
    name: 'lookup',
    description: 'Finds an order.',
    input: z.object({ id: z.number() }),
    execute: ({ id }) => ({ id, status: 'shipped' }),
  });
  const script = () =>
    scriptedModel([{ toolCalls: [{ name: 'lookup', arguments: { id: 7 } }] }, { text: 'Order 7 has shipped.' }]);
  const agent = reactAgent({ model: script(), tools: [lookup] });
  const [answer] = await lastValueFrom(of('where is order 7?').pipe(agentOperator(agent), toArray()));
  check(answer?.text === 'Order 7 has shipped.' && answer.steps === 2, `react agent answer ${JSON.stringify(answer)}`);

  // rx-agents/llm/testing record & replay: a real file written, then answered from with no model.
  const dir = mkdtempSync(join(tmpdir(), 'rx-agents-features-'));
  try {
    const file = join(dir, 'recording.json');
    const recorded = reactAgent({ model: recordModel(script(), { file, mode: 'record' }), tools: [lookup] });
    await lastValueFrom(of('where is order 7?').pipe(agentOperator(recorded), toArray()));
    const replayed = reactAgent({ model: recordModel(undefined, { file, mode: 'replay' }), tools: [lookup] });
    const [again] = await lastValueFrom(of('where is order 7?').pipe(agentOperator(replayed), toArray()));
    check(again?.text === 'Order 7 has shipped.', `replayed answer ${JSON.stringify(again)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function restate(): Promise<void> {
  const echo = defineAgent({
    name: 'echoer',
    input: z.object({ user: z.string(), text: z.string() }),
    key: (input) => input.user,
    actions: (action) => [
      action('echo', InputEvent, (event, ctx) => ctx.sendEvent(OutputEvent.of(`${ctx.key}: ${event.payload.text}`))),
    ],
  });
  // The SDK side: a virtual-object definition, and a real endpoint answering discovery.
  check(agentObject(echo).name === 'echoer', 'agentObject names the service after the agent');
  const endpoint = await serveAgents([echo]);
  try {
    const { status, body } = await discover(endpoint.url);
    check(
      status === 200 && body.includes('"echoer"') && body.includes('VIRTUAL_OBJECT'),
      `discovery ${status} ${body}`,
    );
  } finally {
    await endpoint.close();
  }
  // The client side: a closed ingress port is a typed error after the retries.
  const ingress = `http://127.0.0.1:${await closedPort()}`;
  const failed = await lastValueFrom(
    of({ user: 'ada', text: 'hi' }).pipe(restateAgent(echo, { ingress, retry: { attempts: 1 } })),
  ).then(
    () => null,
    (error: unknown) => error,
  );
  check(failed instanceof RestateUnreachableError, `unreachable ingress → RestateUnreachableError (${String(failed)})`);
  // The server helper resolves its binary with Node's resolution (not installed here: a typed error).
  try {
    restateServerBinary();
    check(false, 'the restate-server binary is not installed here, yet it was found');
  } catch (error) {
    check(error instanceof RestateServerStartError, `missing binary → RestateServerStartError (${String(error)})`);
  }
}

async function main(): Promise<void> {
  await llm();
  await restate();
  console.log('features ok');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
