import { expect } from 'chai';
import fc from 'fast-check';
import { Admission, type ActiveRun, type KeyState } from '../../lib/runtime/admission';

/** A real Admission whose host starts inert runs and records them (no runtime around it). */
function admission(): { admission: Admission; started: number[] } {
  const started: number[] = [];
  const host = {
    startRun: (_ks: KeyState, _input: unknown, seq: number): ActiveRun => {
      started.push(seq);
      return { seq, startedAt: NaN, abandon: () => undefined };
    },
  };
  const overflow = { droppable: () => true, dropped: () => undefined, overflowed: () => undefined };
  return { admission: new Admission(host, overflow, { maxBufferedInputs: Infinity, overflow: 'error' }), started };
}

/** Admits `key`'s next input as the runtime does: it starts if the key is idle, else it waits (S1). */
function admit(a: Admission, key: unknown, seq: number): void {
  const ks = a.keyState(key);
  if (ks.active === null) a.start(ks, key, seq, NaN);
  else a.enqueue(ks, key, seq, NaN);
}

describe('runtime: Admission keeps per-key states only while a key has work (S1, S10)', () => {
  it('a key whose run ends before another key arrives leaves no state behind, and its next input starts at once', () => {
    const { admission: a, started } = admission();
    for (let seq = 0; seq < 5; seq++) {
      admit(a, seq % 2, seq);
      expect(a.footprint()).to.deep.equal({ keys: 1, buffered: 0, activeRuns: 1 });
      expect(a.activeRun(seq % 2)?.seq).to.equal(seq);
      a.runEnded(a.keyState(seq % 2));
      expect(a.footprint()).to.deep.equal({ keys: 0, buffered: 0, activeRuns: 0 });
    }
    expect(started).to.deep.equal([0, 1, 2, 3, 4]);
    expect([...a.keyStates.keys()]).to.deep.equal([]);
  });

  it('finds a key by SameValueZero, as a Map does (NaN is one key; -0 and +0 are one key)', () => {
    const { admission: a } = admission();
    admit(a, NaN, 0);
    admit(a, NaN, 1); // waits behind run 0
    admit(a, -0, 2);
    admit(a, 0, 3); // waits behind run 2
    expect(a.footprint()).to.deep.equal({ keys: 2, buffered: 2, activeRuns: 2 });
    expect([a.activeRun(NaN)?.seq, a.activeRun(0)?.seq, a.activeRun(-0)?.seq]).to.deep.equal([0, 2, 2]);
  });

  it('lists the keys with work in the order they came, for any admissions and run ends (property)', () => {
    // An op admits an input of key k (k >= 0) or ends the active run of key -k-1 (if it has one); `true` reads keyStates.
    const op = fc.oneof(fc.integer({ min: -4, max: 3 }), fc.constant(true));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { admission: a } = admission();
        const model = new Map<number, { active: number; waiting: number[] }>();
        let seq = 0;
        for (const o of ops) {
          if (o === true) expect([...a.keyStates.keys()]).to.deep.equal([...model.keys()]);
          else if (o >= 0) {
            const m = model.get(o);
            if (m === undefined) model.set(o, { active: seq, waiting: [] });
            else m.waiting.push(seq);
            admit(a, o, seq++);
          } else {
            const key = -o - 1;
            const m = model.get(key);
            if (m === undefined) continue;
            const next = m.waiting.shift();
            if (next === undefined) model.delete(key);
            else m.active = next;
            a.runEnded(a.keyState(key));
          }
          expect(a.footprint().keys).to.equal(model.size);
          for (const [key, m] of model) expect(a.activeRun(key)?.seq).to.equal(m.active);
        }
        expect([...a.keyStates.keys()]).to.deep.equal([...model.keys()]);
        expect([...a.keyStates.values()].map((ks) => ks.active?.seq)).to.deep.equal(
          [...model.values()].map((m) => m.active),
        );
      }),
    );
  });
});
