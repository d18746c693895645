/**
 * Semaphore and BoundedSemaphore in shared memory, as Python's: a counter that acquire()
 * decrements, waiting while it is 0, and release(n) increments.
 *
 * State: three Int32 words, plus a Condition (over a Lock) that crosses with it in meta.
 *   [0] VALUE    bits 0-30: the counter (0..MAX_VALUE = 2^30 - 1, above only for an instant, below);
 *                bit 31 (the sign) WAITING: set while WAITERS > 0
 *   [1] WAITERS  threads inside the slow path (registered before they look at VALUE)
 *   [2] BOUND    the initial value of a BoundedSemaphore, -1 for a Semaphore
 * Fast path (no Condition, no lock): acquire CASes VALUE v -> v-1 when its counter is > 0 (first
 * with the value this thread's last acquire found there as the guess, so one CAS when uncontended); release
 * adds n to VALUE (Semaphore: Atomics.add; BoundedSemaphore: a CAS within the bound), which also
 * returns WAITING: only when it was set does release take the Condition's lock and notify n
 * waiters. So an uncontended acquire + release is one CAS and one add.
 * Slow path, as CPython's: under the Condition's lock, WAITERS++ (the first one sets WAITING),
 * then loop { try the CAS; wait on the Condition }, WAITERS-- at the end (the last one clears
 * WAITING); WAITERS and WAITING change only under that lock, so WAITING is set exactly while
 * WAITERS > 0 whenever the lock is free. One generator of steps for acquire() and acquireAsync(),
 * driven by shared/wait.ts.
 * No lost wake-up: every access is a seq-cst atomic, and WAITING lives in the word releases add to.
 * A waiter sets WAITING before it reads VALUE; a release's add returns WAITING. If the add saw it
 * clear, the add came before the waiter's setting it, so the waiter sees the unit. If it saw it set,
 * the releaser takes the lock, which the waiter holds until it is enqueued in the Condition, so the
 * notify reaches it.
 * Overflow: a Semaphore's release(1) adds first and looks after; when the counter was already at
 * MAX_VALUE it subtracts again and raises (a release of more than 1 CASes within the limit). While
 * the counter is above MAX_VALUE no acquire takes from it (it waits), and the subtraction notifies
 * when WAITING is set, so nothing is taken twice and no waiter is left asleep beside a unit.
 * A free unit always wakes a waiter that can take it: release(n) notifies through the Condition's
 * kNotifyUnits(n), which goes past async waiters (whose thread may be blocked and unable to run
 * them) until n blocking waiters are woken, or every thread with async waiters has n (condition.ts).
 * Fairness: blocked waiters are woken oldest first (Condition.notify); a thread arriving at that
 * moment may take a released unit before the woken waiter runs (barging, as in CPython), and the
 * woken waiter then waits again at the back. No unit is ever lost or counted twice.
 * Dying threads. A unit taken by a thread that dies stays taken, as a Lock held by one stays held
 * (Python's rule). But the Condition's lock is internal: a thread killed while it holds it (out of
 * memory or its worker terminated, in the slow path or in a release's notify) would hang every
 * later slow-path acquire and every release that finds WAITING. So a waiter takes it over from the
 * dead holder (mutex.ts, "Dead holders") and #takenOver() repairs: the Condition's lists are rebuilt
 * and every live waiter woken to re-check (condition.ts kRepair), and WAITERS is recounted as the
 * waits of live threads pending in the Condition (each registered waiter has a node there whenever
 * the lock is free), which also drops the registrations of async waiters whose thread ended, and
 * WAITING set to match. A releaser killed after its add and before its notify leaves a unit free
 * beside sleeping waiters that nobody will wake: waiters sleep peeking (condition.ts kWaitSteps with a peek)
 * and leave their wait to re-check once a unit has stayed free for PEEK_MS.
 */
import {
  type AcquireOptions,
  blockArgs,
  call,
  deadlineOf,
  driveAsync,
  driveBlocking,
  expired,
  remaining,
  type Steps,
  type Timeout,
  timeoutMs,
  checkArgCount,
} from "../shared/wait.js";
import { describe } from "../shared/waiting.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { Condition, kNotifyUnits, kRepair, kWaitSteps } from "./condition.js";
import { type Held, holdAsync, holdBlocking } from "./hold.js";
import { Lock } from "./lock.js";
import { kAcquireAsyncNow, kOnDeadHolder } from "./owned.js";

