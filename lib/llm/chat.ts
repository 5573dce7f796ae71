import type { Observable } from 'rxjs';
import { filter, map, tap } from 'rxjs/operators';
import type { RunnerContext } from '../context/runner-context';
import type { Call } from '../context/call';
import { runChannel } from '../runtime/run-channel';
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
  const channel = runChannel(ctx);
  const streaming = request.stream === true && channel !== undefined;
  // Chunks that arrive before executeAsync returned (a synchronous model) wait for the call id; they are
  // sent in the same sync block, before anything else can reach the sink.
  let source: string | null = null;
  const early: ModelEvent[] = [];
  let index = 0;
  const forward = (event: ModelEvent): void => {
    if (source === null) early.push(event);
    else channel?.chunk(source, index++, event);
  };
  function callModel(_model: string, req: ModelRequest): Observable<ChatResponse> {
    const events = model.call(req);
    return (streaming ? events.pipe(tap((e) => e.type !== 'response' && forward(e))) : events).pipe(
      filter((e): e is Extract<ModelEvent, { type: 'response' }> => e.type === 'response'),
      map((e) => e.response),
    );
  }
  const started = channel?.inspecting === true ? channel.now() : 0;
  const call = ctx.executeAsync(callModel, `${model.provider}/${model.modelId}`, request);
  if (streaming) {
    const id = call.id;
    source = id;
    for (const e of early) channel.chunk(id, index++, e);
    early.length = 0;
  }
  if (channel?.inspecting === true) {
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
