import { optionError, StateAccessError } from '../errors';
import type { AsyncCall } from '../runtime/async-call';
import type { KeyState } from '../runtime/admission';
import type { MemoryValue } from '../context/memory-ref';
import type { ParkedOn, StateAttachable, StateProbe } from '../runtime/state-probe';

/** An action of a running run, as a snapshot shows it. */
export interface ActionSnapshot {
  readonly action: string;
  /** The activation id (`<event id>><action>`, stable across replays). */
  readonly activation: string;
  /** `suspended`: a generator action waits on `waitingFor`. `running`: between its blocks otherwise (an async action awaiting). */
  readonly state: 'running' | 'suspended';
  readonly waitingFor: string | null;
}

/** An async call of a running run. Durations are in scheduler time, up to the snapshot's `time`. */
export interface CallSnapshot {
  readonly id: string;
  readonly action: string;
  /**
   * `queued`: waiting for an executor slot; `running`: its block runs; `parked`: a `waitForEvent`,
   * `sleep` or delayed `sendEvent` not settled yet (S14, it holds no slot); `ok` / `failed`: settled.
   */
  readonly state: 'queued' | 'running' | 'parked' | 'ok' | 'failed';
  /** Its outcome came from the journal (replay). */
  readonly replayed: boolean;
  /** Since it was made (queued and running: how long it has been in flight). */
  readonly age: number;
}

/**
 * A call the run is parked on (S14): what it waits for, since when, until when. Times are scheduler
 * time (virtual frames under a `TestScheduler`), as of the snapshot's `time`.
 */
export interface ParkedSnapshot extends ParkedOn {
  /** The call id (`<activation id>#<n>`, as in `calls`). */
  readonly call: string;
  readonly action: string;
  /** How long it has been parked. */
  readonly waited: number;
  /** Time left before its deadline (`0` once due); `null`: no deadline. */
  readonly left: number | null;
}

/** The run a key is running. */
export interface RunSnapshot {
  readonly seq: number;
  readonly startedAt: number;
  readonly age: number;
  /** A deep copy of the input (`undefined` if it cannot be cloned). */
  readonly input: unknown;
  /** Actions still going (finished ones are not listed). */
  readonly actions: readonly ActionSnapshot[];
  /** Every call the run made so far, in call order. */
  readonly calls: readonly CallSnapshot[];
  /** What the run is parked on now (its waits, timers and delayed sends not settled), in call order; `[]`: nothing. */
  readonly parked: readonly ParkedSnapshot[];
}

/** One key, between sync blocks. */
export interface KeySnapshot {
  readonly key: unknown;
  /** A deep copy of its short-term memory: change it freely, memory is not affected. */
  readonly memory: Record<string, MemoryValue>;
  /** Inputs waiting behind its running run (S1). */
  readonly waiting: number;
  readonly run: RunSnapshot | null;
}

/** The whole operator, between sync blocks. */
export interface AgentStateSnapshot {
  /** Scheduler time of the snapshot. */
  readonly time: number;
  /** A subscription is attached (else everything below is empty). */
  readonly attached: boolean;
  readonly activeKeys: number;
  readonly activeRuns: number;
  readonly waitingInputs: number;
  /** Runs parked on at least one wait or timer (S14), of all active keys (not only those listed). */
  readonly parkedRuns: number;
  /** The first `maxKeys` active keys, in the order they became active. */
  readonly keys: readonly KeySnapshot[];
  /** More keys are active than `keys` lists. */
  readonly truncated: boolean;
}

/**
 * Read-only, consistent snapshots of a running operator: give it to `agentOperator(agent, { state })`,
 * read it from anywhere else (an HTTP handler, a timer, a test).
 */
export interface AgentState extends StateAttachable {
  /** A subscription of an operator holding this view is live. */
  readonly attached: boolean;
  /** Keys with a run active or inputs waiting, in the order they became active. */
  activeKeys(): unknown[];
  /** One key (active, or idle with short-term memory), or `undefined` if the operator holds nothing for it. */
  key(key: unknown): KeySnapshot | undefined;
  /** Counts and the first `maxKeys` active keys (default 100). */
  snapshot(options?: { readonly maxKeys?: number }): AgentStateSnapshot;
}

/**
 * Creates a state view: the way into a running operator's state, for `GET /customers/:id/state`
 * endpoints, stuck-key diagnosis and the live inspector page (`serveInspector(..., { state })`).
 *
 * Why a companion object (like `createInspector`) rather than a callback option: it exists before
 * and after the subscription, so code outside the stream can hold it from the start; it re-attaches
 * to each new subscription (`retry`, `repeat`), and reads are plain synchronous calls — no Subject
 * to subscribe, nothing to keep alive. The stream itself is not changed.
 *
 * Semantics: every read is a deep copy taken between sync blocks (S4), never a live reference:
 * mutating a snapshot cannot change memory. Reading inside a sync block (from an action, or from a
 * lifecycle subscriber that the block called synchronously) throws {@link StateAccessError}
 * (`ERR_STATE_IN_SYNC_BLOCK`) instead of showing half of a block's changes. A view serves one live
 * subscription: a second one fails at subscribe with `ERR_STATE_ATTACHED`. Before and after a
 * subscription it is empty (`attached: false`). Cost: nothing until given to an operator; then one
 * WeakMap write per async call (when it was made) and one clock read per run; reads cost
 * what they copy. Limits: short-term memory restored from a store shows from the key's first run in
 * this subscription; a wait restored from a store shows `since` as the time it was parked again.
 *
 * @example
 * const state = createAgentState();
 * inputs$.pipe(agentOperator(agent, { key: (t) => t.customer, state })).subscribe();
 * http.createServer((req, res) => res.end(JSON.stringify(state.key(req.url!.slice(1)) ?? null)));
 */
