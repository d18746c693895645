/**
 * How a ThreadPoolExecutor spreads tasks over its pool threads: each task goes to the thread with
 * the fewest outstanding tasks (a new thread is started while none is idle and there is room, see
 * executor.ts); a task is posted at once while its thread has little queued, otherwise in a batch;
 * and a thread that has run out of tasks takes half the not-yet-started tasks of the busiest one
 * (of one running a task, or whose oldest task has waited a while).
 */
import { type Future, internals, type FutureLink } from "./future.js";
import type { PoolWorker } from "./pool-worker.js";
import { RETIRED, TASK_FIELDS } from "./protocol.js";
import { indexOf, type Slots } from "./slots.js";

/** A thread with fewer outstanding tasks than this gets each task at once; others in batches. */
const LOW_WATER = 8;
const MAX_BATCH = 512;
/** Tasks are moved to an idle thread only from a thread with at most this many outstanding. */
const STEAL_MAX = 256;
/**
 * A thread that is not running a task is about to start its queued tasks (it has been sent them):
 * they are moved only once the oldest has waited this long (ms; a thread still booting, or not
 * given a core). Moving them sooner costs a second thread's wake-up for each task awaited alone.
 */
const STEAL_IDLE_AFTER_MS = 2;

/** @internal For tests: `idleAfterMs` replaces STEAL_IDLE_AFTER_MS. */
export const balanceTestHooks: { idleAfterMs: number | undefined } = { idleAfterMs: undefined };

/**
 * The live thread with the fewest outstanding tasks and that number (Infinity when there is none).
 * `retired` is called for each thread found retired, which the caller forgets.
 */
export function leastLoaded(
  workers: readonly PoolWorker[],
  retired: (w: PoolWorker) => void,
): { best: PoolWorker | undefined; least: number } {
  let best: PoolWorker | undefined;
  let least = Number.POSITIVE_INFINITY;
  for (const w of workers) {
    const n = w.outstanding();
    if (n === RETIRED) {
      retired(w);
      continue;
    }
    if (n < least) {
      least = n;
      best = w;
      if (n === 0) break;
    }
  }
  return { best, least };
}

/**
 * Whether a task just queued for `w` is posted at once: when it moves transferables, when the
 * thread had fewer than LOW_WATER tasks (`least` of them) before it, or when the outbox is full.
 * Otherwise it goes with the batch flushed at the end of the current synchronous run.
 */
export function sendNow(w: PoolWorker, moves: boolean, least: number): boolean {
  return moves || least < LOW_WATER || w.outbox.length >= MAX_BATCH * TASK_FIELDS;
}

/** steal() found nothing to take (one object: its list is never written). */
const NOTHING: { victim: undefined; taken: number[] } = Object.freeze({
  victim: undefined,
  taken: Object.freeze([]) as unknown as number[],
});

/**
 * Takes for thread `idle` half the not-yet-started tasks of the busiest thread that has at most
 * STEAL_MAX (so one slow task does not hold up the tasks queued behind it while another thread has
 * nothing to do, as with Python's single work queue). A task moves by a CAS of its word to a new
 * generation (Slots.renew): the old thread's copy then fails its start and is skipped. Returns the
 * thread they were taken from and the tasks, in queue order (none: nothing to take); `now()` is
 * read only when some thread has tasks to take (ms, on the timeOrigin clock); and, when
 * nothing was taken only because a thread's oldest task has not waited STEAL_IDLE_AFTER_MS yet,
 * `retryMs`: how long until it has (the caller looks again then: nothing else may, as the idle
 * thread posts nothing more).
 */
export function steal(
  idle: PoolWorker,
  workers: readonly PoolWorker[],
  slots: Slots,
  link: FutureLink,
  now: () => number,
): { victim: PoolWorker | undefined; taken: number[]; retryMs?: number } {
  if (idle.dead || idle.stopSent || idle.outstanding() === RETIRED) return NOTHING;
  let any = false;
  // (A victim has a short queue: most receives of a burst find none, and make no list.)
  for (const w of workers) if (w !== idle && !w.dead && w.count <= STEAL_MAX && w.outstanding() > 0) any = true;
  if (!any) return NOTHING;
  const at = now(); // (read only here: an outcome of a task awaited alone finds nothing to take, above)
  const victims = workers
    .filter((w) => w !== idle && !w.dead && w.outstanding() > 0)
    .sort((a, b) => b.outstanding() - a.outstanding());
  const idleAfter = balanceTestHooks.idleAfterMs ?? STEAL_IDLE_AFTER_MS;
  let retryMs: number | undefined;
  for (const victim of victims) {
    // Only short queues: a long one is a burst of small tasks, which the assignment already
    // spreads (and scanning it each time would cost more than it saves).
    if (victim.count > STEAL_MAX) continue;
    const ts = victim.live();
    // Tasks wait behind a running one; or the thread runs none and the oldest has waited long.
    const oldest = ts[0];
    const table = victim.table;
    if (victim.busySince() === 0 && (oldest === undefined || at - (table.submitted[oldest] as number) < idleAfter)) {
      if (oldest !== undefined) {
        const left = idleAfter - (at - (table.submitted[oldest] as number));
        retryMs = Math.min(retryMs ?? left, left);
      }
      continue;
    }
    // Half the queue; a thread with one task may not have started it (a thread still booting).
    const want = Math.max(1, Math.floor(ts.length / 2));
    const taken: number[] = [];
    for (let i = ts.length - 1; i >= 0 && taken.length < want; i--) {
      const h = ts[i] as number;
      if (table.transfer.has(h)) break; // its arguments were moved into the victim
      const gen = slots.renewHandle(h, table.gen[h] as number);
      if (gen < 0) break;
      table.gen[h] = gen;
      internals.bind(table.future[h] as Future<unknown>, link, slots.wordsOf(h), indexOf(h), gen);
      taken.push(h);
    }
    if (taken.length === 0) continue;
    victim.moved(new Set(taken));
    taken.reverse();
    return { victim, taken };
  }
  return retryMs === undefined ? NOTHING : { victim: undefined, taken: [], retryMs };
}
