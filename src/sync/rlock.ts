/**
 * RLock: a re-entrant lock in shared memory, owned by the thread that acquired it, as Python's
 * `threading.RLock`.
 *
 * State: four Int32 words.
 *   [0] STATE  the owned mutex of mutex.ts: 0 UNLOCKED, or `owner | waiters`, where owner is the
 *              holding thread's ownerValue() (`(ident + 1) << 1`) and the low bit says someone
 *              may sleep on the word
 *   [1] COUNT  recursion levels beyond the first (0 while free or held once)
 *   [2] ASYNC  async waiters that may be parked on STATE (mutex.ts: while there are, a contended
 *              release wakes every waiter, so that a waiter that can run is always among them)
 *   [3] HANDOFF 0, or the ownerValue() of a blocked waiter of a thread with duties (an excepthook's
 *              owner) that asks a release to hand the lock over to it (mutex.ts, "Hand-off"): the
 *              release then writes STATE over to that waiter (COUNT is 0 already), which finds its
 *              own value there when its 50 ms slice ends; odd (the releasing thread's
 *              ownerValue() | 1) while a release is handing it over (a dead releaser's claim is
 *              dropped by the asker)
 * Invariants: STATE != 0 exactly while the lock is held; COUNT is 0 whenever STATE is 0; only the
 * owner writes COUNT (after taking STATE, and back to 0 before freeing it), so it is a plain read
 * and write: the seq-cst CAS and exchange on STATE order it for the next owner. A thread reading
 * STATE with a plain load sees its own owner value only if it wrote it (or a release handed the
 * word over to it while it waited, which it then read with an atomic load) and has not since freed the
 * word (others change only the waiters bit while it holds it), so "am I the owner?" is exact
 * without an atomic. Uncontended acquire + release: one CAS (which also tells a re-entrant call it
 * holds the lock already) and one exchange (which also tells whether anyone waits). The count is in
 * shared memory, not in this thread's JS object, so it stays right however many objects a thread
 * holds for one RLock.
 * Wake-ups are the owned mutex's: no lost wake-up, arrival order (see mutex.ts).
 * Ownership is per thread (lockOwner.ident: the thread's, also in code it left running after it ended): two async functions of one thread are not excluded from
 * each other, as the API documents. A thread that dies holding it leaves it held, as in Python.
 */
import { RuntimeError } from "../errors.js";
import { lockOwner } from "../shared/runtime.js";
import { type AcquireOptions, type Timeout, timeoutMs, checkArgCount } from "../shared/wait.js";
import { describe } from "../shared/waiting.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { type Held, holdAsync, holdBlocking } from "./hold.js";
import { acquireArgs } from "./lock.js";
import { kAcquireRestore, kAcquireRestoreAsync, kFlushOnRelease, kIsOwned, kReleaseSave } from "./owned.js";
import {
  flushWakes,
  freeOwned,
  lockAsync,
  lockAsyncNow,
  lockOwnedBlocking,
  ownerIdent,
  ownerValue,
  unlockOwned,
} from "./mutex.js";

const STATE = 0;
const COUNT = 1;
const ASYNC = 2;
/** The mutex's HANDOFF word (mutex.ts, "Hand-off"): ASYNC + 1, as freeOwned() takes it. */
const HANDOFF = 3;
// The fast paths below write their constants as literals: the bundle (esbuild) turns a module's
// constants into \`var\`s, and V8 loads those on every use instead of folding them (~1 ns per
// acquire+release, measured in bench/sync.ts).

/**
 * A re-entrant lock, as Python's `threading.RLock`: the owning thread may acquire it again; it is
 * free once released as many times. Only the owner may release it. Shared by every thread it is
 * passed to.
 */
export class RLock {
  readonly #w: Int32Array;
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

