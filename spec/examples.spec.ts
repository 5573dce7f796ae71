import { expect } from 'chai';

describe('examples (smoke tests: each runs and does what it says)', () => {
  it("seed-action1: the seed's action1 (50 + 100 ms) and my_action (50 ms) overlap", async () => {
    const { main } = await import('../examples/seed-action1');
    const { outputs } = await main();
    expect(outputs).to.deep.equal(['my_action my func result(1)', 'my func1 result(1) my func2 result(1)']);
  });

  it('head-of-line: the slow key finishes last; the other keys are not held behind it', async () => {
    const { main } = await import('../examples/head-of-line');
    const outputs = await main(300, 10);
    // The slow key arrived first; every other key's output is emitted before it (order, not timing).
    expect(outputs.map((o) => o.user)).to.deep.equal([...Array.from({ length: 10 }, (_, i) => `u${i}`), 'slow']);
  });

  it('fan-out: the join emits one record with all three parts', async () => {
    const { main } = await import('../examples/fan-out');
    const { outputs } = await main();
    expect(outputs).to.have.length(1);
    expect(outputs[0]).to.have.keys(['sentiment', 'entities', 'summary']);
  });

  it('for-await: a slow consumer loses nothing and sees per-key order', async () => {
    const { main } = await import('../examples/for-await');
    const seen = await main();
    expect(seen).to.have.length(12);
    for (const user of ['u0', 'u1', 'u2']) {
      const mine = seen.filter((s) => s.startsWith(`${user}:`)).map((s) => Number(s.split(':')[1]));
      expect(mine).to.deep.equal([...mine].sort((a, b) => a - b));
    }
  });

  it('demo: serial and concurrent runs give identical outputs (the speedup is measured by the demo itself, not asserted)', async () => {
    const { runDemo } = await import('../examples/demo');
    const r = await runDemo({ inputs: 20, customers: 10 });
    expect(r.same).to.equal(true);
    expect(r.outputs).to.equal(20);
  });

  it('restate: the demo workload distributed on a real restate-server gives the same replies as embedded', async function () {
    this.timeout(120_000);
    const { main } = await import('../examples/restate');
    const r = await main({ inputs: 20, customers: 5 });
    expect(r.same).to.equal(true);
    expect(r.outputs).to.equal(20);
  });
});
