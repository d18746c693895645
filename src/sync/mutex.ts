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
 * (V8 keeps one FIFO list per address). lockBlocking() and lockAsync() share that slow path, one
 * generator of steps (contended()) driven by shared/wait.ts; only the fast paths (a CAS, and the
 * blocking spin while LOCKED) and the async line below are their own.
 *
 * Async waiters (issue 9, item 5). An async waiter's callback runs only when its thread's event
 * loop turns, and its thread may be blocked (e.g. in `join()` of the very thread that waits for
 * the lock). A wake-one that V8 delivers to such a waiter is absorbed: the lock is free and a
 * blocking waiter sleeps on. So each mutex has a second word next to it, ASYNC (at `asyncAt`):
 * the async waiters that may be parked on the mutex word (incremented before the waitAsync,
 * decremented once its callback has run). A release that frees a contended mutex wakes one waiter
 * when ASYNC is 0 and every waiter otherwise: then every blocking waiter is among the woken, and
 * every async waiter whose loop turns; the first to swap in 2 and find 0 wins, the others sleep
 * again on 2. ASYNC is read after the CAS that frees the mutex: an async waiter that parks later
 * saw the mutex held again (it parks only on 2, and 2 means held), so that holder's release
 * wakes it. The cost: a contended release wakes all waiters while async ones are pending (each
 * re-checks with one swap); an async waiter whose thread dies leaves ASYNC one too high, which
 * only makes later releases wake all. Blocking-only use is unchanged (wake one).
 *
 * Many async waiters in one thread (a server awaiting one lock in a thousand requests) stand in a
 * line of their own, in this thread's memory: only the first of the line contends for the word
 * (parks on it, counts in ASYNC); the next one steps up when the first has the mutex or gives up.
 * So a release wakes at most one async waiter per thread, and a thousand pending acquireAsync()
 * cost a thousand wake-ups, not a million. A waiter in the line leaves it when its own timeout
 * passes. The line is per thread, so nothing of it is left behind when a thread dies.
 */
import {
  afterMs,
  beforeSleep,
  deadlineOf,
  driveAsync,
  driveBlocking,
  expired,
  PLAIN,
  remaining,
  type Steps,
  Sleep,
  sleepHow,
  spinWhile,
} from "../shared/wait.js";

export const UNLOCKED = 0;
export const LOCKED = 1;
export const CONTENDED = 2;

/** One CAS: true when the mutex at `w[i]` was free and is now held. */
export function tryLock(w: Int32Array, i: number): boolean {
  return Atomics.compareExchange(w, i, UNLOCKED, LOCKED) === UNLOCKED;
}

/**
 * How long a thread about to sleep first watches the word instead (ms): see spinWhile() in
 * shared/wait.ts, the one spin.
 */
export const SPIN_MS = 0.02;

/** Takes the mutex at `w[i]`, waiting at most `ms` (Infinity = forever). False on timeout. */
export function lockBlocking(w: Int32Array, i: number, ms: number): boolean {
  const c = Atomics.compareExchange(w, i, UNLOCKED, LOCKED);
  if (c === UNLOCKED) return true;
  if (ms === 0) return false;
  const deadline = deadlineOf(ms);
  // Spin on a lock that is held with nobody asleep on it: its holder is likely about to release it.
  if (c === LOCKED && spinWhile(w, i, LOCKED, Math.min(ms, SPIN_MS)) && tryLock(w, i)) return true;
  return driveBlocking(contended(w, i, deadline, -1));
}

/** The async twin of lockBlocking(); `asyncAt` is the mutex's ASYNC word (see the file comment). */
export async function lockAsync(w: Int32Array, i: number, ms: number, asyncAt: number): Promise<boolean> {
  if (tryLock(w, i)) return true;
  if (ms === 0) return false;
  const deadline = deadlineOf(ms);
  const line = lineOf(w, i);
  const me: Turn = { go: () => {} };
  line.push(me);
  try {
    if (line.length > 1 && !(await turnCame(me, deadline))) return false;
    return await driveAsync(contended(w, i, deadline, asyncAt));
  } finally {
    const at = line.indexOf(me);
    if (at >= 0) line.splice(at, 1);
    if (at === 0) line[0]?.go();
  }
}

