/**
 * RLock: a re-entrant lock in shared memory, owned by the thread that acquired it, as Python's
 * `threading.RLock`.
 *
 * State: four Int32 words.
 *   [0] MUTEX  the futex mutex of mutex.ts (0 unlocked, 1 locked, 2 locked with waiters)
 *   [1] OWNER  ident of the owning thread (idents are never reused; 0 = nobody)
 *   [2] COUNT  recursion level of the owner
 *   [3] ASYNC  async waiters that may be parked on MUTEX (mutex.ts: while there are, a contended
 *              release wakes every waiter, so that a waiter that can run is always among them)
 * Invariants: OWNER != 0 exactly while MUTEX is held and COUNT > 0; only the owner writes OWNER
 * and COUNT (after taking MUTEX, and before freeing it), so they are plain reads and writes: the
 * seq-cst CAS that takes or frees MUTEX orders them for the next owner. A thread reading OWNER
 * sees its own ident only if it wrote it and has not since cleared it, so "am I the owner?" is
 * exact without an atomic. Uncontended acquire + release: one load, one CAS, and one CAS to free.
 * Wake-ups are the mutex's: no lost wake-up, arrival order (see mutex.ts).
 * Ownership is per thread (boot.ident): two async functions of one thread are not excluded from
 * each other, as the API documents.
 */
import { RuntimeError } from "../errors.js";
import { boot } from "../shared/runtime.js";
import { type AcquireOptions, type Timeout, timeoutMs } from "../shared/wait.js";
import { describe } from "../shared/waiting.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { type Held, holdAsync, holdBlocking } from "./hold.js";
import { acquireArgs } from "./lock.js";
import { kAcquireRestore, kAcquireRestoreAsync, kIsOwned, kReleaseSave } from "./owned.js";
import { lockAsync, lockBlocking, tryLock, unlock } from "./mutex.js";

const MUTEX = 0;
const OWNER = 1;
const COUNT = 2;
const ASYNC = 3;

/**
 * A re-entrant lock, as Python's `threading.RLock`: the owning thread may acquire it again; it is
 * free once released as many times. Only the owner may release it. Shared by every thread it is
 * passed to.
 */
export class RLock {
  readonly #w: Int32Array;
  readonly #id: number;

  constructor() {
    const record = adoptedRecord();
    this.#w = new Int32Array(record?.buffers[0] ?? new SharedArrayBuffer(4 * 4));
    this.#id = record?.id ?? newObjectId();
    describe(this.#w.buffer, "RLock", this.#id, OWNER);
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
    const me = boot.ident;
    if (timeout === -1 && (blocking === true || blocking === false)) {
      if (w[OWNER] === me) {
        w[COUNT] = (w[COUNT] as number) + 1;
        return true;
      }
      if (tryLock(w, MUTEX)) {
        w[OWNER] = me;
        w[COUNT] = 1;
        return true;
      }
      if (!blocking) return false;
    }
    const ms = acquireArgs("RLock", blocking, timeout);
    if (w[OWNER] === me) {
      w[COUNT] = (w[COUNT] as number) + 1;
      return true;
    }
    if (!lockBlocking(w, MUTEX, ms)) return false;
    w[OWNER] = me;
    w[COUNT] = 1;
    return true;
  }

  /** The async twin of `acquire()`: resolves true once acquired, false if `timeout` seconds pass first. */
  async acquireAsync(timeout?: Timeout): Promise<boolean> {
    const ms = timeoutMs(timeout, "RLock.acquireAsync()", true);
    const w = this.#w;
    const me = boot.ident;
    if (w[OWNER] === me) {
      w[COUNT] = (w[COUNT] as number) + 1;
      return true;
    }
    if (!(await lockAsync(w, MUTEX, ms, ASYNC))) return false;
    w[OWNER] = me;
    w[COUNT] = 1;
    return true;
  }

  /**
   * Releases one level; the lock is free once every level is released.
   * RuntimeError("cannot release un-acquired lock") when this thread does not own it.
   */
  release(): void {
    const w = this.#w;
    if (w[OWNER] !== boot.ident) throw new RuntimeError("cannot release un-acquired lock");
    const c = (w[COUNT] as number) - 1;
    w[COUNT] = c;
    if (c === 0) {
      w[OWNER] = 0;
      unlock(w, MUTEX, ASYNC);
    }
  }

  /** True while some thread holds the lock (Python 3.13's `RLock.locked()`). */
  locked(): boolean {
    return Atomics.load(this.#w, MUTEX) !== 0;
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
    return this.#w[OWNER] === boot.ident;
  }

  /** @internal Releases every level; returns the recursion count (CPython's `_release_save`). */
  [kReleaseSave](): number {
    const w = this.#w;
    if (w[OWNER] !== boot.ident) throw new RuntimeError("cannot release un-acquired lock");
    const count = w[COUNT] as number;
    w[COUNT] = 0;
    w[OWNER] = 0;
    unlock(w, MUTEX, ASYNC);
    return count;
  }

  /** @internal Re-acquires and restores the recursion count (CPython's `_acquire_restore`). */
  [kAcquireRestore](count: number): void {
    const w = this.#w;
    lockBlocking(w, MUTEX, Number.POSITIVE_INFINITY);
    w[OWNER] = boot.ident;
    w[COUNT] = count;
  }

  /** @internal */
  async [kAcquireRestoreAsync](count: number): Promise<void> {
    const w = this.#w;
    await lockAsync(w, MUTEX, Number.POSITIVE_INFINITY, ASYNC);
    w[OWNER] = boot.ident;
    w[COUNT] = count;
  }

  /** @internal */
  [kShare](): ShareRecord {
    return { kind: "RLock", id: this.#id, buffers: [this.#w.buffer as SharedArrayBuffer] };
  }

  get [Symbol.toStringTag](): string {
    const w = this.#w;
    return Atomics.load(w, MUTEX) === 0 ? "RLock unlocked" : `RLock locked owner=${w[OWNER]} count=${w[COUNT]}`;
  }

  static {
    registerKind("RLock", (record) => revive(RLock, record));
  }
}
