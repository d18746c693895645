/**
 * The futex mutex, as functions over any word of any Int32Array, for the primitives that keep a
 * mutex next to other state (the queues); and its owned variant, which keeps the owner in the same
 * word (Lock and RLock: one CAS takes the lock and records who holds it).
 *
 * State of the word (Drepper's three-state mutex, "Futexes are tricky", mutex #2):
 *   0 UNLOCKED, 1 LOCKED and nobody waits, 2 LOCKED and someone may wait (release must notify).
 * acquire: CAS 0->1; otherwise swap in 2 and sleep while it stays 2, until a swap returns 0.
 * release: swap in 0, and notify one when the swap returned 2 (Drepper's mutex #3 release).
 * A waiter only sleeps on 2, so a release that saw 1 leaves no sleeper behind (no lost wake-up);
 * a waiter that gives up leaves at most a stale 2, which costs one spare notify. Waiters, blocking and async alike, are woken in arrival order
 * (V8 keeps one FIFO list per address). lockBlocking() and lockAsync() share that slow path, one
 * generator of steps (contended()) driven by shared/wait.ts; only the fast paths (a CAS, and the
 * blocking spin while LOCKED) and the async line below are their own.
 * A releaser killed between its swap and its notify (out of memory, its worker terminated: a killed
 * thread stops at the entry of an Atomics call too, not only at a JS call, a return or a back edge)
 * leaves the word free and its sleepers asleep: a waiter that sleeps in slices (an internal lock's,
 * every DEAD_CHECK_MS; a thread with duties, every slice) finds it free and takes it, and its
 * release notifies the others; a waiter of a user's Lock or RLock that sleeps whole sleeps on until
 * another thread takes the lock and releases it, as if the dead thread still held it (a lock held by
 * a thread that dies stays held, Python's rule). Sleeping in slices instead would cost every waiter
 * its place in the runtime's line (arrival order).
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
 *
 * The owned variant (lockOwnedBlocking, lockAsync with `me`, unlockOwned). The word is 0 UNLOCKED, or
 * `me | waiters` where `me` = ownerValue() of the holding thread (an even number, never 0) and the
 * low bit says someone may sleep on the word (release must notify):
 *   acquire: CAS 0 -> me. Else set the low bit (CAS v -> v|1) and sleep while the word is v|1; after
 *            each wake, a word found 0 is taken with CAS 0 -> me|1 (a thread that took it after
 *            sleeping keeps the bit: others may still sleep).
 *   release: exchange -> 0, which also tells whether the bit was set: then notify (one, or all while
 *            async waiters are pending, as above).
 * The same no-lost-wake-up argument: a waiter sleeps only on a value with the bit, and the release
 * of such a value notifies; a stale bit costs one spare notify. Async waiters count in ASYNC and
 * stand in their thread's line as for the plain mutex.
 *
 * Hand-off (the owned mutex of Lock and RLock: `handoff`, its HANDOFF word right after ASYNC).
 * A blocked thread with duties (the owner of an excepthook: shared/wait.ts) wakes every sliceMs()
 * (50 ms) to do them, and a sleep after such a wake joins V8's line of waiters on the word at its
 * back. Under steady contention (three threads each holding the lock 30 ms in turn) it was at the
 * back again before it reached the head: it never got the lock. So such a waiter, once woken by
 * its slice with the lock still held by another, asks for the lock to be handed to it: HANDOFF is
 * 0, or the ownerValue() of the one waiter asking (CAS 0 -> me; one at a time, another asks once it
 * is 0 again). A release that finds the waiters bit (the asker keeps it set, so every release
 * while it waits comes here) and HANDOFF set claims the request (CAS h -> r|1, r the releasing
 * thread's ownerValue(): odd, and naming who holds the claim), and, its asker alive (identHolds),
 * writes the freed word over to it (CAS 0 -> h|1: a thread that took the word in between keeps it,
 * and the request is put back, store h; else store 0) with no notify: the other sleepers keep
 * their places, and the asker sees the word hold its own value when its slice ends (so the lock
 * waits at most one slice, held for it). A request of a dead asker is dropped. The asker withdraws
 * its request whenever its wait ends otherwise (took the word itself, timed out, an exception): a
 * CAS me -> 0; while it reads a claim (odd) a releaser is between its claim and its put-back or
 * hand-over (one straight run) and the asker waits for either; a hand-over found then is an acquire (a timed-out
 * wait returns true; a wait ending with an exception frees the word again). A releaser killed
 * inside that run (worker terminated, out of memory: a killed thread stops between two Atomics
 * calls too) leaves its claim, and the word freed with nobody notified: whoever waits for the
 * claim to end (a withdrawing asker, or a waiter about to ask) drops it once the claim's thread
 * is seen dead, and wakes the word's sleepers; the asker, whose slice ends, finds the word free or
 * handed to it (before, it waited for that claim for ever, the lock free). While the thread runs
 * the user code of its duties inside the wait (shared/wait.ts setAsideWaits: an excepthook, at the
 * start of a sleep once a report came; not at every sleep, which left a window at each slice in
 * which a release passed the asker over for a later waiter) its requests are withdrawn (a lock handed over already is freed again) and asked again
 * after: the lock is never handed to a thread busy in its hook, which may block on something a
 * thread waiting for the lock holds, or exit the process (the main thread's exit then waits for
 * the other threads, which may need the lock). A thread killed
 * (out of memory, its worker terminated) leaves its request to be dropped by a release once the
 * hub has marked it ended; a release before that, or once the word was handed over, leaves the
 * lock held by the dead thread, as one killed just after acquire() returned.
 * A wait that finds this thread's value in the word, which was not there when it began, has the
 * lock (a hand-over to it, or code of its duties that took the lock and kept it: an excepthook that
 * takes the very lock its thread waits for, whose own wait may ask too), and withdraws its request
 * if still out (left out, a later release would hand the lock back to a thread that no longer
 * waits: held for ever).
 *
 * Dead holders (the internal locks of Barrier and Semaphore only: `onDeadHolder`). A user's Lock or
 * RLock held by a thread that dies stays held, as in Python. The lock a primitive keeps inside
 * itself must not: nobody could ever release it, and every later call of the primitive would hang.
 * So a waiter of such a lock sleeps in slices of DEAD_CHECK_MS, and after each slice in which the
 * word still holds the same holder it looks that holder up (shared/runtime.ts identHolds: its
 * thread starting or running, or ended with its worker still running code the thread left — a
 * callback, a microtask — which may hold the lock: a Barrier action run there); a holder that has
 * died (killed: out of memory, its worker terminated, process.exit() in a callback) is replaced by this thread with one CAS of the whole word (v -> me|1: the CAS fails if
 * the holder released it or another waiter took it over first), and `onDeadHolder()` runs with the
 * lock held, to repair what the dead thread left half-done. Cost: none on the fast paths; a
 * contended waiter wakes every DEAD_CHECK_MS while the same holder keeps the lock.
 */
