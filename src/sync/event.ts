/**
 * Event: a flag threads wait for, as Python's `threading.Event`.
 *
 * State: one Int32 word, a counter of flag changes: even = clear, odd = set. set() moves it from
 * even to odd (v -> v+1) and wakes every waiter; clear() moves it from odd to even. The flag is its
 * low bit, and the counter is the flag's generation: a waiter that found it even (clear) at value
 * v knows that a set() happened since it began waiting exactly when the word is no longer v, even
 * if a clear() followed (a set()-then-clear() during the wait returns true, as in Python).
 * wait(): v = word; odd -> true. Otherwise sleep while word == v, and after every wake re-check
 * word != v (true) or the deadline (false). A wake is never taken for a set() by itself: a set()
 * stores and then notifies, so its notify can arrive late, after the waiter has already seen that
 * set, cleared the flag and begun a new wait; that new wait still sees word == its own v and
 * sleeps on (the stale wake of issue 9, item 1). No lost wake-up: Atomics.wait compares and sleeps
 * atomically, so a set() between the read of v and the sleep makes the sleep return at once.
 * The counter wraps around after 2^32 changes; a wait misses a set() only if exactly 2^32 changes
 * happen while it sleeps. A thread that dies between set()'s store and its notify (killed: out of
 * memory, its worker terminated) leaves the flag set without the wake-up: so waiters sleep in slices
 * of LOST_WAKE_MS and re-check the word between them, and see such a set() within that time (one
 * wake-up a second per waiting thread is the cost).
 */
import { deadlineOf, type Timeout, timeoutMs, untilAsync, untilBlocking, checkArgCount } from "../shared/wait.js";
import { describe } from "../shared/waiting.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";

/** Waiters look at the word at least this often (ms), for a set() whose notify died with its thread. */
const LOST_WAKE_MS = 1000;

/** @internal Test hook: runs inside set(), between its store and its notify (issue 9's stale wake race). */
export const eventHooks: { betweenStoreAndNotify?: () => void } = {};

/** A flag shared by every thread it is passed to: `set()`, `clear()`, `wait(timeout)`. */
export class Event {
  readonly #word: Int32Array;
  readonly #id: number;

  constructor() {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("Event", arguments.length, 0);
    const record = adoptedRecord();
    this.#word = new Int32Array(record?.buffers[0] ?? new SharedArrayBuffer(4));
    this.#id = record?.id ?? newObjectId();
    describe(this.#word.buffer, "Event", this.#id);
  }

  /** True when the flag is set. */
  isSet(): boolean {
    return (Atomics.load(this.#word, 0) & 1) === 1;
  }

  /** Deprecated alias of isSet(), as Python's `isSet`/`is_set`. */
  is_set(): boolean {
    return this.isSet();
  }

  /** Sets the flag and wakes every waiting thread. */
  set(): void {
    const w = this.#word;
    let v = Atomics.load(w, 0);
    // Already set: every waiter either saw it set or saw an older (even) value, and is awake or
    // will not sleep; nothing to do.
    while ((v & 1) === 0) {
      const seen = Atomics.compareExchange(w, 0, v, (v + 1) | 0);
      if (seen === v) {
        eventHooks.betweenStoreAndNotify?.();
        Atomics.notify(w, 0);
        return;
      }
      v = seen;
    }
  }

  /** Clears the flag: later wait() calls block until set() again. */
  clear(): void {
    const w = this.#word;
    let v = Atomics.load(w, 0);
    while ((v & 1) === 1) {
      const seen = Atomics.compareExchange(w, 0, v, (v + 1) | 0);
      if (seen === v) return;
      v = seen;
    }
  }

  /**
   * Blocks until the flag is set, at most `timeout` seconds (default forever).
   * Returns true when it is set, or was set during the wait; false if the timeout passed first.
   */
  wait(timeout?: Timeout): boolean {
    const deadline = deadlineOf(timeoutMs(timeout, "Event.wait()"));
    const w = this.#word;
    const v = Atomics.load(w, 0);
    if ((v & 1) === 1) return true;
    return untilBlocking(w, 0, () => Atomics.load(w, 0) !== v, deadline, LOST_WAKE_MS);
  }

  /** The async twin of `wait()`. */
  async waitAsync(timeout?: Timeout): Promise<boolean> {
    const deadline = deadlineOf(timeoutMs(timeout, "Event.waitAsync()"));
    const w = this.#word;
    const v = Atomics.load(w, 0);
    if ((v & 1) === 1) return true;
    return untilAsync(w, 0, () => Atomics.load(w, 0) !== v, deadline, LOST_WAKE_MS);
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
