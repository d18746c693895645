/**
 * SharedDict: a dict in shared memory, the same object in every thread it is passed to.
 *
 * Design: STRIPES (16) independent hash tables in one growable buffer (heap.ts). A key's hash picks
 * its stripe. Each stripe has a writer lock that knows its owner (guard.ts), a sequence word
 * (seqlock), an open-addressing index, a count and its own free lists. So:
 *   - readers (get, has, and the reads of size) take no lock at all: they read the stripe's sequence
 *     word, probe, copy the value record out, and keep what they read only if the word is even and
 *     unchanged (else retry; after RETRIES failures they read under the lock, so a reader cannot
 *     starve behind a stream of writers, and a writer that died mid-publication is repaired);
 *   - writers of keys in different stripes proceed in parallel (different lock and sequence words,
 *     different cache lines; allocation is a lock-free bump or the stripe's own free lists);
 *   - writers of one stripe are serialized by its lock for the few hundred nanoseconds of a write.
 * Why not one lock, or a reader-writer lock: readers of a seqlock write nothing shared, so they do not
 * even bounce a cache line between cores; 16 stripes make two writers collide 1 time in 16.
 *
 * Memory (byte offsets; all words read and written with Atomics):
 *   header   [TOP (heap bump)] [.] [ORDER: 64-bit insertion counter] ... then STRIPES stripe blocks
 *   stripe   LOCK SEQ INDEX COUNT USED DEPTH_OWNER FREE[27]   (S_WORDS words, 3 cache lines)
 *   index    block payload: [cap] then cap slots of [hash, entry]; entry 0 = empty, 1 = deleted
 *   entry    block payload: [order lo, order hi, value block, hash, key tag, key length, key words...]
 *   value    block payload: one record (record.ts)
 *
 * State machine of a stripe (LOCK word, guard.ts): FREE -> HELD(owner) -> FREE, or HELD(dead owner)
 * -> HELD(recoverer) after a waiter found the owner gone. SEQ: even (stable) -> odd (publishing) ->
 * even. Every write prepares new blocks first (outside the odd window: unreachable to readers) and
 * publishes with single stores inside it:
 *   set existing key   entry.value := new block; free the old one
 *   insert             (index rebuilt into a new block when 3/4 full, published by INDEX := new)
 *                      slot := [hash, entry]; COUNT++, USED++
 *   delete             slot.entry := DELETED; COUNT--; free entry and value (index shrunk when 1/8 full)
 * Invariants: an entry reachable from INDEX is complete (key, order, value); a block is reused only
 * after a write section that made it unreachable, so a reader that saw it before fails validation;
 * COUNT = live slots, USED = live + deleted slots < cap.
 *
 * Insertion order: each new key takes the next value of a process-wide (per dict) 64-bit counter;
 * replacing a value keeps the key's place (Python's dict); delete + insert moves it to the end.
 * Iteration collects (order, key) from every stripe (under each stripe's lock in turn, briefly),
 * sorts by order and yields lazily, reading each value when reached and skipping keys deleted since:
 * weakly consistent (every key present for the whole iteration is seen exactly once, with a value
 * it had during the iteration; keys added meanwhile may be missed).
 *
 * update(key, fn): the stripe's lock is held while fn runs in the calling thread (re-entrantly for
 * that thread: fn may use the dict, any key), but SEQ stays even, so readers in every thread go on
 * reading the old value; writers of that stripe wait, the other 15 stripes are untouched. fn's
 * result is staged (checked) before anything changes: if fn throws, or returns a value that cannot
 * be stored, the entry keeps its old value.
 *
 * A thread dying mid-write: `process.exit()` inside fn unwinds (finally blocks run), so the lock is
 * released and the entry keeps its old value. A thread killed at any instruction (its worker
 * terminated, out of memory) leaves the lock word holding its ident: the next writer of that stripe
 * (or a reader that gives up optimism) sees, within CHECK_MS (50 ms), that no live thread has that
 * ident, takes the lock over and repairs the stripe: SEQ made even, COUNT and USED recounted from the
 * index. Because every change is published by one store, the dead thread's write happened entirely
 * or not at all; the blocks it had allocated but not published are leaked (bounded by one write).
 * Guarantee: the dict stays usable and consistent; the interrupted call's effect is all or nothing.
 */