import {
  afterMs,
  beforeSleep,
  deadlineOf,
  driveAsync,
  driveBlocking,
  expired,
  guardDuties,
  PLAIN,
  remaining,
  type Steps,
  Sleep,
  sleepHow,
  sliceMs,
  spinWhile,
} from "../shared/wait.js";
import { identHolds, lockOwner } from "../shared/runtime.js";

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

/** The owned mutex's value for this thread: `(ident + 1) << 1` (even, never 0; see the file comment). */
export function ownerValue(): number {
  return (lockOwner.ident + 1) << 1;
}

/** The ident of the thread whose ownerValue() is in the owned word `v`, or -1 when `v` is 0 (free). */
export function ownerIdent(v: number): number {
  return v === 0 ? -1 : (v >>> 1) - 1;
}

/** How often (ms) a waiter of an internal lock looks whether its holder has died (file comment, "Dead holders"). */
export const DEAD_CHECK_MS = 50;

/**
 * What an internal lock does once a waiter has taken it over from a dead holder (file comment):
 * runs in that waiter's thread, the lock held by it; `dead` is the dead holder's ident. It must
 * not throw (the lock would stay held by a live thread that does not know it).
 */
export type OnDeadHolder = (dead: number) => void;

/**
 * Takes the owned mutex at `w[i]` for `me` (this thread's ownerValue()), waiting at most `ms`
 * (Infinity = forever). False on timeout. The caller has checked that it does not hold it already.
 * `onDeadHolder`: an internal lock, taken over from a holder that has died (file comment).
 * `handoffAt`: the mutex's HANDOFF word (file comment, "Hand-off"), -1 when it has none.
 */