/**
 * The slow path of both (shared/wait.ts drives it): swap in CONTENDED until the swap returns
 * UNLOCKED (then it is ours), sleeping on CONTENDED in between, until `deadline` (false).
 * An async sleeper counts itself in `asyncAt` (the file comment).
 */
function* contended(w: Int32Array, i: number, deadline: number, asyncAt: number): Steps<boolean> {
  const how = asyncAt < 0 ? PLAIN : sleepHow({ asyncSleepers: asyncAt });
  while (Atomics.exchange(w, i, CONTENDED) !== UNLOCKED) {
    if (expired(deadline)) return false;
    yield new Sleep(w, i, CONTENDED, deadline, how); // (directly: see queue/engine.ts waitTurn)
  }
  return true;
}

/** An async waiter in its thread's line for one mutex word: `go()` tells it that it is first. */
interface Turn {
  go: () => void;
}

/** This thread's lines of async waiters, by mutex word (buffer, then index). */
const lines = new WeakMap<ArrayBufferLike, Map<number, Turn[]>>();

function lineOf(w: Int32Array, i: number): Turn[] {
  let byIndex = lines.get(w.buffer);
  if (byIndex === undefined) lines.set(w.buffer, (byIndex = new Map()));
  const at = w.byteOffset / 4 + i;
  let line = byIndex.get(at);
  if (line === undefined) byIndex.set(at, (line = []));
  return line;
}

/** Resolves true when `me` is told it is first in its line (`go()`), false when `deadline` passes first. */
function turnCame(me: Turn, deadline: number): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = afterMs(remaining(deadline), () => resolve(false));
    me.go = () => {
      cancel();
      resolve(true);
    };
  });
}

/**
 * Frees the mutex at `w[i]`; false when it was not locked (the caller reports the misuse).
 * `asyncAt`: its ASYNC word; while async waiters may be parked, every waiter is woken (file comment).
 */
export function unlock(w: Int32Array, i: number, asyncAt: number): boolean {
  for (;;) {
    const c = Atomics.compareExchange(w, i, LOCKED, UNLOCKED);
    if (c === LOCKED) break;
    if (c === UNLOCKED) return false;
    if (Atomics.compareExchange(w, i, CONTENDED, UNLOCKED) === CONTENDED) {
      Atomics.notify(w, i, Atomics.load(w, asyncAt) > 0 ? Number.POSITIVE_INFINITY : 1);
      break;
    }
  }
  if (deferred.length > 0) flushWakes();
  return true;
}

/*
 * Deferred wakes ("wait morphing", as pthread condition variables do it in the kernel).
 * Condition.notify() runs with the lock held; waking a waiter at once only makes it run into that
 * lock and sleep again until the notifier releases it: two wake-ups, each tens of microseconds.
 * So notify() marks the waiter NOTIFIED (that part is immediate: a waiter whose time runs out now
 * returns true) and leaves the futex wake here; the thread delivers its deferred wakes as soon as
 * it unlocks any mutex, before it sleeps in any wait of the library, and at the latest at the end
 * of its current synchronous run (a microtask), so a wake is never held back for long.
 */
const deferred: [Int32Array, number][] = [];

/** Wakes the waiter sleeping on `w[i]` when this thread next releases a lock (see above). */
export function deferWake(w: Int32Array, i: number): void {
  if (deferred.push([w, i]) === 1) queueMicrotask(flushWakes);
}

/** Delivers this thread's deferred wakes now. */
export function flushWakes(): void {
  for (let entry = deferred.shift(); entry; entry = deferred.shift()) Atomics.notify(entry[0], entry[1]);
}

beforeSleep(flushWakes);
