/**
 * The one-lock put/get state machine of LifoQueue and PriorityQueue (a stack and a heap take and
 * give at the same place, so producers and consumers share one lock). Queue and SimpleQueue use
 * the two-lock ring of fifo.ts instead, with the same waiting protocol (sleepOn below) and the
 * same taskDone/join. The Engine interface at the end is what the queue classes drive.
 *
 * CPython guards a queue with one mutex and three Conditions (not_empty, not_full,
 * all_tasks_done). Here the mutex is the LOCK word of the control block (layout.ts) and each
 * Condition is a futex word the waiters sleep on:
 *
 *   get:  lock; while COUNT == 0 { SHUTDOWN -> ShutDown; non-blocking or out of time -> Empty;
 *           seq = NE_SEQ; GET_WAITERS++; unlock; spin briefly / sleep on NE_SEQ while == seq;
 *           lock; GET_WAITERS-- }
 *         take one record; COUNT--; if PUT_WAITERS > 0 { NF_SEQ++ ; wake = true } unlock;
 *         if wake notify(NF_SEQ, 1); decode (outside the lock)
 *   put:  (encode outside the lock) lock; SHUTDOWN -> ShutDown; while full { the mirror image,
 *           on NF_SEQ / PUT_WAITERS, re-checking SHUTDOWN after each sleep }
 *         store the record; COUNT++; UNFINISHED++; if GET_WAITERS > 0 { NE_SEQ++; wake } unlock;
 *         if wake notify(NE_SEQ, 1)
 *   taskDone: CAS UNFINISHED -> UNFINISHED-1 (RangeError at 0); at 0 notify every joiner
 *   join: while (u = UNFINISHED) != 0 sleep on UNFINISHED while == u
 *   shutdown(immediate): lock; SHUTDOWN = 1; [discard all, UNFINISHED -= discarded (not below 0)];
 *         NE_SEQ++; NF_SEQ++; unlock; wake every getter, putter (and joiner)
 *
 * No lost wake-up: a waiter reads the sequence word under the lock and registers itself in the
 * same critical section; whoever changes the state later, under the lock, sees the registration
 * and bumps the sequence before notifying. Atomics.wait compares and sleeps atomically, so a bump
 * that happens between the waiter's unlock and its sleep makes the sleep return at once.
 * Each put wakes one getter (each get one putter); a woken waiter re-checks under the lock and
 * takes the item even if its timeout has just run out (as CPython re-checks _qsize() first), so a
 * wake-up is never wasted while another waiter sleeps on an available item. Waiters of one word
 * are woken in arrival order (V8 keeps one FIFO list per address, blocking and async alike); a
 * woken waiter competes with a thread that arrives at that moment, as in CPython.
 *
 * Death: a thread that dies asleep leaves GET_WAITERS/PUT_WAITERS one too high (spare notifies,
 * nothing else); one that dies before or after its critical section changed nothing or
 * everything. Only death inside the critical section (a few word writes and one memcpy) is fatal,
 * see layout.ts.
 */
import { Empty, Full, ShutDown } from "../errors.js";
import { deadlineOf, remaining, waitAsync, waitBlocking } from "../shared/wait.js";
import { decodeTaken, reclaim, type Staged, Taken } from "./codec.js";
import {
  COUNT,
  GET_SLEEPERS,
  GET_WAITERS,
  lock,
  MAXSIZE,
  NE_SEQ,
  NF_SEQ,
  PUT_SLEEPERS,
  PUT_WAITERS,
  SHUTDOWN,
  UNFINISHED,
  unlock,
} from "./layout.js";
import type { Store } from "./storage.js";

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

/** This thread's scratch record for gets (decoded before any await, so one is enough). */
const taken = new Taken();

/** Stores a staged record once there is room. `what` names the call in errors. */
export function putBlocking(h: Int32Array, store: Store, st: Staged, block: boolean, ms: number, what: string): void {
  if (block) {
    const max = Atomics.load(h, MAXSIZE);
    if (max > 0) for (let i = 0; i < SPIN && Atomics.load(h, COUNT) >= max; i++);
  }
  lock(h);
  if (h[SHUTDOWN] !== 0 || (h[MAXSIZE] as number) > 0) {
    let deadline = -1;
    for (;;) {
      if (h[SHUTDOWN] !== 0) {
        unlock(h);
        throw new ShutDown(`${what}: the queue is shut down`);
      }
      const max = h[MAXSIZE] as number;
      if (max <= 0 || (h[COUNT] as number) < max) break;
      if (!block) {
        unlock(h);
        throw new Full(`${what}: the queue is full`);
      }
      if (deadline < 0) deadline = deadlineOf(ms);
      const left = remaining(deadline);
      if (left === 0) {
        unlock(h);
        throw new Full(`${what}: the queue is still full after ${ms / 1000} s`);
      }
      const seq = h[NF_SEQ] as number;
      h[PUT_WAITERS]++;
      unlock(h);
      sleepOn(h, NF_SEQ, PUT_SLEEPERS, seq, left);
      lock(h);
      h[PUT_WAITERS]--;
    }
  }
  finishPut(h, store, st);
}

