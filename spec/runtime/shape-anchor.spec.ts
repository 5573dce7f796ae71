import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const child = join(__dirname, 'fixtures', 'idle-gaps-child.ts');

/**
 * V8's "weak objects" deoptimizations in each burst of the child's stdout, by round: a burst's maps
 * die in the gap after it, so its count is what the next full GC threw away. `reason` counts
 * another kind of code invalidation instead (e.g. `code dependencies`).
 */
function weakObjectDeopts(stdout: string, only?: RegExp, reason = 'weak objects'): Map<number, number> {
  const perRound = new Map<number, number>();
  let round = -1;
  // V8 writes its trace straight to stdout, so a marker may share a line with it.
  for (const part of stdout.split(/(ROUND \d+|END)/)) {
    const marker = /^ROUND (\d+)$/.exec(part);
    if (marker !== null) perRound.set((round = Number(marker[1])), 0);
    else if (part === 'END') round = -1;
    else if (round >= 0)
      perRound.set(
        round,
        (perRound.get(round) ?? 0) +
          part.split('\n').filter((line) => line.includes(`reason: ${reason}`) && (only?.test(line) ?? true)).length,
      );
  }
  return perRound;
}

describe('runtime: shape anchors keep compiled code across idle gaps (lib/runtime/shape-anchor.ts)', function () {
  this.timeout(120_000);

  it('after warm-up, a burst that follows an idle gap with a full GC throws no optimized code away', () => {
    // Without the anchors V8 collects the maps of Run, Activation, AsyncCall, ... in every gap and
    // deoptimizes the 50-90 functions compiled for them ("weak objects"), then compiles them again.
    const perRound = weakObjectDeopts(idleGaps());
    expect([...perRound.keys()]).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    // Rounds 0-2 warm up (first compilations, feedback settling). Measured without the anchors:
    // 36-51 in each of rounds 3-6; with them, none (round 7 is followed by no gap).
    expect([3, 4, 5, 6].map((r) => perRound.get(r))).to.deep.equal([0, 0, 0, 0]);
  });

  it('so do calls that take permits of a named budget (its per-key queues and permits are anchored too)', () => {
    // Measured without budgets.ts's anchors: 11-13 in most of rounds 3-6 (grant, release, requeue, ... recompiled).
    const perRound = weakObjectDeopts(idleGaps('budgets'));
    expect([...perRound.keys()]).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([3, 4, 5, 6].map((r) => perRound.get(r))).to.deep.equal([0, 0, 0, 0]);
  });

  it("with a subscription per burst, Node's microtask and Immediate code and the mailbox loop stay compiled too", () => {
    // What dies in each gap here is also per subscription: the mailbox, its wake-up, Node's
    // AsyncResource per queueMicrotask and Immediate per setImmediate. Measured before the Node
    // anchors and the mailbox's module-level wake-up: processImmediate, runMicrotask, queueMicrotask,
    // runInAsyncScope, emitDestroy, drain and process thrown away after every gap. Left (not checked
    // here): code that inlined a closure of the subscription itself (the downstream subscriber in
    // `output`, the executor's `done` in AsyncCall's release/settle), which a long-lived pipeline keeps.
    const node =
      /SharedFunctionInfo (processImmediate|runMicrotask|queueMicrotask|runInAsyncScope|emitDestroy|initAsyncResource|drain|wakeNext|wakeNow|process)>/;
    const perRound = weakObjectDeopts(idleGaps('per-burst'), node);
    expect([...perRound.keys()]).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([3, 4, 5, 6].map((r) => perRound.get(r))).to.deep.equal([0, 0, 0, 0]);
  });

  it('with a journaled subscription per burst (S13, a real SQLite file), the journal code stays compiled', () => {
    // The journal, its commit pacer and its outcomes live as long as their subscription. Measured
    // without their anchors (lib/runtime/journal.ts, commit-pacer.ts): waited, the Journal's field
    // initializer, Outcome and toCall thrown away after most gaps, and with them the runtime code
    // that inlined journal calls (startRun, endRun, memory, submit).
    const journal =
      /SharedFunctionInfo (accepted|settled|written|waited|arm|flush|committed|Outcome|toCall|<instance_members_initializer>|startRun|endRun|memory|memoryNode|submit|fire|urgent)>/;
    const perRound = weakObjectDeopts(idleGaps('journal'), journal);
    expect([...perRound.keys()]).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([3, 4, 5, 6].map((r) => perRound.get(r))).to.deep.equal([0, 0, 0, 0]);
  });

  it("with a subscription per burst piped into rxjs operators, the runtime's output and routing code stays compiled", () => {
    // `from(inputs).pipe(agentOperator(...), count())` per burst: the operator subscribers of rxjs (here
    // count's and the source's) die in each gap. Measured before the dormant operator subscriber of
    // lib/operator/agent-operator.ts: `output` and `Subscriber.next` thrown away after every gap
    // ("code dependencies", 2 per round), and `Run.process` too ("weak objects") once V8 inlined deeper.
    const routing = /SharedFunctionInfo (output|Subscriber\.next|process|accept|drain)>/;
    const stdout = idleGaps('routing');
    for (const reason of ['weak objects', 'code dependencies']) {
      const perRound = weakObjectDeopts(stdout, routing, reason);
      expect([...perRound.keys()]).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(
        [3, 4, 5, 6].map((r) => perRound.get(r)),
        reason,
      ).to.deep.equal([0, 0, 0, 0]);
    }
  });
});

/** Runs the child (8 bursts) under `--trace-deopt` and returns its stdout. */
function idleGaps(...mode: string[]): string {
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '--trace-deopt', '-r', 'ts-node/register/transpile-only', child, '8', ...mode],
    { encoding: 'utf8', env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' }, maxBuffer: 64 * 1024 * 1024 },
  );
  expect(result.status, result.stderr).to.equal(0);
  return result.stdout;
}
