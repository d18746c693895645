/**
 * Lock: a mutual-exclusion lock in shared memory, not owned by any thread (any thread may release).
 *
 * State: three Int32 words.
 *   [0] STATE  the owned mutex of mutex.ts: 0 UNLOCKED, or `holder | waiters`, where holder is the
 *              ownerValue() (`(ident + 1) << 1`) of the thread that acquired it and the low bit says
 *              someone may sleep on the word; its transitions and invariants are written there.
 *              The holder is for the hang report (threads/dump.ts) and nothing else: any thread may
 *              release the lock, and that release frees the word whoever took it.
 *   [1] ASYNC  async waiters that may be parked on [0] (mutex.ts): a free lock always wakes a
 *              waiter that can run it; while async waiters are pending a contended release wakes
 *              every waiter, since an async waiter of a thread that is blocked cannot take it.
 *   [2] HANDOFF 0, or the ownerValue() of a blocked waiter of a thread with duties (an excepthook's
 *              owner, which wakes every 50 ms and so loses its place in the line of waiters) that
 *              asks a release to hand the lock over to it (mutex.ts, "Hand-off"); odd (the
 *              releasing thread's ownerValue() | 1) while a release is handing it over. A dead
 *              asker's request is dropped by the next release, a dead releaser's claim by the asker.
 * Uncontended acquire + release: one CAS (which records the holder too) and one exchange (which
 * also says whether anyone waits). Lock adds Python's argument rules and errors: release of an
 * unlocked lock is RuntimeError("release unlocked lock").
 * A waiter that times out (or whose thread dies) leaves at most a stale waiters bit, which costs one
 * extra notify and nothing else; a lock held by a thread that dies stays held, as in Python. Except
 * the internal lock of a Barrier or Semaphore (kOnDeadHolder, set in each thread by its owner): its
 * waiters take it over from a dead holder and let the owner repair itself (mutex.ts, "Dead holders").
 */
import { RuntimeError } from "../errors.js";
import { type AcquireOptions, blockArgs, type Timeout, timeoutMs, checkArgCount } from "../shared/wait.js";
import { lockOwner } from "../shared/runtime.js";
import { describe } from "../shared/waiting.js";
import { kShare, newObjectId, type ShareRecord, adoptedRecord, registerKind, revive } from "../transport/shareable.js";
import { type Held, holdAsync, holdBlocking } from "./hold.js";
import {
  flushWakes,
  freeOwned,
  lockAsync,
  lockAsyncNow,
  lockOwnedBlocking,
  type OnDeadHolder,
  ownerValue,
} from "./mutex.js";
import {
  kAcquireAsyncNow,
  kAcquireRestore,
  kAcquireRestoreAsync,
  kFlushOnRelease,
  kIsOwned,
  kOnDeadHolder,
  kReleaseSave,
} from "./owned.js";

const STATE = 0;
/** The mutex's ASYNC word (mutex.ts). */
const ASYNC = 1;
/** The mutex's HANDOFF word (mutex.ts, "Hand-off"): ASYNC + 1, as freeOwned() takes it. */
const HANDOFF = 2;
// The fast paths below write their constants as literals: the bundle (esbuild) turns a module's
// constants into \`var\`s, and V8 loads those on every use instead of folding them (~1 ns per
// acquire+release, measured in bench/sync.ts).

/**
 * Checks Python's acquire(blocking, timeout) arguments, also given as `{ blocking, timeout }`;
 * returns the timeout in ms (0 for a non-blocking call). A non-blocking call accepts every
 * spelling of "forever" (-1, the default; `null`, `Infinity`, as every timeout does) and nothing else.
 */
export function acquireArgs(what: string, blocking: unknown, timeout: unknown): number {
  [blocking, timeout] = blockArgs(`${what}.acquire()`, "blocking", blocking, timeout, -1);
  const ms = timeoutMs(timeout, `${what}.acquire()`, true);
  if (blocking) return ms;
  if (ms !== Number.POSITIVE_INFINITY) {
    throw new RangeError(`${what}.acquire(): can't specify a timeout for a non-blocking call`);
  }
  return 0;
}

/**
 * A primitive lock, as Python's `threading.Lock`: shared by every thread it is passed to.
 * Not re-entrant; any thread may release it.
 */
export class Lock {
  readonly #word: Int32Array;
  readonly #id: number;
  /**
   * The ident this thread's code holds locks under (shared/runtime.ts lockOwner: the running thread's,
   * or the ended thread's in code it left running), for the fast paths: a field load
   * is ~1-2 ns cheaper than the module binding, which the bundle turns into a `var` that V8 cannot
   * treat as a constant (measured on Node 20-26 in bench/sync.ts).
   */
  readonly #owner = lockOwner;
  /** This thread has deferred wakes to deliver at its next release through this object (kFlushOnRelease). */
  #flush = false;
  /** An internal lock's repair after a take-over from a dead holder (kOnDeadHolder); undefined for a user's lock. */
  #onDead: OnDeadHolder | undefined;