export function lockOwnedBlocking(
  w: Int32Array,
  i: number,
  me: number,
  ms: number,
  onDeadHolder?: OnDeadHolder,
  handoffAt = -1,
): boolean {
  const c = Atomics.compareExchange(w, i, UNLOCKED, me);
  if (c === UNLOCKED) return true;
  if (ms === 0) return false;
  const deadline = deadlineOf(ms);
  // Spin on a lock that is held with nobody asleep on it: its holder is likely about to release it.
  if (
    (c & 1) === 0 &&
    spinWhile(w, i, c, Math.min(ms, SPIN_MS)) &&
    Atomics.compareExchange(w, i, UNLOCKED, me) === UNLOCKED
  )
    return true;
  return driveBlocking(contendedOwned(w, i, deadline, -1, me, onDeadHolder, handoffAt));
}

/**
 * Frees the owned mutex at `w[i]`: one exchange, which says whether anyone may sleep on it; false
 * when it was not locked (the caller reports the misuse). `asyncAt` as unlock(); `handoff`: the
 * mutex has a HANDOFF word at `asyncAt + 1` (file comment, "Hand-off").
 */
export function unlockOwned(w: Int32Array, i: number, asyncAt: number, handoff = false): boolean {
  const c = Atomics.exchange(w, i, 0 /* UNLOCKED */);
  if ((c & 1) !== 0 && !(handoff && Atomics.load(w, asyncAt + 1) !== 0 && handOver(w, i, asyncAt + 1)))
    Atomics.notify(w, i, Atomics.load(w, asyncAt) > 0 ? Number.POSITIVE_INFINITY : 1);
  if (deferred.length > 0) flushWakes();
  return c !== 0;
}

/**
 * unlockOwned() without the deferred wakes (the caller delivers them: see "Deferred wakes");
 * returns what the word held (0: it was not locked).
 */
export function freeOwned(w: Int32Array, i: number, asyncAt: number, handoff = false): number {
  const c = Atomics.exchange(w, i, 0 /* UNLOCKED */);
  if ((c & 1) !== 0 && !(handoff && Atomics.load(w, asyncAt + 1) !== 0 && handOver(w, i, asyncAt + 1)))
    Atomics.notify(w, i, Atomics.load(w, asyncAt) > 0 ? Number.POSITIVE_INFINITY : 1);
  return c;
}

/**
 * A release that found a hand-off asked for at `w[at]` (file comment, "Hand-off"), the word `w[i]`
 * just freed: claims the request (h -> this thread's ownerValue() | 1, so that a thread waiting for
 * the claim to end knows whose it is) and writes the word over to its asker, alive, with no
 * notify (true); false when there was nothing to hand over (the request withdrawn, or its asker
 * dead: it is dropped) or another thread took the word first (the request is put back).
 */
function handOver(w: Int32Array, i: number, at: number): boolean {
  const h = Atomics.load(w, at);
  if ((h & 1) !== 0 || h === 0) return false;
  if (!identHolds(ownerIdent(h))) {
    Atomics.compareExchange(w, at, h, 0);
    return false;
  }
  if (Atomics.compareExchange(w, at, h, ownerValue() | 1) !== h) return false;
  mutexHooks.claimed?.();
  const handed = Atomics.compareExchange(w, i, 0, h | 1) === 0;
  Atomics.store(w, at, handed ? 0 : h);
  return handed;
}

