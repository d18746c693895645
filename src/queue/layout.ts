/**
 * The control block of a LifoQueue or PriorityQueue (the one-lock engine, core.ts): one small
 * fixed SharedArrayBuffer of Int32 words, shared by every thread that holds the queue, and the
 * internal mutex that guards it. Queue and SimpleQueue lay out the same-sized block their own way
 * (fifo.ts), keeping UNFINISHED, SHUTDOWN and MAXSIZE at the same indexes; `lock`/`unlock` below
 * serve both (the FIFO engine passes the index of its producers' or consumers' lock word).
 *
 *   LOCK         the internal mutex (Drepper's 3-state futex: 0 free, 1 held, 2 held + maybe waiters)
 *   COUNT        items in the queue (qsize)
 *   UNFINISHED   puts not yet matched by taskDone() (join() sleeps on this word until it is 0)
 *   SHUTDOWN     0 running, 1 shut down
 *   MAXSIZE      0 = unbounded
 *   NE_SEQ       "not empty" sequence: bumped by every put that finds a getter waiting; getters sleep on it
 *   NF_SEQ       "not full" sequence: bumped by every get that finds a putter waiting; putters sleep on it
 *   GET_WAITERS  getters between "decided to wait" and "re-took the lock" (an upper bound: a getter
 *                whose thread died while waiting leaves it 1 too high, which costs a spare bump only)
 *   PUT_WAITERS  the same for putters
 *   GET_SLEEPERS getters inside Atomics.wait/waitAsync on NE_SEQ not woken yet (changed atomically,
 *                outside the lock: counted by the sleeper, uncounted by the notify that wakes it or by
 *                the sleeper itself on a timeout; core.ts sleepOn); PUT_SLEEPERS the same for
 *                putters. A waiter first spins briefly on the sequence word; only sleepers need an
 *                Atomics.notify.
 *   GET_ASYNC_SLEEPERS / PUT_ASYNC_SLEEPERS  the async ones among those sleepers: an async sleeper
 *                runs only when its thread's loop turns, so while any is counted a wake-one
 *                notifies every sleeper instead (a blocking sleeper is then surely woken).
 *   HEAD/TAIL/USED/TOP/DEAD  the storage's indexes (see storage.ts, lifo.ts, priority.ts)
 *
 * Every word except UNFINISHED is read and written only under LOCK (COUNT is also read without it,
 * with Atomics.load, by qsize()/empty() and the getters' short spin, which only use it as a hint).
 * UNFINISHED is changed with atomic read-modify-write only, so taskDone() never takes the lock.
 *
 * The critical section is kept tiny: values are encoded before the lock is taken and decoded
 * after it is released; under the lock a put copies already-encoded bytes in and a get copies bytes
 * out to a per-thread scratch buffer, and both update a few words. No user code runs under it, and
 * nothing in it waits. The one thing that cannot be recovered is a thread that dies *while holding
 * this lock* (e.g. `worker.terminate()` landing inside those few instructions): the lock stays held
 * and the queue is stuck for everyone. A thread that dies anywhere else — asleep in get()/put(), or
 * between encoding and locking, or after unlocking — leaves the queue consistent, because each
 * operation publishes its whole effect in one critical section.
 */

import { beginBlocking, endBlocking } from "../shared/waiting.js";

export const LOCK = 0;
export const COUNT = 1;
export const UNFINISHED = 2;
export const SHUTDOWN = 3;
export const MAXSIZE = 4;
export const GET_WAITERS = 7;
export const PUT_WAITERS = 8;
export const HEAD = 9;
export const TAIL = 10;
export const USED = 11;
export const TOP = 12;
export const DEAD = 13;
// The words waiters watch get cache lines of their own, so that a getter spinning on NE_SEQ does
// not steal the line holding LOCK and COUNT from the threads working under the lock.
export const NE_SEQ = 16;
/** Getters actually asleep in Atomics.wait on NE_SEQ (a put notifies only when this is > 0). */
export const GET_SLEEPERS = 17;
/** Async sleepers among GET_SLEEPERS (while > 0 a put wakes every sleeper: core.ts wakeOne). */
export const GET_ASYNC_SLEEPERS = 18;
export const NF_SEQ = 32;
export const PUT_SLEEPERS = 33;
/** Async sleepers among PUT_SLEEPERS. */
export const PUT_ASYNC_SLEEPERS = 34;
/** Words in a control block: three 64-byte lines for this engine, five for the FIFO one (fifo.ts). */
export const HEADER_WORDS = 80;

const SPIN = 64;

/** Takes an internal mutex, by default LOCK (short spin, then futex wait); fifo.ts has two others. */
export function lock(h: Int32Array, at: number = LOCK): void {
  if (Atomics.compareExchange(h, at, 0, 1) === 0) return;
  lockSlow(h, at);
}

function lockSlow(h: Int32Array, at: number): void {
  for (let i = 0; i < SPIN; i++) {
    if (Atomics.load(h, at) === 0 && Atomics.compareExchange(h, at, 0, 1) === 0) return;
  }
  let c = Atomics.exchange(h, at, 2);
  if (c === 0) return;
  const prev = beginBlocking(h, at);
  try {
    while (c !== 0) {
      Atomics.wait(h, at, 2);
      c = Atomics.exchange(h, at, 2);
    }
  } finally {
    endBlocking(prev);
  }
}

/** Releases an internal mutex, waking one thread waiting for it. */
export function unlock(h: Int32Array, at: number = LOCK): void {
  if (Atomics.sub(h, at, 1) !== 1) {
    Atomics.store(h, at, 0);
    Atomics.notify(h, at, 1);
  }
}
