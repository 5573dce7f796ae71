import { Activation } from './activation';
import { anchorShape } from './anchor-shape';
import { KeyState } from './admission';
import { AsyncCall } from './async-call';
import { Fifo } from './fifo';
import { MemoryNode } from './memory';
import { MemoryView } from './memory-view';
import { RoutedEvent } from './routed-event';
import { Run } from './run';

/**
 * Shape anchors: one dormant instance of each class the runtime makes per run (and, through
 * {@link anchorShape}, per subscription), kept alive for the life of the process.
 *
 * Why: V8 reaches the hidden class ("map") an instance ends up with through a chain of
 * transitions it holds only weakly. Once no instance of a class is alive at a full GC — an
 * operator between bursts of input, a benchmark between rounds — those maps are collected, and
 * every optimized function that checked them is thrown away ("weak objects" deoptimizations) and
 * compiled again on the next burst. Measured (io workload, one subscription per round, as in
 * bench/): 65–90 functions deoptimized and recompiled every round, most of a round's CPU time. A
 * dormant instance pins the maps, and the compiled code stays. Dormant instances hold no user
 * data: every reference in them is empty, and the dormant runtime is disposed at once.
 *
 * @example
 * anchorShape(dormantRuntime()); // the operator pins the per-subscription classes once, at load
 */
export { anchorShape };

// The per-run classes, with the kinds of values real instances hold where the kind matters to V8
// (a number field starts as NaN: a double; an object field starts as null). `none` stands for the
// hosts and definitions a dormant instance never uses.
const none = null as never;
const ks = new KeyState(undefined);
ks.pending = new Fifo({ input: undefined, seq: 0, at: NaN });
anchorShape(ks);
const run = new Run(none, ks, 0, undefined, NaN);
anchorShape(run);
anchorShape(new Activation(none, none, new RoutedEvent('rx-agents/dormant', undefined, null, 0)));
anchorShape(new AsyncCall(none, 0, none, [], undefined));
anchorShape(new MemoryView(none, 'shortTermMemory'));
anchorShape(new MemoryNode());

// Node's own per-call objects on the runtime's path: the AsyncResource every `queueMicrotask` makes
// (the mailbox's wake-up), the Immediate of `setImmediate` and the Timeout of `setTimeout` /
// `setInterval` (rxjs's async scheduler, the journal's commits, users' blocks). Node's functions that
// call our code — runMicrotask, processImmediate, listOnTimeout — are optimized with it inlined, so when
// no such object is alive at a full GC their maps go and that code is thrown away and compiled again on
// the next burst, like ours. The microtask resource is built as `queueMicrotask` builds it (Node 20–24:
// these options, then a `callback` field); a cleared Immediate and Timeout hold nothing and keep no
// event-loop handle.
const noop = (): void => {};
const microtask = new (process.getBuiltinModule('node:async_hooks').AsyncResource)('Microtask', {
  requireManualDestroy: true,
});
(microtask as unknown as { callback: () => void }).callback = noop;
anchorShape(microtask);
const immediate = setImmediate(noop);
clearImmediate(immediate);
anchorShape(immediate);
const timeout = setTimeout(noop, 0);
clearTimeout(timeout);
anchorShape(timeout);
