/**
 * `Promise.withResolvers` for Node 20. The Restate SDK calls it (it is in Node 22+); this subpath
 * installs a spec-shaped version only when the runtime lacks one, before the SDK is loaded.
 * Imported for its side effect by every file of `rx-agents/restate` that loads the SDK.
 */
interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const PromiseCtor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };

const needed = typeof PromiseCtor.withResolvers !== 'function';

if (needed) {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve'];
      let reject!: Resolvers<T>['reject'];
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** Whether this runtime lacked `Promise.withResolvers`, so the polyfill was installed (Node < 22). */
export const polyfilledWithResolvers = needed;
