/**
 * Condition: a condition variable in shared memory, as Python's `threading.Condition`, over a
 * `Lock` or `RLock` that crosses threads with it (in the ShareRecord's meta).
 *
 * CPython gives each waiter a fresh lock in a list. Shared memory cannot be allocated on the fly,
 * so the waiters are nodes of a fixed-capacity pool in the Condition's own growable
 * SharedArrayBuffer, linked in a FIFO list. Words (Int32):
 *   [0] HEAD   first node of the wait list (0 = empty; nodes are numbered from 1)
 *   [1] TAIL   last node of the wait list
 *   [2] FREE   first node of the free list (linked through NEXT)
 *   [3] FRESH  nodes ever handed out (the pool grows up to CAPACITY, doubling the buffer)
 *   node n: [STATE, IDENT, SLOT, NEXT, ASYNC]  ident and thread-table slot of the waiter, next
 *           node, 1 when the waiter is an async one (waitAsync) and 0 when it blocks its thread.
 * Node states:
 *   FREE       on the free list
 *   WAITING    in the wait list; its waiter sleeps on STATE
 *   NOTIFIED   taken off the list by notify(); its waiter will return true
 *   CANCELLED  its waiter gave up (timeout), still in the list
 *   ABANDONED  cancelled, and already taken off the list by notify()
 * Invariants: HEAD/TAIL/FREE/FRESH, NEXT, IDENT/SLOT and every state change except one are made
 * under the condition's lock. The one exception is the waiter's own WAITING -> CANCELLED when its
 * time runs out, which it makes with a CAS before re-taking the lock; notify() moves a node
 * WAITING -> NOTIFIED with a CAS too, so exactly one of them wins: a notify that races a timeout
 * either counts that waiter (which then returns true, so notify(n) wakes exactly min(n, waiting))
 * or skips it and goes on to the next. The waiter frees its node only after it has re-taken the
 * lock and read its state.
 * No lost wake-ups: a waiter enqueues its node before it releases the lock, and sleeps with
 * Atomics.wait(STATE, WAITING), which returns at once if notify() already changed the state. The
 * futex wake of a NOTIFIED node is made at once, in the same straight run as the CAS, unless the
 * notifier's own release of the lock is sure to deliver it (an RLock; a Barrier's or Semaphore's
 * internal Lock: mutex.ts, "Deferred wakes"), never left to a release by another thread (a user's
 * Lock), which would not know of it. Dead notifiers: one killed between its mark and its deferred
 * wake leaves the lock held by a dead thread (an RLock stays so; an internal lock's taker repairs,
 * below, waking every waiter).
 * Dead waiters: notify() checks each node's thread with slotHolds(); the node of a thread that
 * has ended is dropped and freed, never counted, so it cannot swallow a notification. When the
 * pool is full, nodes of ended threads are reclaimed before a RuntimeError is thrown. A node names
 * its waiter by lockOwner (shared/runtime.ts): code a thread left running after it ended (a
 * callback its reused worker runs) waits under that thread's ident and slot, which hold while the
 * worker runs (SLOT_LINGER); before, it waited as ident 0 / slot -1 (or as its ended thread), which
 * notify() took for a dead waiter: the notification skipped it and its node was freed under it.
 * A dead lock holder (the internal lock of a Barrier or Semaphore, taken over by a waiter: mutex.ts,
 * "Dead holders") may have died half-way through a change of the lists. The waiter that took the
 * lock over calls kRepair: it rebuilds both lists from the node states (a scan of every node):
 * nodes FREE or of ended threads go to the free list; every WAITING node of a live thread is
 * notified (a spurious wake-up for its waiter, which re-checks its predicate), and every node of a
 * live thread is woken at once (a NOTIFIED one's deferred wake may have died with the holder); the wait list is
 * then empty (NOTIFIED, CANCELLED and ABANDONED nodes are their waiters' to free, and #unlink of a
 * node not listed does nothing). It returns the waits of live threads pending on the Condition.
 * Peeking waits (kWaitSteps with a `peek`, Semaphore's): a waiter whose wake-up could die with the thread that
 * owed it (a releaser killed between adding its unit and notifying) looks at `peek()` (is a unit
 * free?) every PEEK_MS while it sleeps, staying in its place in the list; once it is true it leaves
 * as on a timeout (wait() returns false) and its caller re-checks under the lock.
 * Capacity: the buffer is reserved for CONDITION_CAPACITY (262,144) pending waits and committed as
 * it grows (doubling); blocking waits are at most one per thread (4096), so only async waits can
 * come near it, and that many pending promises is more than a default heap holds.
 *
 * Async waiters and resources (issue 9, item 5). notify(n) is Python's: the n oldest waiters,
 * async ones included (a notified async waiter returns true once its thread's loop turns; the
 * notification is its). But Semaphore hands out units through its Condition, and a unit must not
 * sit free while a waiter that could take it sleeps: an async waiter's thread may be blocked (even
 * in a join() of the thread whose acquire() waits). So Semaphore notifies with kNotifyUnits(n):
 * the n oldest waiters as notify(n), and then on through the list until n blocking waiters (which
 * surely run) are among the notified, notifying async waiters on the way only while their thread
 * has fewer than n notified. Then for each unit either a blocking waiter is woken or every thread
 * with async waiters has enough woken ones that its loop, if it turns, takes the unit; extra
 * wakers re-check and wait again. Cost: at most n per thread plus n more wakes per release.
 */
