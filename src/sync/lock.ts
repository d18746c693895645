/**
 * Lock: a mutual-exclusion lock in shared memory, not owned by any thread (any thread may release).
 *
 * State: one Int32 word (Drepper's three-state futex mutex, "Futexes are tricky", mutex #2):
 *   0 UNLOCKED
 *   1 LOCKED, no thread waits
 *   2 LOCKED, some thread may be waiting (a release must notify)
 * Transitions:
 *   acquire: CAS 0->1 (the uncontended fast path, one atomic); otherwise swap in 2 and wait while it
 *            stays 2, until a swap returns 0 (then this thread holds it, marked 2 to be safe).
 *   release: CAS 1->0 (nobody waits); or CAS 2->0 and notify one waiter. 0 -> RuntimeError.
 * Invariants: a waiter sleeps only on the value 2, so a release that saw 1 never leaves a sleeper
 * behind; a waiter that times out (or whose thread dies) leaves at most a stale 2, which costs one
 * extra notify and nothing else. Waiters are woken in the order they began to wait (V8 keeps one
 * FIFO list per address for blocking and async waiters alike); the woken one competes with a thread
 * that arrives at that moment, as in Python.
 */
import { RuntimeError } from "../errors.js";
import { deadlineOf, remaining, timeoutMs, waitAsync, waitBlocking } from "../shared/wait.js";
import {
  kShare,
  newObjectId,
  type ShareRecord,
  adoptedRecord,
  registerKind,
  remember,
  revive,
} from "../transport/shareable.js";
import { type Held, holdAsync, holdBlocking } from "./hold.js";
import { kAcquireRestore, kAcquireRestoreAsync, kIsOwned, kReleaseSave } from "./owned.js";

const UNLOCKED = 0;
const LOCKED = 1;
const CONTENDED = 2;

/** Checks Python's acquire(blocking, timeout) arguments; returns the timeout in ms. */
export function acquireArgs(what: string, blocking: unknown, timeout: unknown): number {
  if (typeof blocking !== "boolean")
    throw new TypeError(`${what}.acquire(): blocking must be a boolean, not ${typeof blocking}`);
  if (!blocking && timeout !== undefined && timeout !== -1) {
    throw new RangeError(`${what}.acquire(): can't specify a timeout for a non-blocking call`);
  }
  return blocking ? timeoutMs(timeout, `${what}.acquire()`, true) : 0;
}

/**
 * A primitive lock, as Python's `threading.Lock`: shared by every thread it is passed to.
 * Not re-entrant; any thread may release it.
 */
export class Lock {
  readonly #word: Int32Array;
  readonly #id: number;

  constructor() {
    const record = adoptedRecord();
    const buffer = record?.buffers[0] ?? new SharedArrayBuffer(4);
    this.#word = new Int32Array(buffer);
    this.#id = record?.id ?? newObjectId();
  }

  /**
   * Acquires the lock. With `blocking` (default), waits until it is free, at most `timeout` seconds
   * (-1, the default, = forever). Returns true when acquired, false when not (non-blocking or timed out).
   */
  acquire(blocking = true, timeout: number = -1): boolean {
    const w = this.#word;
    // The uncontended fast path: one CAS, before any argument parsing it does not need.
    if (timeout === -1 && (blocking === true || blocking === false)) {
      if (Atomics.compareExchange(w, 0, UNLOCKED, LOCKED) === UNLOCKED) return true;
      if (!blocking) return false;
    }
    const ms = acquireArgs("Lock", blocking, timeout);
    let c = Atomics.compareExchange(w, 0, UNLOCKED, LOCKED);
    if (c === UNLOCKED) return true;
    if (ms === 0) return false;
    const deadline = deadlineOf(ms);
    if (c !== CONTENDED) c = Atomics.exchange(w, 0, CONTENDED);
    while (c !== UNLOCKED) {
      const left = remaining(deadline);
      if (left === 0) return false;
      waitBlocking(w, 0, CONTENDED, left);
      c = Atomics.exchange(w, 0, CONTENDED);
    }
    return true;
  }

  /** The async twin of `acquire()`: resolves true once acquired, false if `timeout` seconds pass first. */
  async acquireAsync(timeout?: number): Promise<boolean> {
    const ms = timeoutMs(timeout, "Lock.acquireAsync()", true);
    const w = this.#word;
    let c = Atomics.compareExchange(w, 0, UNLOCKED, LOCKED);
    if (c === UNLOCKED) return true;
    const deadline = deadlineOf(ms);
    if (c !== CONTENDED) c = Atomics.exchange(w, 0, CONTENDED);
    while (c !== UNLOCKED) {
      const left = remaining(deadline);
      if (left === 0) return false;
      await waitAsync(w, 0, CONTENDED, left);
      c = Atomics.exchange(w, 0, CONTENDED);
    }
    return true;
  }

  /** Releases the lock (from any thread). RuntimeError if it is not locked. */
  release(): void {
    const w = this.#word;
    for (;;) {
      const c = Atomics.compareExchange(w, 0, LOCKED, UNLOCKED);
      if (c === LOCKED) return;
      if (c === UNLOCKED) throw new RuntimeError("release unlocked lock");
      if (Atomics.compareExchange(w, 0, CONTENDED, UNLOCKED) === CONTENDED) {
        Atomics.notify(w, 0, 1);
        return;
      }
    }
  }

  /** True while some thread holds the lock. */
  locked(): boolean {
    return Atomics.load(this.#word, 0) !== UNLOCKED;
  }

  /** Acquires (waiting at most `timeout` seconds, else TimeoutError) for `using _ = lock.hold()`. */
  hold(timeout?: number): Held {
    return holdBlocking(this, "Lock", timeout);
  }

  /** The async twin of `hold()`, for `using _ = await lock.holdAsync()`. */
  holdAsync(timeout?: number): Promise<Held> {
    return holdAsync(this, "Lock", timeout);
  }

  /** @internal Condition protocol (owned.ts): for a Lock, "owned" means locked, as in CPython. */
  [kIsOwned](): boolean {
    return this.locked();
  }

  /** @internal */
  [kReleaseSave](): number {
    this.release();
    return 0;
  }

  /** @internal */
  [kAcquireRestore](_saved: number): void {
    this.acquire();
  }

  /** @internal */
  async [kAcquireRestoreAsync](_saved: number): Promise<void> {
    await this.acquireAsync();
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