export async function putAsync(h: Int32Array, store: Store, st: Staged, ms: number, what: string): Promise<void> {
  lock(h);
  let deadline = -1;
  for (;;) {
    if (h[SHUTDOWN] !== 0) {
      unlock(h);
      throw new ShutDown(`${what}: the queue is shut down`);
    }
    const max = h[MAXSIZE] as number;
    if (max <= 0 || (h[COUNT] as number) < max) break;
    if (deadline < 0) deadline = deadlineOf(ms);
    const left = remaining(deadline);
    if (left === 0) {
      unlock(h);
      throw new Full(`${what}: the queue is still full after ${ms / 1000} s`);
    }
    const seq = h[NF_SEQ] as number;
    h[PUT_WAITERS]++;
    unlock(h);
    await sleepOnAsync(h, NF_SEQ, PUT_SLEEPERS, seq, left);
    lock(h);
    h[PUT_WAITERS]--;
  }
  finishPut(h, store, st);
}

function finishPut(h: Int32Array, store: Store, st: Staged): void {
  try {
    store.put(h, st);
  } catch (e) {
    unlock(h);
    throw e;
  }
  Atomics.store(h, COUNT, (h[COUNT] as number) + 1);
  Atomics.add(h, UNFINISHED, 1);
  const wake = (h[GET_WAITERS] as number) > 0;
  if (wake) Atomics.add(h, NE_SEQ, 1);
  unlock(h);
  if (wake) wakeOne(h, NE_SEQ, GET_SLEEPERS);
}

/** Takes one item (the store decides which). */
export function getBlocking(h: Int32Array, store: Store, block: boolean, ms: number, what: string): unknown {
  // Streaming fast path: an empty queue is usually refilled within a microsecond; watching COUNT
  // (read-only, no registration) is cheaper than registering as a waiter and being woken.
  if (block) for (let i = 0; i < SPIN && Atomics.load(h, COUNT) === 0; i++);
  lock(h);
  if ((h[COUNT] as number) === 0) {
    let deadline = -1;
    do {
      if (h[SHUTDOWN] !== 0) {
        unlock(h);
        throw new ShutDown(`${what}: the queue is shut down and empty`);
      }
      if (!block) {
        unlock(h);
        throw new Empty(`${what}: the queue is empty`);
      }
      if (deadline < 0) deadline = deadlineOf(ms);
      const left = remaining(deadline);
      if (left === 0) {
        unlock(h);
        throw new Empty(`${what}: the queue is still empty after ${ms / 1000} s`);
      }
      const seq = h[NE_SEQ] as number;
      h[GET_WAITERS]++;
      unlock(h);
      sleepOn(h, NE_SEQ, GET_SLEEPERS, seq, left);
      lock(h);
      h[GET_WAITERS]--;
    } while ((h[COUNT] as number) === 0);
  }
  return finishGet(h, store);
}

export async function getAsync(h: Int32Array, store: Store, ms: number, what: string): Promise<unknown> {
  lock(h);
  let deadline = -1;
  while ((h[COUNT] as number) === 0) {
    if (h[SHUTDOWN] !== 0) {
      unlock(h);
      throw new ShutDown(`${what}: the queue is shut down and empty`);
    }
    if (deadline < 0) deadline = deadlineOf(ms);
    const left = remaining(deadline);
    if (left === 0) {
      unlock(h);
      throw new Empty(`${what}: the queue is still empty after ${ms / 1000} s`);
    }
    const seq = h[NE_SEQ] as number;
    h[GET_WAITERS]++;
    unlock(h);
    await sleepOnAsync(h, NE_SEQ, GET_SLEEPERS, seq, left);
    lock(h);
    h[GET_WAITERS]--;
  }
  return finishGet(h, store);
}

function finishGet(h: Int32Array, store: Store): unknown {
  try {
    store.take(h, taken);
  } catch (e) {
    unlock(h);
    throw e;
  }
  Atomics.store(h, COUNT, (h[COUNT] as number) - 1);
  const wake = (h[PUT_WAITERS] as number) > 0;
  if (wake) Atomics.add(h, NF_SEQ, 1);
  unlock(h);
  if (wake) wakeOne(h, NF_SEQ, PUT_SLEEPERS);
  return decodeTaken(taken);
}

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

