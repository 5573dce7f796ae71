import { expect } from 'chai';
import fc from 'fast-check';
import { Fifo } from '../../lib/runtime/fifo';

describe('runtime: Fifo (the queue under the mailbox, key queues, executor turns and the worker pool)', () => {
  it('peek() shows the oldest item without taking it', () => {
    const q = new Fifo<number>();
    expect(q.peek()).to.equal(undefined);
    q.push(1);
    q.push(2);
    expect([q.peek(), q.size]).to.deep.equal([1, 2]);
    q.shift();
    expect([q.peek(), q.size]).to.deep.equal([2, 1]);
  });

  it('gives items back in push order, then undefined; size counts what is queued', () => {
    const q = new Fifo<string>('a');
    q.push('b');
    expect(q.size).to.equal(2);
    expect([q.shift(), q.shift(), q.shift()]).to.deep.equal(['a', 'b', undefined]);
    expect(q.size).to.equal(0);
    q.push('c');
    expect([q.size, q.shift()]).to.deep.equal([1, 'c']);
  });

  it('keeps FIFO order across its compactions, for any interleaving of pushes and shifts (property)', () => {
    // An op pushes n items (n > 0) or shifts -n items (n < 0); runs of 1024+ shifts reach the compactions.
    const op = fc.integer({ min: -2500, max: 2500 });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), (ops) => {
        const q = new Fifo<number>();
        const taken: Array<number | undefined> = [];
        const expected: Array<number | undefined> = [];
        let pushed = 0;
        let shifted = 0;
        for (const n of ops) {
          for (let i = 0; i < n; i++) q.push(pushed++);
          for (let i = 0; i < -n; i++) {
            taken.push(q.shift());
            expected.push(shifted < pushed ? shifted++ : undefined);
          }
          if (q.size !== pushed - shifted) return false;
        }
        return JSON.stringify(taken) === JSON.stringify(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('holds no reference to an item once it is taken (a taken run can be collected)', () => {
    const q = new Fifo<object>();
    const items = Array.from({ length: 3000 }, () => ({}));
    for (const item of items) q.push(item);
    for (let i = 0; i < 2500; i++) q.shift();
    const slots = (q as unknown as { items: Array<object | undefined> }).items;
    expect(slots.filter((s) => s !== undefined)).to.have.length(500);
    expect(slots.length).to.be.below(3000); // compacted once more than half of it was spent
  });

  it('clear() drops everything', () => {
    const q = new Fifo<number>(1);
    q.push(2);
    q.clear();
    expect([q.size, q.shift()]).to.deep.equal([0, undefined]);
  });
});