  constructor() {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("RLock", arguments.length, 0);
    const record = adoptedRecord();
    this.#w = new Int32Array(record?.buffers[0] ?? new SharedArrayBuffer(4 * 4));
    this.#id = record?.id ?? newObjectId();
    describe(this.#w.buffer, "RLock", this.#id, STATE, true);
  }

  /**
   * Acquires the lock, or one more level of it when this thread owns it already. With `blocking`
   * (default) waits until free, at most `timeout` seconds (-1, the default, = forever).
   * Returns true when acquired, false when not (non-blocking or timed out).
   */
  acquire(blocking?: boolean, timeout?: number | null): boolean;
  acquire(options: AcquireOptions): boolean;
  acquire(blocking: boolean | AcquireOptions = true, timeout: number | null = -1): boolean {
    const w = this.#w;
    const me = (this.#owner.ident + 1) << 1; // ownerValue(), written out for the fast path
    if (timeout === -1 && (blocking === true || blocking === false)) {
      // The uncontended fast path: one CAS, which also says whether this thread holds it already.
      const c = Atomics.compareExchange(w, 0 /* STATE */, 0, me);
      if (c === 0) return true;
      if ((c | 1) === (me | 1)) {
        w[1] = (w[1] as number) + 1; // COUNT
        return true;
      }
      if (!blocking) return false;
    }
    const ms = acquireArgs("RLock", blocking, timeout);
    if (((w[STATE] as number) | 1) === (me | 1)) {
      w[COUNT] = (w[COUNT] as number) + 1;
      return true;
    }
    return lockOwnedBlocking(w, STATE, me, ms, undefined, HANDOFF);
  }

  /** The async twin of `acquire()`: resolves true once acquired, false if `timeout` seconds pass first. */
  async acquireAsync(timeout?: Timeout): Promise<boolean> {
    const ms = timeoutMs(timeout, "RLock.acquireAsync()");
    const w = this.#w;
    const me = ownerValue();
    if (((w[STATE] as number) | 1) === (me | 1)) {
      w[COUNT] = (w[COUNT] as number) + 1;
      return true;
    }
    return lockAsync(w, STATE, ms, ASYNC, me);
  }

  /**
   * Releases one level; the lock is free once every level is released.
   * RuntimeError("cannot release un-acquired lock") when this thread does not own it.
   */
  release(): void {
    const w = this.#w;
    // STATE (0) holds this thread's ownerValue() (file comment); COUNT (1); ASYNC (2).
    if (((w[0] as number) | 1) !== (((this.#owner.ident + 1) << 1) | 1)) {
      throw new RuntimeError("cannot release un-acquired lock");
    }
    const c = w[1] as number;
    if (c > 0) w[1] = c - 1;
    else {
      freeOwned(w, 0, 2, true);
      if (this.#flush) {
        this.#flush = false;
        flushWakes();
      }
    }
  }

  /** True while some thread holds the lock (Python 3.13's `RLock.locked()`). */
  locked(): boolean {
    return Atomics.load(this.#w, STATE) !== 0;
  }

  /** Acquires (waiting at most `timeout` seconds, else TimeoutError) for `using _ = rlock.hold()`. */
  hold(timeout?: Timeout): Held {
    return holdBlocking(this, "RLock", timeout);
  }

  /** The async twin of `hold()`, for `using _ = await rlock.holdAsync()`. */
  holdAsync(timeout?: Timeout): Promise<Held> {
    return holdAsync(this, "RLock", timeout);
  }

  /** @internal True when the calling thread owns the lock (CPython's `_is_owned`). */
  [kIsOwned](): boolean {
    return ((this.#w[STATE] as number) | 1) === (ownerValue() | 1);
  }

  /** @internal Releases every level; returns the recursion count (CPython's `_release_save`). */
  [kReleaseSave](): number {
    const w = this.#w;
    if (!this[kIsOwned]()) throw new RuntimeError("cannot release un-acquired lock");
    const count = (w[COUNT] as number) + 1;
    w[COUNT] = 0;
    unlockOwned(w, STATE, ASYNC, true);
    return count;
  }

  /** @internal Re-acquires and restores the recursion count (CPython's `_acquire_restore`). */
  [kAcquireRestore](count: number): void {
    const w = this.#w;
    lockOwnedBlocking(w, STATE, ownerValue(), Number.POSITIVE_INFINITY, undefined, HANDOFF);
    w[COUNT] = count - 1;
  }

  /** @internal Synchronous when the lock is taken at once (owned.ts). */
  [kAcquireRestoreAsync](count: number): undefined | Promise<void> {
    const w = this.#w;
    const took = lockAsyncNow(w, STATE, Number.POSITIVE_INFINITY, ASYNC, ownerValue());
    if (took === true) {
      w[COUNT] = count - 1;
      return undefined;
    }
    return (took as Promise<boolean>).then(() => {
      w[COUNT] = count - 1;
    });
  }

  /**
   * @internal Deferred wakes (sync/mutex.ts) wait for this thread's release: only the owner may
   * release an RLock, and notify() requires it to own it.
   */
  [kFlushOnRelease](): boolean {
    this.#flush = true;
    return true;
  }

  /** @internal */
  [kShare](): ShareRecord {
    return { kind: "RLock", id: this.#id, buffers: [this.#w.buffer as SharedArrayBuffer] };
  }

  get [Symbol.toStringTag](): string {
    const w = this.#w;
    const v = Atomics.load(w, STATE);
    return v === 0 ? "RLock unlocked" : `RLock locked owner=${ownerIdent(v)} count=${(w[COUNT] as number) + 1}`;
  }

  static {
    registerKind("RLock", (record) => revive(RLock, record));
  }
}
