/**
 * `rx-agents/testing`: marble-test agents in virtual time (S11) — a TestScheduler with error
 * matchers, Observable-returning fakes for async functions, and a lifecycle recorder.
 *
 * @example
 * import { createTestScheduler, fakeAsyncFn, matchError, virtualDelay } from 'rx-agents/testing';
 */
export { TestScheduler } from 'rxjs/testing';
export { createTestScheduler } from './test-scheduler';
export { matchError } from './match-error';
export type { ErrorMatch, ErrorMatcher } from './match-error';
export { virtualDelay, virtualFailure } from './virtual-time';
export { fakeAsyncFn } from './fake-async-fn';
export type { ArgsWithoutSignal, FakeAsyncFn, FakeCall } from './fake-async-fn';
export { recordLifecycle } from './record-lifecycle';
