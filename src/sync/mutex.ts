/**
 * The futex mutex of `Lock`, as functions over any word of any Int32Array, for the primitives that
 * keep a mutex next to other state (RLock keeps owner and count beside it).
 *
 * State of the word (Drepper's three-state mutex, "Futexes are tricky", mutex #2):
 *   0 UNLOCKED, 1 LOCKED and nobody waits, 2 LOCKED and someone may wait (release must notify).
 * acquire: CAS 0->1; otherwise swap in 2 and sleep while it stays 2, until a swap returns 0.
 * release: CAS 1->0, or CAS 2->0 and notify one. A waiter only sleeps on 2, so a release that saw 1
 * leaves no sleeper behind (no lost wake-up); a waiter that gives up leaves at most a stale 2,
 * which costs one spare notify. Waiters, blocking and async alike, are woken in arrival order
 * (V8 keeps one FIFO list per address).
 */
import { deadlineOf, remaining, waitAsync, waitBlocking } from "../shared/wait.js";

export const UNLOCKED = 0;
export const LOCKED = 1;
export const CONTENDED = 2;

/** One CAS: true when the mutex at `w[i]` was free and is now held. */
export function tryLock(w: Int32Array, i: number): boolean {
  return Atomics.compareExchange(w, i, UNLOCKED, LOCKED) === UNLOCKED;
}

/** Takes the mutex at `w[i]`, waiting at most `ms` (Infinity = forever). False on timeout. */
export function lockBlocking(w: Int32Array, i: number, ms: number): boolean {
  let c = Atomics.compareExchange(w, i, UNLOCKED, LOCKED);
  if (c === UNLOCKED) return true;
  if (ms === 0) return false;
  const deadline = deadlineOf(ms);
  if (c !== CONTENDED) c = Atomics.exchange(w, i, CONTENDED);
  while (c !== UNLOCKED) {
    const left = remaining(deadline);
    if (left === 0) return false;
    waitBlocking(w, i, CONTENDED, left);
    c = Atomics.exchange(w, i, CONTENDED);
  }
  return true;
}

/** The async twin of lockBlocking(). */
export async function lockAsync(w: Int32Array, i: number, ms: number): Promise<boolean> {
  let c = Atomics.compareExchange(w, i, UNLOCKED, LOCKED);
  if (c === UNLOCKED) return true;
  if (ms === 0) return false;
  const deadline = deadlineOf(ms);
  if (c !== CONTENDED) c = Atomics.exchange(w, i, CONTENDED);
  while (c !== UNLOCKED) {
    const left = remaining(deadline);
    if (left === 0) return false;
    await waitAsync(w, i, CONTENDED, left);
    c = Atomics.exchange(w, i, CONTENDED);
  }
  return true;
}

/** Frees the mutex at `w[i]`; false when it was not locked (the caller reports the misuse). */
export function unlock(w: Int32Array, i: number): boolean {
  for (;;) {
    const c = Atomics.compareExchange(w, i, LOCKED, UNLOCKED);
    if (c === LOCKED) return true;
    if (c === UNLOCKED) return false;
    if (Atomics.compareExchange(w, i, CONTENDED, UNLOCKED) === CONTENDED) {
      Atomics.notify(w, i, 1);
      return true;
    }
  }
}
