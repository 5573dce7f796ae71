import { expect } from 'chai';

describe('examples/support-agent (smoke test over the loopback SSE server)', () => {
  it('answers with a valid structured answer after two parallel tool calls, streaming its tokens first', async () => {
    const saved = process.env.OPENAI_BASE_URL;
    delete process.env.OPENAI_BASE_URL;
    try {
      const { main } = await import('../../examples/support-agent');
      const { answers, chunks } = await main({ quiet: true });
      expect(answers).to.have.length(1);
      expect(answers[0]!.output).to.deep.include({ category: 'refund', orderIds: ['A17'] });
      expect(answers[0]!.output.reply).to.match(/can still be refunded/);
      expect(answers[0]!.steps).to.equal(2);
      expect(chunks).to.be.greaterThan(5);
    } finally {
      if (saved !== undefined) process.env.OPENAI_BASE_URL = saved;
    }
  });
});
