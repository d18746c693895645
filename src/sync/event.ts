/**
 * Event: a flag threads wait for, as Python's `threading.Event`.
 *
 * State: one Int32 word, 0 = clear, 1 = set. Waiters sleep on the word while it is 0; set() stores 1
 * and wakes them all. This is a faster path than CPython's Event-on-Condition: a futex wait on the
 * flag itself already has the properties Condition gives there (no lost wake-up, since
 * Atomics.wait compares and sleeps atomically; a set() between the check and the sleep is seen as
 * "not-equal"), and the ping-pong benchmark shows it at the bare Atomics limit.
 * wait() returns true when woken by set() or when the flag is found set, false only on timeout
 * with the flag still clear (a set()-then-clear() that woke the waiter still returns true, as in Python).
 */
import { deadlineOf, remaining, timeoutMs, waitAsync, waitBlocking } from "../shared/wait.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";

/** A flag shared by every thread it is passed to: `set()`, `clear()`, `wait(timeout)`. */
export class Event {
  readonly #word: Int32Array;
  readonly #id: number;

  constructor() {
    const record = adoptedRecord();
    this.#word = new Int32Array(record?.buffers[0] ?? new SharedArrayBuffer(4));
    this.#id = record?.id ?? newObjectId();
  }

  /** True when the flag is set. */
  isSet(): boolean {
    return Atomics.load(this.#word, 0) === 1;
  }

  /** Deprecated alias of isSet(), as Python's `isSet`/`is_set`. */
  is_set(): boolean {
    return this.isSet();
  }

  /** Sets the flag and wakes every waiting thread. */
  set(): void {
    Atomics.store(this.#word, 0, 1);
    Atomics.notify(this.#word, 0);
  }

  /** Clears the flag: later wait() calls block until set() again. */
  clear(): void {
    Atomics.store(this.#word, 0, 0);
  }

  /**
   * Blocks until the flag is set, at most `timeout` seconds (default forever).
   * Returns true when set, false if the timeout passed first.
   */
  wait(timeout?: number): boolean {
    const w = this.#word;
    const deadline = deadlineOf(timeoutMs(timeout, "Event.wait()"));
    while (Atomics.load(w, 0) === 0) {
      const left = remaining(deadline);
      if (left === 0) return false;
      if (waitBlocking(w, 0, 0, left) === "ok") return true;
    }
    return true;
  }

  /** The async twin of `wait()`. */
  async waitAsync(timeout?: number): Promise<boolean> {
    const w = this.#word;
    const deadline = deadlineOf(timeoutMs(timeout, "Event.waitAsync()"));
    while (Atomics.load(w, 0) === 0) {
      const left = remaining(deadline);
      if (left === 0) return false;
      if ((await waitAsync(w, 0, 0, left)) === "ok") return true;
    }
    return true;
  }

  /** @internal */
  [kShare](): ShareRecord {
    return { kind: "Event", id: this.#id, buffers: [this.#word.buffer as SharedArrayBuffer] };
  }

  get [Symbol.toStringTag](): string {
    return this.isSet() ? "Event set" : "Event unset";
  }

  static {
    registerKind("Event", (record) => revive(Event, record));
  }
}
