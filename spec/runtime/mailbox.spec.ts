import { expect } from 'chai';
import { asapScheduler } from 'rxjs';
import { Mailbox, type Mailable } from '../../lib/runtime/mailbox';
import { createTestScheduler } from '../../lib/testing';

/** A mailbox item that records its turns and may re-post itself or others during a turn. */
class Item implements Mailable {
  posted = false;
  turns = 0;
  constructor(
    readonly name: string,
    private readonly log: string[],
    private readonly during: () => void = () => undefined,
  ) {}
  process(): void {
    this.turns++;
    this.log.push(`${this.name}:start`);
    this.during();
    this.log.push(`${this.name}:end`);
  }
}

describe('runtime: Mailbox (S4, S6, S11)', () => {
  it('processes items one at a time in post order; a post during a turn never re-enters (S4)', () => {
    const log: string[] = [];
    const errors: unknown[] = [];
    let idle = 0;
    const mailbox = new Mailbox<Item>(
      asapScheduler,
      () => idle++,
      (e) => errors.push(e),
    );
    const b = new Item('b', log);
    const a = new Item('a', log, () => {
      mailbox.post(b);
      mailbox.drain(); // inside a turn: a no-op, the running drain takes b next
    });
    mailbox.post(a);
    mailbox.drain();
    expect(log).to.deep.equal(['a:start', 'a:end', 'b:start', 'b:end']);
    expect([idle, errors.length, mailbox.size]).to.deep.equal([1, 0, 0]);
  });

  it('an item that re-posts itself during its own turn gets no second turn (one Run.process per trivial run)', () => {
    const log: string[] = [];
    const mailbox = new Mailbox<Item>(
      asapScheduler,
      () => undefined,
      () => undefined,
    );
    const self: Item = new Item('run', log, () => mailbox.post(self));
    mailbox.post(self);
    mailbox.post(self); // already queued: not queued twice
    mailbox.drain();
    expect(self.turns).to.equal(1);
    mailbox.post(self); // after its turn it may be posted again
    mailbox.drain();
    expect(self.turns).to.equal(2);
  });

  it('a post from outside a turn wakes the loop through the scheduler, in virtual time (S6, S11)', () => {
    const ts = createTestScheduler();
    ts.run(() => {
      const log: string[] = [];
      const mailbox = new Mailbox<Item>(
        ts,
        () => log.push(`idle@${ts.now()}`),
        () => undefined,
      );
      ts.schedule(() => mailbox.post(new Item('x', log)), 5);
      ts.flush();
      expect(log).to.deep.equal(['x:start', 'x:end', 'idle@5']);
    });
  });

  it('with the real asapScheduler it wakes on a microtask, not synchronously', async () => {
    const log: string[] = [];
    const mailbox = new Mailbox<Item>(
      asapScheduler,
      () => undefined,
      () => undefined,
    );
    mailbox.post(new Item('x', log));
    expect(log).to.deep.equal([]);
    await Promise.resolve();
    expect(log).to.deep.equal(['x:start', 'x:end']);
  });

  it('a throwing turn goes to onError; close() drops queued items and cancels the wake-up', () => {
    const ts = createTestScheduler();
    ts.run(() => {
      const log: string[] = [];
      const errors: unknown[] = [];
      const mailbox = new Mailbox<Item>(
        ts,
        () => undefined,
        (e) => errors.push(e),
      );
      const boom = new Item('boom', log, () => {
        throw new Error('boom');
      });
      mailbox.post(boom);
      mailbox.drain();
      expect((errors[0] as Error).message).to.equal('boom');
      mailbox.post(new Item('late', log));
      mailbox.close();
      ts.flush();
      expect(log).to.deep.equal(['boom:start']);
      expect(mailbox.size).to.equal(0);
    });
  });
});
