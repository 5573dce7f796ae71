import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { expect } from 'chai';
import { lastValueFrom, of } from 'rxjs';
import { toArray } from 'rxjs/operators';
import { agentOperator } from '../../lib';
import { connectStdioMcp, mcpTools, reactAgent, type McpClientLike, type ToolMessage } from '../../lib/llm';
import { scriptedModel } from '../../lib/llm/testing';
import { buildServer } from './fixtures/mcp-server';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('llm/mcpTools — tools of a real MCP server (official SDK)', () => {
  it('in-memory linked pair: lists the tools with their JSON schemas, validates arguments, runs them in a ReAct loop', async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = buildServer();
    await server.connect(serverSide);
    const client = new Client({ name: 'spec', version: '1' });
    await client.connect(clientSide);
    const typed: McpClientLike = client; // the real Client fits the structural port
    try {
      const tools = await mcpTools(typed, { prefix: 'fx_' });
      expect(tools.map((t) => t.name)).to.deep.equal(['fx_add', 'fx_weather', 'fx_fail']);
      expect(tools[0]!.inputSchema).to.deep.include({ type: 'object', required: ['a', 'b'] });
      expect(tools[0]!.validate({ a: 1, b: 'x' }).ok).to.equal(false);

      const model = scriptedModel([
        {
          toolCalls: [
            { name: 'fx_add', arguments: { a: 2, b: 3 } },
            { name: 'fx_weather', arguments: { city: 'Oslo' } },
            { name: 'fx_fail', arguments: {} },
            { name: 'fx_add', arguments: { a: 'two' } },
          ],
        },
        { text: 'done' },
      ]);
      const agent = reactAgent({ model, tools });
      await lastValueFrom(of('go').pipe(agentOperator(agent), toArray()));
      const results = model.requests[1]!.messages.filter((m): m is ToolMessage => m.role === 'tool');
      expect(results[0]).to.deep.include({ content: '5', isError: false });
      expect(results[1]!.content).to.deep.include({ city: 'Oslo', celsius: 4 });
      expect(results[2]).to.deep.include({
        isError: true,
        content: { error: 'Tool `fx_fail` failed: the service is down' },
      });
      expect(results[3]!.isError).to.equal(true);
      expect(JSON.stringify(results[3]!.content)).to.match(/do not match its schema/);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('a stdio child process server: tools run in the child; close() ends it (checked by PID)', async () => {
    const mcp = await connectStdioMcp({
      command: process.execPath,
      args: ['-r', 'ts-node/register/transpile-only', require.resolve('./fixtures/mcp-server.ts')],
      cwd: process.cwd(),
    });
    const pid = mcp.pid!;
    try {
      expect(pid).to.be.a('number');
      expect(isAlive(pid)).to.equal(true);
      const weather = mcp.tools.find((t) => t.name === 'weather')!;
      const model = scriptedModel([{ toolCalls: [{ name: 'weather', arguments: { city: 'Lima' } }] }, { text: 'ok' }]);
      await lastValueFrom(of('go').pipe(agentOperator(reactAgent({ model, tools: [weather] })), toArray()));
      const result = model.requests[1]!.messages[2] as ToolMessage;
      expect(result.content).to.deep.equal({ city: 'Lima', celsius: 4, pid });
      expect(pid).to.not.equal(process.pid);
    } finally {
      await mcp.close();
      for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 10));
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    expect(isAlive(pid)).to.equal(false);
  });
});