export function join(h: Int32Array): void {
  for (let u = Atomics.load(h, UNFINISHED); u !== 0; u = Atomics.load(h, UNFINISHED)) {
    waitBlocking(h, UNFINISHED, u, Number.POSITIVE_INFINITY);
  }
}

export async function joinAsync(h: Int32Array): Promise<void> {
  for (let u = Atomics.load(h, UNFINISHED); u !== 0; u = Atomics.load(h, UNFINISHED)) {
    await waitAsync(h, UNFINISHED, u, Number.POSITIVE_INFINITY);
  }
}

export function shutdown(h: Int32Array, store: Store, immediate: boolean): void {
  const refs: number[] = [];
  lock(h);
  h[SHUTDOWN] = 1;
  let discarded = 0;
  if (immediate) {
    discarded = h[COUNT] as number;
    try {
      store.clear(h, refs);
    } finally {
      Atomics.store(h, COUNT, 0);
    }
  }
  Atomics.add(h, NE_SEQ, 1);
  Atomics.add(h, NF_SEQ, 1);
  unlock(h);
  afterShutdown(h, immediate, discarded, refs, NE_SEQ, NF_SEQ, GET_SLEEPERS, PUT_SLEEPERS);
}

/**
 * The tail of shutdown(), once its lock(s) are released, shared by both engines (this file and
 * fifo.ts, which keep UNFINISHED at the same index but their sequence words elsewhere, hence the
 * `neSeq`/`nfSeq` and sleepers indexes): counts the discarded items as done (never below 0) so join() returns,
 * wakes every getter, putter and joiner, and frees the discarded items' directory buffers.
 */
export function afterShutdown(
  h: Int32Array,
  immediate: boolean,
  discarded: number,
  refs: Parameters<typeof reclaim>[0],
  neSeq: number,
  nfSeq: number,
  getSleepers: number,
  putSleepers: number,
): void {
  if (immediate) {
    for (;;) {
      const u = Atomics.load(h, UNFINISHED);
      const next = Math.max(0, u - discarded);
      if (Atomics.compareExchange(h, UNFINISHED, u, next) === u) break;
    }
    Atomics.notify(h, UNFINISHED);
  }
  wakeAll(h, neSeq, getSleepers);
  wakeAll(h, nfSeq, putSleepers);
  reclaim(refs);
}

/** Sets the bound (0 = none) and lets waiting putters re-check. */
export function setMaxsize(h: Int32Array, maxsize: number): void {
  lock(h);
  h[MAXSIZE] = maxsize;
  Atomics.add(h, NF_SEQ, 1);
  unlock(h);
  wakeAll(h, NF_SEQ, PUT_SLEEPERS);
}

/** What a queue class drives: this file's locked engine (LIFO, priority) or the FIFO ring (fifo.ts). */
export interface Engine {
  put(st: Staged, block: boolean, ms: number, what: string): void;
  putAsync(st: Staged, ms: number, what: string): Promise<void>;
  get(block: boolean, ms: number, what: string): unknown;
  getAsync(ms: number, what: string): Promise<unknown>;
  qsize(): number;
  shutdown(immediate: boolean): void;
  setMaxsize(maxsize: number): void;
  /** The buffers after the control block, for the share record. */
  buffers(): SharedArrayBuffer[];
}

/** The one-lock state machine above over a Store (LifoQueue's stack, PriorityQueue's heap). */
export class LockedEngine implements Engine {
  constructor(
    readonly h: Int32Array,
    readonly store: Store,
  ) {}
  put(st: Staged, block: boolean, ms: number, what: string): void {
    putBlocking(this.h, this.store, st, block, ms, what);
  }
  putAsync(st: Staged, ms: number, what: string): Promise<void> {
    return putAsync(this.h, this.store, st, ms, what);
  }
  get(block: boolean, ms: number, what: string): unknown {
    return getBlocking(this.h, this.store, block, ms, what);
  }
  getAsync(ms: number, what: string): Promise<unknown> {
    return getAsync(this.h, this.store, ms, what);
  }
  qsize(): number {
    return Atomics.load(this.h, COUNT);
  }
  shutdown(immediate: boolean): void {
    shutdown(this.h, this.store, immediate);
  }
  setMaxsize(maxsize: number): void {
    setMaxsize(this.h, maxsize);
  }
  buffers(): SharedArrayBuffer[] {
    return this.store.buffers();
  }
}
