/**
 * SharedList: a list in shared memory, the same object in every thread it is passed to.
 *
 * Design: one writer lock that knows its owner (guard.ts) and a sequence word (seqlock), over one
 * growable buffer (heap.ts). A list's operations are positional (append moves the end, pop(0) moves
 * every index), so writers are serialized by the one lock, for the fraction of a microsecond a write
 * holds it (every value is encoded before the lock is taken); readers (`at`, `length`) take no lock:
 * they read optimistically and validate with the sequence word, so they never block each other or a
 * writer, and fall back to the lock after RETRIES overtaken tries.
 *
 * Memory (all words read and written with Atomics):
 *   header  [TOP (heap bump)] [.] LOCK SEQ ARR [.] [.] [.] FREE[27]
 *   array   block payload: [length, cap, slot 0 .. slot cap-1]; a slot is the offset of a value block
 *   value   block payload: one record (record.ts)
 *
 * State machine: LOCK FREE -> HELD(owner) -> FREE, or HELD(dead owner) -> HELD(recoverer) (guard.ts);
 * SEQ even -> odd (publishing) -> even. Every write prepares new blocks outside the odd window and
 * publishes with single stores inside it:
 *   append / extend   slots written past `length` (invisible), then `length` := new length (one
 *                     store: an extend appears all at once); a full array is copied into one twice
 *                     as big first, published by ARR := new
 *   set(i)            slot i := new value block; the old one freed
 *   pop() (last)      length := length - 1; its block freed
 *   pop(i) (inner)    a copy of the array without slot i, published by ARR := new (copy on write, so
 *                     a death mid-way cannot leave a duplicated or missing item)
 *   clear             ARR := a new empty array
 * An array less than a quarter full is copied into a smaller one (space given back to the free lists).
 * Invariants: slots 0..length-1 of the array ARR names are complete value blocks; a block is reused
 * only after a write section that made it unreachable.
 *
 * A thread dying mid-write: the writer lock holds its ident; the next writer (or a reader that falls
 * back to the lock) sees within CHECK_MS (50 ms) that no live thread has it, takes the lock over and
 * makes SEQ even. Since each change is published by one store, the dead thread's call happened
 * entirely or not at all; blocks it had allocated but not published are leaked (one call's worth).
 * Iteration and toArray() take a consistent snapshot (under the lock, values copied out).
 */
import { checkArgCount } from "../shared/wait.js";
import { RuntimeError } from "../errors.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { ACQUIRED, acquire, beginWrite, endWrite, readBegin, readValid, recoverSeq, release } from "./guard.js";
import { Heap } from "./heap.js";
import { decodeRead, readRecordAt, stageValue, staged, writeStaged } from "./record.js";

const LOCK = 2;
const SEQ = 3;
const ARR = 4;
const FREE = 8;
const HEADER_BYTES = (FREE + 28) * 4;
const MIN_CAP = 8;
const RETRIES = 32;

/**
 * A list in shared memory (items: anything a Queue item may be), safe to use from every thread at
 * once. `at` returns a copy (shared objects stay shared); every call is atomic.
 */
export class SharedList<V> implements Iterable<V> {
  readonly #heap: Heap;
  readonly #id: number;
  #depth = 0;

  /** A new list holding `items`. */
  constructor(items?: Iterable<V>) {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("SharedList", arguments.length, 1);
    const record = adoptedRecord();
    const sab = (record?.buffers[0] as SharedArrayBuffer | undefined) ?? Heap.create(HEADER_BYTES);
    this.#heap = new Heap(sab);
    this.#id = record?.id ?? newObjectId();
    if (record) return;
    this.#heap.i32[ARR] = this.#newArray(MIN_CAP);
    if (items !== undefined && items !== null) {
      if (typeof (items as Iterable<V>)[Symbol.iterator] !== "function")
        throw new TypeError("SharedList(): items must be iterable");
      this.extend(items);
    }
  }

  #lock(): void {
    if (this.#depth > 0) throw new RuntimeError("SharedList: a call of this list is already running in this thread");
    const h = this.#heap;
    if (acquire(h.i32, LOCK) !== ACQUIRED) recoverSeq(h.i32, SEQ);
    this.#depth = 1;
    h.sync();
  }

  #unlock(): void {
    this.#depth = 0;
    release(this.#heap.i32, LOCK);
  }