/**
 * Drops the claim `claim` at `w[at]` of a release whose thread has died in its hand-over (file
 * comment, "Hand-off": killed between its claim and its hand-over or put-back); true when it was
 * dead and its claim is gone. Its release had freed the word and notified nobody: the sleepers on
 * the word are woken to look again (a spare wake when the word was handed over before it died).
 */
function dropDeadClaim(w: Int32Array, i: number, at: number, claim: number): boolean {
  if (identHolds(ownerIdent(claim & ~1))) return false;
  if (Atomics.compareExchange(w, at, claim, 0) === claim) Atomics.notify(w, i);
  return true;
}

/**
 * Withdraws this thread's hand-off request at `w[at]` (file comment, "Hand-off") as its wait ends
 * otherwise (`holding`: it took the word itself); true when the word was handed over to it first
 * (never when `holding`). While a request is claimed (odd: the releasing thread's ownerValue() | 1),
 * a releaser is between its claim and its hand-over or put-back (one straight run): wait for
 * either, unless that releaser has died in between (its claim is dropped: dropDeadClaim). The
 * claim may be of another asker's request, asked after a hand-over to this thread: it ends the same.
 */
function withdraw(w: Int32Array, i: number, at: number, me: number, holding: boolean): boolean {
  for (let n = 0; ; n++) {
    const h = Atomics.compareExchange(w, at, me, 0);
    if (h === me) return false;
    if ((h & 1) === 0) return !holding && (Atomics.load(w, i) | 1) === (me | 1);
    // (its releaser preempted mid-run, or dead: identHolds scans the thread table, so not at once)
    if (n > 100 && !dropDeadClaim(w, i, at, h)) Atomics.wait(w, at, h, 1);
  }
}

/** A hand-off request of a wait of this thread's (file comment, "Hand-off"): `out` while it stands. */
interface Ask {
  w: Int32Array;
  i: number;
  at: number;
  me: number;
  out: boolean;
}

/** This thread's waits that asked for a hand-off (an outer one, and ones its duties run). */
const asking: Ask[] = [];

const restoreNothing = () => {};

// While this thread runs its duties' user code inside a wait (an excepthook: shared/wait.ts
// setAsideWaits), it does not wait for the lock: its requests are withdrawn meanwhile (a lock
// handed over already is freed again) and asked again after. So a lock is never handed to a thread busy in its hook, which may
// block on something a thread waiting for this lock holds, or exit the process (the main
// thread's exit waits for the other threads, which may need the lock).
guardDuties(() => {
  if (asking.length === 0) return restoreNothing;
  const held = asking.slice();
  for (const a of held) {
    if (!a.out) continue;
    a.out = false;
    if (withdraw(a.w, a.i, a.at, a.me, false)) unlockOwned(a.w, a.i, a.at - 1, true);
  }
  return () => {
    for (const a of held) {
      if (!a.out && asking.includes(a)) a.out = Atomics.compareExchange(a.w, a.at, 0, a.me) === 0;
    }
  };
});

/**
 * The async twin of lockBlocking(); `asyncAt` is the mutex's ASYNC word (see the file comment).
 * With `me` (this thread's ownerValue()), the owned mutex's.
 */
export async function lockAsync(
  w: Int32Array,
  i: number,
  ms: number,
  asyncAt: number,
  me = 0,
  onDeadHolder?: OnDeadHolder,
): Promise<boolean> {
  if (Atomics.compareExchange(w, i, UNLOCKED, me === 0 ? LOCKED : me) === UNLOCKED) return true;
  if (ms === 0) return false;
  const deadline = deadlineOf(ms);
  const line = lineOf(w, i);
  const turn: Turn = { go: () => {} };
  line.push(turn);
  try {
    if (line.length > 1 && !(await turnCame(turn, deadline))) return false;
    return await driveAsync(
      me === 0 ? contended(w, i, deadline, asyncAt) : contendedOwned(w, i, deadline, asyncAt, me, onDeadHolder),
    );
  } finally {
    const at = line.indexOf(turn);
    if (at >= 0) line.splice(at, 1);
    if (at === 0) line[0]?.go();
  }
}

