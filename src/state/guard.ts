/**
 * The writer lock of a SharedDict stripe, a SharedDict entry or a SharedList, which knows its owner,
 * so that a lock left held by a thread that died is taken over instead of waited on for ever; and the
 * sequence word (seqlock) next to a stripe's or a list's lock that lets readers read without any lock.
 * (acquire() is not re-entrant: a caller that may hold the lock already checks its owner first, as
 * dict.ts does for entry locks.)
 *
 * Lock word: 0 FREE, or `ident << 1 | waiters` of the owning thread (idents are never reused, see
 * shared/runtime.ts; `waiters` = someone may sleep on the word, release must notify).
 *   acquire: CAS 0 -> me<<1. Else set the waiters bit (CAS v -> v|1) and sleep on the word for at most
 *            CHECK_MS; after each wake or timeout try CAS 0 -> me<<1|1 (a thread that took the lock
 *            after sleeping keeps the bit: others may still sleep). Every CHECK_MS without progress
 *            the waiter looks the owner up in the thread table (shared/runtime.ts identHolds): if
 *            no live thread has that ident, nor a worker still running code its ended thread
 *            left, it takes the lock over with CAS v -> me<<1|1 (one waiter wins) and
 *            acquire() returns RECOVERED, telling the caller to repair the state the dead owner may
 *            have left half-written.
 *   release: exchange -> 0; notify one when the waiters bit was set. On x86 (mem.ts TSO) a release
 *            that finds no waiters bit (a plain load) stores 0 plainly instead: an Atomics operation
 *            is a call into the engine, and this one was ~7 ns of a ~55 ns SharedDict.set. The
 *            plain store comes after the holder's data stores in program order, and x86 keeps stores
 *            in order, so the next owner (whose CAS is a full barrier) sees them all, as with
 *            mem.ts `st`.
 * Wake-ups: a waiter sleeps only on a value with the waiters bit, and every release that sees the bit
 * notifies; a stale bit costs one spare notify. One wake-up can be missed, on x86 only: a waiter's
 * CAS v -> v|1 landing between a release's plain load (no bit) and its plain store of 0 (the store
 * overwrites the bit; nobody notifies). So a waiter's first sleeps are short (NAP_MS, doubling up
 * to CHECK_MS, again from NAP_MS for each new owner and after every wake that was not a timeout:
 * the bit a waiter sets after a long wait, when the same owner took the lock again, can be missed
 * as its first can): such a waiter finds the lock free within milliseconds. The CHECK_MS timeout
 * bounds any wait on a dead owner. A live owner is never taken over (the table says alive until
 * the thread has ended; a slot is reused only with a new ident). Code a thread left running after
 * it ended (a callback it did not await, on its reused worker) holds locks under that thread's
 * ident (lockOwner), and is alive while its worker runs (SLOT_LINGER): before, it held them as
 * ident 0, whose lock value is FREE, so its writes ran alongside another holder's.
 *
 * Sequence word: even = stable, odd = a writer (holding the lock) is publishing. Writers make every
 * change that readers can reach between `beginWrite` (odd) and `endWrite` (even); readers read the
 * word (Atomics), read the data (mem.ts `ld`: plain loads on x86, Atomics elsewhere), and accept what
 * they read only when the word (Atomics again) is even and unchanged. A change published by one
 * store of a complete new block (replacing a value) needs no odd window: the writer stores the
 * pointer, frees the old block and then `advance`s the word by 2, so a reader that still read the old
 * block accepts it only when that block cannot have been reused yet (a block is reused only by a
 * later write of the same lock holder, after the advance). A writer that dies mid-publication leaves
 * the word odd, or even but not yet advanced past a freed block: `recoverSeq` moves it to the next
 * even value in both cases (the caller's repair does the rest).
 */
import { waitBlocking } from "../shared/wait.js";
import { identHolds, lockOwner } from "../shared/runtime.js";
import { st, TSO } from "./mem.js";

/** How often (ms) a waiter checks that the owner of the lock it waits for is alive. */
export const CHECK_MS = 50;
/** A waiter's first sleep (ms), doubled at each sleep up to CHECK_MS (see release). */
const NAP_MS = 1;

