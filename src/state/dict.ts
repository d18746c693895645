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
 * Memory (byte offsets; data words read and written with mem.ts `ld`/`st` — plain accesses on x86,
 * Atomics elsewhere —, the lock, sequence and count words with Atomics; see guard.ts and mem.ts):
 *   header   [TOP (heap bump)] [.] [ORDER: 64-bit insertion counter] ... then STRIPES stripe blocks
 *   stripe   LOCK SEQ INDEX COUNT USED ICAP . . FREE[27]   (S_WORDS words, 3 cache lines; ICAP: the
 *            INDEX block's cap, written with INDEX, for the lock holder: readers read the block's)
 *   index    block payload: [cap] then cap slots of [hash, entry]; entry 0 = empty, 1 = deleted
 *   entry    block payload: [order lo, order hi, value, hash, key tag, key length, NUM record
 *            (T_NUM, 0, float64: 4 words), key words...]; value = a value block, or INLINE (1): the
 *            value is a number, the entry's own NUM record (no block of its own)
 *   value    block payload: one record (record.ts)
 *
 * State machine of a stripe (LOCK word, guard.ts): FREE -> HELD(owner) -> FREE, or HELD(dead owner)
 * -> HELD(recoverer) after a waiter found the owner gone. SEQ: even (stable) -> odd (publishing) ->
 * even. Every write prepares new blocks first (outside the odd window: unreachable to readers) and
 * publishes with single stores inside it, except the replacement of a value, which needs no window
 * (guard.ts `advance`):
 *   set existing key   entry.value := new block; free the old one (unless INLINE); SEQ += 2.
 *                      A number: where value is a block, the entry's NUM record is filled (no
 *                      reader can be reading it: one that read INLINE earlier began before the SEQ
 *                      advance that replaced it), then value := INLINE, the block freed, SEQ += 2.
 *                      Where value is INLINE, on x86 (mem.ts TSO), its float64 is written in place
 *                      by one 8-byte store, which readers read with one 8-byte load (no SEQ change:
 *                      a reader sees the old or the new number, whole); elsewhere (two words, which
 *                      a reader or a dying writer could tear) it goes to a new block as any value.
 *   insert             (index rebuilt into a new block when 3/4 full, published by INDEX := new,
 *                      ICAP := its cap)
 *                      entry (and value block unless a number) filled, slot := [hash, entry];
 *                      COUNT++, USED++
 *   delete             slot.entry := DELETED; COUNT--; free entry and value (index shrunk when 1/8 full)
 * Writers find their key under the lock with plain reads and no validation (#findHeld); readers
 * validate every offset they follow (#find). A test hook (_hookForTest) lets a reader be overtaken
 * between the steps of a read.
 * Invariants: an entry reachable from INDEX is complete (key, order, value); a block is reused only
 * after a write section that made it unreachable, so a reader that saw it before fails validation;
 * COUNT = live slots, USED = live + deleted slots < cap, ICAP = the cap of INDEX's block (outside a
 * write window; a dead writer's repair recounts it).
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
 * ident, takes the lock over and repairs the stripe: SEQ made even, COUNT, USED and ICAP recounted
 * from the index. Because every change is published by one store, the dead thread's write happened
 * entirely or not at all; the blocks it had allocated but not published are leaked (bounded by one
 * write).
 * Guarantee: the dict stays usable and consistent; the interrupted call's effect is all or nothing.
 */
import { KeyError, RuntimeError } from "../errors.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { acquire, advance, beginWrite, endWrite, Got, myLockValue, recoverSeq, release } from "./guard.js";
import { CLASSES, Heap } from "./heap.js";
import { key, keyAt, keyOf, strKeyOf } from "./key.js";
import { ld, st, TSO } from "./mem.js";
import {
  decodeRead,
  joinNumber,
  numberAt,
  readRecordAt,
  stagedIsNumber,
  stagedNumber,
  stageNumber,
  stageValue,
  storeNumber,
  T_NUM,
  writeStaged,
} from "./record.js";

/*
 * The layout's numbers are enums so that the bundle writes them into the code as literals (esbuild
 * inlines enum members; a module's `const`s become `var`s that V8 loads at every use: ~10% of a set
 * or a get). One enum per kind, each member's value unique within it.
 */

/** Sizes. */
enum Size {
  STRIPES = 16,
  /** Words of a stripe. */
  S_WORDS = 48,
  MIN_CAP = 8,
  RETRIES = 32,
}

/** The header. */
enum Hdr {
  HEADER_WORDS = 16,
  /** BigInt64 index (byte 16). */
  ORDER = 2,
  /** (HEADER_WORDS + STRIPES * S_WORDS) * 4 */
  HEADER_BYTES = (16 + 16 * 48) * 4,
}

/** Stripe words. */
enum Stripe {
  LOCK = 0,
  SEQ = 1,
  INDEX = 2,
  COUNT = 3,
  USED = 4,
  /** The INDEX block's cap, for the lock holder (beside INDEX: one dependent load less; readers read the block's). */
  ICAP = 5,
  FREE = 8,
}

/** Entry payload words, and what E_VALUE may hold besides a block. */
enum Entry {
  E_ORDER = 0,
  /** A value block's offset, or INLINE: the value is the number record at E_REC. */
  E_VALUE = 2,
  E_HASH = 3,
  E_TAG = 4,
  E_LEN = 5,
  /** A number record of the entry's own: [T_NUM, 0, float64] (the float64 at byte 40 of the block: 8-aligned). */
  E_REC = 6,
  E_KEY = 10,
  /** E_VALUE of an entry whose value is the number at E_REC. */
  INLINE = 1,
  /** Byte offset, from an entry block, of its inline number's float64: 8 + 4 * (E_REC + 2). */
  NUM_AT = 40,
}

/** An index slot's entry word when it holds no entry. */
enum Slot {
  EMPTY = 0,
  DELETED = 1,
}

function base(s: number): number {
  return Hdr.HEADER_WORDS + s * Size.S_WORDS;
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
  readonly #depth = new Int32Array(Size.STRIPES);
  /** Tests only: called by this thread's readers between the steps of a read (_hookForTest). */
  #hook: ((point: string) => void) | undefined = undefined;

  /** A new dict, filled from `entries` (in order; later duplicates replace earlier values). */
  constructor(entries?: Iterable<[K, V]>) {
    const record = adoptedRecord();
    const sab = (record?.buffers[0] as SharedArrayBuffer | undefined) ?? Heap.create(Hdr.HEADER_BYTES);
    this.#heap = new Heap(sab);
    this.#order = new BigInt64Array(sab, 0, 4);
    this.#id = record?.id ?? newObjectId();
    if (record) return;
    for (let s = 0; s < Size.STRIPES; s++) {
      this.#heap.i32[base(s) + Stripe.INDEX] = this.#newIndex(s, Size.MIN_CAP);
      this.#heap.i32[base(s) + Stripe.ICAP] = Size.MIN_CAP;
    }
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
    if (acquire(h.i32, base(s) + Stripe.LOCK) !== Got.ACQUIRED) this.#repair(s);
    d[s] = 1;
    h.fresh();
  }

  #unlock(s: number): void {
    const d = this.#depth;
    const n = (d[s] as number) - 1;
    d[s] = n;
    if (n === 0) release(this.#heap.i32, base(s) + Stripe.LOCK);
  }

  /** After taking a stripe over from a dead owner: even sequence, counts recounted from the index. */
  #repair(s: number): void {
    const h = this.#heap;
    h.sync();
    const i32 = h.i32;
    const b = base(s);
    recoverSeq(i32, b + Stripe.SEQ);
    const idx = (ld(i32, b + Stripe.INDEX) + 8) >> 2;
    const cap = ld(i32, idx);
    st(i32, b + Stripe.ICAP, cap);
    let live = 0;
    let used = 0;
    for (let k = 0; k < cap; k++) {
      const e = ld(i32, idx + 2 + 2 * k);
      if (e !== Slot.EMPTY) used++;
      if (e > Slot.DELETED) live++;
    }
    Atomics.store(i32, b + Stripe.COUNT, live);
    st(i32, b + Stripe.USED, used);
  }

  // ---- index ----------------------------------------------------------------------------------

  /** A new empty index block of `cap` slots (not yet published). */
  #newIndex(s: number, cap: number): number {
    const h = this.#heap;
    const off = h.alloc(base(s) + Stripe.FREE, 4 + cap * 8);
    const i32 = h.i32;
    const w = (off + 8) >> 2;
    st(i32, w, cap);
    for (let k = 0; k < cap * 2; k++) st(i32, w + 1 + k, 0);
    return off;
  }

  /**
   * Finds the current key (key.ts `key`) in stripe `s`; returns the slot's word index, or the
   * negated word index of the slot to insert at (-(w)). Reads with `ld` (validated by the caller
   * when unlocked: every offset read is bounds-checked before use). 0 when the probe made no sense
   * (a torn read, or a block beyond this thread's view of a buffer that grew: the view is remapped).
   */
  #find(s: number): number {
    const h = this.#heap;
    const i32 = h.i32;
    const ioff = ld(i32, base(s) + Stripe.INDEX);
    const w = (ioff + 8) >> 2;
    const cls = ioff > 0 && ioff + 16 <= h.cap ? ld(i32, ioff >> 2) : -1;
    const cap = cls >= 0 ? ld(i32, w) : 0;
    if (!(cls >= 0 && cls < CLASSES && cap >= Size.MIN_CAP && (cap & (cap - 1)) === 0 && 12 + cap * 8 <= 16 << cls)) {
      h.sync();
      return 0;
    }
    if (ioff + 12 + cap * 8 > h.cap) {
      h.sync();
      return 0;
    }
    return probe(h, i32, w, cap);
  }

  /**
   * #find for the holder of stripe `s`'s lock: plain reads, no validation (the holder's view is
   * fresh, #lock, and no other thread writes the stripe meanwhile).
   */
  #findHeld(s: number): number {
    const i32 = this.#heap.i32;
    const w = ((i32[base(s) + Stripe.INDEX] as number) + 8) >> 2;
    return probeHeld(i32, w, i32[base(s) + Stripe.ICAP] as number);
  }

  /**
   * Stores number `x` for the current key (stripe `s` locked, `found` from #findHeld). On x86 (mem.ts
   * TSO) a number replacing an inline number is written in place by one 8-byte store, which readers
   * (who read it with one 8-byte load) see entirely or not at all, and which a dying thread makes
   * entirely or not at all (a terminated worker stops at a check, never inside one store); #store
   * does everything else.
   */
  #storeNumber(s: number, found: number, x: number): void {
    if (TSO && found > 0) {
      const h = this.#heap;
      const i32 = h.i32;
      const e = i32[found + 1] as number;
      if (i32[((e + 8) >> 2) + Entry.E_VALUE] === Entry.INLINE) {
        h.f64[(e + Entry.NUM_AT) >> 3] = x;
        return;
      }
    }
    this.#store(s, found, stageNumber(x));
  }

  /** Tests only: runs the reader hook at `point` (the key scratch kept for the reader). */
  #runHook(point: string): void {
    const saved = { ...key, words: key.words.slice() };
    (this.#hook as (point: string) => void)(point);
    Object.assign(key, saved);
  }

  /** The float64 at byte `at` of shared memory (record.ts numberAt; a test hook between its halves where there are two). */
  #numberAt(at: number): number {
    const h = this.#heap;
    if (TSO || this.#hook === undefined) return numberAt(h.i32, h.f64, at);
    const lo = ld(h.i32, at >> 2);
    this.#runHook("half");
    return joinNumber(lo, ld(h.i32, (at >> 2) + 1));
  }

  /**
   * Reads the value of the entry in `slot` into the record scratch; false on a torn read (`optimistic`:
   * a read without the lock, where the test hook runs).
   */
  #readSlot(slot: number, optimistic = false): boolean {
    const h = this.#heap;
    const e = ld(h.i32, slot + 1);
    if (!h.inside(e, 8 + 4 * Entry.E_KEY)) return false;
    const v = ld(h.i32, ((e + 8) >> 2) + Entry.E_VALUE);
    if (optimistic && this.#hook !== undefined) this.#runHook("value");
    if (v === Entry.INLINE) return readRecordAt(h.i32, h.f64, e + 8 + 4 * Entry.E_REC, 16);
    if (!h.inside(v, 16)) return false;
    const room = h.payloadBytes(v);
    if (!h.inside(v, 8 + room)) return false;
    return readRecordAt(h.i32, h.f64, v + 8, room);
  }

  /**
   * The lookup of every read: 1 found (value read into the scratch when `withValue`), 0 absent.
   * Optimistic first; under the lock after RETRIES torn or overtaken tries.
   */
  #lookup(s: number, withValue: boolean): number {
    const h = this.#heap;
    const seqAt = base(s) + Stripe.SEQ;
    for (let n = 0; n < Size.RETRIES; n++) {
      // the data with ld, the validating re-read of the sequence word with Atomics (mem.ts)
      const seq = ld(h.i32, seqAt);
      if ((seq & 1) !== 0) continue;
      const slot = this.#find(s);
      if (slot === 0) continue;
      if (slot > 0 && withValue && !this.#readSlot(slot, true)) continue;
      if (Atomics.load(h.i32, seqAt) === seq) return slot > 0 ? 1 : 0;
    }
    this.#lock(s);
    try {
      const slot = this.#findHeld(s);
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
    const free = b + Stripe.FREE;
    const num = stagedIsNumber();
    if (found > 0) {
      const e = h.i32[found + 1] as number;
      const p = (e + 8) >> 2;
      const old = h.i32[p + Entry.E_VALUE] as number;
      if (num && (TSO || old !== Entry.INLINE)) {
        if (old === Entry.INLINE) {
          // (x86) in place, by one 8-byte store (#storeNumber)
          h.f64[(e + Entry.NUM_AT) >> 3] = stagedNumber();
          return;
        }
        // the entry's own number record is unreachable while E_VALUE names a block (a reader that
        // read INLINE before, and reads it now, began before the advance that replaced it: it fails
        // validation): filled, then published by one store; the old block freed, the sequence advanced
        storeNumber(h.i32, h.f64, e + Entry.NUM_AT, stagedNumber());
        st(h.i32, p + Entry.E_VALUE, Entry.INLINE);
        h.release(free, old);
        advance(h.i32, b + Stripe.SEQ);
        return;
      }
      // one store publishes the complete new block (elsewhere than x86, a number replacing an inline
      // number too: two stores in place could be torn by a dying thread); the old one is freed, then
      // the sequence advances (guard.ts): a reader still reading the old block fails only if it may
      // be reused
      const vb = h.alloc(free, bytes);
      writeStaged(h.i32, vb + 8, bytes);
      const i32 = h.i32;
      st(i32, p + Entry.E_VALUE, vb);
      if (old !== Entry.INLINE) h.release(free, old);
      advance(i32, b + Stripe.SEQ);
      return;
    }
    // a new key: its value block (none for a number: it is inline), its entry block, then (maybe) a
    // bigger index, then publish
    let vb = Entry.INLINE;
    if (!num) {
      vb = h.alloc(free, bytes);
      writeStaged(h.i32, vb + 8, bytes);
    }
    let eb = 0;
    let newIdx = 0;
    try {
      eb = h.alloc(free, 4 * (Entry.E_KEY + key.nwords));
      const i32 = h.i32;
      const count = i32[b + Stripe.COUNT] as number;
      const used = i32[b + Stripe.USED] as number;
      const ioff = i32[b + Stripe.INDEX] as number;
      const cap = i32[(ioff + 8) >> 2] as number;
      if ((found < 0 && i32[-found + 1] === Slot.EMPTY ? used + 1 : used) * 4 > cap * 3) {
        let ncap = Size.MIN_CAP;
        while (ncap < (count + 1) * 2) ncap *= 2;
        newIdx = this.#rebuilt(s, ncap);
      }
    } catch (e) {
      // no room: give back what this call took; nothing was published
      if (eb !== 0) h.release(free, eb);
      if (vb !== Entry.INLINE) h.release(free, vb);
      throw e;
    }
    const i32 = h.i32;
    const p = (eb + 8) >> 2;
    const order = Atomics.add(this.#order, Hdr.ORDER / 2, 1n);
    st(i32, p + Entry.E_ORDER, Number(order & 0xffffffffn) | 0);
    st(i32, p + Entry.E_ORDER + 1, Number(order >> 32n) | 0);
    st(i32, p + Entry.E_VALUE, vb);
    st(i32, p + Entry.E_REC, T_NUM);
    st(i32, p + Entry.E_REC + 1, 0);
    if (num) storeNumber(i32, h.f64, eb + Entry.NUM_AT, stagedNumber());
    st(i32, p + Entry.E_HASH, key.hash);
    st(i32, p + Entry.E_TAG, key.tag);
    st(i32, p + Entry.E_LEN, key.len);
    for (let j = 0; j < key.nwords; j++) st(i32, p + Entry.E_KEY + j, key.words[j] as number);
    beginWrite(i32, b + Stripe.SEQ);
    let slot = -found;
    if (newIdx !== 0) {
      const old = i32[b + Stripe.INDEX] as number;
      st(i32, b + Stripe.INDEX, newIdx);
      st(i32, b + Stripe.ICAP, i32[(newIdx + 8) >> 2] as number);
      h.release(free, old);
      st(i32, b + Stripe.USED, i32[b + Stripe.COUNT] as number);
      const w = (newIdx + 8) >> 2;
      slot = -probe(h, i32, w, i32[w] as number);
    }
    const wasEmpty = i32[slot + 1] === Slot.EMPTY;
    st(i32, slot, key.hash);
    st(i32, slot + 1, eb);
    Atomics.store(i32, b + Stripe.COUNT, (i32[b + Stripe.COUNT] as number) + 1);
    if (wasEmpty) st(i32, b + Stripe.USED, (i32[b + Stripe.USED] as number) + 1);
    endWrite(i32, b + Stripe.SEQ);
  }

  /** A new index of `cap` slots holding stripe `s`'s live entries (not yet published). */
  #rebuilt(s: number, cap: number): number {
    const h = this.#heap;
    const off = this.#newIndex(s, cap);
    const i32 = h.i32;
    const w = (off + 8) >> 2;
    const oldW = ((i32[base(s) + Stripe.INDEX] as number) + 8) >> 2;
    const oldCap = i32[oldW] as number;
    for (let k = 0; k < oldCap; k++) {
      const e = i32[oldW + 2 + 2 * k] as number;
      if (e <= Slot.DELETED) continue;
      const hash = i32[oldW + 1 + 2 * k] as number;
      for (let j = hash & (cap - 1); ; j = (j + 1) & (cap - 1)) {
        if (i32[w + 2 + 2 * j] === Slot.EMPTY) {
          st(i32, w + 1 + 2 * j, hash);
          st(i32, w + 2 + 2 * j, e);
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
    const free = b + Stripe.FREE;
    const e = i32[slot + 1] as number;
    const v = i32[((e + 8) >> 2) + Entry.E_VALUE] as number;
    beginWrite(i32, b + Stripe.SEQ);
    st(i32, slot + 1, Slot.DELETED);
    Atomics.store(i32, b + Stripe.COUNT, (i32[b + Stripe.COUNT] as number) - 1);
    if (v !== Entry.INLINE) h.release(free, v);
    h.release(free, e);
    endWrite(i32, b + Stripe.SEQ);
    const count = i32[b + Stripe.COUNT] as number;
    const cap = i32[((i32[b + Stripe.INDEX] as number) + 8) >> 2] as number;
    if (cap > Size.MIN_CAP && count * 8 < cap) {
      let ncap = Size.MIN_CAP;
      while (ncap < count * 2) ncap *= 2;
      let idx: number;
      try {
        idx = this.#rebuilt(s, ncap);
      } catch {
        return; // no room for a smaller index: keep the big one
      }
      const j32 = h.i32;
      beginWrite(j32, b + Stripe.SEQ);
      const old = j32[b + Stripe.INDEX] as number;
      st(j32, b + Stripe.INDEX, idx);
      st(j32, b + Stripe.ICAP, ncap);
      st(j32, b + Stripe.USED, count);
      h.release(free, old);
      endWrite(j32, b + Stripe.SEQ);
    }
  }

  #stripe(): number {
    return key.hash >>> 26;
  }

  // ---- the API --------------------------------------------------------------------------------

  /** The value stored for `key` (a copy; shared objects stay shared), or undefined. */
  get(k: K): V | undefined {
    keyOf(k, "SharedDict.get()");
    const s = this.#stripe();
    // the common case inline: a number value read straight from its entry, or from its block
    // (#lookup otherwise)
    const h = this.#heap;
    const seqAt = base(s) + Stripe.SEQ;
    const i32 = h.i32;
    const seq = ld(i32, seqAt);
    if ((seq & 1) === 0) {
      const slot = this.#find(s);
      if (slot < 0) {
        if (Atomics.load(i32, seqAt) === seq) return undefined;
      } else if (slot > 0) {
        const limit = h.cap;
        const e = ld(i32, slot + 1);
        if (e > 0 && e + 8 + 4 * Entry.E_KEY <= limit) {
          const v = ld(i32, ((e + 8) >> 2) + Entry.E_VALUE);
          if (this.#hook !== undefined) this.#runHook("value");
          let at = 0;
          if (v === Entry.INLINE) at = e + Entry.NUM_AT;
          else if (v > 0 && v + 24 <= limit && ld(i32, (v + 8) >> 2) === T_NUM) at = v + 16;
          if (at !== 0) {
            const x = this.#numberAt(at);
            if (Atomics.load(i32, seqAt) === seq) return x as V;
          }
        }
      }
    }
    return this.#lookup(s, true) === 1 ? (decodeRead() as V) : undefined;
  }

  /** True when `key` is in the dict. */
  has(key: K): boolean {
    keyOf(key, "SharedDict.has()");
    return this.#lookup(this.#stripe(), false) === 1;
  }

  /** Stores `value` for `key` (a new key goes last in the order; an existing one keeps its place). */
  set(k: K, value: V): this {
    if (typeof k === "string") strKeyOf(k);
    else keyOf(k, "SharedDict.set()");
    if (typeof value === "number") {
      // the common case: no staging (a number cannot fail), hashed once, found under the lock
      // without validation; and when this thread does not hold the stripe already (inside update's
      // fn), no hold count: no user code runs before the release
      const s = this.#stripe();
      const h = this.#heap;
      const b = base(s);
      // the lock's CAS first: it fails when this thread holds the stripe already (then the hold
      // count is > 0 and the re-entrant path below runs), so the common case reads no hold count
      let taken = Atomics.compareExchange(h.i32, b + Stripe.LOCK, 0, myLockValue()) === 0;
      if (!taken && this.#depth[s] === 0) {
        if (acquire(h.i32, b + Stripe.LOCK) !== Got.ACQUIRED) this.#repair(s);
        taken = true;
      }
      if (taken) {
        h.fresh();
        // (setInPlace cannot throw: no try/finally on the common path, whose release is inlined)
        const found = setInPlace(h, b, value);
        if (found === 0) {
          const i32 = h.i32;
          if (TSO && ((i32[b + Stripe.LOCK] as number) & 1) === 0) i32[b + Stripe.LOCK] = 0;
          else release(i32, b + Stripe.LOCK);
          return this;
        }
        try {
          if (found === CORRUPT) throw new RuntimeError("SharedDict: corrupt index"); // (Stripe.USED < cap: never)
          this.#storeNumber(s, found, value);
        } finally {
          release(h.i32, b + Stripe.LOCK);
        }
        return this;
      }
      this.#lock(s);
      try {
        this.#storeNumber(s, this.#findHeld(s), value);
      } finally {
        this.#unlock(s);
      }
      return this;
    }
    const epoch = key.epoch;
    const bytes = stageValue(value, "SharedDict.set(): the value");
    if (key.epoch !== epoch) keyOf(k, "SharedDict.set()"); // a getter used a dict
    const s = this.#stripe();
    this.#lock(s);
    try {
      this.#store(s, this.#findHeld(s), bytes);
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
      const slot = this.#findHeld(s);
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
    const epoch = key.epoch;
    const bytes = stageValue(value, "SharedDict.setdefault(): the value");
    if (key.epoch !== epoch) keyOf(k, "SharedDict.setdefault()");
    const s = this.#stripe();
    this.#lock(s);
    try {
      const slot = this.#findHeld(s);
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
      const slot = this.#findHeld(s);
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
    this.#lock(s);
    try {
      let slot = this.#findHeld(s);
      let old: V | undefined;
      if (slot > 0) {
        const h = this.#heap;
        const i32 = h.i32;
        const e = i32[slot + 1] as number;
        const v = i32[((e + 8) >> 2) + Entry.E_VALUE] as number;
        // (plain reads of a number: only this thread writes the stripe now)
        if (v === Entry.INLINE) old = h.f64[(e + Entry.NUM_AT) >> 3] as V;
        else if (i32[(v + 8) >> 2] === T_NUM) old = h.f64[(v + 16) >> 3] as V;
        else {
          this.#readSlot(slot);
          old = decodeRead() as V;
        }
      }
      // fn (and the value's getters) may use this dict re-entrantly: the key is encoded again if
      // they overwrote this thread's key scratch, and found again if they wrote in this stripe
      // (SEQ is written only by this thread while it holds the lock: plain reads)
      const seqAt = base(s) + Stripe.SEQ;
      const seq = this.#heap.i32[seqAt];
      const epoch = key.epoch;
      const value = fn(old);
      const isNumber = typeof value === "number";
      const bytes = isNumber ? 16 : stageValue(value, "SharedDict.update(): the value fn returned");
      if (key.epoch !== epoch) keyOf(k, "SharedDict.update()");
      if (this.#heap.i32[seqAt] !== seq) {
        this.#heap.fresh();
        slot = this.#findHeld(s);
      }
      if (isNumber) this.#storeNumber(s, slot, value);
      else this.#store(s, slot, bytes);
      return value;
    } finally {
      this.#unlock(s);
    }
  }

  /** The number of keys (the sum of the stripes' counts, each read atomically). */
  get size(): number {
    const i32 = this.#heap.i32;
    let n = 0;
    for (let s = 0; s < Size.STRIPES; s++) n += Atomics.load(i32, base(s) + Stripe.COUNT);
    return n;
  }

  /** Removes every key (all stripes locked together: atomic). */
  clear(): void {
    for (let s = 0; s < Size.STRIPES; s++) this.#lock(s);
    try {
      const h = this.#heap;
      for (let s = 0; s < Size.STRIPES; s++) {
        const b = base(s);
        const free = b + Stripe.FREE;
        const fresh = this.#newIndex(s, Size.MIN_CAP);
        const i32 = h.i32;
        const old = Atomics.load(i32, b + Stripe.INDEX);
        beginWrite(i32, b + Stripe.SEQ);
        Atomics.store(i32, b + Stripe.INDEX, fresh);
        st(i32, b + Stripe.ICAP, Size.MIN_CAP);
        Atomics.store(i32, b + Stripe.COUNT, 0);
        Atomics.store(i32, b + Stripe.USED, 0);
        const w = (old + 8) >> 2;
        const cap = Atomics.load(i32, w);
        for (let k = 0; k < cap; k++) {
          const e = Atomics.load(i32, w + 2 + 2 * k);
          if (e <= Slot.DELETED) continue;
          const v = Atomics.load(i32, ((e + 8) >> 2) + Entry.E_VALUE);
          if (v !== Entry.INLINE) h.release(free, v);
          h.release(free, e);
        }
        h.release(free, old);
        endWrite(i32, b + Stripe.SEQ);
      }
    } finally {
      for (let s = Size.STRIPES - 1; s >= 0; s--) this.#unlock(s);
    }
  }

  /** The keys present now, in insertion order (each stripe read under its lock in turn). */
  #snapshot(): K[] {
    const pairs: [number, K][] = [];
    for (let s = 0; s < Size.STRIPES; s++) {
      this.#lock(s);
      try {
        const i32 = this.#heap.i32;
        const w = (Atomics.load(i32, base(s) + Stripe.INDEX) + 8) >> 2;
        const cap = Atomics.load(i32, w);
        for (let k = 0; k < cap; k++) {
          const e = Atomics.load(i32, w + 2 + 2 * k);
          if (e <= Slot.DELETED) continue;
          const p = (e + 8) >> 2;
          const order =
            (Atomics.load(i32, p + Entry.E_ORDER + 1) >>> 0) * 2 ** 32 + (Atomics.load(i32, p + Entry.E_ORDER) >>> 0);
          pairs.push([
            order,
            keyAt(i32, Atomics.load(i32, p + Entry.E_TAG), Atomics.load(i32, p + Entry.E_LEN), p + Entry.E_KEY) as K,
          ]);
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

  /**
   * @internal For tests: takes the writer lock of `k`'s stripe without releasing it (as a thread killed
   * inside a write would), and opens a write; `newIndex`: as if killed between publishing a new index
   * and its ICAP (ICAP left at half the cap).
   */
  _holdStripeForTest(k: K, newIndex = false): void {
    keyOf(k, "SharedDict");
    const i32 = this.#heap.i32;
    const b = base(this.#stripe());
    acquire(i32, b + Stripe.LOCK);
    beginWrite(i32, b + Stripe.SEQ);
    if (newIndex) st(i32, b + Stripe.ICAP, (i32[b + Stripe.ICAP] as number) >> 1);
  }

  /**
   * @internal For tests: `fn(point)` is called by this thread's readers of this dict between the
   * steps of a read ("value": the entry's value word read, its value not yet; "half": elsewhere than
   * x86, between the two words of a number), so that a test can write meanwhile (the key scratch is
   * kept for the reader). undefined removes it.
   */
  _hookForTest(fn: ((point: string) => void) | undefined): void {
    this.#hook = fn;
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

/** #find's probe of the index at word `w` (`cap` slots) for the current key. */
function probe(h: Heap, i32: Int32Array, w: number, cap: number): number {
  const hash = key.hash;
  const mask = cap - 1;
  let firstFree = 0;
  const limit = h.cap;
  for (let n = 0, k = hash & mask; n < cap; n++, k = (k + 1) & mask) {
    const slot = w + 1 + 2 * k;
    const e = ld(i32, slot + 1);
    if (e === Slot.EMPTY) return firstFree !== 0 ? firstFree : -slot;
    if (e === Slot.DELETED) {
      if (firstFree === 0) firstFree = -slot;
      continue;
    }
    if (ld(i32, slot) !== hash) continue;
    const nw = key.nwords;
    if (!(e > 0 && e + 8 + 4 * (Entry.E_KEY + nw) <= limit)) {
      h.sync();
      return 0;
    }
    const p = (e + 8) >> 2;
    if (ld(i32, p + Entry.E_TAG) !== key.tag || ld(i32, p + Entry.E_LEN) !== key.len) continue;
    const words = key.words;
    let same = true;
    for (let j = 0; j < nw; j++) {
      if (ld(i32, p + Entry.E_KEY + j) !== words[j]) {
        same = false;
        break;
      }
    }
    if (same) return slot;
  }
  return firstFree;
}

/** probe() for a stripe's lock holder (plain reads, no bounds checks: nothing can be torn). */
function probeHeld(i32: Int32Array, w: number, cap: number): number {
  const hash = key.hash;
  const mask = cap - 1;
  let firstFree = 0;
  for (let n = 0, k = hash & mask; n < cap; n++, k = (k + 1) & mask) {
    const slot = w + 1 + 2 * k;
    const e = i32[slot + 1] as number;
    if (e === Slot.EMPTY) return firstFree !== 0 ? firstFree : -slot;
    if (e === Slot.DELETED) {
      if (firstFree === 0) firstFree = -slot;
      continue;
    }
    if (i32[slot] !== hash) continue;
    const p = (e + 8) >> 2;
    if (i32[p + Entry.E_TAG] !== key.tag || i32[p + Entry.E_LEN] !== key.len) continue;
    const words = key.words;
    const nw = key.nwords;
    let j = 0;
    while (j < nw && i32[p + Entry.E_KEY + j] === words[j]) j++;
    if (j === nw) return slot;
  }
  return firstFree;
}

/**
 * set()'s common case, the stripe at word `b` locked: when the current key is there with an inline
 * number and this is x86 (mem.ts TSO), writes `x` in place (one 8-byte store, see #storeNumber) and
 * returns 0; else returns #findHeld's answer (CORRUPT for an index without a free slot, which
 * Stripe.USED < cap rules out). It does not throw. (probeHeld and #storeNumber in one function; the
 * probe loop is probeHeld's, copied: calling probeHeld instead, which V8 inlines, measured 0-1 ns
 * slower of ~45 on Node 20 and 0.3-3 ns on Node 26, 2026-12-05. Keep the two loops in step.)
 */
function setInPlace(h: Heap, b: number, x: number): number {
  const i32 = h.i32;
  const w = ((i32[b + Stripe.INDEX] as number) + 8) >> 2;
  const mask = (i32[b + Stripe.ICAP] as number) - 1;
  const hash = key.hash;
  let firstFree = 0;
  for (let n = 0, k = hash & mask; n <= mask; n++, k = (k + 1) & mask) {
    const slot = w + 1 + 2 * k;
    const e = i32[slot + 1] as number;
    if (e === Slot.EMPTY) return firstFree !== 0 ? firstFree : -slot;
    if (e === Slot.DELETED) {
      if (firstFree === 0) firstFree = -slot;
      continue;
    }
    if (i32[slot] !== hash) continue;
    const p = (e + 8) >> 2;
    if (i32[p + Entry.E_TAG] !== key.tag || i32[p + Entry.E_LEN] !== key.len) continue;
    const words = key.words;
    const nw = key.nwords;
    let j = 0;
    while (j < nw && i32[p + Entry.E_KEY + j] === words[j]) j++;
    if (j !== nw) continue;
    if (!TSO || i32[p + Entry.E_VALUE] !== Entry.INLINE) return slot;
    h.f64[(e + Entry.NUM_AT) >> 3] = x;
    return 0;
  }
  return firstFree !== 0 ? firstFree : CORRUPT;
}

/** What setInPlace returns for an index with no free slot (never a slot's word index: Stripe.USED < cap). */
const CORRUPT = 1;