  constructor() {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("Lock", arguments.length, 0);
    const record = adoptedRecord();
    const buffer = record?.buffers[0] ?? new SharedArrayBuffer(3 * 4);
    this.#word = new Int32Array(buffer);
    this.#id = record?.id ?? newObjectId();
    describe(buffer, "Lock", this.#id, STATE, true);
  }

  /**
   * Acquires the lock. With `blocking` (default), waits until it is free, at most `timeout` seconds
   * (-1, the default, = forever). Returns true when acquired, false when not (non-blocking or timed out).
   * Python's keywords work as an options object: `acquire({ timeout: 0.5 })`, `acquire({ blocking: false })`.
   */
  acquire(blocking?: boolean, timeout?: number | null): boolean;
  acquire(options: AcquireOptions): boolean;
  acquire(blocking: boolean | AcquireOptions = true, timeout: number | null = -1): boolean {
    const w = this.#word;
    const me = (this.#owner.ident + 1) << 1; // ownerValue(), written out for the fast path
    // The uncontended fast path: one CAS, before any argument parsing it does not need.
    if (timeout === -1 && (blocking === true || blocking === false)) {
      if (Atomics.compareExchange(w, 0 /* STATE */, 0, me) === 0) return true;
      if (!blocking) return false;
    }
    return lockOwnedBlocking(w, STATE, me, acquireArgs("Lock", blocking, timeout), this.#onDead, HANDOFF);
  }

  /** The async twin of `acquire()`: resolves true once acquired, false if `timeout` seconds pass first. */
  async acquireAsync(timeout?: Timeout): Promise<boolean> {
    return lockAsync(this.#word, STATE, timeoutMs(timeout, "Lock.acquireAsync()"), ASYNC, ownerValue(), this.#onDead);
  }

  /** Releases the lock (from any thread). RuntimeError if it is not locked. */
  release(): void {
    const c = freeOwned(this.#word, 0 /* STATE */, 1 /* ASYNC */, true);
    if (this.#flush) {
      this.#flush = false;
      flushWakes();
    }
    if (c === 0) throw new RuntimeError("release unlocked lock");
  }

  /** True while some thread holds the lock. */
  locked(): boolean {
    return Atomics.load(this.#word, STATE) !== 0;
  }

  /** Acquires (waiting at most `timeout` seconds, else TimeoutError) for `using _ = lock.hold()`. */
  hold(timeout?: Timeout): Held {
    return holdBlocking(this, "Lock", timeout);
  }

  /** The async twin of `hold()`, for `using _ = await lock.holdAsync()`. */
  holdAsync(timeout?: Timeout): Promise<Held> {
    return holdAsync(this, "Lock", timeout);
  }

  /** @internal Condition protocol (owned.ts): for a Lock, "owned" means locked, as in CPython. */
  [kIsOwned](): boolean {
    return this.locked();
  }

  /** @internal */
  [kReleaseSave](): number {
    this.release();
    flushWakes(); // whatever this thread deferred, before its wait (sync/mutex.ts)
    return 0;
  }

  /** @internal */
  [kAcquireRestore](_saved: number): void {
    this.acquire();
  }

  /** @internal Synchronous when the lock is taken at once (owned.ts). */
  [kAcquireRestoreAsync](_saved: number): undefined | Promise<void> {
    const took = this[kAcquireAsyncNow](Number.POSITIVE_INFINITY);
    return took === true ? undefined : (took as Promise<boolean>).then(() => {});
  }

  /** @internal acquireAsync() that answers `true` when it took the lock at once (owned.ts; mutex.ts lockAsyncNow). */
  [kAcquireAsyncNow](ms: number): boolean | Promise<boolean> {
    return lockAsyncNow(this.#word, STATE, ms, ASYNC, ownerValue(), this.#onDead);
  }

  /** @internal */
  [kOnDeadHolder](fn: OnDeadHolder): void {
    this.#onDead = fn;
  }

  /**
   * @internal Deferred wakes (sync/mutex.ts) wait for this thread's release of the lock only for
   * an internal lock (kOnDeadHolder: its primitive's own code releases it, in the thread that took
   * it) held by this thread. A user's Lock may be released by any thread: the notifier may hold it
   * and leave the release to another thread (whose release knows nothing of this thread's wakes,
   * so the waiters slept on while the notifier ran on, and for good if it was killed), or a Lock's
   * Condition may be notified while another thread holds it (CPython's); they go at once then.
   */
  [kFlushOnRelease](): boolean {
    if (this.#onDead === undefined || (Atomics.load(this.#word, STATE) | 1) !== (ownerValue() | 1)) return false;
    this.#flush = true;
    return true;
  }

  /** @internal */
  [kShare](): ShareRecord {
    return { kind: "Lock", id: this.#id, buffers: [this.#word.buffer as SharedArrayBuffer] };
  }

  get [Symbol.toStringTag](): string {
    return this.locked() ? "Lock locked" : "Lock unlocked";
  }

  static {
    registerKind("Lock", (record) => revive(Lock, record));
  }
}