import { KeyError, RuntimeError } from "../errors.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { ACQUIRED, acquire, beginWrite, endWrite, readBegin, readValid, recoverSeq, release } from "./guard.js";
import { Heap } from "./heap.js";
import { key, keyAt, keyOf } from "./key.js";
import { decodeRead, readRecordAt, stageValue, writeStaged } from "./record.js";

const STRIPES = 16;
const S_WORDS = 48;
const HEADER_WORDS = 16;
const ORDER = 2; // BigInt64 index (byte 16)
/** Stripe words. */
const LOCK = 0;
const SEQ = 1;
const INDEX = 2;
const COUNT = 3;
const USED = 4;
const FREE = 8;
const HEADER_BYTES = (HEADER_WORDS + STRIPES * S_WORDS) * 4;
/** Entry payload words. */
const E_ORDER = 0;
const E_VALUE = 2;
const E_HASH = 3;
const E_TAG = 4;
const E_LEN = 5;
const E_KEY = 6;
const EMPTY = 0;
const DELETED = 1;
const MIN_CAP = 8;
const RETRIES = 32;

function base(s: number): number {
  return HEADER_WORDS + s * S_WORDS;
}

/**
 * A dict in shared memory (keys: strings or numbers; values: anything a Queue item may be), safe to
 * use from every thread at once. `get` returns a copy of the stored value (shared objects stay
 * shared); every call is atomic; `update(key, fn)` is atomic per key.
 */
export class SharedDict<K extends string | number, V> implements Iterable<[K, V]> {
  readonly #heap: Heap;
  readonly #id: number;
  readonly #order: BigInt64Array;
  /** This thread's re-entrant hold count per stripe (update's fn may use the dict). */
  readonly #depth = new Int32Array(STRIPES);

  /** A new dict, filled from `entries` (in order; later duplicates replace earlier values). */
  constructor(entries?: Iterable<[K, V]>) {
    const record = adoptedRecord();
    const sab = (record?.buffers[0] as SharedArrayBuffer | undefined) ?? Heap.create(HEADER_BYTES);
    this.#heap = new Heap(sab);
    this.#order = new BigInt64Array(sab, 0, 4);
    this.#id = record?.id ?? newObjectId();
    if (record) return;
    for (let s = 0; s < STRIPES; s++) this.#heap.i32[base(s) + INDEX] = this.#newIndex(s, MIN_CAP);
    if (entries !== undefined && entries !== null) {
      if (typeof (entries as Iterable<[K, V]>)[Symbol.iterator] !== "function")
        throw new TypeError("SharedDict(): entries must be iterable");
      for (const pair of entries) {
        if (!Array.isArray(pair) || pair.length !== 2)
          throw new TypeError("SharedDict(): each entry must be a [key, value] pair");
        this.set(pair[0] as K, pair[1] as V);
      }
    }
  }

  // ---- locking ------------------------------------------------------------------------------

