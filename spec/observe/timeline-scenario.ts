import { agentOperator, type LifecycleEvent } from '../../lib';
import { createTestScheduler } from '../../lib/testing';
import { byKey, jobAgent, type Job } from './fixtures';

/**
 * A deterministic virtual-time scenario for timeline specs: 5 keys, 3 inputs each arriving
 * close together (so later runs wait in their key's queue), work of 3–12 frames, and an
 * executor of 4 slots (so some async blocks wait for a slot). Key `k3`'s second job fails (isolated).
 */
export function recordScenario(): LifecycleEvent[] {
  const events: LifecycleEvent[] = [];
  const ts = createTestScheduler();
  const jobs: Record<string, Job> = {};
  const letters = 'abcdefghijklmno';
  for (let i = 0; i < 15; i++) {
    const key = `k${i % 5}`;
    jobs[letters[i]!] = { id: i, key, work: 3 + ((i * 7) % 10), fail: key === 'k3' && i >= 5 && i < 10 };
  }
  ts.run(({ cold }) => {
    cold<Job>('abcde 2ms fghij 2ms klmno|', jobs)
      .pipe(
        agentOperator(jobAgent(), {
          key: byKey,
          scheduler: ts,
          concurrency: 4,
          errorPolicy: 'isolate',
          inspect: (e) => void events.push(e),
        }),
      )
      .subscribe();
  });
  return events;
}
