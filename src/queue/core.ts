/**
 * The one-lock put/get state machine of LifoQueue and PriorityQueue (a stack and a heap take and
 * give at the same place, so producers and consumers share one lock): LockedEngine, at the end,
 * over a Store (lifo.ts, priority.ts). Queue and SimpleQueue use the two-lock ring of fifo.ts
 * instead, with the same waiting protocol and the same taskDone/join (engine.ts).
 *
 * CPython guards a queue with one mutex and three Conditions (not_empty, not_full,
 * all_tasks_done). Here the mutex is the LOCK word of the control block (locked-layout.ts, a
 * mutex of sync/mutex.ts) and each Condition is a futex word the waiters sleep on:
 *
 *   get:  lock; while COUNT == 0 { SHUTDOWN -> ShutDown; non-blocking or out of time -> Empty;
 *           GET_WAITERS++; seq = NE_SEQ; unlock; spin briefly / sleep on NE_SEQ while == seq;
 *           lock; GET_WAITERS-- }  (engine.ts waitTurn: one slow path for both engines, blocking
 *           and async; only the fast paths — spin, lock, take — are written out here)
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
 * see locked-layout.ts.
 */
import { Empty, Full, ShutDown } from "../errors.js";
import { driveAsync, driveBlocking, type Steps } from "../shared/wait.js";
import { lockBlocking, unlock as unlockMutex } from "../sync/mutex.js";
import { decodeTaken, reclaim, type Staged, Taken } from "./codec.js";
import {
  discardedDone,
  type Engine,
  join,
  joinAsync,
  type Side,
  SPIN,
  sleeperHow,
  taskDone,
  waitTurn,
  wakeAll,
  wakeOne,
} from "./engine.js";
import * as LOCKED from "./locked-layout.js";
import type { Store } from "./storage.js";

/** Takes the queue's mutex (sync/mutex.ts), blocking: the critical sections are a few stores. */
function lock(h: Int32Array): void {
  lockBlocking(h, LOCKED.LOCK, Number.POSITIVE_INFINITY);
}

function unlock(h: Int32Array): void {
  unlockMutex(h, LOCKED.LOCK, LOCKED.LOCK_ASYNC);
}

/** This thread's scratch record for gets (decoded before any await, so one is enough). */
const taken = new Taken();

/** Putters wait on "not full" (NF_SEQ), getters on "not empty" (NE_SEQ), both under the one lock. */
const PUTTERS: Side = {
  lock,
  unlock,
  seq: LOCKED.NF_SEQ,
  waiters: LOCKED.PUT_WAITERS,
  how: sleeperHow(LOCKED.PUT_SLEEPERS),
  Refusal: Full,
  state: "full",
};
const GETTERS: Side = {
  lock,
  unlock,
  seq: LOCKED.NE_SEQ,
  waiters: LOCKED.GET_WAITERS,
  how: sleeperHow(LOCKED.GET_SLEEPERS),
  Refusal: Empty,
  state: "empty",
};

/** Under the lock: ShutDown, or whether there is room (putters' admit, engine.ts waitTurn). */
function room(h: Int32Array, what: string): boolean | Error {
  if (h[LOCKED.SHUTDOWN] !== 0) return new ShutDown(`${what}: the queue is shut down`);
  const max = h[LOCKED.MAXSIZE] as number;
  return max <= 0 || (h[LOCKED.COUNT] as number) < max;
}

/** Under the lock: whether there is an item, or ShutDown (getters' admit). */
function items(h: Int32Array, what: string): boolean | Error {
  if ((h[LOCKED.COUNT] as number) !== 0) return true;
  return h[LOCKED.SHUTDOWN] !== 0 ? new ShutDown(`${what}: the queue is shut down and empty`) : false;
}

/** The slow path of put and putAsync (shared/wait.ts drives it), from under the lock. */
function putSteps(h: Int32Array, store: Store, st: Staged, block: boolean, ms: number, what: string): Steps<void> {
  return waitTurn(
    h,
    PUTTERS,
    () => room(h, what),
    () => finishPut(h, store, st),
    block,
    ms,
    what,
  );
}

/** The slow path of get and getAsync, from under the lock. */
function getSteps(h: Int32Array, store: Store, block: boolean, ms: number, what: string): Steps<unknown> {
  return waitTurn(
    h,
    GETTERS,
    () => items(h, what),
    () => finishGet(h, store),
    block,
    ms,
    what,
  );
}