/**
 * lockAsync() of the owned mutex for a lock an async call takes before it goes on (the internal
 * lock of Barrier.waitAsync() and Semaphore.acquireAsync(); a Condition's re-acquire after an async
 * wait, owned.ts kAcquireRestoreAsync): `true` itself, not a promise, when
 * the mutex was taken before this returns. lockAsync() may take it synchronously (its first CAS, or
 * a slow path that finds it free at its first look) and still answer with a promise, which its
 * caller sees only after a microtask turn: the caller would hold the lock while this thread's own
 * code runs on, and a blocking call of the same primitive there (`b.waitAsync(); b.abort();`,
 * `sem.acquireAsync(); sem.release();`) would wait for ever for a lock its own thread holds.
 * Nothing else of this thread runs during the call, so the word turning to `me` in it is this
 * call's doing (unless it held `me` already: a continuation of this thread that holds it, which
 * this call then waits for).
 */
export function lockAsyncNow(
  w: Int32Array,
  i: number,
  ms: number,
  asyncAt: number,
  me: number,
  onDeadHolder?: OnDeadHolder,
): boolean | Promise<boolean> {
  const before = Atomics.load(w, i);
  if (before === UNLOCKED && Atomics.compareExchange(w, i, UNLOCKED, me) === UNLOCKED) return true;
  if (ms === 0) return false;
  const taking = lockAsync(w, i, ms, asyncAt, me, onDeadHolder);
  if ((before | 1) !== (me | 1) && (Atomics.load(w, i) | 1) === (me | 1)) return true;
  return taking;
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

/**
 * The slow path of the owned mutex (file comment), as contended() for the plain one; with
 * `onDeadHolder`, an internal lock's ("Dead holders").
 */
function* contendedOwned(
  w: Int32Array,
  i: number,
  deadline: number,
  asyncAt: number,
  me: number,
  onDeadHolder?: OnDeadHolder,
  handoffAt = -1,
): Steps<boolean> {
  const how = asyncAt < 0 ? PLAIN : sleepHow({ asyncSleepers: asyncAt });
  // The holder seen at the last look, and when it was first seen holding (Dead holders).
  let holder = 0;
  let since = 0;
  // This waiter's hand-off request, out until its wait ends (file comment, "Hand-off";
  // blocking waits of a thread with duties only, and not while it holds the word itself: a Lock's
  // acquire by its holder, which only another thread's release ends).
  const ask: Ask = { w, i, at: handoffAt, me, out: false };
  let listed = false;
  const mayAsk = handoffAt >= 0 && (Atomics.load(w, i) | 1) !== (me | 1);
  try {
    for (;;) {
      const v = Atomics.load(w, i);
      // This thread's value, not there when it began: a hand-over to it (asked by this wait, or by
      // an outer wait of this thread whose duties run this one: an excepthook that takes the lock
      // its thread waits for), or code of its duties that took the lock and kept it. It has the lock.
      if (mayAsk && (v | 1) === (me | 1)) {
        if (ask.out) withdraw(w, i, handoffAt, me, true);
        return true;
      }
      if (v === UNLOCKED) {
        if (Atomics.compareExchange(w, i, UNLOCKED, me | 1) === UNLOCKED) {
          if (ask.out) withdraw(w, i, handoffAt, me, true);
          return true;
        }
        continue;
      }
      let until = deadline;
      if (onDeadHolder !== undefined) {
        const now = performance.now();
        if ((v | 1) !== holder) {
          holder = v | 1;
          since = now;
        } else if (now - since >= DEAD_CHECK_MS) {
          const dead = ownerIdent(v & ~1);
          if (!identHolds(dead)) {
            if (Atomics.compareExchange(w, i, v, me | 1) !== v) continue;
            if (ask.out) withdraw(w, i, handoffAt, me, true);
            onDeadHolder(dead);
            return true;
          }
          since = now;
        }
        until = Math.min(deadline, since + DEAD_CHECK_MS);
      }
      // (a thread with duties sleeps in slices here, not in the driver: "Hand-off")
      const slice = mayAsk ? sliceMs() : Number.POSITIVE_INFINITY;
      if (slice !== Number.POSITIVE_INFINITY) until = Math.min(until, deadlineOf(slice));
      if ((v & 1) === 0 && Atomics.compareExchange(w, i, v, v | 1) !== v) continue;
      if (expired(deadline)) return ask.out && withdraw(w, i, handoffAt, me, false);
      let r: unknown;
      try {
        r = yield new Sleep(w, i, v | 1, until, how);
      } catch (e) {
        if (ask.out && withdraw(w, i, handoffAt, me, false)) unlockOwned(w, i, handoffAt - 1, true);
        throw e;
      }
      if (r === "timed-out" && slice !== Number.POSITIVE_INFINITY && !expired(deadline)) {
        // Woken by a slice, the lock held: ask for a hand-off (while no other waiter has asked; a
        // claim found there, of a release that died in its hand-over, is dropped first).
        let h = ask.out ? 0 : Atomics.compareExchange(w, handoffAt, 0, me);
        if ((h & 1) !== 0 && dropDeadClaim(w, i, handoffAt, h)) h = Atomics.compareExchange(w, handoffAt, 0, me);
        if (!ask.out && h === 0) {
          ask.out = true;
          if (!listed) {
            asking.push(ask);
            listed = true;
          }
          mutexHooks.asked?.();
        }
      }
    }
  } finally {
    // (withdrawn or handed over by now)
    if (listed) asking.splice(asking.indexOf(ask), 1);
  }
}

/**
 * @internal Test hooks (this thread): `asked()` runs right after a blocked waiter asked for a
 * hand-off; `claimed()` right after a release claimed a hand-off request, before it hands the word over.
 */
export const mutexHooks: { asked?: () => void; claimed?: () => void } = {};

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
  // One exchange frees it and says whether anyone may sleep on it (an unlocked word stays 0).
  // Literals for UNLOCKED (0) and CONTENDED (2): see lock.ts on the bundle's constants.
  const c = Atomics.exchange(w, i, 0);
  if (c === 2) Atomics.notify(w, i, Atomics.load(w, asyncAt) > 0 ? Number.POSITIVE_INFINITY : 1);
  if (deferred.length > 0) flushWakes();
  return c !== 0;
}

