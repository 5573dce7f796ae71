import { expect } from 'chai';
import { map } from 'rxjs/operators';
import { createTestScheduler } from '../../lib/testing';
import { ModelCallError, withModelPolicy, type ModelEvent, type ModelRequest } from '../../lib/llm';
import { scriptedModel } from '../../lib/llm/testing';

const request: ModelRequest = { messages: [{ role: 'user', content: 'q' }] };
const text = (e: ModelEvent): string => (e.type === 'response' ? e.response.message.content : e.type);

describe('llm/withModelPolicy — retries, backoff, Retry-After, timeout, fallback in virtual time', () => {
  it('retries 429/5xx with exponential backoff (no jitter): 100, 200, then success', () => {
    const ts = createTestScheduler();
    ts.run(({ expectObservable }) => {
      const model = scriptedModel([{ error: { status: 503 } }, { error: { status: 500 } }, { text: 'ok', frames: 1 }]);
      const policy = withModelPolicy(model, { retries: 3, initialDelay: 100, jitter: 'none' });
      expectObservable(policy.call(request).pipe(map(text))).toBe('301ms (x|)', { x: 'ok' });
    });
  });

  it('full jitter draws the delay from [0, backoff) with the given random source', () => {
    const ts = createTestScheduler();
    ts.run(({ expectObservable }) => {
      const model = scriptedModel([{ error: { status: 429 } }, { error: { status: 429 } }, { text: 'ok' }]);
      const draws = [0.5, 0.25];
      const policy = withModelPolicy(model, { retries: 2, initialDelay: 100, random: () => draws.shift()! });
      // 0.5 × 100 = 50, then 0.25 × 200 = 50
      expectObservable(policy.call(request).pipe(map(text))).toBe('100ms (x|)', { x: 'ok' });
    });
  });

  it("honours the server's Retry-After instead of the backoff", () => {
    const ts = createTestScheduler();
    ts.run(({ expectObservable }) => {
      const model = scriptedModel([{ error: { status: 429, retryAfter: 2000 } }, { text: 'ok' }]);
      const policy = withModelPolicy(model, { retries: 1, initialDelay: 10, jitter: 'none' });
      expectObservable(policy.call(request).pipe(map(text))).toBe('2000ms (x|)', { x: 'ok' });
    });
  });

  it('does not retry a non-retryable failure; gives up after `retries` with the attempts counted', () => {
    const ts = createTestScheduler();
    const failures: Array<{ at: number; error: ModelCallError }> = [];
    ts.run(() => {
      const bad = scriptedModel([{ error: { status: 400 } }]);
      withModelPolicy(bad, { retries: 5 })
        .call(request)
        .subscribe({ error: (error: ModelCallError) => failures.push({ at: ts.now(), error }) });
      const flaky = scriptedModel(() => ({ error: { status: 502 } }));
      withModelPolicy(flaky, { retries: 2, initialDelay: 10, jitter: 'none' })
        .call(request)
        .subscribe({ error: (error: ModelCallError) => failures.push({ at: ts.now(), error }) });
      ts.flush();
      expect(bad.requests).to.have.length(1);
      expect(flaky.requests).to.have.length(3);
    });
    expect(failures.map((f) => [f.at, f.error.status, f.error.attempts, f.error.retryable])).to.deep.equal([
      [0, 400, 1, false],
      [30, 502, 3, true],
    ]);
    expect(failures[1]!.error.message).to.match(/HTTP 502 after 3 attempts/);
  });

  it('a hanging response times out (retryable), and the fallback model answers after the retries', () => {
    const ts = createTestScheduler();
    ts.run(({ expectObservable }) => {
      const hanging = scriptedModel(() => ({ text: 'never', frames: 1_000_000 }));
      const backup = scriptedModel([{ text: 'from backup', frames: 5 }], { modelId: 'backup' });
      const policy = withModelPolicy(hanging, {
        retries: 1,
        timeout: 100,
        initialDelay: 50,
        jitter: 'none',
        fallback: backup,
      });
      // 100 (timeout) + 50 (backoff) + 100 (timeout) + 5 (backup)
      expectObservable(policy.call(request).pipe(map(text))).toBe('255ms (x|)', { x: 'from backup' });
    });
  });

  it('validates its options', () => {
    const model = scriptedModel([]);
    expect(() => withModelPolicy(model, { retries: -1 })).to.throw(TypeError, /`retries` to be an integer >= 0/);
    expect(() => withModelPolicy(model, { timeout: 0 })).to.throw(TypeError, /`timeout` to be a number > 0/);
    expect(() => withModelPolicy(model, { jitter: 'some' as never })).to.throw(TypeError, /`jitter`/);
    expect(() => withModelPolicy(model, { fallback: {} as never })).to.throw(TypeError, /`fallback` to be a ChatModel/);
  });
});
