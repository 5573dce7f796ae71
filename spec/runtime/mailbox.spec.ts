import { expect } from 'chai';
import { asapScheduler } from 'rxjs';
import { Mailbox, type Mailable, type MailboxHost } from '../../lib/runtime/mailbox';
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

/** A mailbox host from two callbacks. */
function host(idle: () => unknown, fail: (error: unknown) => unknown): MailboxHost {
  return { mailboxIdle: () => void idle(), fail: (error) => void fail(error) };
}

describe('runtime: Mailbox (S4, S6, S11)', () => {
  it('processes items one at a time in post order; a post during a turn never re-enters (S4)', () => {
    const log: string[] = [];
    const errors: unknown[] = [];
    let idle = 0;
    const mailbox = new Mailbox<Item>(
      asapScheduler,
      host(
        () => idle++,
        (e) => errors.push(e),
      ),
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
      host(
        () => undefined,
        () => undefined,
      ),
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
        host(
          () => log.push(`idle@${ts.now()}`),
          () => undefined,
        ),
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
      host(
        () => undefined,
        () => undefined,
      ),
    );
    mailbox.post(new Item('x', log));
    expect(log).to.deep.equal([]);
    await Promise.resolve();
    expect(log).to.deep.equal(['x:start', 'x:end']);
  });

  it('each mailbox wakes on its own microtask, in post order, between the promise reactions queued around it', async () => {
    const log: string[] = [];
    const first = new Mailbox<Item>(
      asapScheduler,
      host(
        () => log.push('first idle'),
        () => undefined,
      ),
    );
    const second = new Mailbox<Item>(
      asapScheduler,
      host(
        () => log.push('second idle'),
        () => undefined,
      ),
    );
    first.post(new Item('a', log));
    void Promise.resolve().then(() => log.push('reaction 1'));
    second.post(new Item('b', log));
    first.post(new Item('c', log)); // its wake-up is already queued: no second one
    void Promise.resolve().then(() => log.push('reaction 2'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).to.deep.equal([
      'a:start',
      'a:end',
      'c:start',
      'c:end',
      'first idle',
      'reaction 1',
      'b:start',
      'b:end',
      'second idle',
      'reaction 2',
    ]);
  });

  it('a throwing turn goes to host.fail; close() drops queued items and cancels the wake-up', () => {
    const ts = createTestScheduler();
    ts.run(() => {
      const log: string[] = [];
      const errors: unknown[] = [];
      const mailbox = new Mailbox<Item>(
        ts,
        host(
          () => undefined,
          (e) => errors.push(e),
        ),
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
