import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { agentOperator, defineAgent, InputEvent, OutputEvent, type LifecycleEvent } from '../../lib';
import { createEventLog, createTracing } from '../../lib/observe';
import { createTestScheduler, virtualDelay, virtualFailure } from '../../lib/testing';

const SECRET = 'hunter2-very-secret';
const EMAIL = 'ada@example.com';

/** Logins whose input carries a password; the key is the email; one run fails with an error that quotes the password. */
const login = defineAgent({
  name: 'login',
  input: z.object({ email: z.string(), password: z.string(), fail: z.boolean() }),
  actions: (action) => [
    action('check', InputEvent, function* (event, ctx) {
      const { password, fail } = event.payload;
      const ok = yield* ctx.executeAsync(
        (p: string, f: boolean) => (f ? virtualFailure(new Error(`bad password ${p}`), 1) : virtualDelay(true, 1)),
        password,
        fail,
      );
      ctx.sendEvent(OutputEvent.of({ ok, echo: password }));
    }),
  ],
});

function runLogins(inspect: (e: LifecycleEvent) => void): void {
  const ts = createTestScheduler();
  ts.run(({ cold }) => {
    cold('(ab)|', {
      a: { email: EMAIL, password: SECRET, fail: false },
      b: { email: 'bob@example.com', password: SECRET, fail: true },
    })
      .pipe(agentOperator(login, { key: (x) => x.email, scheduler: ts, errorPolicy: 'isolate', inspect }))
      .subscribe();
  });
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe('observe: secrets stay out of logs and spans by default (metadata only)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rx-agents-redact-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('event log, every level, default options: no password, no email, no error message; shapes, ids and hashed keys instead', async () => {
    for (const level of ['errors', 'runs', 'actions', 'all'] as const) {
      const path = join(dir, `${level}.jsonl`);
      const log = createEventLog({ path, level });
      runLogins(log.inspect);
      await log.close();
      const text = readFileSync(path, 'utf8');
      expect(count(text, SECRET), level).to.equal(0);
      expect(count(text, EMAIL), level).to.equal(0);
      expect(count(text, 'bad password'), level).to.equal(0);
      const lines = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const failed = lines.find((l) => l['type'] === 'run.ended' && l['outcome'] === 'failed')!;
      expect(failed['error']).to.deep.equal({
        name: 'ActionError',
        code: 'ERR_ACTION_FAILED',
        cause: { name: 'Error' },
      });
      expect(failed['key']).to.match(/^h:[0-9a-f]{16}$/);
      if (level !== 'errors') {
        const accepted = lines.find((l) => l['type'] === 'input.accepted')!;
        expect(accepted['input']).to.deep.equal({ $type: 'object', keys: 3 });
        const output = lines.find((l) => l['type'] === 'output.emitted')!;
        expect(output['payload']).to.deep.equal({ $type: 'object', keys: 2 });
      }
    }
  });

  it('keys: hash is stable for one keySalt (lines of a key can be matched) and differs for another; omit leaves keys out', async () => {
    const hashes = async (options: { keySalt?: string; keys?: 'omit' }): Promise<unknown[]> => {
      const path = join(dir, `k${Math.random()}.jsonl`);
      const log = createEventLog({ path, level: 'runs', ...options });
      runLogins(log.inspect);
      await log.close();
      return readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as Record<string, unknown>)['key']);
    };
    const a = await hashes({ keySalt: 's1' });
    const b = await hashes({ keySalt: 's1' });
    const c = await hashes({ keySalt: 's2' });
    expect(a).to.deep.equal(b);
    expect(new Set(a).size).to.equal(2); // two keys, two hashes
    expect(a[0]).to.not.equal(c[0]);
    expect(new Set(await hashes({ keys: 'omit' }))).to.deep.equal(new Set([undefined]));
  });

  it('payloads: true writes payloads through redact(path, value); the redacted field never appears', async () => {
    const path = join(dir, 'payloads.jsonl');
    const seen = new Set<string>();
    const log = createEventLog({
      path,
      level: 'all',
      payloads: true,
      keys: 'plain',
      redact: (p, value) => {
        seen.add(p);
        if (p.endsWith('password') || p.endsWith('echo')) return '[redacted]';
        if (p === 'error.message' || p === 'error') return typeof value === 'string' ? '[redacted]' : value;
        return value;
      },
    });
    runLogins(log.inspect);
    await log.close();
    const text = readFileSync(path, 'utf8');
    expect(count(text, SECRET)).to.equal(0);
    expect(count(text, EMAIL)).to.be.greaterThan(0); // keys: 'plain'
    expect(text).to.include('"input":{"email":"ada@example.com","password":"[redacted]","fail":false}');
    expect([...seen]).to.include.members(['input.password', 'payload.echo', 'key', 'error.message']);
  });

  it('tracing, default options: no password or email in any span attribute, event, status or exception', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracing = createTracing({ tracer: provider.getTracer('spec'), agentName: 'login' });
    runLogins(tracing.inspect);
    const spans = exporter.getFinishedSpans();
    expect(spans.length).to.be.greaterThan(3);
    const dump = JSON.stringify(
      spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })),
    );
    expect(count(dump, SECRET)).to.equal(0);
    expect(count(dump, EMAIL)).to.equal(0);
    expect(count(dump, 'bad password')).to.equal(0);
    const failedRun = spans.find((s) => s.name === 'run login' && s.attributes['rx_agents.outcome'] === 'failed')!;
    expect(failedRun.status.message).to.equal('ActionError ERR_ACTION_FAILED');
    expect(failedRun.attributes['rx_agents.key']).to.match(/^h:[0-9a-f]{16}$/);
  });

  it('validates the redaction options', () => {
    expect(() => createEventLog({ stream: process.stderr, payloads: 'yes' as never })).to.throw(
      TypeError,
      'Expected `payloads` to be a boolean',
    );
    expect(() => createEventLog({ stream: process.stderr, keys: 'clear' as never })).to.throw(
      TypeError,
      "Expected `keys` to be one of 'hash', 'plain', 'omit'",
    );
    expect(() => createTracing({ redact: 1 as never })).to.throw(TypeError, 'Expected `redact` to be a function');
  });
});