/** What acquire() returns (an enum: the bundle writes its members into the code as literals). */
export enum Got {
  ACQUIRED = 1,
  RECOVERED = 2,
}
export const ACQUIRED = Got.ACQUIRED;
export const RECOVERED = Got.RECOVERED;

/**
 * This thread's lock value (ident << 1), under the ident its code holds locks with (lockOwner: after
 * its thread ended, code it left running keeps that thread's ident, never 0, which is FREE).
 */
export function myLockValue(): number {
  return lockOwner.ident << 1;
}

/** Takes the lock at `w[i]`; ACQUIRED, or RECOVERED when it was taken over from a dead owner. */
export function acquire(w: Int32Array, i: number): number {
  const me = lockOwner.ident << 1;
  return Atomics.compareExchange(w, i, 0, me) === 0 ? Got.ACQUIRED : acquireSlow(w, i, me);
}

function acquireSlow(w: Int32Array, i: number, me: number): number {
  // A short spin: writers hold the lock for a fraction of a microsecond.
  for (let n = 0; n < 200; n++) {
    if (Atomics.load(w, i) === 0 && Atomics.compareExchange(w, i, 0, me) === 0) return ACQUIRED;
  }
  let since = performance.now();
  let seen = -1;
  let nap = NAP_MS;
  for (;;) {
    const v = Atomics.load(w, i);
    if (v === 0) {
      if (Atomics.compareExchange(w, i, 0, me | 1) === 0) return ACQUIRED;
      continue;
    }
    if (v >>> 1 === lockOwner.ident) throw new Error("threading: internal error: a shared-state lock taken twice");
    if ((v & 1) === 0 && Atomics.compareExchange(w, i, v, v | 1) !== v) continue;
    if ((v | 1) !== seen) {
      // a new owner (or the first look): restart the dead-owner clock
      seen = v | 1;
      since = performance.now();
      nap = NAP_MS;
    }
    // Short again after a wake that was not a timeout (the lock moved: the same owner may have
    // taken it again, and the waiter's next CAS v -> v|1 may be the one a plain release misses).
    nap = waitBlocking(w, i, v | 1, nap) === "timed-out" ? Math.min(nap * 2, CHECK_MS) : NAP_MS;
    if (Atomics.load(w, i) === (v | 1) && performance.now() - since >= CHECK_MS && !identHolds(v >>> 1)) {
      if (Atomics.compareExchange(w, i, v | 1, me | 1) === (v | 1)) return RECOVERED;
    }
  }
}

/** Frees the lock at `w[i]` (held by this thread): a plain store on x86 when nobody waits (file comment). */
export function release(w: Int32Array, i: number): void {
  if (TSO && ((w[i] as number) & 1) === 0) {
    w[i] = 0;
    return;
  }
  if ((Atomics.exchange(w, i, 0) & 1) !== 0) Atomics.notify(w, i, 1);
}

/** Readers: the sequence value to validate against, or -1 while a writer publishes. */
export function readBegin(w: Int32Array, i: number): number {
  const s = Atomics.load(w, i);
  return (s & 1) === 0 ? s : -1;
}

/** Readers: true when nothing was published since `readBegin` returned `s`. */
export function readValid(w: Int32Array, i: number, s: number): boolean {
  return Atomics.load(w, i) === s;
}

export function beginWrite(w: Int32Array, i: number): void {
  Atomics.add(w, i, 1);
}

export function endWrite(w: Int32Array, i: number): void {
  Atomics.add(w, i, 1);
}

/**
 * One publication without an odd window: readers that began before it fail validation. Only the
 * lock holder writes the word, so this is a load and a store (mem.ts `st`: in program order after
 * the publication's stores; the lock's release, an Atomics exchange, follows).
 */
export function advance(w: Int32Array, i: number): void {
  st(w, i, (w[i] as number) + 2);
}

/**
 * After taking the lock over from a dead owner: the sequence moves to the next even value (an odd,
 * interrupted one by 1, an even one by 2: the dead writer may have freed a block before its advance).
 */
export function recoverSeq(w: Int32Array, i: number): void {
  Atomics.add(w, i, (Atomics.load(w, i) & 1) !== 0 ? 1 : 2);
}