/*
 * Deferred wakes ("wait morphing", as pthread condition variables do it in the kernel).
 * Condition.notify() runs with the lock held; waking a waiter at once only makes it run into that
 * lock and sleep again until the notifier releases it: two wake-ups, each tens of microseconds.
 * So notify() marks the waiter NOTIFIED (that part is immediate: a waiter whose time runs out now
 * returns true) and leaves the futex wake here, when the lock is sure to be released by this
 * thread: an RLock (only its owner releases it, and notify() requires the owner), or the internal
 * Lock of a Barrier or Semaphore held by this thread (their own code releases it in the thread
 * that took it). A user's Lock may be released by any thread: its holder may notify and leave the
 * release to another thread, whose release knows nothing of this thread's list (the waiter slept
 * on while the notifier ran on, and for good if the notifier was killed), and a Lock's Condition
 * may be notified while another thread holds it (CPython's); so there notify() wakes at once, in
 * the same straight run as the mark (kFlushOnRelease, owned.ts, says which). The thread delivers
 * its deferred wakes as soon as it releases the Condition's lock (the object notify() marked; a
 * Condition's wait() releases it too), or unlocks any mutex through unlock() or
 * unlockOwned(), before it sleeps in any wait of the library, and at the latest at the end of its
 * current synchronous run (a microtask), so a wake is never held back for long. A deferring thread
 * killed before it delivered leaves its waiters NOTIFIED and asleep, with the lock held by a dead
 * thread: an RLock, which stays held (as in Python: the waiters could not go on anyway), or an
 * internal Lock, whose taker repairs the Condition (Condition kRepair wakes every waiter). (Lock.release and
 * RLock.release free their word with freeOwned() and look only at their own mark: a load of a
 * field of the object in hand, where the look at this thread's list cost ~0.6 ns of the ~18 ns
 * an uncontended acquire+release takes.)
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