  #newArray(cap: number): number {
    const h = this.#heap;
    const off = h.alloc(FREE, 8 + cap * 4);
    const w = (off + 8) >> 2;
    Atomics.store(h.i32, w, 0);
    Atomics.store(h.i32, w + 1, cap);
    return off;
  }

  /** A new array of `cap` slots holding the first `n` slots of the current one, minus slot `skip`. */
  #copied(cap: number, n: number, skip: number): number {
    const h = this.#heap;
    const off = this.#newArray(cap);
    const i32 = h.i32;
    const from = ((Atomics.load(i32, ARR) + 8) >> 2) + 2;
    const to = ((off + 8) >> 2) + 2;
    let j = 0;
    for (let k = 0; k < n; k++) if (k !== skip) Atomics.store(i32, to + j++, Atomics.load(i32, from + k));
    return off;
  }

  /** Reads item `i` (given as is: may be negative) optimistically; 1 read, 0 out of range. */
  #read(i: number): number {
    const h = this.#heap;
    for (let n = 0; n < RETRIES; n++) {
      const seq = readBegin(h.i32, SEQ);
      if (seq < 0) continue;
      const r = this.#readAt(i);
      if (r < 0) continue;
      if (readValid(h.i32, SEQ, seq)) return r;
    }
    this.#lock();
    try {
      const r = this.#readAt(i);
      if (r < 0) throw new RuntimeError("SharedList: corrupt item");
      return r;
    } finally {
      this.#unlock();
    }
  }

  /** 1 read into the record scratch, 0 out of range, -1 torn. */
  #readAt(i: number): number {
    const h = this.#heap;
    const arr = Atomics.load(h.i32, ARR);
    if (!h.inside(arr, 16)) return -1;
    const w = (arr + 8) >> 2;
    const len = Atomics.load(h.i32, w);
    const cap = Atomics.load(h.i32, w + 1);
    if (len < 0 || len > cap || 8 + cap * 4 > h.payloadBytes(arr)) return -1;
    const j = i < 0 ? i + len : i;
    if (j < 0 || j >= len) return 0;
    const v = Atomics.load(h.i32, w + 2 + j);
    if (!h.inside(v, 16)) return -1;
    const room = h.payloadBytes(v);
    if (!h.inside(v, 8 + room)) return -1;
    return readRecordAt(h.i32, h.f64, v + 8, room) ? 1 : -1;
  }

  #index(i: unknown, what: string): number {
    if (typeof i !== "number" || !Number.isInteger(i))
      throw new TypeError(
        `SharedList.${what}(): index must be an integer, not ${typeof i === "number" ? i : typeof i}`,
      );
    return i;
  }

  /** The item at `i` (negative counts from the end); RangeError (Python's IndexError) out of range. */
  at(i: number): V {
    this.#index(i, "at");
    if (this.#read(i) === 0) throw new RangeError(`SharedList.at(): index ${i} out of range`);
    return decodeRead() as V;
  }

  /** The number of items. */
  get length(): number {
    const h = this.#heap;
    for (let n = 0; n < RETRIES; n++) {
      const seq = readBegin(h.i32, SEQ);
      if (seq < 0) continue;
      const arr = Atomics.load(h.i32, ARR);
      if (!h.inside(arr, 16)) continue;
      const len = Atomics.load(h.i32, (arr + 8) >> 2);
      if (readValid(h.i32, SEQ, seq)) return len;
    }
    this.#lock();
    try {
      return Atomics.load(h.i32, (Atomics.load(h.i32, ARR) + 8) >> 2);
    } finally {
      this.#unlock();
    }
  }

  /** Appends one item. */
  append(v: V): void {
    const bytes = stageValue(v, "SharedList.append(): the item");
    this.#lock();
    try {
      const h = this.#heap;
      const vb = h.alloc(FREE, bytes);
      writeStaged(h.i32, vb + 8, bytes);
      this.#publishAppend([vb]);
    } finally {
      this.#unlock();
    }
  }

  /** Appends every item of `vs`, all at once (another thread sees none or all of them). */
  extend(vs: Iterable<V>): void {
    if (vs === null || typeof vs !== "object" || typeof (vs as Iterable<V>)[Symbol.iterator] !== "function") {
      if (typeof vs !== "string") throw new TypeError("SharedList.extend(): items must be iterable");
    }
    const records: Int32Array[] = [];
    for (const v of vs) {
      const bytes = stageValue(v, `SharedList.extend(): item ${records.length}`);
      records.push(staged.i32.slice(0, bytes >> 2));
    }
    if (records.length === 0) return;
    this.#lock();
    try {
      const h = this.#heap;
      const blocks: number[] = [];
      try {
        for (const r of records) {
          const vb = h.alloc(FREE, r.length * 4);
          blocks.push(vb);
          for (let k = 0; k < r.length; k++) Atomics.store(h.i32, ((vb + 8) >> 2) + k, r[k] as number);
        }
      } catch (e) {
        for (const b of blocks) h.release(FREE, b);
        throw e;
      }
      this.#publishAppend(blocks);
    } finally {
      this.#unlock();
    }
  }

  /** Under the lock: makes `blocks` the new last items (one store of the length). */
  #publishAppend(blocks: number[]): void {
    const h = this.#heap;
    let arr = Atomics.load(h.i32, ARR);
    let w = (arr + 8) >> 2;
    const len = Atomics.load(h.i32, w);
    const cap = Atomics.load(h.i32, w + 1);
    let fresh = 0;
    if (len + blocks.length > cap) {
      let ncap = cap * 2;
      while (ncap < len + blocks.length) ncap *= 2;
      try {
        fresh = this.#copied(ncap, len, -1);
      } catch (e) {
        for (const b of blocks) h.release(FREE, b);
        throw e;
      }
      arr = fresh;
      w = (arr + 8) >> 2;
    }
    const i32 = h.i32;
    for (let k = 0; k < blocks.length; k++) Atomics.store(i32, w + 2 + len + k, blocks[k] as number);
    beginWrite(i32, SEQ);
    if (fresh !== 0) {
      Atomics.store(i32, w, len + blocks.length);
      const old = Atomics.load(i32, ARR);
      Atomics.store(i32, ARR, fresh);
      h.release(FREE, old);
    } else Atomics.store(i32, w, len + blocks.length);
    endWrite(i32, SEQ);
  }

  /** Replaces the item at `i` (negative counts from the end); RangeError out of range. */
  set(i: number, v: V): void {
    this.#index(i, "set");
    const bytes = stageValue(v, "SharedList.set(): the item");
    this.#lock();
    try {
      const h = this.#heap;
      const w = (Atomics.load(h.i32, ARR) + 8) >> 2;
      const len = Atomics.load(h.i32, w);
      const j = i < 0 ? i + len : i;
      if (j < 0 || j >= len) throw new RangeError(`SharedList.set(): index ${i} out of range`);
      const vb = h.alloc(FREE, bytes);
      writeStaged(h.i32, vb + 8, bytes);
      const i32 = h.i32;
      const old = Atomics.load(i32, w + 2 + j);
      beginWrite(i32, SEQ);
      Atomics.store(i32, w + 2 + j, vb);
      h.release(FREE, old);
      endWrite(i32, SEQ);
    } finally {
      this.#unlock();
    }
  }

  /** Removes and returns the item at `index` (default the last); RangeError when empty or out of range. */
  pop(index = -1): V {
    this.#index(index, "pop");
    this.#lock();
    try {
      const h = this.#heap;
      const arr = Atomics.load(h.i32, ARR);
      const w = (arr + 8) >> 2;
      const len = Atomics.load(h.i32, w);
      const cap = Atomics.load(h.i32, w + 1);
      if (len === 0) throw new RangeError("SharedList.pop(): pop from empty list");
      const j = index < 0 ? index + len : index;
      if (j < 0 || j >= len) throw new RangeError(`SharedList.pop(): index ${index} out of range`);
      if (this.#readAt(j) !== 1) throw new RuntimeError("SharedList: corrupt item");
      const vb = Atomics.load(h.i32, w + 2 + j);
      const smaller = cap > MIN_CAP && (len - 1) * 4 < cap;
      let fresh = 0;
      if (j !== len - 1 || smaller) {
        let ncap = smaller ? cap >> 1 : cap;
        while (ncap > MIN_CAP && (len - 1) * 4 < ncap) ncap >>= 1;
        fresh = this.#copied(ncap, len, j); // (RangeError when full: nothing changed)
      }
      const i32 = h.i32;
      beginWrite(i32, SEQ);
      if (fresh !== 0) {
        Atomics.store(i32, (fresh + 8) >> 2, len - 1);
        Atomics.store(i32, ARR, fresh);
        h.release(FREE, arr);
      } else Atomics.store(i32, w, len - 1);
      h.release(FREE, vb);
      endWrite(i32, SEQ);
    } finally {
      this.#unlock();
    }
    return decodeRead() as V;
  }

  /** Removes every item. */
  clear(): void {
    this.#lock();
    try {
      const h = this.#heap;
      const fresh = this.#newArray(MIN_CAP);
      const i32 = h.i32;
      const arr = Atomics.load(i32, ARR);
      const w = (arr + 8) >> 2;
      const len = Atomics.load(i32, w);
      beginWrite(i32, SEQ);
      Atomics.store(i32, ARR, fresh);
      for (let k = 0; k < len; k++) h.release(FREE, Atomics.load(i32, w + 2 + k));
      h.release(FREE, arr);
      endWrite(i32, SEQ);
    } finally {
      this.#unlock();
    }
  }

  /** A plain array copy of the items (a consistent snapshot). */
  toArray(): V[] {
    const out: V[] = [];
    this.#lock();
    try {
      const h = this.#heap;
      const len = Atomics.load(h.i32, (Atomics.load(h.i32, ARR) + 8) >> 2);
      for (let k = 0; k < len; k++) {
        if (this.#readAt(k) !== 1) throw new RuntimeError("SharedList: corrupt item");
        out.push(decodeRead() as V);
      }
    } finally {
      this.#unlock();
    }
    return out;
  }

  /** The items of a snapshot taken when iteration starts. */
  [Symbol.iterator](): IterableIterator<V> {
    return this.toArray()[Symbol.iterator]();
  }

  /** @internal For tests: takes the writer lock and opens a write without finishing it (as a thread killed mid-write). */
  _holdForTest(): void {
    acquire(this.#heap.i32, LOCK);
    beginWrite(this.#heap.i32, SEQ);
  }

  /** @internal */
  [kShare](): ShareRecord {
    return { kind: "SharedList", id: this.#id, buffers: [this.#heap.sab] };
  }

  get [Symbol.toStringTag](): string {
    return "SharedList";
  }

  static {
    registerKind("SharedList", (record) => revive(SharedList, record));
  }
}
