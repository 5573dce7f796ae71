import { z } from 'zod/v4';
import { peerFallback } from '../load-peer';
import { toIssues } from '../events/define-event';
import { makeTool, type Tool } from './define-tool';
import { ToolDefinitionError } from './errors';
import type { JsonValue } from './messages';

/** A tool as an MCP server lists it. */
interface McpToolInfo {
  readonly name: string;
  readonly description?: string | undefined;
  readonly inputSchema: { readonly type: 'object'; readonly [k: string]: unknown };
}

/** A content part of an MCP tool result. */
interface McpContent {
  readonly type: string;
  readonly text?: string;
  readonly [k: string]: unknown;
}

/**
 * The part of an MCP client (`Client` of `@modelcontextprotocol/sdk`) that {@link mcpTools} uses,
 * seen structurally.
 */
export interface McpClientLike {
  listTools(
    params?: { cursor?: string },
    options?: { signal?: AbortSignal },
  ): Promise<{ tools: ReadonlyArray<McpToolInfo>; nextCursor?: string | undefined }>;
  callTool(
    params: { name: string; arguments?: Record<string, unknown> },
    resultSchema?: undefined,
    options?: { signal?: AbortSignal; timeout?: number },
  ): Promise<{ content?: unknown; isError?: boolean | undefined; structuredContent?: unknown; [k: string]: unknown }>;
}

/** Options of {@link mcpTools}. */
export interface McpToolsOptions {
  /** Only these tools (by name). @default all the server lists */
  readonly include?: readonly string[];
  /** Prefix the names the model sees (`github_` → `github_search`), to keep several servers apart. @default '' */
  readonly prefix?: string;
  /** Per-call timeout in ms. @default none */
  readonly timeout?: number;
  /** Calls of these tools need approval (see `needsApproval`). @default none */
  readonly needsApproval?: readonly string[];
}

/**
 * Turns the tools of a connected MCP client into rx-agents tools. Each tool's JSON schema is the
 * server's; arguments are validated against it (through `z.fromJSONSchema`) before the call, and
 * the result is the server's `structuredContent` or its text content. An MCP error result
 * (`isError`) becomes an error result the model sees. Cancellation reaches the server as MCP
 * request cancellation (the run's signal is passed to `callTool`).
 *
 * @example
 * const client = new Client({ name: 'support', version: '1.0.0' });
 * await client.connect(new StdioClientTransport({ command: 'node', args: ['server.js'] }));
 * const agent = reactAgent({ model, tools: [...(await mcpTools(client)), lookupOrder] });
 */
export async function mcpTools(client: McpClientLike, options: McpToolsOptions = {}): Promise<Tool[]> {
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.listTools !== 'function' ||
    typeof client.callTool !== 'function'
  )
    throw new ToolDefinitionError(
      'mcpTools(client) needs a connected MCP client (Client of @modelcontextprotocol/sdk).',
    );
  const listed: McpToolInfo[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? undefined : { cursor });
    listed.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  const prefix = options.prefix ?? '';
  const include = options.include === undefined ? undefined : new Set(options.include);
  const gated = new Set(options.needsApproval ?? []);
  return listed
    .filter((t) => include === undefined || include.has(t.name))
    .map((info) => {
      const schema = info.inputSchema as { [k: string]: JsonValue };
      let validator: z.ZodType;
      try {
        validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
      } catch {
        validator = z.record(z.string(), z.unknown()); // a schema zod cannot read: the server validates
      }
      return makeTool({
        name: `${prefix}${info.name}`,
        description: info.description ?? '',
        inputSchema: schema,
        timeout: options.timeout,
        concurrency: Infinity,
        approval: gated.has(info.name) ? 'always' : 'never',
        needsApproval: () => gated.has(info.name),
        validate: (args) => {
          const result = validator.safeParse(args);
          return result.success ? { ok: true, value: result.data } : { ok: false, issues: toIssues(result.error) };
        },
        execute: async (args, { signal }) => {
          const result = await client.callTool(
            { name: info.name, arguments: args as Record<string, unknown> },
            undefined,
            { signal },
          );
          const value = result.structuredContent ?? textOf(result.content);
          if (result.isError === true) throw new Error(typeof value === 'string' ? value : JSON.stringify(value));
          return value;
        },
      });
    });
}

/** The text parts of an MCP result, joined; other parts described by type. */
function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return (content as McpContent[]).map((c) => (c.type === 'text' ? (c.text ?? '') : `[${c.type}]`)).join('\n');
}

/** A connected stdio MCP server and its tools. */
export interface StdioMcp {
  readonly tools: Tool[];
  readonly client: McpClientLike;
  /** The child process id. */
  readonly pid: number | null;
  close(): Promise<void>;
}

/**
 * Starts an MCP server as a child process (stdio transport of `@modelcontextprotocol/sdk`,
 * an optional peer loaded only here) and returns its tools. `close()` ends the child.
 *
 * @example
 * const github = await connectStdioMcp({ command: 'npx', args: ['-y', 'some-mcp-server'] }, { prefix: 'gh_' });
 * const agent = reactAgent({ model, tools: github.tools });
 */
export async function connectStdioMcp(
  server: {
    readonly command: string;
    readonly args?: readonly string[];
    readonly env?: Record<string, string>;
    readonly cwd?: string;
  },
  options: McpToolsOptions = {},
): Promise<StdioMcp> {
  type ClientModule = typeof import('@modelcontextprotocol/sdk/client/index.js');
  type StdioModule = typeof import('@modelcontextprotocol/sdk/client/stdio.js');
  // Lazy (an optional peer), and loadable inside an ESM bundle too (see peerFallback).
  const feature = 'connectStdioMcp (MCP tools)';
  const sdk = '@modelcontextprotocol/sdk';
  let clientModule: ClientModule;
  let stdioModule: StdioModule;
  /* eslint-disable @typescript-eslint/no-require-imports */
  try {
    clientModule = require('@modelcontextprotocol/sdk/client/index.js') as ClientModule;
  } catch (error) {
    clientModule = peerFallback<ClientModule>(error, `${sdk}/client/index.js`, feature, sdk);
  }
  try {
    stdioModule = require('@modelcontextprotocol/sdk/client/stdio.js') as StdioModule;
  } catch (error) {
    stdioModule = peerFallback<StdioModule>(error, `${sdk}/client/stdio.js`, feature, sdk);
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
  const transport = new stdioModule.StdioClientTransport({
    command: server.command,
    args: [...(server.args ?? [])],
    ...(server.env === undefined ? {} : { env: server.env }),
    ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
    stderr: 'pipe',
  });
  const client = new clientModule.Client({ name: 'rx-agents', version: '1' });
  await client.connect(transport);
  const mcp = client as unknown as McpClientLike;
  try {
    const tools = await mcpTools(mcp, options);
    return { tools, client: mcp, pid: transport.pid, close: () => client.close() };
  } catch (error) {
    await client.close();
    throw error;
  }
}
