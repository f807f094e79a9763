/**
 * nock 15 intercepts through @mswjs/interceptors 0.44, whose socket controllers call
 * `Promise.withResolvers()` (Node >= 22; its package.json says `"node": ">=22"`). The project
 * runs on Node 20 (package.json engines), where every intercepted HTTPS request would fail with
 * "Promise.withResolvers is not a function". Until the lead pins a Node-20-compatible
 * interceptors version, this test-only shim supplies the ES2024 method (spec:
 * https://tc39.es/ecma262/#sec-promise.withResolvers).
 */
const PromiseCtor = Promise as unknown as { withResolvers?: unknown };
if (typeof PromiseCtor.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
export {};
