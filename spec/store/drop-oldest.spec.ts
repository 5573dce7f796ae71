import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { z } from 'zod';
import { agentOperator, defineAgent, InputEvent, memoryStore, OutputEvent } from '../../lib';
import { sqliteStore } from '../../lib/sqlite';
import { createTestScheduler, virtualDelay } from '../../lib/testing';

interface In {
  readonly key: string;
  readonly n: number;
}
const agent = defineAgent({
  name: 'overload',
  input: z.object({ key: z.string(), n: z.number() }),
  actions: (action) => [
    action('work', InputEvent, function* (event, ctx) {
      yield* ctx.executeAsync(() => virtualDelay(null, 10));
      ctx.sendEvent(OutputEvent.of(`${event.payload.key}${event.payload.n}`));
    }),
  ],
});

/**
 * S10 + S13: with a store, `overflow: 'drop-oldest'` never drops an input that `onAccepted` has
 * acknowledged (or will: its commit is issued). It drops the key's oldest waiting input that is not
 * yet acknowledged, else the new input. Every input is output or dropped, never both.
 */
describe('S10/S13 drop-oldest with a store never drops an acknowledged input', () => {
  it('virtual time: acknowledged waiting inputs stay; the new, unacknowledged input is dropped instead', () => {
    const ts = createTestScheduler();
    const acked: string[] = [];
    const dropped: string[] = [];
    const store = memoryStore();
    ts.run(({ cold, expectObservable }) => {
      const v = (n: number): In => ({ key: 'k', n });
      // k1 runs 0-10; k2 waits (acknowledged at frame 1); k3 arrives at frame 2 with the buffer full.
      const out = cold<In>('a-b-c|', { a: v(1), b: v(2), c: v(3) }).pipe(
        agentOperator(agent, {
          key: (x) => x.key,
          scheduler: ts,
          store,
          maxBufferedInputs: 1,
          overflow: 'drop-oldest',
          onAccepted: (x) => acked.push(`k${x.n}`),
          onDropped: (x) => dropped.push(`k${x.n}`),
        }),
      );
      expectObservable(out).toBe('10ms a 9ms (b|)', { a: 'k1', b: 'k2' });
    });
    expect(acked).to.deep.equal(['k1', 'k2']);
    expect(dropped).to.deep.equal(['k3']);
  });

  it('virtual time: within one commit window the oldest waiting input is still dropped (it was never acknowledged)', () => {
    const ts = createTestScheduler();
    const acked: string[] = [];
    const dropped: string[] = [];
    ts.run(({ cold, expectObservable }) => {
      const v = (n: number): In => ({ key: 'k', n });
      const out = cold<In>('(abc)|', { a: v(1), b: v(2), c: v(3) }).pipe(
        agentOperator(agent, {
          key: (x) => x.key,
          scheduler: ts,
          store: memoryStore(),
          maxBufferedInputs: 1,
          overflow: 'drop-oldest',
          onAccepted: (x) => acked.push(`k${x.n}`),
          onDropped: (x) => dropped.push(`k${x.n}`),
        }),
      );
      expectObservable(out).toBe('10ms a 9ms (c|)', { a: 'k1', c: 'k3' });
    });
    expect(dropped).to.deep.equal(['k2']);
    expect(acked).to.deep.equal(['k1', 'k3']); // k2 was withdrawn before its commit: never acknowledged
  });

  describe('real time, real SQLite file, overload', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-drop-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('7k inputs over 7 keys into a buffer of 50: no acknowledged input is dropped; each input is output xor dropped', async () => {
      const store = sqliteStore(join(dir, 'drop.db'));
      const slow = defineAgent({
        name: 'slow',
        actions: (action) => [
          action('work', InputEvent, function* (event, ctx) {
            yield* ctx.executeAsync(() => new Promise((r) => setTimeout(r, 1)));
            ctx.sendEvent(OutputEvent.of(event.payload as number));
          }),
        ],
      });
      const acked = new Set<number>();
      const dropped = new Set<number>();
      const source = new Subject<number>();
      const done = lastValueFrom(
        source.pipe(
          agentOperator(slow, {
            key: (n) => n % 7,
            store,
            maxBufferedInputs: 50,
            overflow: 'drop-oldest',
            onAccepted: (n) => acked.add(n),
            onDropped: (n) => dropped.add(n),
          }),
          toArray(),
        ),
      );
      for (let i = 0; i < 7000; i++) {
        source.next(i);
        if (i % 100 === 99) await new Promise((r) => setImmediate(r)); // let commits land between bursts
      }
      source.complete();
      const outputs = await done;
      store.close();
      const bad = [...dropped].filter((n) => acked.has(n));
      expect(bad.length, `acknowledged and dropped: ${bad.slice(0, 5).join(', ')}`).to.equal(0);
      expect(dropped.size).to.be.greaterThan(0);
      expect(outputs.length + dropped.size).to.equal(7000);
      expect(new Set(outputs).size).to.equal(outputs.length);
      for (const n of outputs) expect(dropped.has(n as number)).to.equal(false);
    });
  });
});
