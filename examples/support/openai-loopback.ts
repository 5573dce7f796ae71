import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OpenAI-compatible chat-completions server on 127.0.0.1 (node:http): JSON and Server-Sent
 * Events streaming, tool calls, usage, error statuses with Retry-After, slow and hanging responses.
 * Used by examples/support-agent.ts and by the specs of rx-agents/llm (the whole stack over real HTTP).
 */

/** One answer of the loopback server. */
export interface ServerTurn {
  readonly text?: string;
  readonly toolCalls?: ReadonlyArray<{ readonly id: string; readonly name: string; readonly arguments: unknown }>;
  /** Text deltas for SSE (joined they must equal `text`). @default the text split in words */
  readonly chunks?: readonly string[];
  readonly usage?: { readonly prompt: number; readonly completion: number };
  /** Answer with this HTTP status and an error body instead. */
  readonly status?: number;
  /** Sent as the Retry-After header (seconds) with `status`. */
  readonly retryAfter?: number;
  /** Wait this long (ms) before answering. */
  readonly delay?: number;
  /** Wait this long (ms) between SSE chunks. */
  readonly chunkDelay?: number;
  /** Never answer (the client must abort). */
  readonly hang?: boolean;
}

/** What the server saw of a request. */
export interface SeenRequest {
  readonly path: string;
  readonly body: {
    readonly model: string;
    readonly stream?: boolean;
    readonly messages: ReadonlyArray<Record<string, unknown>>;
    readonly tools?: ReadonlyArray<{ function: { name: string; parameters: unknown } }>;
    readonly response_format?: unknown;
    readonly temperature?: number;
    readonly max_tokens?: number;
    readonly stop?: unknown;
  };
  readonly authorization: string | undefined;
}

/** A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions protocol (JSON and SSE). */
export interface OpenAiServer {
  readonly baseURL: string;
  readonly requests: SeenRequest[];
  /** Connections whose client went away before the answer (aborts observed). */
  readonly aborted: number;
  close(): Promise<void>;
}

/**
 * Starts the loopback server on a free port. `answer` decides each turn from the request (or
 * give a list: one turn per request, in order).
 */
export async function startOpenAiServer(
  answer: readonly ServerTurn[] | ((request: SeenRequest, n: number) => ServerTurn),
): Promise<OpenAiServer> {
  const requests: SeenRequest[] = [];
  let aborted = 0;
  const open = new Set<ServerResponse>();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let raw = '';
    for await (const part of req) raw += String(part);
    const seen: SeenRequest = {
      path: req.url ?? '',
      body: JSON.parse(raw) as SeenRequest['body'],
      authorization: req.headers.authorization,
    };
    requests.push(seen);
    const n = requests.length - 1;
    const turn = typeof answer === 'function' ? answer(seen, n) : (answer[n] ?? { status: 500 });
    let gone = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        gone = true;
        aborted++;
      }
      open.delete(res);
    });
    open.add(res);
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    if (turn.hang === true) return; // never answers; the client aborts (res 'close' counts it)
    if (turn.delay !== undefined) await sleep(turn.delay);
    if (gone) return;
    if (turn.status !== undefined && turn.status >= 400) {
      res.writeHead(turn.status, {
        'content-type': 'application/json',
        ...(turn.retryAfter === undefined ? {} : { 'retry-after': String(turn.retryAfter) }),
      });
      res.end(
        JSON.stringify({ error: { message: `loopback ${turn.status}`, type: 'server_error', code: turn.status } }),
      );
      return;
    }
    const text = turn.text ?? '';
    const calls = turn.toolCalls ?? [];
    const usage = { prompt_tokens: turn.usage?.prompt ?? 12, completion_tokens: turn.usage?.completion ?? 7 };
    const finish = calls.length > 0 ? 'tool_calls' : 'stop';
    const base = { id: `chatcmpl-${n}`, created: 1700000000, model: seen.body.model };
    if (seen.body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: text.length > 0 ? text : null,
                ...(calls.length > 0
                  ? {
                      tool_calls: calls.map((c) => ({
                        id: c.id,
                        type: 'function',
                        function: { name: c.name, arguments: JSON.stringify(c.arguments) },
                      })),
                    }
                  : {}),
              },
              finish_reason: finish,
            },
          ],
          usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (data: unknown): void => void res.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = (delta: unknown, finishReason: string | null = null, extra: object = {}): void =>
      send({
        ...base,
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta, finish_reason: finishReason }],
        ...extra,
      });
    const deltas = turn.chunks ?? (text.length > 0 ? text.split(/(?<= )/) : []);
    chunk({ role: 'assistant', content: '' });
    for (const d of deltas) {
      if (turn.chunkDelay !== undefined) await sleep(turn.chunkDelay);
      if (gone) return;
      chunk({ content: d });
    }
    calls.forEach((c, i) => {
      const args = JSON.stringify(c.arguments);
      const half = Math.floor(args.length / 2);
      chunk({
        tool_calls: [
          { index: i, id: c.id, type: 'function', function: { name: c.name, arguments: args.slice(0, half) } },
        ],
      });
      chunk({ tool_calls: [{ index: i, function: { arguments: args.slice(half) } }] });
    });
    chunk({}, finish);
    send({
      ...base,
      object: 'chat.completion.chunk',
      choices: [],
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
    });
    res.write('data: [DONE]\n\n');
    res.end();
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get aborted() {
      return aborted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
