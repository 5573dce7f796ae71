import { EMPTY, Observable, type Observer, type Subscriber } from 'rxjs';
import type { RunnerContext } from '../context/runner-context';
import type { Call } from '../context/call';
import { anchorShape, MappedResult, runChannel, runContext, SKIP } from '../runtime/run-channel';
import type { ChatModel, ChatResponse, ModelEvent, ModelRequest } from './chat-model';

/**
 * Calls a model from any action, as one `executeAsync` block: `yield* chat(ctx, model, request)`
 * in a generator action, `await chat(...)` in an async one.
 *
 * Semantics: the call is cancelled by the run's `AbortSignal` (unsubscribe, run failure), runs
 * on the operator's executor (it holds one slot), and is journaled as one call (S13): after a
 * crash, a completed call is answered from the journal and the model is not called again.
 * With `request.stream: true` the model's chunks go downstream as {@link StreamChunk}s as they
 * arrive (S16), `source` being the call id; they are not journaled, so a replayed call emits
 * none (only its final result, to the action). A `model.called` lifecycle event with token
 * usage is reported when the call settles.
 *
 * @example
 * action('answer', InputEvent, function* (event, ctx) {
 *   const response = yield* chat(ctx, model, { messages: [system('Be brief.'), user(String(event.payload))], temperature: 0 });
 *   ctx.sendEvent(OutputEvent.of(response.message.content));
 * })
 */
export function chat(ctx: RunnerContext, model: ChatModel, request: ModelRequest): Call<ChatResponse> {
  const plain = blocksOf(model);
  const streaming = request.stream === true;
  if (!streaming) {
    // Nothing to stream and nobody listening: the block is the model's own, shared by all its calls. In the
    // runtime's context the call itself takes the response out of the model's events (see Responses): it
    // settles with a ChatResponse, and there is no Observable around the model's.
    const kind = runContext(ctx);
    if (kind === 'quiet') return ctx.executeAsync(plain.mapped, plain.name, request) as unknown as Call<ChatResponse>;
    if (kind === undefined) return ctx.executeAsync(plain.callModel, plain.name, request);
  }
  // In a function of its own: its closures' context is made only on this path, not on every call.
  return watchedChat(ctx, model, request, plain, streaming);
}

/** A model call that streams its chunks or is reported to lifecycle listeners. */
function watchedChat(
  ctx: RunnerContext,
  model: ChatModel,
  request: ModelRequest,
  plain: ModelBlocks,
  streaming: boolean,
): Call<ChatResponse> {
  const channel = runChannel(ctx);
  if (channel === undefined) return ctx.executeAsync(plain.callModel, plain.name, request);
  // Chunks that arrive before executeAsync returned (a synchronous model) wait for the call id; they are
  // sent in the same sync block, before anything else can reach the sink.
  let source: string | null = null;
  let early: ModelEvent[] | null = null;
  let index = 0;
  const forward = (event: ModelEvent): void => {
    if (source !== null) channel?.chunk(source, index++, event);
    else (early ??= []).push(event);
  };
  // One subscriber between the model and the call (no operator chain: this is the per-call path).
  function callModel(_model: string, req: ModelRequest): Observable<ChatResponse> {
    return new Observable<ChatResponse>((subscriber) =>
      model.call(req).subscribe({
        next: (e) => (e.type === 'response' ? subscriber.next(e.response) : streaming ? forward(e) : undefined),
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      }),
    );
  }
  const inspecting = channel !== undefined && channel.inspecting;
  const started = inspecting ? channel.now() : 0;
  const call = ctx.executeAsync(callModel, plain.name, request);
  if (streaming) {
    const id = call.id;
    source = id;
    const waiting = early as ModelEvent[] | null;
    if (waiting !== null) for (const e of waiting) channel.chunk(id, index++, e);
    early = null;
  }
  if (inspecting) {
    channel.whenSettled(call, (c) => {
      const response = c.value;
      channel.report({
        type: 'model.called',
        action: ctx.action,
        call: c.id,
        provider: response?.provider ?? model.provider,
        model: response?.model ?? model.modelId,
        ok: c.ok,
        replayed: c.replayed,
        started,
        ...(response === undefined
          ? { error: c.error }
          : { usage: response.usage, finishReason: response.finishReason }),
      });
    });
  }
  return call;
}

/** What every call of one model shares: its name (the block's first argument) and its block. */
interface ModelBlocks {
  readonly name: string;
  readonly callModel: (model: string, request: ModelRequest) => Observable<ChatResponse>;
  /** The same block for the runtime's own calls: the model's events, the call keeping the response ({@link Responses}). */
  readonly mapped: (model: string, request: ModelRequest) => MappedResult<ModelEvent>;
}

const blocks = new WeakMap<ChatModel, ModelBlocks>();

/** The shared parts of `model`'s calls, built once per model. */
function blocksOf(model: ChatModel): ModelBlocks {
  return blocks.get(model) ?? newBlocks(model); // apart: its closure's context is made once per model, not per call
}

function newBlocks(model: ChatModel): ModelBlocks {
  // The block is named callModel and takes (`<provider>/<model id>`, request): its journal fingerprint (S13).
  const callModel = (_model: string, request: ModelRequest): Observable<ChatResponse> =>
    new Observable<ChatResponse>((subscriber) => model.call(request).subscribe(new ResponseOnly(subscriber)));
  const found: ModelBlocks = { name: modelName(model), callModel, mapped: mappedBlock(model) };
  blocks.set(model, found);
  return found;
}

/** The block of a model call in the runtime's context (named `callModel` like the other: the same journal fingerprint, S13). */
function mappedBlock(model: ChatModel): (model: string, request: ModelRequest) => MappedResult<ModelEvent> {
  return function callModel(_model: string, request: ModelRequest): MappedResult<ModelEvent> {
    return new Responses(model.call(request));
  };
}

/** A model's events, of which the call keeps the response (its chunks are dropped): one object per call. */
class Responses extends MappedResult<ModelEvent> {
  override onValue(event: ModelEvent): ChatResponse | typeof SKIP {
    return event.type === 'response' ? event.response : SKIP;
  }
}

// One per model call: a dormant one keeps the class's maps across idle gaps (lib/runtime/shape-anchor.ts).
anchorShape(new Responses(EMPTY));

/** Passes the model's `response` on and drops its chunks (one object per call, no closures). */
class ResponseOnly implements Observer<ModelEvent> {
  constructor(private readonly subscriber: Subscriber<ChatResponse>) {}
  next(event: ModelEvent): void {
    if (event.type === 'response') this.subscriber.next(event.response);
  }
  error(error: unknown): void {
    this.subscriber.error(error);
  }
  complete(): void {
    this.subscriber.complete();
  }
}

/** `<provider>/<model id>`, the first argument of a model call (part of its journal fingerprint). */
function modelName(model: ChatModel): string {
  return `${model.provider}/${model.modelId}`;
}