export function createAgentState(): AgentState {
  let probe: StateProbe | null = null;
  const live = (): StateProbe | null => {
    if (probe !== null) probe.assertBetweenBlocks();
    return probe;
  };
  return {
    get attached() {
      return probe !== null;
    },
    attach(next) {
      if (probe !== null)
        throw new StateAccessError(
          'ERR_STATE_ATTACHED',
          'This state view is already attached to a live subscription; one view serves one subscription. ' +
            'Create one view per operator subscription with createAgentState().',
        );
      probe = next;
    },
    detach(old) {
      if (probe === old) probe = null;
    },
    activeKeys() {
      const p = live();
      return p === null ? [] : [...p.host.keyStates.keys()];
    },
    key(key) {
      const p = live();
      if (p === null) return undefined;
      const ks = p.host.keyStates.get(key);
      if (ks === undefined && p.host.memoryOf(key) === undefined) return undefined;
      return keySnapshot(p, key, ks, p.host.scheduler.now());
    },
    snapshot(options = {}) {
      const { maxKeys = 100 } = options;
      if (!Number.isInteger(maxKeys) || maxKeys < 0) throw optionError('maxKeys', 'an integer >= 0', maxKeys);
      const p = live();
      const time = p === null ? NaN : p.host.scheduler.now();
      if (p === null)
        return {
          time,
          attached: false,
          activeKeys: 0,
          activeRuns: 0,
          waitingInputs: 0,
          parkedRuns: 0,
          keys: [],
          truncated: false,
        };
      const keys: KeySnapshot[] = [];
      let activeRuns = 0;
      let waitingInputs = 0;
      let parkedRuns = 0;
      for (const [key, ks] of p.host.keyStates) {
        if (ks.active !== null) activeRuns++;
        const run = p.runOf(ks);
        if (run !== null && isParked(p, run.calls())) parkedRuns++;
        waitingInputs += ks.pending?.size ?? 0;
        if (keys.length < maxKeys) keys.push(keySnapshot(p, key, ks, time));
      }
      const activeKeys = p.host.keyStates.size;
      return {
        time,
        attached: true,
        activeKeys,
        activeRuns,
        waitingInputs,
        parkedRuns,
        keys,
        truncated: activeKeys > keys.length,
      };
    },
  };
}

function keySnapshot(p: StateProbe, key: unknown, ks: KeyState | undefined, time: number): KeySnapshot {
  const memory = p.host.memoryOf(key);
  const run = ks === undefined ? null : p.runOf(ks);
  return {
    key,
    // toJSON builds fresh levels but shares its frozen leaves; structuredClone makes the copy fully the caller's.
    memory: memory === undefined ? {} : structuredClone(memory.toJSON()),
    waiting: ks?.pending?.size ?? 0,
    run:
      run === null
        ? null
        : {
            seq: run.seq,
            startedAt: run.startedAt,
            age: time - run.startedAt,
            input: cloneOrUndefined(run.input),
            actions: [...run.activations()]
              .filter((a) => !a.done)
              .map((a) => ({
                action: a.def.name,
                activation: a.id,
                state: a.waitingFor !== null ? 'suspended' : 'running',
                waitingFor: a.waitingFor?.id ?? null,
              })),
            calls: [...run.calls()].map((c) => callSnapshot(p, c, time)),
            parked: parkedSnapshots(p, run.calls(), time),
          },
  };
}

function callSnapshot(p: StateProbe, call: AsyncCall<unknown>, time: number): CallSnapshot {
  const madeAt = p.madeAt(call);
  return {
    id: call.id,
    action: call.host.actionName,
    state: call.settled
      ? call.fulfilled
        ? 'ok'
        : 'failed'
      : call.started
        ? 'running'
        : p.parkedOn(call) !== undefined
          ? 'parked'
          : 'queued',
    replayed: call.replayed,
    age: madeAt === undefined ? 0 : time - madeAt,
  };
}

function parkedSnapshots(p: StateProbe, calls: Iterable<AsyncCall<unknown>>, time: number): ParkedSnapshot[] {
  const out: ParkedSnapshot[] = [];
  for (const call of calls) {
    if (call.settled) continue;
    const on = p.parkedOn(call);
    if (on === undefined) continue;
    out.push({
      call: call.id,
      action: call.host.actionName,
      ...on,
      waited: time - on.since,
      left: on.deadline === null ? null : Math.max(0, on.deadline - time),
    });
  }
  return out;
}

function isParked(p: StateProbe, calls: Iterable<AsyncCall<unknown>>): boolean {
  for (const call of calls) if (!call.settled && p.parkedOn(call) !== undefined) return true;
  return false;
}

function cloneOrUndefined(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return undefined;
  }
}