  #lock(s: number): void {
    const d = this.#depth;
    if ((d[s] as number) > 0) {
      d[s] = (d[s] as number) + 1;
      return;
    }
    const h = this.#heap;
    if (acquire(h.i32, base(s) + LOCK) !== ACQUIRED) this.#repair(s);
    d[s] = 1;
    h.sync();
  }

  #unlock(s: number): void {
    const d = this.#depth;
    const n = (d[s] as number) - 1;
    d[s] = n;
    if (n === 0) release(this.#heap.i32, base(s) + LOCK);
  }

  /** After taking a stripe over from a dead owner: even sequence, counts recounted from the index. */
  #repair(s: number): void {
    const h = this.#heap;
    h.sync();
    const i32 = h.i32;
    const b = base(s);
    recoverSeq(i32, b + SEQ);
    const idx = (Atomics.load(i32, b + INDEX) + 8) >> 2;
    const cap = Atomics.load(i32, idx);
    let live = 0;
    let used = 0;
    for (let k = 0; k < cap; k++) {
      const e = Atomics.load(i32, idx + 2 + 2 * k);
      if (e !== EMPTY) used++;
      if (e > DELETED) live++;
    }
    Atomics.store(i32, b + COUNT, live);
    Atomics.store(i32, b + USED, used);
  }

  // ---- index ----------------------------------------------------------------------------------

  /** A new empty index block of `cap` slots (not yet published). */
  #newIndex(s: number, cap: number): number {
    const h = this.#heap;
    const off = h.alloc(base(s) + FREE, 4 + cap * 8);
    const i32 = h.i32;
    const w = (off + 8) >> 2;
    Atomics.store(i32, w, cap);
    for (let k = 0; k < cap * 2; k++) Atomics.store(i32, w + 1 + k, 0);
    return off;
  }

  /**
   * Finds the current key (key.ts `key`) in stripe `s`; returns the slot's word index, or the
   * negated word index of the slot to insert at (-(w)), using atomic reads (validated by the caller
   * when unlocked). 0 when the probe made no sense (torn read).
   */
  #find(s: number): number {
    const h = this.#heap;
    const i32 = h.i32;
    const ioff = Atomics.load(i32, base(s) + INDEX);
    if (!h.inside(ioff, 16)) return 0;
    const w = (ioff + 8) >> 2;
    const cap = Atomics.load(h.i32, w);
    if (cap < MIN_CAP || (cap & (cap - 1)) !== 0 || 4 + cap * 8 > h.payloadBytes(ioff)) return 0;
    return this.#probe(h.i32, w, cap);
  }

  #probe(i32: Int32Array, w: number, cap: number): number {
    const hash = key.hash;
    const mask = cap - 1;
    let firstFree = 0;
    const h = this.#heap;
    for (let n = 0, k = hash & mask; n < cap; n++, k = (k + 1) & mask) {
      const slot = w + 1 + 2 * k;
      const e = Atomics.load(i32, slot + 1);
      if (e === EMPTY) return firstFree !== 0 ? firstFree : -slot;
      if (e === DELETED) {
        if (firstFree === 0) firstFree = -slot;
        continue;
      }
      if (Atomics.load(i32, slot) !== hash) continue;
      if (!h.inside(e, 8 + 4 * E_KEY)) return 0;
      const p = (e + 8) >> 2;
      const tag = Atomics.load(i32, p + E_TAG);
      if (tag !== key.tag || Atomics.load(i32, p + E_LEN) !== key.len) continue;
      const nw = key.nwords;
      if (4 * (E_KEY + nw) > h.payloadBytes(e)) return 0;
      const words = key.words;
      let same = true;
      for (let j = 0; j < nw; j++) {
        if (Atomics.load(i32, p + E_KEY + j) !== words[j]) {
          same = false;
          break;
        }
      }
      if (same) return slot;
    }
    return firstFree;
  }

  /** Reads the value of the entry in `slot` into the record scratch; false on a torn read. */
  #readSlot(slot: number): boolean {
    const h = this.#heap;
    const e = Atomics.load(h.i32, slot + 1);
    if (!h.inside(e, 8 + 4 * E_KEY)) return false;
    const v = Atomics.load(h.i32, ((e + 8) >> 2) + E_VALUE);
    if (!h.inside(v, 16)) return false;
    const room = h.payloadBytes(v);
    if (!h.inside(v, 8 + room)) return false;
    return readRecordAt(h.i32, v + 8, room);
  }

  /**
   * The lookup of every read: 1 found (value read into the scratch when `withValue`), 0 absent.
   * Optimistic first; under the lock after RETRIES torn or overtaken tries.
   */
  #lookup(s: number, withValue: boolean): number {
    const h = this.#heap;
    const seqAt = base(s) + SEQ;
    for (let n = 0; n < RETRIES; n++) {
      const seq = readBegin(h.i32, seqAt);
      if (seq < 0) continue;
      const slot = this.#find(s);
      if (slot === 0) continue;
      const ok = slot > 0 && withValue ? this.#readSlot(slot) : true;
      if (!ok) continue;
      if (readValid(h.i32, seqAt, seq)) return slot > 0 ? 1 : 0;
    }
    this.#lock(s);
    try {
      const slot = this.#find(s);
      if (slot <= 0) return 0;
      if (withValue && !this.#readSlot(slot)) throw new RuntimeError("SharedDict: corrupt entry");
      return 1;
    } finally {
      this.#unlock(s);
    }
  }

  // ---- writes (under the stripe lock) ---------------------------------------------------------------

  /** Stores the staged value (`bytes` long) for the current key; the stripe is locked and `found` is #find's answer. */
  #store(s: number, found: number, bytes: number): void {
    const h = this.#heap;
    const b = base(s);
    const free = b + FREE;
    const vb = h.alloc(free, bytes);
    writeStaged(h.i32, vb + 8, bytes);
    if (found > 0) {
      const p = ((Atomics.load(h.i32, found + 1) as number) + 8) >> 2;
      const old = Atomics.load(h.i32, p + E_VALUE);
      beginWrite(h.i32, b + SEQ);
      Atomics.store(h.i32, p + E_VALUE, vb);
      h.release(free, old);
      endWrite(h.i32, b + SEQ);
      return;
    }
    // a new key: its entry block, then (maybe) a bigger index, then publish
    let eb = 0;
    let newIdx = 0;
    try {
      eb = h.alloc(free, 4 * (E_KEY + key.nwords));
      const count = Atomics.load(h.i32, b + COUNT);
      const used = Atomics.load(h.i32, b + USED);
      const ioff = Atomics.load(h.i32, b + INDEX);
      const cap = Atomics.load(h.i32, (ioff + 8) >> 2);
      if ((found < 0 && Atomics.load(h.i32, -found + 1) === EMPTY ? used + 1 : used) * 4 > cap * 3) {
        let ncap = MIN_CAP;
        while (ncap < (count + 1) * 2) ncap *= 2;
        newIdx = this.#rebuilt(s, ncap);
      }
    } catch (e) {
      // no room: give back what this call took; nothing was published
      if (eb !== 0) h.release(free, eb);
      h.release(free, vb);
      throw e;
    }
    const i32 = h.i32;
    const p = (eb + 8) >> 2;
    const order = Atomics.add(this.#order, ORDER / 2, 1n);
    Atomics.store(i32, p + E_ORDER, Number(order & 0xffffffffn) | 0);
    Atomics.store(i32, p + E_ORDER + 1, Number(order >> 32n) | 0);
    Atomics.store(i32, p + E_VALUE, vb);
    Atomics.store(i32, p + E_HASH, key.hash);
    Atomics.store(i32, p + E_TAG, key.tag);
    Atomics.store(i32, p + E_LEN, key.len);
    for (let j = 0; j < key.nwords; j++) Atomics.store(i32, p + E_KEY + j, key.words[j] as number);
    beginWrite(i32, b + SEQ);
    let slot = -found;
    if (newIdx !== 0) {
      const old = Atomics.load(i32, b + INDEX);
      Atomics.store(i32, b + INDEX, newIdx);
      h.release(free, old);
      Atomics.store(i32, b + USED, Atomics.load(i32, b + COUNT));
      const w = (newIdx + 8) >> 2;
      slot = -this.#probe(i32, w, Atomics.load(i32, w));
    }
    const wasEmpty = Atomics.load(i32, slot + 1) === EMPTY;
    Atomics.store(i32, slot, key.hash);
    Atomics.store(i32, slot + 1, eb);
    Atomics.add(i32, b + COUNT, 1);
    if (wasEmpty) Atomics.add(i32, b + USED, 1);
    endWrite(i32, b + SEQ);
  }

  /** A new index of `cap` slots holding stripe `s`'s live entries (not yet published). */
  #rebuilt(s: number, cap: number): number {
    const h = this.#heap;
    const off = this.#newIndex(s, cap);
    const i32 = h.i32;
    const w = (off + 8) >> 2;
    const oldW = (Atomics.load(i32, base(s) + INDEX) + 8) >> 2;
    const oldCap = Atomics.load(i32, oldW);
    for (let k = 0; k < oldCap; k++) {
      const e = Atomics.load(i32, oldW + 2 + 2 * k);
      if (e <= DELETED) continue;
      const hash = Atomics.load(i32, oldW + 1 + 2 * k);
      for (let j = hash & (cap - 1); ; j = (j + 1) & (cap - 1)) {
        if (Atomics.load(i32, w + 2 + 2 * j) === EMPTY) {
          Atomics.store(i32, w + 1 + 2 * j, hash);
          Atomics.store(i32, w + 2 + 2 * j, e);
          break;
        }
      }
    }
    return off;
  }

  /** Removes the entry in `slot` (stripe locked); shrinks the index when it is mostly empty. */
  #remove(s: number, slot: number): void {
    const h = this.#heap;
    const i32 = h.i32;
    const b = base(s);
    const free = b + FREE;
    const e = Atomics.load(i32, slot + 1);
    const v = Atomics.load(i32, ((e + 8) >> 2) + E_VALUE);
    beginWrite(i32, b + SEQ);
    Atomics.store(i32, slot + 1, DELETED);
    Atomics.sub(i32, b + COUNT, 1);
    h.release(free, v);
    h.release(free, e);
    endWrite(i32, b + SEQ);
    const count = Atomics.load(i32, b + COUNT);
    const cap = Atomics.load(i32, (Atomics.load(i32, b + INDEX) + 8) >> 2);
    if (cap > MIN_CAP && count * 8 < cap) {
      let ncap = MIN_CAP;
      while (ncap < count * 2) ncap *= 2;
      let idx: number;
      try {
        idx = this.#rebuilt(s, ncap);
      } catch {
        return; // no room for a smaller index: keep the big one
      }
      beginWrite(i32, b + SEQ);
      const old = Atomics.load(h.i32, b + INDEX);
      Atomics.store(h.i32, b + INDEX, idx);
      Atomics.store(h.i32, b + USED, count);
      h.release(free, old);
      endWrite(h.i32, b + SEQ);
    }
  }

  #stripe(): number {
    return key.hash >>> 28;
  }

  // ---- the API --------------------------------------------------------------------------------

  /** The value stored for `key` (a copy; shared objects stay shared), or undefined. */
  get(key: K): V | undefined {
    keyOf(key, "SharedDict.get()");
    return this.#lookup(this.#stripe(), true) === 1 ? (decodeRead() as V) : undefined;
  }

  /** True when `key` is in the dict. */
  has(key: K): boolean {
    keyOf(key, "SharedDict.has()");
    return this.#lookup(this.#stripe(), false) === 1;
  }

  /** Stores `value` for `key` (a new key goes last in the order; an existing one keeps its place). */
  set(k: K, value: V): this {
    keyOf(k, "SharedDict.set()");
    const s = this.#stripe();
    const saved = mayRunCode(value) ? saveKey() : null;
    const bytes = stageValue(value, "SharedDict.set(): the value");
    restoreKey(saved);
    this.#lock(s);
    try {
      this.#store(s, this.#find(s), bytes);
    } finally {
      this.#unlock(s);
    }
    return this;
  }

  /** Removes `key`; true when it was there. */
  delete(k: K): boolean {
    keyOf(k, "SharedDict.delete()");
    const s = this.#stripe();
    this.#lock(s);
    try {
      const slot = this.#find(s);
      if (slot <= 0) return false;
      this.#remove(s, slot);
      return true;
    } finally {
      this.#unlock(s);
    }
  }

  /** The value for `key`; when it has none, stores `value` and returns it (one atomic step). */
  setdefault(k: K, value: V): V {
    keyOf(k, "SharedDict.setdefault()");
    const s = this.#stripe();
    const saved = mayRunCode(value) ? saveKey() : null;
    const bytes = stageValue(value, "SharedDict.setdefault(): the value");
    restoreKey(saved);
    this.#lock(s);
    try {
      const slot = this.#find(s);
      if (slot > 0) {
        this.#readSlot(slot);
      } else {
        this.#store(s, slot, bytes);
        return value;
      }
    } finally {
      this.#unlock(s);
    }
    return decodeRead() as V;
  }

  /**
   * Removes `key` and returns its value; when it is missing, returns `fallback` if one was given,
   * else throws KeyError.
   */
  pop(k: K, fallback?: V): V {
    keyOf(k, "SharedDict.pop()");
    const s = this.#stripe();
    this.#lock(s);
    let found = false;
    try {
      const slot = this.#find(s);
      if (slot > 0) {
        this.#readSlot(slot);
        this.#remove(s, slot);
        found = true;
      }
    } finally {
      this.#unlock(s);
    }
    if (found) return decodeRead() as V;
    // biome-ignore lint/complexity/noArguments: as Python's pop, an omitted fallback differs from an undefined one
    if (arguments.length > 1) return fallback as V;
    throw new KeyError(`SharedDict.pop(): no key ${JSON.stringify(k)}`);
  }

  /**
   * Replaces the value of `key` with `fn(old)` (old is undefined when absent) atomically: fn runs in
   * this thread with the key's stripe locked against other writers (readers go on seeing the old
   * value; fn may itself use the dict). If fn throws, or returns what cannot be stored, nothing
   * changes. Returns the new value.
   */
  update(k: K, fn: (old: V | undefined) => V): V {
    keyOf(k, "SharedDict.update()");
    if (typeof fn !== "function") throw new TypeError("SharedDict.update(): fn must be a function");
    const s = this.#stripe();
    const saved = saveKey();
    this.#lock(s);
    try {
      const slot = this.#find(s);
      let old: V | undefined;
      if (slot > 0) {
        this.#readSlot(slot);
        old = decodeRead() as V;
      }
      const value = fn(old);
      const bytes = stageValue(value, "SharedDict.update(): the value fn returned");
      restoreKey(saved);
      this.#store(s, this.#find(s), bytes);
      return value;
    } finally {
      this.#unlock(s);
    }
  }

  /** The number of keys (the sum of the stripes' counts, each read atomically). */
  get size(): number {
    const i32 = this.#heap.i32;
    let n = 0;
    for (let s = 0; s < STRIPES; s++) n += Atomics.load(i32, base(s) + COUNT);
    return n;
  }

  /** Removes every key (all stripes locked together: atomic). */
  clear(): void {
    for (let s = 0; s < STRIPES; s++) this.#lock(s);
    try {
      const h = this.#heap;
      for (let s = 0; s < STRIPES; s++) {
        const b = base(s);
        const free = b + FREE;
        const fresh = this.#newIndex(s, MIN_CAP);
        const i32 = h.i32;
        const old = Atomics.load(i32, b + INDEX);
        beginWrite(i32, b + SEQ);
        Atomics.store(i32, b + INDEX, fresh);
        Atomics.store(i32, b + COUNT, 0);
        Atomics.store(i32, b + USED, 0);
        const w = (old + 8) >> 2;
        const cap = Atomics.load(i32, w);
        for (let k = 0; k < cap; k++) {
          const e = Atomics.load(i32, w + 2 + 2 * k);
          if (e <= DELETED) continue;
          h.release(free, Atomics.load(i32, ((e + 8) >> 2) + E_VALUE));
          h.release(free, e);
        }
        h.release(free, old);
        endWrite(i32, b + SEQ);
      }
    } finally {
      for (let s = STRIPES - 1; s >= 0; s--) this.#unlock(s);
    }
  }

  /** The keys present now, in insertion order (each stripe read under its lock in turn). */
  #snapshot(): K[] {
    const pairs: [number, K][] = [];
    for (let s = 0; s < STRIPES; s++) {
      this.#lock(s);
      try {
        const i32 = this.#heap.i32;
        const w = (Atomics.load(i32, base(s) + INDEX) + 8) >> 2;
        const cap = Atomics.load(i32, w);
        for (let k = 0; k < cap; k++) {
          const e = Atomics.load(i32, w + 2 + 2 * k);
          if (e <= DELETED) continue;
          const p = (e + 8) >> 2;
          const order = (Atomics.load(i32, p + E_ORDER + 1) >>> 0) * 2 ** 32 + (Atomics.load(i32, p + E_ORDER) >>> 0);
          pairs.push([order, keyAt(i32, Atomics.load(i32, p + E_TAG), Atomics.load(i32, p + E_LEN), p + E_KEY) as K]);
        }
      } finally {
        this.#unlock(s);
      }
    }
    pairs.sort((a, b) => a[0] - b[0]);
    return pairs.map((p) => p[1]);
  }

  /** The keys in insertion order (weakly consistent, see the file's header). */
  *keys(): IterableIterator<K> {
    for (const k of this.#snapshot()) if (this.has(k)) yield k;
  }

  /** The values in insertion order (weakly consistent; each read when reached). */
  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  /** The [key, value] pairs in insertion order (weakly consistent; each value read when reached). */
  *entries(): IterableIterator<[K, V]> {
    for (const k of this.#snapshot()) {
      keyOf(k, "SharedDict.entries()");
      if (this.#lookup(this.#stripe(), true) === 1) yield [k, decodeRead() as V];
    }
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** A plain object copy (number keys become strings, as object keys do). */
  toObject(): Record<string, V> {
    const out: Record<string, V> = {};
    for (const [k, v] of this.entries())
      Object.defineProperty(out, String(k), { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  }

  /** @internal For tests: takes stripe `s`'s writer lock without releasing it (as a thread killed inside a write would). */
  _holdStripeForTest(k: K): void {
    keyOf(k, "SharedDict");
    acquire(this.#heap.i32, base(this.#stripe()) + LOCK);
    beginWrite(this.#heap.i32, base(this.#stripe()) + SEQ);
  }

  /** @internal */
  [kShare](): ShareRecord {
    return { kind: "SharedDict", id: this.#id, buffers: [this.#heap.sab] };
  }

  get [Symbol.toStringTag](): string {
    return "SharedDict";
  }

  static {
    registerKind("SharedDict", (record) => revive(SharedDict, record));
  }
}

/** True when encoding `value` may run user code (getters, proxies). */
function mayRunCode(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}

/*
 * stageValue() may run user code (getters) that uses a dict and so overwrites this thread's key
 * scratch: the key is saved around it. Only the cheap scalar part is copied for short keys.
 */
function saveKey(): { tag: number; len: number; hash: number; nwords: number; words: Int32Array } {
  return { tag: key.tag, len: key.len, hash: key.hash, nwords: key.nwords, words: key.words.slice(0, key.nwords) };
}

function restoreKey(k: { tag: number; len: number; hash: number; nwords: number; words: Int32Array } | null): void {
  if (k === null) return;
  key.tag = k.tag;
  key.len = k.len;
  key.hash = k.hash;
  key.nwords = k.nwords;
  if (key.words.length < k.nwords) key.words = new Int32Array(k.nwords * 2);
  key.words.set(k.words);
}