import { RuntimeError } from "../errors.js";
import { lockOwner, slotHolds } from "../shared/runtime.js";
import {
  type AcquireOptions,
  call,
  deadlineOf,
  driveAsync,
  driveBlocking,
  expired,
  remaining,
  type Steps,
  park,
  sleepHow,
  type Timeout,
  timeoutMs,
  checkArgCount,
} from "../shared/wait.js";
import { thenable } from "../shared/thenable.js";
import { describe } from "../shared/waiting.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { type Held, holdAsync, holdBlocking } from "./hold.js";
import { acquireArgs, type Lock } from "./lock.js";
import {
  type ConditionLock,
  kAcquireAsyncNow,
  kAcquireRestore,
  kAcquireRestoreAsync,
  kFlushOnRelease,
  kIsOwned,
  kReleaseSave,
} from "./owned.js";
import { deferWake, SPIN_MS } from "./mutex.js";
import { RLock } from "./rlock.js";

const HEAD = 0;
const TAIL = 1;
const FREE_LIST = 2;
const FRESH = 3;
const HEADER = 4;
const NODE = 5;
const STATE = 0;
const IDENT = 1;
const SLOT = 2;
const NEXT = 3;
const ASYNC = 4;

const FREE = 0;
const WAITING = 1;
const NOTIFIED = 2;
const CANCELLED = 3;
const ABANDONED = 4;

/** How many waits may be pending on one Condition at once, process-wide (see the file comment). */
export const CONDITION_CAPACITY = 2 ** 18;
const INITIAL_NODES = 8;
const bytesFor = (nodes: number) => (HEADER + nodes * NODE) * 4;

/** A blocking waiter watches its node's STATE for SPIN_MS before it sleeps (a notify often comes that soon). */
const SPIN_FIRST = sleepHow({ spinMs: SPIN_MS });

/** @internal Test hooks (this thread): `marked()` runs in notify() between a waiter's mark (NOTIFIED) and its wake. */
export const conditionHooks: { marked?: () => void } = {};

/** @internal Semaphore's notify (see the file comment): n units, so n waiters that can run. */
export const kNotifyUnits: unique symbol = Symbol("threading.notifyUnits");
/** @internal The repair after the lock was taken over from a dead holder (see the file comment). */
export const kRepair: unique symbol = Symbol("threading.conditionRepair");
/**
 * @internal `cond[kWaitSteps](ms, isAsync, peek?)`: the steps of wait() (and of a peeking wait),
 * for a primitive built on this Condition to `yield*` from its own steps, so that its driver drives
 * them: a nested waitAsync() would answer with a promise even when it ended at once, and the
 * primitive would hold the lock through a microtask turn while its thread's code runs on.
 */
export const kWaitSteps: unique symbol = Symbol("threading.waitSteps");
/** @internal `cond[kWaitForSteps](predicate, ms, isAsync)`: the steps of waitFor(), as kWaitSteps. */
export const kWaitForSteps: unique symbol = Symbol("threading.waitForSteps");
/** How often (ms) a peeking waiter (kWaitSteps) looks at its `peek()`. */
const PEEK_MS = 1000;

/**
 * `predicate()`, which must answer synchronously: a promise (an async predicate) is always truthy,
 * so waitFor would return it at once whatever it resolves to. That is a TypeError (the promise's
 * own outcome is dropped); as any error of the predicate, it leaves the lock held.
 */
