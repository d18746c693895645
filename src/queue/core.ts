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
 *           [a blocking getter: its ticket once (GET_TICKETS++), GET_DISORDER++ once it sleeps
 *           out of its place, GET_FIRST past its ticket when its wait ends, and a woken one gives
 *           an item to an older one: engine.ts "Turns"]
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
 *   join: while (u = UNFINISHED) != 0 sleep on UNFINISHED while == u (IDLE_CHECK_MS at a time)
 *   qsize: COUNT, read without the lock; a LOCK that stays held (SPIN loads) by a holder that can
 *         run no more is taken over at once and repaired first (publishDead), so it is counted
 *   shutdown(immediate): lock; SHUTDOWN = 1 [DISCARD_N = COUNT; SHUTDOWN = 2; discard all;
 *         COUNT = 0; UNFINISHED -= discarded (not below 0); SHUTDOWN = 1]; NE_SEQ++; NF_SEQ++;
 *         wake every getter, putter (and joiner); unlock
 *   setMaxsize: lock; GIVEN_MAXSIZE = as given, MAXSIZE = n; NF_SEQ++; wake every putter; unlock
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
 * nothing else), a stale turn record (ignored), if it slept out of its place,
 * GET_DISORDER/PUT_DISORDER one too high until the next scan lowers it, and, if it was the
 * oldest, GET_FIRST/PUT_FIRST at its ticket until the next scan raises it (engine.ts "Turns");
 * one that dies before or after its critical section changed nothing or
 * everything. A thread dies (worker terminated, out of memory, a worker's process.exit()) only
 * where V8 checks for interrupts: a call, a return, a loop's back edge, the entry of an Atomics call
 * (before it acts); so stores between two such points happen all or none, an Atomics call's effect
 * and the plain stores straight after it too (fifo.ts, "Death", says more). A thread that dies
 * holding LOCK:
 *
 * LOCK is an owned mutex (sync/mutex.ts: 0 free, else ownerValue() of the holder, (ident + 1) << 1,
 * with bit 0 = someone may sleep on it): the compare-exchange that takes it records the holder, at
 * no cost (the same one compare-exchange and one exchange as the plain mutex). A waiter sleeps
 * CHECK_MS at a time; once the word has not changed for CHECK_MS it looks the holder up in the
 * thread table (identHolds: a thread that ended holds while its worker still runs code it left,
 * fifo.ts "Death"), and when nothing can run under it any more it takes the lock over (one
 * compare-exchange, keeping bit 0) and repairs before going on. Waiters asleep on NE_SEQ/NF_SEQ
 * (waitTurn) or UNFINISHED (join) look every IDLE_CHECK_MS: a waiter then takes the lock again
 * anyway, a joiner takes it when its holder is dead; either recovers it.
 *
 * What the holder may leave, and the repair (repair(), Store.recover()):
 *   put   store.put() writes the item where the store does not count it yet, then its words (LIFO:
 *         trailer, TOP; the heap: the record past TOP, then each slot with its record's
 *         back-pointer, then its own slot and TOP) each in a straight run; after it returns,
 *         UNFINISHED + 1 (an Atomics call) and COUNT straight after it (a plain store: before, COUNT
 *         came first, and a thread killed at the add left the item counted and its task not, so
 *         join() returned and task_done() raised one task early). Repair rebuilds the store from
 *         what it holds: one item more than COUNT = the put stored its item: UNFINISHED + 1 and
 *         COUNT, in that order (it happened); else it did not.
 *   get   store.take() moves its item out (LIFO: TOP down; the heap: sifts, then the record marked
 *         dead, DEAD, TOP), then COUNT. One item fewer than COUNT = it took it: COUNT - 1 (the item
 *         went with the dead thread, as if it had died just after get() returned; its record's
 *         directory refs, found by Store.takenRefs — LIFO: at TOP; the heap: at TAKEN_AT, stored
 *         before its first move —, are reclaimed).
 *   compaction (a PriorityQueue put): records slid down one by one, each with its slot; the arena
 *         is not walkable from 0 half-way: recover() makes it walkable again from the slots (the
 *         gaps between live records become dead records).
 *   recovery: a thread killed in repair() leaves LOCK naming it (dead): the next waiter repairs
 *         again. Store.recover() is restartable: LIFO's only reads; the heap's journals the live
 *         records it found first (RECOVER_N, RECOVER_AT) and then writes only what it computed
 *         from them, the same each time (priority.ts).
 *   discard (shutdown(true)): SHUTDOWN = 2 and DISCARD_N first; the store cleared, COUNT = 0,
 *         UNFINISHED counted down and SHUTDOWN = 1 in the straight run of that compare-exchange (a
 *         plain store: before, an Atomics.store, at whose entry a thread killed left SHUTDOWN == 2
 *         with UNFINISHED counted, and its recovery counted the discard twice when more tasks were
 *         unfinished than discarded).
 *         SHUTDOWN == 2: the discard again (its records' directory refs read from DISCARD_TOP /
 *         the slots, as the discard found them, and reclaimed), and its tasks counted.
 *   setMaxsize, and what every repair ends with: NE_SEQ and NF_SEQ bumped, every getter, putter
 *         and joiner woken (each re-checks). shutdown and setMaxsize wake before their unlock.
 * A put or get that dies between its unlock and its wake leaves the waiter it would have woken
 * asleep until its next IDLE_CHECK_MS look, after which it re-checks under the lock.
 *
 * Exceptions. Store.put throws only before it changed anything (incomparable items, a growth
 * refused: StorageFull; a heap put writes its record before its first move, so no call follows a
 * change), and the lock is released then. Anything else under the lock — a stack overflow
 * (RangeError), which V8 raises at any call: a heap take's comparisons half-way down, the unlock
 * itself — may have stopped anywhere, and a release could overflow again. So the public calls catch
 * what comes out of them and, in straight code with no call, swap LOCK to GAVE_UP (the
 * ownerValue() of an ident no thread has, the waiters bit kept) if this thread still holds it,
 * then rethrow: a waiter takes it over after CHECK_MS as a dead holder's and repairs (fifo.ts,
 * "Exceptions"). The async twins await their driver inside that catch: its first steps run on the
 * caller's stack, under the lock.
 */