/** @internal Test hooks (this thread): `at(point)` runs with the semaphore's lock held at named points. */
export const semaphoreHooks: { at?: (point: "registered" | "notify") => void } = {};

const VALUE = 0;
const WAITERS = 1;
const BOUND = 2;
const MAX_VALUE = 2 ** 30 - 1;
/** The counter's bits of VALUE. */
const COUNT = 0x7fffffff;
/** VALUE's sign bit: someone waits in the slow path. */
const WAITING = 1 << 31;

// The fast paths below write their constants as literals: the bundle (esbuild) turns a module's
// constants into \`var\`s, and V8 loads those on every use instead of folding them (~1 ns per
// acquire+release, measured in bench/sync.ts).
const kBounded: unique symbol = Symbol("threading.bounded");

function checkCount(value: unknown, what: string, message: string): number {
  if (typeof value !== "number")
    throw new TypeError(`${what} must be a number, not ${value === null ? "null" : typeof value}`);
  if (!Number.isInteger(value)) throw new RangeError(`${what} must be an integer, not ${value}`);
  if (value < 0) throw new RangeError(message);
  if (value > MAX_VALUE) throw new RangeError(`${what} must be at most ${MAX_VALUE}, not ${value}`);
  return value;
}

/**
 * Checks Python's acquire(blocking, timeout) arguments for a semaphore, also given as
 * `{ blocking, timeout }`; returns the timeout in ms (0 for a non-blocking call).
 */
function semaphoreAcquireArgs(what: string, blocking: unknown, timeout: unknown): number {
  [blocking, timeout] = blockArgs(`${what}.acquire()`, "blocking", blocking, timeout);
  const ms = timeoutMs(timeout, `${what}.acquire()`);
  if (blocking) return ms;
  // `undefined`, `null` and `Infinity` all mean forever, the only timeout a non-blocking call may name.
  if (ms !== Number.POSITIVE_INFINITY) {
    throw new RangeError(`${what}.acquire(): can't specify timeout for non-blocking acquire`);
  }
  return 0;
}

/**
 * A counting semaphore, as Python's `threading.Semaphore`: `acquire()` takes one unit, waiting
 * while none is left; `release(n)` gives n back. Shared by every thread it is passed to.
 */
export class Semaphore {
  readonly #w: Int32Array;
  readonly #id: number;
  readonly #cond: Condition;
  readonly #what: string;
  /** BOUND, which never changes. */
  readonly #bound: number;
  /**
   * What this thread expects VALUE to be at its next acquire (a counter of 1..MAX_VALUE): a CAS's
   * guess, the value its last acquire found (a BoundedSemaphore's release guesses one less).
   */
  #guess = 1;

  /** `value` (default 1): the initial count. RangeError when negative. */
  constructor(value = 1) {
    const bounded = (new.target as unknown as Record<symbol, unknown>)[kBounded] === true;
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount(bounded ? "BoundedSemaphore" : "Semaphore", arguments.length, 1);
    const record = adoptedRecord();
    this.#what = bounded ? "BoundedSemaphore" : "Semaphore";
    if (record) {
      this.#w = new Int32Array(record.buffers[0] as SharedArrayBuffer);
      this.#id = record.id;
      this.#cond = (record.meta as { cond: Condition }).cond;
      this.#bound = this.#w[BOUND] as number;
      this.#describe();
      this.#internalLock();
      return;
    }
    checkCount(value, `${this.#what}: value`, "semaphore initial value must be >= 0");
    this.#w = new Int32Array(new SharedArrayBuffer(3 * 4));
    this.#w[VALUE] = value;
    this.#w[BOUND] = this.#bound = bounded ? value : -1;
    if (value > 0) this.#guess = value;
    this.#id = newObjectId();
    this.#cond = new Condition(new Lock());
    this.#describe();
    this.#internalLock();
  }

