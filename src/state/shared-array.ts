/**
 * SharedArray: a fixed-length array of numbers in shared memory, as Python's `multiprocessing.Array`,
 * with its own lock.
 *
 * State: `length` elements of the typecode's type in a SharedArrayBuffer of its own, and the lock
 * (an RLock by default, `lock: false` for none, or a given Lock/RLock), a separate shared object
 * carried in the share record. No state machine: each element is read with one atomic load and
 * written with one atomic store (typecode.ts), so `at(i)` never sees half of a `set(i, v)`. Several
 * elements together (a sum, a swap, `a.set(i, a.at(i) + 1)`) are consistent only under
 * `getLock()`, as in Python. The length never changes.
 *
 * A thread that dies mid-way through a series of `set` calls leaves the elements it wrote written and
 * the others as they were (each element whole); a thread that dies holding the lock leaves it held.
 */
import { checkArgCount, checkOptions } from "../shared/wait.js";
import type { Lock } from "../sync/lock.js";
import type { RLock } from "../sync/rlock.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { type LockOption, lockFrom, noLock } from "./own-lock.js";
import { Cells, elementBytes, type TypeCode, type TypedView } from "./typecode.js";

/**
 * An array of numbers in shared memory (Python's `multiprocessing.Array`): the same object in every
 * thread it is passed to. `T` is `number` unless given (`bigint` for `q`/`Q`).
 */
export class SharedArray<T extends number | bigint = number> implements Iterable<T> {
  readonly #cells: Cells;
  readonly #lock: Lock | RLock | null;
  readonly #id: number;
  readonly #length: number;

  /**
   * @param typecode Python's typecode.
   * @param sizeOrItems A length (elements start at zero) or the items.
   * @param options `lock`: true (default: a new RLock), false (none), or the Lock/RLock to use.
   */
  constructor(
    typecode: TypeCode,
    sizeOrItems: number | Iterable<NoInfer<T>>,
    options?: { lock?: LockOption | undefined },
  ) {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("SharedArray", arguments.length, 3);
    const record = adoptedRecord();
    if (record) {
      const meta = record.meta as { typecode: TypeCode; lock: Lock | RLock | null; length: number };
      this.#cells = new Cells(meta.typecode, record.buffers[0] as SharedArrayBuffer, meta.length);
      this.#lock = meta.lock;
      this.#id = record.id;
      this.#length = meta.length;
      return;
    }
    const bytes = elementBytes(typecode, "SharedArray()");
    if (options !== undefined && (typeof options !== "object" || options === null))
      throw new TypeError("SharedArray(): options must be an object");
    if (options !== undefined) checkOptions(options, ["lock"], "SharedArray()");
    let items: unknown[] | null = null;
    let length: number;
    if (typeof sizeOrItems === "number") {
      if (!Number.isSafeInteger(sizeOrItems) || sizeOrItems < 0)
        throw new RangeError(`SharedArray(): size must be a non-negative integer, not ${sizeOrItems}`);
      length = sizeOrItems;
    } else if (
      sizeOrItems !== null &&
      typeof sizeOrItems === "object" &&
      typeof (sizeOrItems as Iterable<T>)[Symbol.iterator] === "function"
    ) {
      items = [...(sizeOrItems as Iterable<T>)];
      length = items.length;
    } else {
      throw new TypeError(`SharedArray(): sizeOrItems must be a length or an iterable, not ${typeof sizeOrItems}`);
    }
    const cells = new Cells(typecode, new SharedArrayBuffer(Math.max(length * bytes, 8)), length);
    if (items) {
      // Every item is checked before any is stored (nothing half-made); then written.
      const checked = items.map((v, i) => cells.check(v, `SharedArray(): item ${i}`));
      for (let i = 0; i < length; i++) cells.put(i, checked[i] as number | bigint);
    }
    this.#lock = lockFrom(options?.lock, "SharedArray()");
    this.#cells = cells;
    this.#id = newObjectId();
    this.#length = length;
  }

  /**
   * The number of elements (fixed). A getter, not an own field: an instance has no own fields, as
   * every shared object (so a subclass adding nothing is not said to add `length` when sent).
   */
  get length(): number {
    return this.#length;
  }

  #index(i: unknown, what: string): number {
    if (typeof i !== "number" || !Number.isInteger(i))
      throw new TypeError(
        `SharedArray.${what}(): index must be an integer, not ${typeof i === "number" ? i : typeof i}`,
      );
    const n = this.length;
    const j = i < 0 ? i + n : i;
    if (j < 0 || j >= n) throw new RangeError(`SharedArray.${what}(): index ${i} out of range (length ${n})`);
    return j;
  }

  /** The element at `i` (negative counts from the end, as in Python). RangeError out of range. */
  at(i: number): T {
    return this.#cells.get(this.#index(i, "at")) as T;
  }

  /** Stores `v` at `i` (negative counts from the end). RangeError out of range, TypeError for the wrong kind. */
  set(i: number, v: T): void {
    const j = this.#index(i, "set");
    const cells = this.#cells;
    cells.put(j, cells.check(v, "SharedArray.set()"));
  }

  /** The elements, each read when reached (hold getLock() for a consistent snapshot). */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.length; i++) yield this.#cells.get(i) as T;
  }

  /** A plain array copy of the elements. */
  toArray(): T[] {
    return [...this];
  }

  /** The typecode it was made with. */
  get typecode(): TypeCode {
    return this.#cells.code;
  }

  /** Its lock, for updates that span elements. RuntimeError with `lock: false`. */
  getLock(): Lock | RLock {
    if (this.#lock === null) throw noLock("SharedArray");
    return this.#lock;
  }

  /** The typed array over its shared memory (Python's `get_obj()`). */
  getObj(): TypedView {
    return this.#cells.view;
  }

  /** @internal */
  [kShare](): ShareRecord {
    return {
      kind: "SharedArray",
      id: this.#id,
      buffers: [this.#cells.view.buffer as SharedArrayBuffer],
      meta: { typecode: this.#cells.code, lock: this.#lock, length: this.length },
    };
  }

  get [Symbol.toStringTag](): string {
    return "SharedArray";
  }

  static {
    registerKind("SharedArray", (record) => revive(SharedArray as unknown as new () => SharedArray, record));
  }
}
