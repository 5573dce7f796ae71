import { expect } from 'chai';
import { polyfilledWithResolvers } from '../../lib/restate/polyfill';

describe('restate: Promise.withResolvers for Node 20 (the Restate SDK needs it)', () => {
  it('is installed only where the runtime lacks it, and behaves like the standard one', async () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(polyfilledWithResolvers).to.equal(major < 22);
    const withResolvers = (
      Promise as unknown as {
        withResolvers: <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void };
      }
    ).withResolvers;
    const ok = withResolvers.call(Promise);
    ok.resolve(42);
    expect(await ok.promise).to.equal(42);
    const bad = withResolvers.call(Promise);
    bad.reject(new Error('no'));
    const error = await bad.promise.catch((e: unknown) => e);
    expect((error as Error).message).to.equal('no');
    expect(ok.promise).to.be.instanceOf(Promise);
  });
});
