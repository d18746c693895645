/**
 * Value: one number in shared memory, as Python's `multiprocessing.Value`, with its own lock.
 *
 * State: one element of the typecode's type in a SharedArrayBuffer of its own (1, 2, 4 or 8 bytes),
 * and the lock (an RLock by default, `lock: false` for none, or a given Lock/RLock), which is a
 * separate shared object carried in the share record. There is no state machine: every read of
 * `.value` is one atomic load and every write one atomic store (typecode.ts: integers through
 * Atomics, floats through an integer view of the same bytes), so a reader always sees a whole value
 * that some writer wrote, without taking the lock. The lock is for compound updates, exactly as in
 * Python: `v.value += 1` is a read and a write, and two threads doing it at once lose increments
 * unless they hold `v.getLock()` around it.
 *
 * A thread that dies between the read and the write of an update leaves the last value written
 * (never half a value); a thread that dies holding the lock leaves it held, as any Lock.
 */
import { checkArgCount, checkOptions } from "../shared/wait.js";
import type { Lock } from "../sync/lock.js";
import type { RLock } from "../sync/rlock.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { type LockOption, lockFrom, noLock } from "./own-lock.js";
import { Cells, elementBytes, type TypeCode, type TypedView, zeroOf } from "./typecode.js";

/**
 * A number in shared memory (Python's `multiprocessing.Value`): the same object in every thread it
 * is passed to. `T` is `number` unless given: `new Value<bigint>("q", 0n)` for the 64-bit codes.
 */
export class Value<T extends number | bigint = number> {
  readonly #cells: Cells;
  readonly #lock: Lock | RLock | null;
  readonly #id: number;

  /**
   * @param typecode Python's typecode (`"i"`, `"d"`, `"q"`, ...).
   * @param initial The first value (default 0, or 0n for `q`/`Q`).
   * @param options `lock`: true (default: a new RLock), false (none), or the Lock/RLock to use.
   */
  constructor(typecode: TypeCode, initial?: NoInfer<T>, options?: { lock?: LockOption | undefined }) {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("Value", arguments.length, 3);
    const record = adoptedRecord();
    if (record) {
      const meta = record.meta as { typecode: TypeCode; lock: Lock | RLock | null };
      this.#cells = new Cells(meta.typecode, record.buffers[0] as SharedArrayBuffer, 1);
      this.#lock = meta.lock;
      this.#id = record.id;
      return;
    }
    const bytes = elementBytes(typecode, "Value()");
    if (options !== undefined && (typeof options !== "object" || options === null))
      throw new TypeError("Value(): options must be an object");
    if (options !== undefined) checkOptions(options, ["lock"], "Value()");
    const cells = new Cells(typecode, new SharedArrayBuffer(bytes), 1);
    const v = cells.check(initial === undefined ? zeroOf(typecode) : initial, "Value()");
    this.#lock = lockFrom(options?.lock, "Value()");
    cells.put(0, v);
    this.#cells = cells;
    this.#id = newObjectId();
  }

  /** The number (an atomic read: never half of a write). */
  get value(): T {
    return this.#cells.get(0) as T;
  }

  /** Stores a number (an atomic write). TypeError for the wrong kind, RangeError out of range. */
  set value(v: T) {
    const cells = this.#cells;
    cells.put(0, cells.check(v, "Value.value"));
  }

  /** The typecode it was made with. */
  get typecode(): TypeCode {
    return this.#cells.code;
  }

  /** Its lock, for compound updates (`using _ = v.getLock().hold(); v.value += 1`). RuntimeError with `lock: false`. */
  getLock(): Lock | RLock {
    if (this.#lock === null) throw noLock("Value");
    return this.#lock;
  }

  /** The typed array of length 1 over its shared memory (Python's `get_obj()`). */
  getObj(): TypedView {
    return this.#cells.view;
  }

  /** @internal */
  [kShare](): ShareRecord {
    return {
      kind: "Value",
      id: this.#id,
      buffers: [this.#cells.view.buffer as SharedArrayBuffer],
      meta: { typecode: this.#cells.code, lock: this.#lock },
    };
  }

  /** `Value('i', 42)`, as Python's repr. */
  toString(): string {
    return `Value('${this.#cells.code}', ${this.value})`;
  }

  get [Symbol.toStringTag](): string {
    return "Value";
  }

  static {
    registerKind("Value", (record) => revive(Value as unknown as new () => Value, record));
  }
}
