import { expect } from 'chai';
import { lastValueFrom, of, toArray } from 'rxjs';
import { z } from 'zod';
import {
  ActionError,
  AgentDefinitionError,
  agentOperator,
  defineAgent,
  defineEvent,
  EventValidationError,
  InputEvent,
  OutputEvent,
  UnroutedEventError,
  type ActionDef,
  type ActionFactory,
} from '../../lib';
import { recordLifecycle } from '../../lib/testing';
import type { LifecycleEvent } from '../../lib/runtime/lifecycle';

const StepDone = defineEvent('step-done', z.object({ step: z.number() }));
const Stray = defineEvent('stray', z.string());

/** Sends StepDone, then the output, from one action; `extra` adds actions. */
function stepAgent(extra: (action: ActionFactory<string>) => readonly ActionDef[] = () => []) {
  return defineAgent<string>({
    name: 'steps',
    events: [StepDone],
    actions: (action) => [
      action('work', InputEvent, (event, ctx) => {
        ctx.sendEvent(StepDone.of({ step: 1 }));
        ctx.sendEvent(OutputEvent.of(`done ${event.payload}`));
      }),
      ...extra(action),
    ],
  });
}

async function run(agent: ReturnType<typeof stepAgent>, inspect?: (e: LifecycleEvent) => void): Promise<unknown[]> {
  return lastValueFrom(of('a').pipe(agentOperator(agent, inspect === undefined ? {} : { inspect }), toArray()));
}

describe('defineAgent({ events }): event types sent that no action must handle (S3, S4)', () => {
  it('an event of a listed type with no action is validated, sent and routed to nothing; the run completes', async () => {
    const recorder = recordLifecycle();
    expect(await run(stepAgent(), recorder.inspect)).to.deep.equal(['done a']);
    const sent = recorder.events.find((e) => e.type === 'event.sent' && e.eventType === 'step-done');
    expect(sent).to.deep.include({ action: 'work', payload: { step: 1 } });
    const routed = recorder.events.find((e) => e.type === 'event.routed' && e.eventType === 'step-done');
    expect(routed).to.deep.include({ actions: [] });
  });

  it('an action that lists the type is started by it, before what the sender sent next (S4 order)', async () => {
    const seen: string[] = [];
    const agent = stepAgent((action) => [
      action('audit', StepDone, (event) => void seen.push(`audit ${event.payload.step}`)),
    ]);
    const recorder = recordLifecycle();
    expect(await run(agent, recorder.inspect)).to.deep.equal(['done a']);
    expect(seen).to.deep.equal(['audit 1']);
    const order = recorder.events
      .filter((e) => e.type === 'event.routed' || e.type === 'output.emitted')
      .map((e) => (e.type === 'event.routed' ? e.eventType : 'output'));
    expect(order).to.deep.equal(['rx-agents/input', 'step-done', 'output']);
  });

  it('a listed event is still checked by its schema: a bad payload fails the run with EventValidationError', async () => {
    const agent = defineAgent<string>({
      name: 'bad-step',
      events: [StepDone],
      actions: (action) => [
        action('work', InputEvent, (_event, ctx) => ctx.sendEvent(StepDone.of({ step: 'one' } as never))),
      ],
    });
    const error = await run(agent).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ActionError);
    expect((error as ActionError).cause).to.be.instanceOf(EventValidationError);
  });

  it('a type neither listed nor a trigger is still UnroutedEventError', async () => {
    const agent = defineAgent<string>({
      name: 'stray',
      events: [StepDone],
      actions: (action) => [action('work', InputEvent, (_event, ctx) => ctx.sendEvent(Stray.of('x')))],
    });
    const error = await run(agent).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as ActionError).cause).to.be.instanceOf(UnroutedEventError);
  });

  it('rejects a bad `events` option at definition', () => {
    const base = { name: 'x', actions: (action: ActionFactory<unknown>) => [action('a', InputEvent, () => {})] };
    const message = (events: unknown): string => {
      try {
        defineAgent({ ...base, events: events as never });
      } catch (error) {
        expect(error).to.be.instanceOf(AgentDefinitionError);
        return (error as Error).message;
      }
      throw new Error('expected an AgentDefinitionError');
    };
    expect(message('nope')).to.match(/must be an array of event types/);
    expect(message([{ type: 'fake' }])).to.match(/is not an event type: make one with defineEvent/);
    expect(message([OutputEvent])).to.match(/InputEvent and OutputEvent are built in/);
    expect(message([defineEvent('step-done', z.string()), StepDone])).to.match(/two different event types/);
  });
});
