import { expect } from 'chai';
import { InputEvent, OutputEvent, agentOperator, defineAgent, type AgentStore } from '../../lib';
import { memoryStore } from '../../lib/store/memory-store';
import { COMMIT_SPACING, COMMIT_WINDOW_MS, CommitPacer } from '../../lib/runtime/commit-pacer';
import { sqliteStore } from '../../lib/sqlite';
import { createTestScheduler, virtualDelay } from '../../lib/testing';
import sinon from 'sinon';

// The group-commit clock of commitDelay: 'auto' (S13), on a fake clock: setTimeout, setImmediate and performance.now
// are sinon's, so "when" is a count of fake milliseconds, not a timing threshold.
describe("runtime: the group-commit clock of commitDelay 'auto' (S13)", () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'],
    });
  });
  afterEach(() => clock.restore());

  /** Arms a commit and records the fake time at which it is made. */
  function armed(pacer: CommitPacer, urgent: boolean): { at: number[]; pending: ReturnType<CommitPacer['arm']> } {
    const at: number[] = [];
    return { at, pending: pacer.arm(() => at.push(performance.now()), urgent) };
  }

  it('makes a commit somebody waits for at the next event-loop turn, not a window later', () => {
    const { at } = armed(new CommitPacer(), true);
    clock.tick(0); // the next check phase (setImmediate)
    expect(at).to.deep.equal([0]);
    clock.tick(10);
    expect(at, 'made once').to.have.length(1);
  });

  it('makes a commit nobody waits for one window after its first write (so runs that end within it are written as their end)', () => {
    const { at } = armed(new CommitPacer(), false);
    clock.tick(0);
    expect(at).to.deep.equal([]);
    clock.tick(COMMIT_WINDOW_MS);
    expect(at).to.deep.equal([COMMIT_WINDOW_MS]);
  });

  it('after an expensive commit, puts off the next unwaited commit until COMMIT_SPACING times its duration has passed (batches grow with load)', () => {
    const pacer = new CommitPacer();
    clock.tick(10);
    pacer.committed(8, 10); // a commit that took 2 ms and ended now
    const { at } = armed(pacer, false);
    clock.tick(COMMIT_WINDOW_MS);
    expect(at, 'not after one window').to.deep.equal([]);
    clock.tick(10 + COMMIT_SPACING * 2 - performance.now() - 1);
    expect(at).to.deep.equal([]);
    clock.tick(1);
    expect(at).to.deep.equal([10 + COMMIT_SPACING * 2]);
  });

  it('never puts off a commit somebody waits for, however expensive the last one was', () => {
    const pacer = new CommitPacer();
    clock.tick(10);
    pacer.committed(0, 10);
    const { at } = armed(pacer, true);
    clock.tick(0);
    expect(at).to.deep.equal([10]);
  });

  it('an acknowledgement that arrives for a put-off commit makes it at the next turn (urge)', () => {
    const pacer = new CommitPacer();
    clock.tick(10);
    pacer.committed(5, 10); // the next unwaited commit would wait until 10 + 8 × 5 = 50
    const { at, pending } = armed(pacer, false);
    clock.tick(3);
    expect(pacer.urge(pending)).to.equal(pending);
    clock.tick(0);
    expect(at).to.deep.equal([13]);
  });

  it('an asynchronous commit is not paced (forget): the next unwaited commit waits one window', () => {
    const pacer = new CommitPacer();
    pacer.committed(0, 100);
    pacer.forget();
    const { at } = armed(pacer, false);
    clock.tick(COMMIT_WINDOW_MS);
    expect(at).to.deep.equal([COMMIT_WINDOW_MS]);
  });

  it('unsubscribe drops a pending commit', () => {
    const { at, pending } = armed(new CommitPacer(), true);
    pending.unsubscribe();
    clock.tick(100);
    expect(at).to.deep.equal([]);
  });
});

describe("runtime: commitDelay 'auto' in virtual time (S11, S13)", () => {
  it('is a fixed window of one frame under a TestScheduler (deterministic marbles)', () => {
    const scheduler = createTestScheduler();
    const inner = memoryStore();
    const auto: AgentStore = {
      location: 'memory',
      commitDelay: 'auto',
      load: (a) => inner.load(a),
      commit: (a, b) => inner.commit(a, b),
      close: () => undefined,
    };
    const agent = defineAgent({
      name: 'auto-virtual',
      actions: (action) => [
        action('a', InputEvent, function* (e, ctx) {
          const v = yield* ctx.executeAsync(() => virtualDelay(e.payload, 3, scheduler));
          ctx.sendEvent(OutputEvent.of(v));
        }),
      ],
    });
    scheduler.run(({ cold, expectObservable }) => {
      const acks: string[] = [];
      const out = cold('a-b|').pipe(
        agentOperator(agent, { store: auto, scheduler, onAccepted: (x) => acks.push(`${x}@${scheduler.now()}`) }),
      );
      expectObservable(out).toBe('---a--(b|)');
      scheduler.schedule(() => expect(acks).to.deep.equal(['a@1', 'b@3']), 20);
    });
  });
});

describe("store: sqliteStore's commitDelay option (S13)", () => {
  it("is 'auto' unless given; a number is a fixed window; anything else is refused at creation", () => {
    const auto = sqliteStore(':memory:');
    const fixed = sqliteStore(':memory:', { commitDelay: 2 });
    try {
      expect(auto.commitDelay).to.equal('auto');
      expect(fixed.commitDelay).to.equal(2);
    } finally {
      auto.close();
      fixed.close();
    }
    expect(() => sqliteStore(':memory:', { commitDelay: 'fast' as never })).to.throw(
      TypeError,
      "Expected `commitDelay` to be 'auto' or a number of ms >= 0, got `fast` (string).",
    );
    expect(() => sqliteStore(':memory:', { commitDelay: -1 })).to.throw(TypeError, /'auto' or a number of ms >= 0/);
  });
});