import { Empty, Full, ShutDown } from "../errors.js";
import { deadlineOf, driveAsync, driveBlocking, park, type Steps, waitBlocking } from "../shared/wait.js";
import { ownerIdent, SPIN_MS, unlockOwned } from "../sync/mutex.js";
import { lockOwner } from "../shared/runtime.js";
import { decodeTaken, reclaim, type Staged, Taken } from "./codec.js";
import {
  CHECK_MS,
  DISCARDING,
  type Engine,
  IDLE_CHECK_MS,
  identAlive,
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

/**
 * Takes the queue's lock, blocking (the critical sections are a few stores): an owned mutex
 * (sync/mutex.ts), so that one compare-exchange takes it and records who holds it.
 */
function lock(h: Int32Array): void {
  const me = (lockOwner.ident + 1) << 1;
  if (Atomics.compareExchange(h, LOCKED.LOCK, 0, me) !== 0) lockSlow(h, me);
}

/**
 * Spins while the holder is running and nobody sleeps (SPIN_MS), then sets the waiters bit and
 * sleeps CHECK_MS at a time; a holder that has not changed for CHECK_MS is looked up in the
 * thread table, and a dead one's lock is taken over (one compare-exchange) and the queue repaired
 * (file comment, "Death"). Returns with the lock held.
 */
function lockSlow(h: Int32Array, me: number): void {
  const until = performance.now() + SPIN_MS;
  for (let n = 1; ; n++) {
    const v = Atomics.load(h, LOCKED.LOCK);
    if (v === 0) {
      if (Atomics.compareExchange(h, LOCKED.LOCK, 0, me) === 0) return;
    } else if ((v & 1) !== 0 || ((n & 31) === 0 && performance.now() >= until)) break;
  }
  let seen = -1;
  let since = 0;
  for (;;) {
    const v = Atomics.load(h, LOCKED.LOCK);
    if (v === 0) {
      if (Atomics.compareExchange(h, LOCKED.LOCK, 0, me | 1) === 0) return;
      continue;
    }
    if ((v & 1) === 0 && Atomics.compareExchange(h, LOCKED.LOCK, v, v | 1) !== v) continue;
    waitBlocking(h, LOCKED.LOCK, v | 1, CHECK_MS);
    const w = Atomics.load(h, LOCKED.LOCK);
    if (w !== (v | 1)) continue;
    if (w !== seen) {
      seen = w;
      since = performance.now();
    } else if (performance.now() - since >= CHECK_MS && !identAlive(ownerIdent(w))) {
      // (the waiters bit stays: others may sleep on the word)
      if (Atomics.compareExchange(h, LOCKED.LOCK, w, me | 1) === w) {
        repair(h);
        return;
      }
    }
  }
}

function unlock(h: Int32Array): void {
  lockedHooks.at?.("release");
  unlockOwned(h, LOCKED.LOCK, LOCKED.LOCK_ASYNC);
}

/**
 * LOCK given up by a live holder after an exception it could not release it in (a stack overflow:
 * file comment, "Exceptions"): the ownerValue() of ident 2^30, which no thread has (idents are at
 * most 2^30 - 1), so a waiter takes it over as a dead holder's and repairs.
 */
const GAVE_UP = ((2 ** 30 + 1) * 2) | 0;

/** The Store of each queue in this thread, by its control block's buffer (for repair()). */
const stores = new WeakMap<ArrayBufferLike, Store>();

/**
 * Under the lock, taken over from a dead holder: finishes what it left (file comment, "Death"):
 * a discard (SHUTDOWN = 2) again; else the store rebuilt from what it holds (Store.recover),
 * COUNT (and UNFINISHED, for a put) set to it; then NE_SEQ and NF_SEQ bumped and every getter,
 * putter and joiner woken (each re-checks).
 */
function repair(h: Int32Array): void {
  const store = stores.get(h.buffer);
  if (store === undefined)
    throw new Error("threading: internal error: a queue recovered by a thread that has no view of it");
  // The directory refs (items over 64 KiB, shared objects) of what the dead holder had taken out
  // and not given back: reclaimed once the store no longer counts them, so that a recovery killed
  // before that finds them again, and one killed after leaks them only (never twice).
  const refs: number[] = [];
  if (Atomics.load(h, LOCKED.SHUTDOWN) === DISCARDING) {
    // (the store as the discard found it: DISCARD_N records from DISCARD_TOP, clear() changed TOP only)
    store.discardedRefs(h, h[LOCKED.DISCARD_N] as number, h[LOCKED.DISCARD_TOP] as number, refs);
    store.clear(h, []);
    Atomics.store(h, LOCKED.COUNT, 0);
    countDiscarded(h, h[LOCKED.DISCARD_N] as number);
  } else {
    const n = store.recover(h);
    const count = h[LOCKED.COUNT] as number;
    // (a get that took its item out: the record's refs)
    if (n === count - 1) store.takenRefs(h, refs);
    if (n !== count) {
      // (a put that stored its item but not its count: its task too, counted first, COUNT straight
      // after it, as finishPut() orders them: a recovery killed at the add leaves COUNT for the next)
      if (n === count + 1) Atomics.add(h, LOCKED.UNFINISHED, 1);
      h[LOCKED.COUNT] = n;
    }
  }
  Atomics.add(h, LOCKED.NE_SEQ, 1);
  Atomics.add(h, LOCKED.NF_SEQ, 1);
  wakeAll(h, LOCKED.NE_SEQ, LOCKED.GET_SLEEPERS);
  wakeAll(h, LOCKED.NF_SEQ, LOCKED.PUT_SLEEPERS);
  Atomics.notify(h, LOCKED.UNFINISHED);
  // (a hub round trip, under the lock: a recovery only)
  if (refs.length > 0) reclaim(refs);
}

/**
 * Under the lock: counts `discarded` items as done (UNFINISHED never below 0), then SHUTDOWN = 1
 * (the discard is over), in the same straight run as the compare-exchange that counted them.
 */
function countDiscarded(h: Int32Array, discarded: number): void {
  for (;;) {
    const u = Atomics.load(h, LOCKED.UNFINISHED);
    if (Atomics.compareExchange(h, LOCKED.UNFINISHED, u, Math.max(0, u - discarded)) === u) {
      // (a plain store, straight after: no point where a thread can stop between the two)
      h[LOCKED.SHUTDOWN] = 1;
      lockedHooks.at?.("counted");
      return;
    }
  }
}

/** With the lock free: takes and releases it when its holder is a dead thread (which recovers it). */
function recoverDead(h: Int32Array): void {
  const v = Atomics.load(h, LOCKED.LOCK);
  if (v !== 0 && !identAlive(ownerIdent(v))) {
    lock(h);
    unlock(h);
  }
}

/**
 * For qsize() (and empty()/full(), which use it), with no lock held: when LOCK stays held by a
 * holder that can run no more (a dead thread, or GAVE_UP), takes it over at once and repairs, so
 * the count includes what that holder stored or took (as the ring's qsize() publishes a dead
 * holder's marked work, fifo.ts publishDead). A held lock is first watched for a moment (a live
 * holder's critical section is a few stores), so the thread table is read only for a lock that
 * stays held. CPython's qsize() takes the mutex; this one waits for nobody.
 */
function publishDead(h: Int32Array): void {
  let v = Atomics.load(h, LOCKED.LOCK);
  for (let i = 0; i < SPIN && v !== 0; i++) v = Atomics.load(h, LOCKED.LOCK);
  if (v === 0 || identAlive(ownerIdent(v))) return;
  const me = (lockOwner.ident + 1) << 1;
  // (the waiters bit stays: others may sleep on the word; a holder that released or changed it
  // meanwhile fails the compare-exchange, and its own release published its work)
  if (Atomics.compareExchange(h, LOCKED.LOCK, v, me | (v & 1)) !== v) return;
  try {
    repair(h);
    unlock(h);
  } catch (e) {
    // (inline, no call: file comment, "Exceptions")
    if (lockOwner.ident !== 0) {
      for (let w = Atomics.load(h, LOCKED.LOCK); (w & ~1) === me; w = Atomics.load(h, LOCKED.LOCK))
        if (Atomics.compareExchange(h, LOCKED.LOCK, w, GAVE_UP | (w & 1)) === w) break;
    }
    throw e;
  }
}

/** Python's join(): sleeps on UNFINISHED until it is 0, looking for a dead holder every IDLE_CHECK_MS. */
function* joined(h: Int32Array): Steps<void> {
  for (let u = Atomics.load(h, LOCKED.UNFINISHED); u !== 0; u = Atomics.load(h, LOCKED.UNFINISHED)) {
    if ((yield* park(h, LOCKED.UNFINISHED, u, deadlineOf(IDLE_CHECK_MS))) === "timed-out") recoverDead(h);
  }
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
  // (the waiter takes the one lock again after each look: that recovers a dead holder's)
  idleCheck: () => {},
  disorder: LOCKED.PUT_DISORDER,
  tickets: LOCKED.PUT_TICKETS,
  count: (h) => {
    const max = h[LOCKED.MAXSIZE] as number;
    return max <= 0 ? Number.POSITIVE_INFINITY : max - (h[LOCKED.COUNT] as number);
  },
};
const GETTERS: Side = {
  lock,
  unlock,
  seq: LOCKED.NE_SEQ,
  waiters: LOCKED.GET_WAITERS,
  how: sleeperHow(LOCKED.GET_SLEEPERS),
  Refusal: Empty,
  state: "empty",
  idleCheck: () => {},
  disorder: LOCKED.GET_DISORDER,
  tickets: LOCKED.GET_TICKETS,
  count: (h) => h[LOCKED.COUNT] as number,
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
function putSteps(
  h: Int32Array,
  store: Store,
  st: Staged,
  block: boolean,
  ms: number,
  what: string,
  isAsync = false,
): Steps<void> {
  return waitTurn(
    h,
    PUTTERS,
    () => room(h, what),
    () => finishPut(h, store, st),
    block,
    ms,
    what,
    isAsync,
  );
}

/** The slow path of get and getAsync, from under the lock. */
function getSteps(
  h: Int32Array,
  store: Store,
  block: boolean,
  ms: number,
  what: string,
  isAsync = false,
): Steps<unknown> {
  return waitTurn(
    h,
    GETTERS,
    () => items(h, what),
    () => finishGet(h, store),
    block,
    ms,
    what,
    isAsync,
  );
}

/** Stores a staged record once there is room. `what` names the call in errors. */
export function putBlocking(h: Int32Array, store: Store, st: Staged, block: boolean, ms: number, what: string): void {
  if (block) {
    const max = Atomics.load(h, LOCKED.MAXSIZE);
    if (max > 0) for (let i = 0; i < SPIN && Atomics.load(h, LOCKED.COUNT) >= max; i++);
  }
  try {
    lock(h);
    if (h[LOCKED.SHUTDOWN] === 0 && (h[LOCKED.MAXSIZE] as number) <= 0) finishPut(h, store, st);
    else driveBlocking(putSteps(h, store, st, block, ms, what));
  } catch (e) {
    // (inline, no call: file comment, "Exceptions")
    if (lockOwner.ident !== 0) {
      const me = (lockOwner.ident + 1) << 1;
      for (let v = Atomics.load(h, LOCKED.LOCK); (v & ~1) === me; v = Atomics.load(h, LOCKED.LOCK))
        if (Atomics.compareExchange(h, LOCKED.LOCK, v, GAVE_UP | (v & 1)) === v) break;
    }
    throw e;
  }
}

export async function putAsync(h: Int32Array, store: Store, st: Staged, ms: number, what: string): Promise<void> {
  try {
    lock(h);
    if (h[LOCKED.SHUTDOWN] === 0 && (h[LOCKED.MAXSIZE] as number) <= 0) finishPut(h, store, st);
    else return await driveAsync(putSteps(h, store, st, true, ms, what, true));
  } catch (e) {
    // (inline, no call: file comment, "Exceptions")
    if (lockOwner.ident !== 0) {
      const me = (lockOwner.ident + 1) << 1;
      for (let v = Atomics.load(h, LOCKED.LOCK); (v & ~1) === me; v = Atomics.load(h, LOCKED.LOCK))
        if (Atomics.compareExchange(h, LOCKED.LOCK, v, GAVE_UP | (v & 1)) === v) break;
    }
    throw e;
  }
}

function finishPut(h: Int32Array, store: Store, st: Staged): void {
  try {
    store.put(h, st);
    lockedHooks.at?.("put");
  } catch (e) {
    // (Store.put changes nothing or stores the whole item before any call that can throw)
    unlock(h);
    throw e;
  }
  // Its task, then its count straight after: the Atomics call that counts the task is a point where
  // a thread can stop (before it acts), the plain store is not (file comment, "Death").
  lockedHooks.at?.("put:task");
  Atomics.add(h, LOCKED.UNFINISHED, 1);
  h[LOCKED.COUNT] = (h[LOCKED.COUNT] as number) + 1;
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
  try {
    lock(h);
    if ((h[LOCKED.COUNT] as number) !== 0) return finishGet(h, store);
    return driveBlocking(getSteps(h, store, block, ms, what));
  } catch (e) {
    // (inline, no call: file comment, "Exceptions")
    if (lockOwner.ident !== 0) {
      const me = (lockOwner.ident + 1) << 1;
      for (let v = Atomics.load(h, LOCKED.LOCK); (v & ~1) === me; v = Atomics.load(h, LOCKED.LOCK))
        if (Atomics.compareExchange(h, LOCKED.LOCK, v, GAVE_UP | (v & 1)) === v) break;
    }
    throw e;
  }
}

export async function getAsync(h: Int32Array, store: Store, ms: number, what: string): Promise<unknown> {
  try {
    lock(h);
    if ((h[LOCKED.COUNT] as number) !== 0) return finishGet(h, store);
    return await driveAsync(getSteps(h, store, true, ms, what, true));
  } catch (e) {
    // (inline, no call: file comment, "Exceptions")
    if (lockOwner.ident !== 0) {
      const me = (lockOwner.ident + 1) << 1;
      for (let v = Atomics.load(h, LOCKED.LOCK); (v & ~1) === me; v = Atomics.load(h, LOCKED.LOCK))
        if (Atomics.compareExchange(h, LOCKED.LOCK, v, GAVE_UP | (v & 1)) === v) break;
    }
    throw e;
  }
}

function finishGet(h: Int32Array, store: Store): unknown {
  try {
    store.take(h, taken);
    lockedHooks.at?.("get");
  } catch (e) {
    // (a heap's take may stop half-way down: the lock is given up, and recovered, "Exceptions")
    // (inline, no call: file comment, "Exceptions")
    if (lockOwner.ident !== 0) {
      const me = (lockOwner.ident + 1) << 1;
      for (let v = Atomics.load(h, LOCKED.LOCK); (v & ~1) === me; v = Atomics.load(h, LOCKED.LOCK))
        if (Atomics.compareExchange(h, LOCKED.LOCK, v, GAVE_UP | (v & 1)) === v) break;
    }
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
  try {
    lock(h);
    if (immediate) {
      // SHUTDOWN = DISCARDING until the discarded tasks are counted: a recovery finishes a discard
      // that stopped in between (file comment, "Death").
      h[LOCKED.DISCARD_N] = h[LOCKED.COUNT] as number;
      h[LOCKED.DISCARD_TOP] = h[LOCKED.TOP] as number;
      Atomics.store(h, LOCKED.SHUTDOWN, DISCARDING);
      store.clear(h, refs);
      lockedHooks.at?.("discard");
      Atomics.store(h, LOCKED.COUNT, 0);
      countDiscarded(h, h[LOCKED.DISCARD_N] as number);
    } else Atomics.store(h, LOCKED.SHUTDOWN, 1);
    Atomics.add(h, LOCKED.NE_SEQ, 1);
    Atomics.add(h, LOCKED.NF_SEQ, 1);
    // (the wakes before the unlock: a thread that dies after it has nothing left undone)
    if (immediate) Atomics.notify(h, LOCKED.UNFINISHED);
    wakeAll(h, LOCKED.NE_SEQ, LOCKED.GET_SLEEPERS);
    wakeAll(h, LOCKED.NF_SEQ, LOCKED.PUT_SLEEPERS);
    unlock(h);
  } catch (e) {
    // (inline, no call: file comment, "Exceptions")
    if (lockOwner.ident !== 0) {
      const me = (lockOwner.ident + 1) << 1;
      for (let v = Atomics.load(h, LOCKED.LOCK); (v & ~1) === me; v = Atomics.load(h, LOCKED.LOCK))
        if (Atomics.compareExchange(h, LOCKED.LOCK, v, GAVE_UP | (v & 1)) === v) break;
    }
    throw e;
  }
  reclaim(refs);
}

/**
 * Sets the bound (0 = none) and the reported value (`given[0] = value`, layout.ts GIVEN_MAXSIZE)
 * under the lock, and lets waiting putters re-check.
 */
export function setMaxsize(h: Int32Array, maxsize: number, given: Float64Array, value: number): void {
  try {
    lock(h);
    // (two stores with no call between them: a thread killed here leaves both or neither)
    given[0] = value;
    h[LOCKED.MAXSIZE] = maxsize;
    lockedHooks.at?.("maxsize");
    Atomics.add(h, LOCKED.NF_SEQ, 1);
    wakeAll(h, LOCKED.NF_SEQ, LOCKED.PUT_SLEEPERS);
    unlock(h);
  } catch (e) {
    // (inline, no call: file comment, "Exceptions")
    if (lockOwner.ident !== 0) {
      const me = (lockOwner.ident + 1) << 1;
      for (let v = Atomics.load(h, LOCKED.LOCK); (v & ~1) === me; v = Atomics.load(h, LOCKED.LOCK))
        if (Atomics.compareExchange(h, LOCKED.LOCK, v, GAVE_UP | (v & 1)) === v) break;
    }
    throw e;
  }
}

/**
 * @internal Test hooks (this thread): `at(point)` runs with the queue's lock held at the points
 * where a holder can die with the store half-way (file comment, "Death"): "put" (the store holds
 * the item, COUNT not yet), "put:task" (the same, at the Atomics call that counts its task), "get"
 * (the item taken out, COUNT not yet), "discard" (shutdown(true): the store cleared, COUNT and
 * UNFINISHED not yet), "counted" (the discarded tasks counted and SHUTDOWN = 1, the wakes not yet),
 * "maxsize" (MAXSIZE stored, putters not yet woken), "release" (at every unlock, before the
 * exchange that frees the lock); PriorityQueue's "sift" (a put half-way up the heap), "siftup" (a
 * get half-way down), "compact" (a compaction that moved one record).
 */
export const lockedHooks: { at?: (point: string) => void } = {};

/** The one-lock state machine above over a Store (LifoQueue's stack, PriorityQueue's heap). */
export class LockedEngine implements Engine {
  constructor(
    readonly h: Int32Array,
    readonly store: Store,
  ) {
    stores.set(h.buffer, store);
  }
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
    const h = this.h;
    if (Atomics.load(h, LOCKED.LOCK) !== 0) publishDead(h);
    return Atomics.load(h, LOCKED.COUNT);
  }
  unfinishedTasks(): number {
    return Atomics.load(this.h, LOCKED.UNFINISHED);
  }
  shutdown(immediate: boolean): void {
    shutdown(this.h, this.store, immediate);
  }
  setMaxsize(maxsize: number, given: Float64Array, value: number): void {
    setMaxsize(this.h, maxsize, given, value);
  }
  taskDone(): void {
    taskDone(this.h);
  }
  join(): void {
    const h = this.h;
    try {
      driveBlocking(joined(h));
    } catch (e) {
      // (inline, no call: file comment, "Exceptions")
      if (lockOwner.ident !== 0) {
        const me = (lockOwner.ident + 1) << 1;
        for (let v = Atomics.load(h, LOCKED.LOCK); (v & ~1) === me; v = Atomics.load(h, LOCKED.LOCK))
          if (Atomics.compareExchange(h, LOCKED.LOCK, v, GAVE_UP | (v & 1)) === v) break;
      }
      throw e;
    }
  }
  joinAsync(): Promise<void> {
    return driveAsync(joined(this.h));
  }
  buffers(): SharedArrayBuffer[] {
    return this.store.buffers();
  }
  readonly lockOwners: ReadonlyMap<number, number> = LOCK_OWNER;
  readonly ownersCoded = true;
}

/** The lock word, which names its holder itself (an owned mutex), for the hang report (Engine.lockOwners). */
const LOCK_OWNER: ReadonlyMap<number, number> = new Map([[LOCKED.LOCK, LOCKED.LOCK]]);
