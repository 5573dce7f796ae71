import { Observable } from 'rxjs';

/**
 * A counting semaphore for Observables: at most `limit` of the Observables given to
 * {@link Limiter.run} are subscribed at once; the others wait FIFO. Unsubscribing a waiting one
 * leaves the queue; unsubscribing a running one frees its slot.
 */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  /** How many are running now. */
  get active(): number {
    return this.running;
  }

  run<T>(work: () => Observable<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      let inner: { unsubscribe(): void } | null = null;
      let holding = false;
      const release = (): void => {
        if (!holding) return;
        holding = false;
        this.running--;
        this.waiting.shift()?.();
      };
      const go = (): void => {
        holding = true;
        this.running++;
        try {
          inner = work().subscribe({
            next: (v) => subscriber.next(v),
            error: (e) => {
              release();
              subscriber.error(e);
            },
            complete: () => {
              release();
              subscriber.complete();
            },
          });
        } catch (error) {
          release();
          subscriber.error(error);
        }
      };
      if (this.running < this.limit) go();
      else this.waiting.push(go);
      return () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        inner?.unsubscribe();
        release();
      };
    });
  }
}
