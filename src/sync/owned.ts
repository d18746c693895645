/**
 * The internal protocol a `Condition` uses on its lock, as CPython's `_is_owned`,
 * `_release_save` and `_acquire_restore`. Both `Lock` and `RLock` implement it (for a `Lock`,
 * "owned" means "locked", as CPython's Condition assumes for a lock without `_is_owned`).
 */
import type { Timeout } from "../shared/wait.js";

/** `lock[kIsOwned]()`: true when the calling thread may wait/notify (RLock: it owns it; Lock: it is locked). */
export const kIsOwned: unique symbol = Symbol("threading.isOwned");
/** `lock[kReleaseSave]()`: releases fully (all RLock levels) and returns what kAcquireRestore needs. */
export const kReleaseSave: unique symbol = Symbol("threading.releaseSave");
/** `lock[kAcquireRestore](saved)`: re-acquires (blocking, forever) and restores the saved state. */
export const kAcquireRestore: unique symbol = Symbol("threading.acquireRestore");
/**
 * The async twin of kAcquireRestore: `undefined` (no promise) when it took the lock at once
 * (mutex.ts lockAsyncNow), so that an async wait notified before it slept goes on in the same turn
 * instead of holding the lock through a microtask turn while its thread's code runs on.
 */
export const kAcquireRestoreAsync: unique symbol = Symbol("threading.acquireRestoreAsync");
/**
 * `lock[kFlushOnRelease]()`, called by Condition.notify() before it marks any waiter: true when
 * this thread's next release of the lock through this object is sure to come and deliver the
 * wakes it defers now (sync/mutex.ts, "Deferred wakes"; the object is marked to), false when
 * notify() must wake its waiters at once.
 */
export const kFlushOnRelease: unique symbol = Symbol("threading.flushOnRelease");

/**
 * `lock[kAcquireAsyncNow](ms)` (Lock only): acquireAsync() for the internal lock of a primitive,
 * answering `true` itself, not a promise, when it took the lock before returning (mutex.ts
 * lockAsyncNow(): a promise would let this thread's code run on holding it). `ms`: the timeout.
 */
export const kAcquireAsyncNow: unique symbol = Symbol("threading.acquireAsyncNow");

/**
 * `lock[kOnDeadHolder](fn)` (Lock only): makes it an internal lock of a primitive (Barrier,
 * Semaphore): a waiter takes it over from a holder that has died and runs `fn` (mutex.ts, "Dead
 * holders"). A user's lock never gets one: held by a thread that dies, it stays held, as in Python.
 */
export const kOnDeadHolder: unique symbol = Symbol("threading.onDeadHolder");

/** What a Condition needs from its lock. */
export interface ConditionLock {
  acquire(blocking?: boolean, timeout?: number | null): boolean;
  acquireAsync(timeout?: Timeout): Promise<boolean>;
  release(): void;
  [kIsOwned](): boolean;
  [kReleaseSave](): number;
  [kAcquireRestore](saved: number): void;
  [kAcquireRestoreAsync](saved: number): undefined | Promise<void>;
  [kFlushOnRelease](): boolean;
}
