import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NEVER, concat, lastValueFrom, of, toArray } from 'rxjs';
import { agentOperator, defineAgent, InputEvent, OutputEvent } from '../../lib';
import { sqliteStore } from '../../lib/sqlite';
import { MAX_ERROR_FIELDS_CHARS, decodeValue, encodeError } from '../../lib/store/codec';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('S13 journaled errors keep their own data fields, so a replayed run takes the same branch', () => {
  it('keeps own enumerable data fields (status, retryAfter, nested data, a non-string code) and rebuilds built-in classes', () => {
    const error = Object.assign(new RangeError('rate limited'), {
      status: 429,
      retryAfter: 2.5,
      headers: { 'retry-after': '2' },
      code: 503,
      at: new Date(0),
    });
    const back = decodeValue(encodeError(error)) as RangeError & Record<string, unknown>;
    expect(back).to.be.instanceOf(RangeError);
    expect(back.message).to.equal('rate limited');
    expect(back.stack).to.equal(error.stack);
    expect({ ...back }).to.deep.equal({
      status: 429,
      retryAfter: 2.5,
      headers: { 'retry-after': '2' },
      code: 503,
      at: new Date(0),
    });
    expect(back['journalDroppedFields']).to.equal(undefined);
  });

  it('keeps the cause chain (errors and data), a custom name, and a string code as before', () => {
    const root = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', errno: -104 });
    const error = new Error('fetch failed', { cause: root });
    error.name = 'FetchError';
    const back = decodeValue(encodeError(error)) as Error & { cause: Error & { code: string; errno: number } };
    expect([back.name, back.message]).to.deep.equal(['FetchError', 'fetch failed']);
    expect(back.cause).to.be.instanceOf(Error);
    expect([back.cause.message, back.cause.code, back.cause.errno]).to.deep.equal([
      'socket hang up',
      'ECONNRESET',
      -104,
    ]);
    expect(Object.keys(back)).to.not.include('cause'); // non-enumerable, as a native cause is
    const withData = decodeValue(encodeError(new Error('x', { cause: { reason: 42 } }))) as Error;
    expect(withData.cause).to.deep.equal({ reason: 42 });
  });

  it('leaves out fields that are not data or past the budget, and lists them on the replayed error', () => {
    const error = Object.assign(new Error('boom'), {
      socket: { destroy() {} },
      response: new (class Response {})(),
      big: 'x'.repeat(MAX_ERROR_FIELDS_CHARS + 1),
      small: 1,
    });
    const back = decodeValue(encodeError(error)) as Error & Record<string, unknown>;
    expect({ ...back }).to.deep.equal({ small: 1 });
    expect(back['journalDroppedFields']).to.deep.equal(['socket', 'response', 'big']);
  });

  it('never throws, even for a revoked proxy or an error whose getters throw', () => {
    const { proxy, revoke } = Proxy.revocable(new Error('x'), {});
    revoke();
    expect(() => encodeError(proxy)).to.not.throw();
    const hostile = new Error('m');
    Object.defineProperty(hostile, 'status', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    const back = decodeValue(encodeError(hostile)) as Error & Record<string, unknown>;
    expect(back.message).to.equal('m');
    expect(back['journalDroppedFields']).to.deep.equal(['status']);
  });

  describe('through a real restart (SQLite file)', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-errfields-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('an action that branches on err.status === 429 takes the same branch when its run is replayed', async () => {
      const path = join(dir, 'agents.db');
      const gate = { hold: true };
      let attempts = 0;
      const agent = defineAgent({
        name: 'caller',
        actions: (action) => [
          action('call', InputEvent, function* (_event, ctx) {
            let branch: string;
            try {
              yield* ctx.executeAsync(function request() {
                attempts++;
                return Promise.reject(Object.assign(new Error('Too Many Requests'), { status: 429, retryAfter: 2 }));
              });
              branch = 'ok';
            } catch (error) {
              const e = error as { status?: number; retryAfter?: number };
              branch = e.status === 429 ? `backoff ${e.retryAfter}` : `other (${String(e.status)})`;
            }
            yield* ctx.executeAsync(function hold() {
              return gate.hold ? new Promise<never>(() => undefined) : Promise.resolve();
            });
            ctx.sendEvent(OutputEvent.of(branch));
          }),
        ],
      });
      let store = sqliteStore(path);
      const sub = concat(of('go'), NEVER).pipe(agentOperator(agent, { store })).subscribe();
      for (let i = 0; i < 20 && store.size('caller').calls === 0; i++) await settle();
      expect(store.size('caller').calls).to.equal(1); // the failed request is journaled; `hold` is in flight
      sub.unsubscribe(); // the "crash"
      store.close();

      gate.hold = false;
      store = sqliteStore(path);
      const outputs = await lastValueFrom(of<string>().pipe(agentOperator(agent, { store }), toArray()));
      store.close();
      expect(attempts).to.equal(1); // the request was not made again: its error came from the journal
      expect(outputs).to.deep.equal(['backoff 2']);
    });
  });
});
