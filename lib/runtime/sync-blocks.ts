/**
 * Whose sync block is running, for S5: context members work only inside their own activation's
 * sync blocks. One per runtime; every place that runs user code as a block (an action's first
 * block, a resumed generator, a cancelled generator's `finally`, an async block) goes through
 * {@link run}, so the owner is always restored, even when the code throws.
 *
 * @example
 * blocks.run(activation, activation, activation.firstBlock, undefined); // blocks.current === activation inside
 */
export class SyncBlocks {
  /** The activation whose sync block is running; `null` between blocks and inside async blocks. */
  current: object | null = null;

  /** Calls `body` on `self` with `arg` as a block of `owner` (`null`: no context may be touched), then restores the previous owner. */
  run<S, A, R>(owner: object | null, self: S, body: (this: S, arg: A) => R, arg: A): R {
    const previous = this.current;
    this.current = owner;
    try {
      return body.call(self, arg);
    } finally {
      this.current = previous;
    }
  }
}