/** Stores a staged record once there is room. `what` names the call in errors. */
export function putBlocking(h: Int32Array, store: Store, st: Staged, block: boolean, ms: number, what: string): void {
  if (block) {
    const max = Atomics.load(h, LOCKED.MAXSIZE);
    if (max > 0) for (let i = 0; i < SPIN && Atomics.load(h, LOCKED.COUNT) >= max; i++);
  }
  lock(h);
  if (h[LOCKED.SHUTDOWN] === 0 && (h[LOCKED.MAXSIZE] as number) <= 0) finishPut(h, store, st);
  else driveBlocking(putSteps(h, store, st, block, ms, what));
}

export async function putAsync(h: Int32Array, store: Store, st: Staged, ms: number, what: string): Promise<void> {
  lock(h);
  if (h[LOCKED.SHUTDOWN] === 0 && (h[LOCKED.MAXSIZE] as number) <= 0) finishPut(h, store, st);
  else return driveAsync(putSteps(h, store, st, true, ms, what));
}

function finishPut(h: Int32Array, store: Store, st: Staged): void {
  try {
    store.put(h, st);
  } catch (e) {
    unlock(h);
    throw e;
  }
  Atomics.store(h, LOCKED.COUNT, (h[LOCKED.COUNT] as number) + 1);
  Atomics.add(h, LOCKED.UNFINISHED, 1);
  const wake = (h[LOCKED.GET_WAITERS] as number) > 0;
  if (wake) Atomics.add(h, LOCKED.NE_SEQ, 1);
  unlock(h);
  if (wake) wakeOne(h, LOCKED.NE_SEQ, LOCKED.GET_SLEEPERS);
}

/** Takes one item (the store decides which). */
export function getBlocking(h: Int32Array, store: Store, block: boolean, ms: number, what: string): unknown {
  // Streaming fast path: an empty queue is usually refilled within a microsecond; watching COUNT
  // (read-only, no registration) is cheaper than registering as a waiter and being woken.
  if (block) for (let i = 0; i < SPIN && Atomics.load(h, LOCKED.COUNT) === 0; i++);
  lock(h);
  if ((h[LOCKED.COUNT] as number) !== 0) return finishGet(h, store);
  return driveBlocking(getSteps(h, store, block, ms, what));
}

export async function getAsync(h: Int32Array, store: Store, ms: number, what: string): Promise<unknown> {
  lock(h);
  if ((h[LOCKED.COUNT] as number) !== 0) return finishGet(h, store);
  return driveAsync(getSteps(h, store, true, ms, what));
}

function finishGet(h: Int32Array, store: Store): unknown {
  try {
    store.take(h, taken);
  } catch (e) {
    unlock(h);
    throw e;
  }
  Atomics.store(h, LOCKED.COUNT, (h[LOCKED.COUNT] as number) - 1);
  const wake = (h[LOCKED.PUT_WAITERS] as number) > 0;
  if (wake) Atomics.add(h, LOCKED.NF_SEQ, 1);
  unlock(h);
  if (wake) wakeOne(h, LOCKED.NF_SEQ, LOCKED.PUT_SLEEPERS);
  return decodeTaken(taken);
}

export function shutdown(h: Int32Array, store: Store, immediate: boolean): void {
  const refs: number[] = [];
  lock(h);
  h[LOCKED.SHUTDOWN] = 1;
  let discarded = 0;
  if (immediate) {
    discarded = h[LOCKED.COUNT] as number;
    try {
      store.clear(h, refs);
    } finally {
      Atomics.store(h, LOCKED.COUNT, 0);
    }
  }
  Atomics.add(h, LOCKED.NE_SEQ, 1);
  Atomics.add(h, LOCKED.NF_SEQ, 1);
  unlock(h);
  if (immediate) discardedDone(h, discarded);
  wakeAll(h, LOCKED.NE_SEQ, LOCKED.GET_SLEEPERS);
  wakeAll(h, LOCKED.NF_SEQ, LOCKED.PUT_SLEEPERS);
  reclaim(refs);
}

/** Sets the bound (0 = none) and lets waiting putters re-check. */
export function setMaxsize(h: Int32Array, maxsize: number): void {
  lock(h);
  h[LOCKED.MAXSIZE] = maxsize;
  Atomics.add(h, LOCKED.NF_SEQ, 1);
  unlock(h);
  wakeAll(h, LOCKED.NF_SEQ, LOCKED.PUT_SLEEPERS);
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
    return Atomics.load(this.h, LOCKED.COUNT);
  }
  shutdown(immediate: boolean): void {
    shutdown(this.h, this.store, immediate);
  }
  setMaxsize(maxsize: number): void {
    setMaxsize(this.h, maxsize);
  }
  taskDone(): void {
    taskDone(this.h);
  }
  join(): void {
    join(this.h);
  }
  joinAsync(): Promise<void> {
    return joinAsync(this.h);
  }
  buffers(): SharedArrayBuffer[] {
    return this.store.buffers();
  }
}