function evaluatePredicate<T>(predicate: () => T, what: string): T {
  const result = predicate();
  if (thenable(result)) {
    result.then(undefined, () => {});
    throw new TypeError(
      `${what}: the predicate returned a promise; it must return its answer synchronously (it runs with the lock held)`,
    );
  }
  return result;
}

/** TypeError naming the call unless `predicate` is a function (CPython: "'int' object is not callable"). */
function checkPredicate(predicate: unknown, what: string): void {
  if (typeof predicate !== "function") {
    throw new TypeError(`${what}: predicate must be a function, not ${predicate === null ? "null" : typeof predicate}`);
  }
}

/**
 * A condition variable, as Python's `threading.Condition`: threads wait (releasing the lock) until
 * another thread notifies them. Shared by every thread it is passed to, with its lock.
 */
export class Condition {
  readonly #w: Int32Array;
  readonly #id: number;
  readonly #lock: ConditionLock;

  /** `lock`: the Lock or RLock to use (default: a new RLock). */
  constructor(lock?: Lock | RLock) {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("Condition", arguments.length, 1);
    const record = adoptedRecord();
    if (record) {
      this.#w = new Int32Array(record.buffers[0] as SharedArrayBuffer);
      this.#id = record.id;
      this.#lock = (record.meta as { lock: ConditionLock }).lock;
      describe(this.#w.buffer, "Condition", this.#id);
      return;
    }
    if (lock === undefined || lock === null) lock = new RLock();
    if (typeof (lock as Partial<ConditionLock>)[kIsOwned] !== "function") {
      throw new TypeError("Condition: lock must be a Lock or an RLock");
    }
    this.#lock = lock as unknown as ConditionLock;
    this.#w = new Int32Array(
      new SharedArrayBuffer(bytesFor(INITIAL_NODES), { maxByteLength: bytesFor(CONDITION_CAPACITY) }),
    );
    this.#id = newObjectId();
    describe(this.#w.buffer, "Condition", this.#id);
  }

  /**
   * Acquires the underlying lock (its `acquire(blocking, timeout)`, also as
   * `acquire({ blocking, timeout })`).
   */
  acquire(blocking?: boolean, timeout?: number | null): boolean;
  acquire(options: AcquireOptions): boolean;
  acquire(blocking: boolean | AcquireOptions = true, timeout: number | null = -1): boolean {
    // Arguments other than the plain ones are checked here first, so that an error names the
    // Condition the caller used rather than its lock.
    if (timeout !== -1 || (blocking !== true && blocking !== false)) acquireArgs("Condition", blocking, timeout);
    return this.#lock.acquire(blocking as boolean, timeout);
  }

  /** Acquires the underlying lock without blocking the event loop. */
  acquireAsync(timeout?: Timeout): Promise<boolean> {
    if (timeout !== undefined) {
      try {
        timeoutMs(timeout, "Condition.acquireAsync()");
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#lock.acquireAsync(timeout);
  }

  /**
   * @internal acquireAsync() for a primitive built on this Condition (Barrier, Semaphore) before
   * it goes on: `true` itself when the lock was taken at once (owned.ts kAcquireAsyncNow), so the
   * caller goes on in the same turn instead of holding the lock through a microtask turn while this
   * thread's code runs on. `ms`: the timeout (Infinity = forever).
   */
  [kAcquireAsyncNow](ms: number): boolean | Promise<boolean> {
    const lock = this.#lock as ConditionLock & { [kAcquireAsyncNow]?: (ms: number) => boolean | Promise<boolean> };
    if (lock[kAcquireAsyncNow]) return lock[kAcquireAsyncNow](ms);
    return lock.acquire(false) || lock.acquireAsync(ms === Number.POSITIVE_INFINITY ? undefined : ms / 1000);
  }

  /** Releases the underlying lock. */
  release(): void {
    this.#lock.release();
  }

  /** Acquires the lock for `using _ = cond.hold()` (TimeoutError if `timeout` seconds pass first). */
  hold(timeout?: Timeout): Held {
    return holdBlocking(this, "Condition", timeout);
  }

  /** The async twin of `hold()`. */
  holdAsync(timeout?: Timeout): Promise<Held> {
    return holdAsync(this, "Condition", timeout);
  }

  /**
   * Releases the lock, waits until notified or `timeout` seconds pass (default forever), and
   * re-acquires the lock (to the same RLock level). Returns true when notified, false on timeout.
   * RuntimeError("cannot wait on un-acquired lock") when the caller does not hold the lock.
   */
  wait(timeout?: Timeout): boolean {
    return driveBlocking(this.#wait(timeoutMs(timeout, "Condition.wait()"), 0));
  }

  /**
   * @internal The steps of wait() (`ms`: the timeout, Infinity = forever), to `yield*` (kWaitSteps);
   * with `peek`, a peeking wait: it also ends (not notified) once `peek()` is true, looked at every
   * PEEK_MS (see the file comment).
   */
  [kWaitSteps](ms: number, isAsync: 0 | 1, peek?: () => boolean): Steps<boolean> {
    return this.#wait(ms, isAsync, peek);
  }

  /** @internal The steps of waitFor() (`ms`: the timeout, Infinity = forever), to `yield*` (kWaitSteps). */
  [kWaitForSteps]<T>(predicate: () => T, ms: number, isAsync: 0 | 1): Steps<T> {
    return this.#waitFor(predicate, deadlineOf(ms), isAsync);
  }

  /** The async twin of `wait()`: never blocks the event loop; rejects where wait() would throw. */
  async waitAsync(timeout?: Timeout): Promise<boolean> {
    return driveAsync(this.#wait(timeoutMs(timeout, "Condition.waitAsync()"), 1));
  }

  /**
   * The steps of wait() and waitAsync() (shared/wait.ts drives them): enqueue a node (lock held),
   * release the lock, sleep on the node's STATE while it is WAITING (a blocking waiter spins
   * first), then cancel it if still WAITING, re-take the lock (in the driver's form: the async
   * one stands in its thread's line, sync/mutex.ts, and goes on in the same turn when it takes the
   * lock at once, owned.ts kAcquireRestoreAsync: a waitAsync() notified before it slept must not
   * return a promise while the lock is held for its continuation) and read the outcome.
   */
  *#wait(ms: number, isAsync: 0 | 1, peek?: () => boolean): Steps<boolean> {
    const lock = this.#lock;
    if (!lock[kIsOwned]()) throw new RuntimeError("cannot wait on un-acquired lock");
    const node = this.#enqueue(isAsync);
    const saved = lock[kReleaseSave]();
    const w = this.#w;
    const at = index(node, STATE);
    let notified = false;
    try {
      const deadline = deadlineOf(ms);
      while (Atomics.load(w, at) === WAITING && !expired(deadline)) {
        if (peek === undefined) {
          yield* park(w, at, WAITING, deadline, SPIN_FIRST);
          continue;
        }
        const slice = Math.min(deadline, deadlineOf(PEEK_MS));
        if ((yield* park(w, at, WAITING, slice, SPIN_FIRST)) === "timed-out" && peek()) break;
      }
    } finally {
      Atomics.compareExchange(w, at, WAITING, CANCELLED);
      yield* call(
        () => lock[kAcquireRestore](saved),
        () => lock[kAcquireRestoreAsync](saved),
      );
      // (here, not after the finally: a wait that ends in an exception thrown into it, a duty
      // run while it slept, gives its node back too)
      notified = this.#leave(node);
    }
    return notified;
  }

  /**
   * Waits until `predicate()` is truthy, at most `timeout` seconds in all; returns the last value
   * of `predicate()` (falsy on timeout). The caller must hold the lock.
   */
  waitFor<T>(predicate: () => T, timeout?: Timeout): T {
    checkPredicate(predicate, "Condition.waitFor()");
    return driveBlocking(this.#waitFor(predicate, deadlineOf(timeoutMs(timeout, "Condition.waitFor()")), 0));
  }

  /** The async twin of `waitFor()` (the predicate itself is synchronous). */
  async waitForAsync<T>(predicate: () => T, timeout?: Timeout): Promise<T> {
    checkPredicate(predicate, "Condition.waitForAsync()");
    return driveAsync(this.#waitFor(predicate, deadlineOf(timeoutMs(timeout, "Condition.waitForAsync()")), 1));
  }

  *#waitFor<T>(predicate: () => T, deadline: number, isAsync: 0 | 1): Steps<T> {
    const what = isAsync ? "Condition.waitForAsync()" : "Condition.waitFor()";
    let result = evaluatePredicate(predicate, what);
    while (!result && !expired(deadline)) {
      yield* this.#wait(remaining(deadline), isAsync);
      result = evaluatePredicate(predicate, what);
    }
    return result;
  }

  /**
   * Wakes the `n` (default 1) longest-waiting threads, or all if fewer wait; a waiter whose thread
   * has ended is skipped. RuntimeError("cannot notify on un-acquired lock") without the lock;
   * TypeError when `n` is not a number, RangeError when it is negative or not an integer
   * (Python's ValueError).
   */
  notify(n = 1): void {
    if (typeof n !== "number")
      throw new TypeError(`Condition.notify(): n must be a number, not ${n === null ? "null" : typeof n}`);
    if (!(n >= 0) || (!Number.isInteger(n) && n !== Number.POSITIVE_INFINITY)) {
      throw new RangeError(`Condition.notify(): n must be an integer >= 0, not ${n}`);
    }
    if (!this.#lock[kIsOwned]()) throw new RuntimeError("cannot notify on un-acquired lock");
    this.#notify(n, false);
  }

  /** @internal Semaphore's notify for `n` released units (see the file comment); the lock is held. */
  [kNotifyUnits](n: number): void {
    this.#notify(n, true);
  }

  /**
   * Takes waiters off the list, oldest first, and marks them NOTIFIED: the first `n`, and with
   * `units` on until `n` blocking ones are among them, async ones on the way only while their
   * thread has fewer than `n` notified (skipped ones stay listed, in order).
   */
  #notify(n: number, units: boolean): void {
    const w = this.#w;
    let woken = 0;
    let blocking = 0;
    let perThread: Map<number, number> | undefined;
    let prev = 0;
    let node = w[HEAD] as number;
    // Whether the wakes may wait for this thread's release of the lock (asked once, before the first mark).
    let defer: boolean | undefined;
    while (node !== 0 && (woken < n || (units && blocking < n))) {
      const next = w[index(node, NEXT)] as number;
      const isAsync = w[index(node, ASYNC)] === 1;
      const slot = w[index(node, SLOT)] as number;
      if (woken >= n && isAsync) {
        // Past the first n (units only): an async waiter only while its thread has fewer than n.
        perThread ??= new Map();
        if ((perThread.get(slot) ?? 0) >= n) {
          prev = node;
          node = next;
          continue;
        }
      }
      // Unlink `node` (prev stays).
      if (prev === 0) w[HEAD] = next;
      else w[index(prev, NEXT)] = next;
      if (w[TAIL] === node) w[TAIL] = prev;
      const at = index(node, STATE);
      if (!slotHolds(slot, w[index(node, IDENT)] as number)) {
        // Its thread has ended: nobody will come back for this node.
        Atomics.store(w, at, FREE);
        this.#free(node);
        node = next;
        continue;
      }
      defer ??= this.#lock[kFlushOnRelease]();
      if (Atomics.compareExchange(w, at, WAITING, NOTIFIED) === WAITING) {
        conditionHooks.marked?.();
        // (at once, in the same straight run as the mark, unless this thread's release will)
        if (defer)
          deferWake(w, at); // delivered when this thread releases the lock (sync/mutex.ts)
        else Atomics.notify(w, at);
        woken++;
        if (!isAsync) blocking++;
        else if (units) {
          perThread ??= new Map();
          perThread.set(slot, (perThread.get(slot) ?? 0) + 1);
        }
      } else {
        Atomics.store(w, at, ABANDONED); // it timed out first; its waiter frees the node
      }
      node = next;
    }
  }

  /**
   * @internal After a take-over of the lock from a dead holder (lock held): rebuilds the lists from
   * the node states and notifies every live waiter (see the file comment). Returns the waits of
   * live threads still pending here (each has a node until it has re-taken the lock and left).
   */
  [kRepair](): number {
    const w = this.#w;
    const fresh = w[FRESH] as number;
    let pending = 0;
    w[HEAD] = 0;
    w[TAIL] = 0;
    w[FREE_LIST] = 0;
    for (let n = fresh; n >= 1; n--) {
      const at = index(n, STATE);
      const state = Atomics.load(w, at);
      if (state !== FREE && slotHolds(w[index(n, SLOT)] as number, w[index(n, IDENT)] as number)) {
        pending++;
        // A NOTIFIED node's wake may have been deferred by the dead holder and died with it: every
        // live waiter is woken, at once (a spare wake for one already awake costs nothing).
        if (state === WAITING) Atomics.compareExchange(w, at, WAITING, NOTIFIED);
        Atomics.notify(w, at);
        continue;
      }
      Atomics.store(w, at, FREE);
      this.#free(n);
    }
    return pending;
  }

  /** Wakes every waiting thread. */
  notifyAll(): void {
    this.notify(Number.POSITIVE_INFINITY);
  }

  /** Deprecated alias of notifyAll(), as Python's `notify_all`/`notifyAll`. */
  notify_all(): void {
    this.notifyAll();
  }

  /** Takes a node, fills it in for this thread and appends it to the wait list (lock held). */
  #enqueue(isAsync: 0 | 1): number {
    const w = this.#w;
    let node = w[FREE_LIST] as number;
    if (node !== 0) {
      w[FREE_LIST] = w[index(node, NEXT)] as number;
    } else if ((w[FRESH] as number) < CONDITION_CAPACITY) {
      node = (w[FRESH] as number) + 1;
      const need = bytesFor(node);
      const sab = w.buffer as SharedArrayBuffer;
      if (sab.byteLength < need) sab.grow(Math.min(bytesFor(CONDITION_CAPACITY), Math.max(need, sab.byteLength * 2)));
      w[FRESH] = node;
    } else {
      node = this.#reclaim();
    }
    w[index(node, IDENT)] = lockOwner.ident;
    w[index(node, SLOT)] = lockOwner.slot;
    w[index(node, NEXT)] = 0;
    w[index(node, ASYNC)] = isAsync;
    Atomics.store(w, index(node, STATE), WAITING);
    const tail = w[TAIL] as number;
    if (tail === 0) w[HEAD] = node;
    else w[index(tail, NEXT)] = node;
    w[TAIL] = node;
    return node;
  }

  /** After re-taking the lock: reads the outcome, unlinks the node if still listed, frees it. */
  #leave(node: number): boolean {
    const w = this.#w;
    const state = Atomics.load(w, index(node, STATE));
    if (state === CANCELLED) this.#unlink(node);
    Atomics.store(w, index(node, STATE), FREE);
    this.#free(node);
    return state === NOTIFIED;
  }

  #free(node: number): void {
    const w = this.#w;
    w[index(node, NEXT)] = w[FREE_LIST] as number;
    w[FREE_LIST] = node;
  }

  /** Removes `node` from the wait list (O(waiters), as CPython's `_waiters.remove`). */
  #unlink(node: number): void {
    const w = this.#w;
    let prev = 0;
    let cur = w[HEAD] as number;
    while (cur !== 0 && cur !== node) {
      prev = cur;
      cur = w[index(cur, NEXT)] as number;
    }
    if (cur === 0) return;
    const next = w[index(node, NEXT)] as number;
    if (prev === 0) w[HEAD] = next;
    else w[index(prev, NEXT)] = next;
    if (w[TAIL] === node) w[TAIL] = prev;
  }

  /** The pool is full: frees the nodes of ended threads and returns one, or throws. */
  #reclaim(): number {
    const w = this.#w;
    const dead = (n: number) => !slotHolds(w[index(n, SLOT)] as number, w[index(n, IDENT)] as number);
    for (let n = 1; n <= (w[FRESH] as number); n++) {
      const state = Atomics.load(w, index(n, STATE));
      if (state === FREE || !dead(n)) continue;
      if (state === WAITING || state === CANCELLED) this.#unlink(n);
      Atomics.store(w, index(n, STATE), FREE);
      this.#free(n);
    }
    const node = w[FREE_LIST] as number;
    if (node === 0) {
      throw new RuntimeError(
        `Condition: more than ${CONDITION_CAPACITY} waits pending at once on one Condition (or on the Semaphore or Barrier built on it)`,
      );
    }
    w[FREE_LIST] = w[index(node, NEXT)] as number;
    return node;
  }

  /** @internal */
  [kShare](): ShareRecord {
    return {
      kind: "Condition",
      id: this.#id,
      buffers: [this.#w.buffer as SharedArrayBuffer],
      meta: { lock: this.#lock },
    };
  }

  get [Symbol.toStringTag](): string {
    return `Condition(${Object.prototype.toString.call(this.#lock).slice(8, -1)})`;
  }

  static {
    registerKind("Condition", (record) => revive(Condition, record));
  }
}

function index(node: number, word: number): number {
  return HEADER + (node - 1) * NODE + word;
}