  /** The Condition's lock is this semaphore's own: a waiter takes it over from a dead holder (file comment). */
  #internalLock(): void {
    const lock = (this.#cond[kShare]().meta as { lock: Lock }).lock;
    lock[kOnDeadHolder](() => this.#takenOver());
  }

  /** The lock was taken over from a thread that died holding it (lock held; file comment). */
  #takenOver(): void {
    const w = this.#w;
    const pending = this.#cond[kRepair]();
    Atomics.store(w, WAITERS, pending);
    if (pending > 0) Atomics.or(w, VALUE, WAITING);
    else Atomics.and(w, VALUE, COUNT);
  }

  /** A unit is free (peeked at by sleeping waiters: the file comment). */
  readonly #free = (): boolean => {
    const c = Atomics.load(this.#w, VALUE) & COUNT;
    return c > 0 && c <= MAX_VALUE;
  };

  /** Waits on its Condition are reported as waits on the Semaphore (hang report). */
  #describe(): void {
    describe(this.#cond[kShare]().buffers[0] as SharedArrayBuffer, this.#what as "Semaphore", this.#id);
  }

  /** One CAS loop: takes a unit if there is one (a counter above MAX_VALUE is an overflow being undone: not taken). */
  #take(): boolean {
    const w = this.#w;
    const guess = this.#guess;
    let v = Atomics.compareExchange(w, 0 /* VALUE */, guess, guess - 1);
    if (v === guess) return true;
    for (;;) {
      const c = v & 0x7fffffff; // COUNT
      if (c === 0 || c > MAX_VALUE) return false;
      const seen = Atomics.compareExchange(w, VALUE, v, v - 1);
      if (seen === v) {
        this.#guess = v;
        return true;
      }
      v = seen;
    }
  }

  /**
   * Takes one unit. With `blocking` (default) waits while there is none, at most `timeout` seconds
   * (default forever). Returns true when taken, false when not (non-blocking or timed out).
   */
  acquire(blocking?: boolean, timeout?: number | null): boolean;
  acquire(options: AcquireOptions): boolean;
  acquire(blocking: boolean | AcquireOptions = true, timeout?: number | null): boolean {
    // The uncontended fast path: one CAS, before any argument parsing it does not need.
    if (timeout === undefined && (blocking === true || blocking === false) && this.#take()) return true;
    return driveBlocking(this.#acquire(semaphoreAcquireArgs(this.#what, blocking, timeout), 0));
  }

  /** The async twin of `acquire()`: resolves true once a unit is taken, false if `timeout` seconds pass first. */
  async acquireAsync(timeout?: Timeout): Promise<boolean> {
    const ms = timeoutMs(timeout, `${this.#what}.acquireAsync()`);
    if (this.#take()) return true;
    return driveAsync(this.#acquire(ms, 1));
  }

  /**
   * The slow path of both (shared/wait.ts drives it), as CPython's: under the Condition's lock,
   * WAITERS++, then loop { take a unit; wait on the Condition }, WAITERS-- at the end.
   * The lock is taken in the driver's form: blocking, forever; async, synchronously when it is
   * free (an `await` would hold it until this thread's next microtask checkpoint, and the caller
   * may block first, e.g. in a join() of a thread that needs this semaphore, which would keep
   * every other thread out, or in a release() of its own; kAcquireAsyncNow also answers so when
   * the lock freed up just as it looked) and else within the timeout (then one last try for a unit).
   */
  *#acquire(ms: number, isAsync: 0 | 1): Steps<boolean> {
    const w = this.#w;
    const cond = this.#cond;
    const deadline = deadlineOf(ms);
    const locked = yield* call(
      () => cond.acquire(),
      () => cond[kAcquireAsyncNow](ms),
    );
    if (!locked) return this.#take();
    if (Atomics.add(w, WAITERS, 1) === 0) Atomics.or(w, VALUE, WAITING);
    try {
      semaphoreHooks.at?.("registered");
      for (;;) {
        if (this.#take()) return true;
        if (expired(deadline)) return false;
        const left = remaining(deadline);
        // (the Condition's steps, driven by this call's driver: see kWaitSteps)
        yield* cond[kWaitSteps](left, isAsync, this.#free);
      }
    } finally {
      if (Atomics.sub(w, WAITERS, 1) === 1) Atomics.and(w, VALUE, COUNT);
      cond.release();
    }
  }

  /**
   * Gives back `n` units (default 1), waking up to `n` waiting threads. For a BoundedSemaphore,
   * RangeError("Semaphore released too many times") when that would exceed the initial value.
   */
  release(n = 1): void {
    if (n !== 1) {
      if (typeof n !== "number")
        throw new TypeError(`${this.#what}.release(): n must be a number, not ${n === null ? "null" : typeof n}`);
      if (n < 1) throw new RangeError("n must be one or more"); // Python's words
      if (!Number.isInteger(n)) throw new RangeError(`${this.#what}.release(): n must be an integer, not ${n}`);
    }
    const w = this.#w;
    const bound = this.#bound;
    let v: number;
    if (bound < 0 && n === 1) {
      v = Atomics.add(w, 0 /* VALUE */, 1);
      if ((v & 0x7fffffff) >= 0x3fffffff) this.#undo(v); // COUNT, MAX_VALUE
    } else {
      const limit = bound < 0 ? MAX_VALUE : bound;
      // First try what VALUE holds after this thread's last acquire if nothing else happened since;
      // only a counter read from VALUE itself may be refused.
      v = this.#guess - 1;
      if ((v & COUNT) + n > limit) v = Atomics.load(w, VALUE);
      for (;;) {
        if ((v & COUNT) + n > limit) {
          if (bound >= 0) throw new RangeError("Semaphore released too many times");
          throw new RangeError(`${this.#what}.release(): value would exceed ${MAX_VALUE}`);
        }
        const seen = Atomics.compareExchange(w, VALUE, v, v + n);
        if (seen === v) break;
        v = seen;
      }
    }
    // (#guess is left as the last acquire found it: in a loop of acquire + release it holds again
    // after the release, and a store of it here cost the pair a fifth of its time, 1.25x -> 1.06x
    // the bare CAS + store.)
    if (v < 0) this.#notify(n);
  }

  /** release(1) found the counter at MAX_VALUE (`v`) and added 1: takes it back and raises (file comment). */
  #undo(v: number): never {
    if (Atomics.sub(this.#w, VALUE, 1) < 0 || v < 0) this.#notify(1);
    throw new RangeError(`${this.#what}.release(): value would exceed ${MAX_VALUE}`);
  }

  /** Wakes up to `n` waiters in the slow path, under the Condition's lock. */
  #notify(n: number): void {
    const cond = this.#cond;
    cond.acquire();
    try {
      semaphoreHooks.at?.("notify");
      cond[kNotifyUnits](n);
    } finally {
      cond.release();
    }
  }

  /** Takes a unit for `using _ = sem.hold()` (TimeoutError if `timeout` seconds pass first). */
  hold(timeout?: Timeout): Held {
    return holdBlocking(this, this.#what, timeout);
  }

  /** The async twin of `hold()`. */
  holdAsync(timeout?: Timeout): Promise<Held> {
    return holdAsync(this, this.#what, timeout);
  }

  /** @internal */
  [kShare](): ShareRecord {
    return {
      kind: this.#what,
      id: this.#id,
      buffers: [this.#w.buffer as SharedArrayBuffer],
      meta: { cond: this.#cond },
    };
  }

  get [Symbol.toStringTag](): string {
    const w = this.#w;
    const v = Atomics.load(w, VALUE) & COUNT;
    return w[BOUND] === -1 ? `Semaphore value=${v}` : `BoundedSemaphore value=${v}/${w[BOUND]}`;
  }

  static {
    registerKind("Semaphore", (record) => revive(Semaphore, record));
  }
}

/**
 * A semaphore that refuses to be released above its initial value, as Python's
 * `threading.BoundedSemaphore`: RangeError("Semaphore released too many times").
 */
export class BoundedSemaphore extends Semaphore {
  /** @internal Makes the Semaphore constructor record the bound. */
  static readonly [kBounded] = true;

  static {
    registerKind("BoundedSemaphore", (record) => revive(BoundedSemaphore, record));
  }
}
