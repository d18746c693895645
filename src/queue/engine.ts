/**
 * What a queue class drives (the Engine interface), and what both engines share: the task
 * tracking on UNFINISHED (taskDone/join, layout.ts) and the way waiters sleep on a sequence word
 * and are woken (sleepOn/wakeOne).
 *
 * Two engines implement Engine, each over its own control block layout:
 *   - the two-lock FIFO ring (fifo.ts, fifo-layout.ts): Queue and SimpleQueue;
 *   - the one-lock engine (core.ts, locked-layout.ts) over a Store (storage.ts), CPython's
 *     `_init/_qsize/_put/_get` hooks in shared memory: LifoQueue's stack, PriorityQueue's heap.
 * A queue class chooses its engine in one hook, `_makeEngine()` (queue.ts), as CPython's queue
 * classes choose their storage in `_init()`.
 */
import { waitAsync, waitBlocking } from "../shared/wait.js";
import type { Staged } from "./codec.js";
import { UNFINISHED } from "./layout.js";

/** A queue's state machine in this thread: the put/get/shutdown of one control block and its storage. */
export interface Engine {
  /** Stores a staged record once there is room (ShutDown / Full otherwise). `what` names the call in errors. */
  put(st: Staged, block: boolean, ms: number, what: string): void;
  /** The async twin of put(). */
  putAsync(st: Staged, ms: number, what: string): Promise<void>;
  /** Takes one item (ShutDown / Empty when there is none). */
  get(block: boolean, ms: number, what: string): unknown;
  /** The async twin of get(). */
  getAsync(ms: number, what: string): Promise<unknown>;
  /** Items in the queue (a hint: other threads may change it at any moment). */
  qsize(): number;
  /** Python 3.13's shutdown(immediate). */
  shutdown(immediate: boolean): void;
  /** Sets the bound (0 = none) and lets waiting putters re-check. */
  setMaxsize(maxsize: number): void;
  /** The buffers after the control block, for the share record. */
  buffers(): SharedArrayBuffer[];
}

/** Iterations a waiter spins (watching its sequence word) before it sleeps: hand-offs without a syscall. */
export const SPIN = Number(process.env.THREADING_QUEUE_SPIN ?? 400);

/**
 * Waits until `h[seqIndex]` is no longer `seq` (or `ms` pass): a short spin, then Atomics.wait,
 * counted in `h[sleepers]` so that wakers notify only when someone sleeps. The waker bumps the
 * sequence and then reads the sleepers count; the sleeper counts itself and then sleeps only if the
 * sequence is unchanged (both sequentially consistent): one of them always sees the other.
 *
 * Who uncounts a sleeper: the notifier that woke it (Atomics.notify returns how many it woke, and a
 * sleeper returns "ok" only when woken so), else the sleeper itself (timed out, word already changed,
 * or an exception). So the count drops as soon as a sleeper is woken, not when the woken thread
 * next runs — on a busy machine that can be milliseconds, during which every put would otherwise
 * notify again for a sleeper already woken. The count never falls below the threads actually asleep.
 */
export function sleepOn(h: Int32Array, seqIndex: number, sleepers: number, seq: number, ms: number): void {
  for (let i = 0; i < SPIN; i++) if (Atomics.load(h, seqIndex) !== seq) return;
  Atomics.add(h, sleepers, 1);
  let r: string | undefined;
  try {
    r = waitBlocking(h, seqIndex, seq, ms);
  } finally {
    if (r !== "ok") Atomics.sub(h, sleepers, 1);
  }
}

/**
 * The async twin of sleepOn(). An async sleeper also counts itself in `h[sleepers + 1]` (the
 * async sleepers word that follows each sleepers word in both control blocks): its callback runs
 * only when its thread's event loop turns, and that thread may be blocked, so a wake-one that
 * lands on it could leave an item (or room) with a blocking waiter asleep. wakeOne() therefore
 * wakes every sleeper while async ones are counted (issue 9, item 5).
 */
export async function sleepOnAsync(
  h: Int32Array,
  seqIndex: number,
  sleepers: number,
  seq: number,
  ms: number,
): Promise<void> {
  Atomics.add(h, sleepers, 1);
  Atomics.add(h, sleepers + 1, 1);
  let r: string | undefined;
  try {
    r = await waitAsync(h, seqIndex, seq, ms);
  } finally {
    Atomics.sub(h, sleepers + 1, 1);
    if (r !== "ok") Atomics.sub(h, sleepers, 1); // (a notifier that woke it uncounted it: sleepOn)
  }
}

/**
 * After bumping `h[seqIndex]` for one waiter: notifies when someone sleeps on it, one sleeper when
 * all are blocking, all of them while some are async (sleepOnAsync). The counts are read after the
 * bump and a sleeper counts itself before it compares the word, so one of the two sees the other.
 */
export function wakeOne(h: Int32Array, seqIndex: number, sleepers: number): void {
  if (Atomics.load(h, sleepers) === 0) return;
  const woken = Atomics.notify(h, seqIndex, Atomics.load(h, sleepers + 1) > 0 ? Number.POSITIVE_INFINITY : 1);
  if (woken > 0) Atomics.sub(h, sleepers, woken);
}

/** Wakes every sleeper on `h[seqIndex]` and uncounts them from `h[sleepers]` (see sleepOn). */
export function wakeAll(h: Int32Array, seqIndex: number, sleepers: number): void {
  const woken = Atomics.notify(h, seqIndex);
  if (woken > 0) Atomics.sub(h, sleepers, woken);
}

/** Python's task_done(): CAS UNFINISHED -> UNFINISHED-1 (RangeError at 0); at 0 notifies every joiner. */
export function taskDone(h: Int32Array): void {
  for (;;) {
    const u = Atomics.load(h, UNFINISHED);
    if (u <= 0) throw new RangeError("task_done() called too many times");
    if (Atomics.compareExchange(h, UNFINISHED, u, u - 1) === u) {
      if (u === 1) Atomics.notify(h, UNFINISHED);
      return;
    }
  }
}

/** Python's join(): sleeps on UNFINISHED until it is 0. */
export function join(h: Int32Array): void {
  for (let u = Atomics.load(h, UNFINISHED); u !== 0; u = Atomics.load(h, UNFINISHED)) {
    waitBlocking(h, UNFINISHED, u, Number.POSITIVE_INFINITY);
  }
}

/** The async twin of join(). */
export async function joinAsync(h: Int32Array): Promise<void> {
  for (let u = Atomics.load(h, UNFINISHED); u !== 0; u = Atomics.load(h, UNFINISHED)) {
    await waitAsync(h, UNFINISHED, u, Number.POSITIVE_INFINITY);
  }
}

/**
 * After shutdown(true) released its lock(s): counts the `discarded` items as done (UNFINISHED never
 * below 0) and wakes every joiner, so that join() returns.
 */
export function discardedDone(h: Int32Array, discarded: number): void {
  for (;;) {
    const u = Atomics.load(h, UNFINISHED);
    const next = Math.max(0, u - discarded);
    if (Atomics.compareExchange(h, UNFINISHED, u, next) === u) break;
  }
  Atomics.notify(h, UNFINISHED);
}
