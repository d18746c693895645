/**
 * SharedDict: a dict in shared memory, the same object in every thread it is passed to.
 *
 * Design: STRIPES (16) hash tables in one growable buffer (heap.ts); a key's hash picks its stripe.
 * Two kinds of writer lock, both knowing their owner (guard.ts): one per stripe, over the stripe's
 * index, counts and free lists; and one per entry (key), over that entry's value. So:
 *   - readers (get, has, the reads of size) take no lock: they read the stripe's sequence word
 *     (seqlock), probe, copy the value out, and keep what they read only if the word is even and
 *     unchanged (else retry; after RETRIES failures they read under the stripe's lock, so a reader
 *     cannot starve behind a stream of writers, and a writer that died mid-publication is repaired);
 *   - a write of an existing key whose old and new values are numbers (set, update; x86) takes only
 *     that entry's lock and writes only that entry's cache line: writers of different keys share no
 *     written word, even in one stripe (as ConcurrentHashMap locks a bin, not the table);
 *   - every other write of an existing key (a value block allocated or freed; ARM) takes the entry's
 *     lock, then the stripe's; inserts take the stripe's; deletes the entry's, then the stripe's.
 * Lock order: an entry's lock before a stripe's, never the reverse (no thread waits for an entry's
 * lock while it holds a stripe's: clear() only tries them, as update() tries its new ghost's), stripes
 * in increasing order (clear).
 *
 * Memory (byte offsets; data words read and written with mem.ts `ld`/`st` — plain accesses on x86,
 * Atomics elsewhere —, the lock, sequence, state and count words with Atomics; see guard.ts and mem.ts):
 *   header   [TOP (heap bump)] [.] [ORDER: 64-bit insertion counter] ... then STRIPES stripe blocks
 *   stripe   LOCK SEQ INDEX COUNT USED ICAP GHOSTS . FREE[27] EFREE[27] IFREE[27]   (S_WORDS words;
 *            ICAP: the INDEX block's cap, written with INDEX; COUNT: entries with a value, GHOSTS:
 *            without; FREE, EFREE, IFREE: free lists of value, entry and index blocks)
 *   index    block payload: [cap] then cap slots of [hash, entry]; entry 0 = empty, 1 = deleted
 *   entry    block payload: [LOCK, STATE, order lo, order hi, value, key tag | length << 2, NUM
 *            record (T_NUM, 0, float64: 4 words), key words...] (its first cache line holds the
 *            lock, the value and an inline number); value = a value block, INLINE (1): the value
 *            is the number in the entry's own NUM record, or ABSENT (2): a ghost (below)
 *   value    block payload: one record (record.ts)
 * Type-stable blocks: an entry block is only ever reused as an entry (EFREE), so its LOCK word is
 * only ever a lock word, and an index block only as an index of the same cap (IFREE, one cap per
 * block class), so every entry word of any index block, current or stale, is empty, deleted or an
 * entry block. A thread may therefore take the lock of an entry found by a stale read: harmless, and
 * the state check below tells it so.
 *
 * Entry STATE = generation << 2 | phase. Phases: INIT (being filled by an inserter, with the block's
 * next generation; not yet in the index) -> LIVE (set in the insert's write window, right after the
 * slot store) -> DEAD (set by the holder of its lock before it leaves the index; then freed to EFREE)
 * -> INIT (next generation) ... The key of an entry is written only in INIT; its value only under its
 * lock. A LIVE entry whose lock a thread holds stays LIVE, in the index, with its key, until that
 * thread releases it: only the lock's holder moves it to DEAD.
 *
 * Taking a key's entry (#grab): find the entry by a read validated by the stripe's sequence (it is an
 * entry block, LIVE at STATE g), then CAS its lock; once held, STATE == g proves it is still that
 * key's live entry (else, deleted or reused meanwhile: release, look again). On x86 `grabFast` does
 * without the sequence (type-stable blocks: the CAS is harmless whatever entry it finds): it locks
 * the first entry with the key's hash, then checks that it is LIVE (so it stays in its generation
 * while locked) and, reading after the state, that its key is the key. A thread that holds the lock already (update's fn using its own key) re-enters: the
 * inner call neither waits nor releases.
 *
 * The entry cache (x86, per thread and per SharedDict object, string keys, numbers stored inline):
 * after a set() wrote a number in place in a key's entry, or a get() read one validated by the
 * stripe's sequence, the thread records key -> [entry block, STATE, order lo, order hi, stripe]
 * (STATE LIVE; as read under the entry's lock, or validated). The next set() or get() of that key
 * looks the string up (a JS Map: V8 keeps a string's hash, where encoding and hashing the key costs
 * more than the Map) instead of encoding, hashing and probing it, and uses the entry only if its
 * STATE and order are still the recorded ones and its value an inline number; otherwise it takes the
 * ordinary path, which refreshes the record. set() first CASes the entry's lock (as grabFast does)
 * and checks while holding it; get() reads between two reads of the stripe's sequence word, as any
 * reader. Why a stale record is harmless: the block is an entry block for ever (type-stable; the
 * buffer only grows, offsets never move), so the CAS only ever takes an entry lock; LIVE at the
 * recorded STATE means the same generation of the block, whose key (written only in INIT) stays
 * until it goes DEAD, which only its lock's holder does (set) and which leaves the index only in a
 * write window (get: the sequence moved); the order, a 64-bit counter drawn anew by every insert
 * and ghost fill, rules out a block that went through 2^30 generations back to the recorded STATE.
 * At most Size.CACHED keys (then emptied); a cache that missed more than it hit is turned off for
 * Size.CACHE_OFF calls, doubling while that repeats. Other threads never read it; deletes, clears
 * and reuse anywhere invalidate records by these checks alone.
 *
 * State machine of a stripe (LOCK word, guard.ts): FREE -> HELD(owner) -> FREE, or HELD(dead owner)
 * -> HELD(recoverer) after a waiter found the owner gone; entry locks the same. SEQ: even (stable) ->
 * odd (publishing) -> even. Every write prepares new blocks first (unreachable to readers) and
 * publishes with single stores, inside an odd window or followed by an advance of SEQ (guard.ts):
 *   number over inline number (x86)   entry lock only: its float64 written in place by one 8-byte
 *                      store, which readers read with one 8-byte load (no SEQ change: a reader sees the
 *                      old or the new number, whole; a dying thread stores all of it or nothing)
 *   other value of an existing key    entry lock + stripe lock: entry.value := new block (or
 *                      INLINE after filling the NUM record, unreachable while value named a block);
 *                      free the old block; SEQ += 2 (elsewhere than x86 a number over an inline
 *                      number goes to a block too: two stores in place could be torn)
 *   insert             stripe lock: value block, entry (INIT, fields), maybe a bigger index (INDEX :=
 *                      new, ICAP := its cap), slot := [hash, entry], entry LIVE, COUNT++, USED++ in
 *                      an odd window
 *   delete             entry lock: STATE := DEAD; then stripe lock, odd window: slot := DELETED,
 *                      COUNT--, value and entry freed; index shrunk when 1/8 full. When the entry's
 *                      lock is an outer update()'s (its fn deleted its own key, or cleared the
 *                      dict), the entry block is freed by that update as it releases the lock: a
 *                      block is never reused while a user's fn holds its lock (else the writers of
 *                      the key that reused it would wait for that fn, and could deadlock with it)
 *   ghost              update() of an absent key first inserts a ghost (value ABSENT, counted in
 *                      GHOSTS, not COUNT, invisible to every read and to iteration), then takes its
 *                      lock (tried at once, still under the stripe's lock; else as for any key), so
 *                      concurrent updates of one absent key meet at one lock; storing its value (entry
 *                      + stripe lock; one store of value publishes it, no window) takes the key's
 *                      place in the order, GHOSTS--, COUNT++; a failed update removes the ghost it made
 * Invariants: an entry reachable from INDEX (outside an insert's window) is LIVE and complete, or
 * DEAD with its lock held (a delete under way, or its killed owner's); a block is reused only after
 * a write section made it unreachable, so a reader that saw it before fails validation; COUNT +
 * GHOSTS = live slots, USED = live + deleted slots < cap, ICAP = the cap of INDEX's block (outside a
 * write window).
 *
 * Insertion order: each new key takes the next value of a per-dict 64-bit counter; replacing a value
 * keeps the key's place (Python's dict); delete + insert moves it to the end. Iteration collects
 * (order, key) from every stripe (under each stripe's lock in turn, briefly), sorts by order and
 * yields lazily, reading each value when reached and skipping keys deleted since: weakly consistent
 * (every key present for the whole iteration is seen exactly once, with a value it had during the
 * iteration; keys added meanwhile may be missed).
 *
 * update(key, fn): the key's entry lock is held while fn runs in the calling thread (re-entrantly
 * for that thread: fn may use the dict, this key too), the stripe's is not: readers in every thread
 * go on reading the old value, writers of other keys are not held up, writers of this key wait.
 * fn's result is staged (checked) before anything changes: if fn throws, or returns a value that
 * cannot be stored, the entry keeps its old value. If fn deleted the key (its STATE moved), the
 * result is stored as set() would. As with any two locks, an fn that writes key B while another
 * thread's fn, updating B, writes this key, deadlocks (Java's ConcurrentHashMap.compute forbids it).
 *
 * A thread dying mid-write: `process.exit()` inside fn unwinds (finally blocks run), so the locks are
 * released and the entry keeps its old value. A thread killed at any instruction (its worker
 * terminated, out of memory) leaves a lock word holding its ident: the next thread that needs it sees,
 * within CHECK_MS (50 ms), that no live thread has that ident, takes it over and repairs:
 *   a stripe   SEQ made even (guard.ts recoverSeq); COUNT, GHOSTS, USED and ICAP recounted from the
 *              index; an entry left INIT in the index (killed between its slot store and LIVE) made
 *              LIVE (it was complete)
 *   an entry   left DEAD and still in the index (killed inside delete): the delete is finished;
 *              anything else its owner did to it was one store, or under the stripe's lock too
 * Because every change is published by one store, the dead thread's write happened entirely or not
 * at all (a delete it began happens when its key is next written); the blocks it had allocated but
 * not published are leaked (bounded by one write; an update killed after its fn deleted its own key
 * leaks that entry block). The entry lock of a freed entry may be held by a
 * thread that dies: the block's next life starts with a lock that its first writer takes over.
 * Guarantee: the dict stays usable and consistent; the interrupted call's effect is all or nothing.
 * Test hooks (_hookForTest, _holdStripeForTest, _holdEntryForTest) let tests overtake a reader or a
 * writer between its steps, and leave locks as a killed thread would (get() skips the entry cache
 * while a hook is set, so that its "value" point is reached).
 */
import { checkArgCount } from "../shared/wait.js";
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
  S_WORDS = 96,
  MIN_CAP = 8,
  RETRIES = 32,
  /** Keys in a thread's entry cache, at most. */
  CACHED = 4096,
  /** set() calls for which a cache that missed more than it hit stays off. */
  CACHE_OFF = 65536,
  CACHE_OFF_MAX = 1 << 24,
  /** Words of a record of the entry cache. */
  REC = 5,
}

/** The header. */
enum Hdr {
  HEADER_WORDS = 16,
  /** BigInt64 index (byte 16). */
  ORDER = 2,
  /** (HEADER_WORDS + STRIPES * S_WORDS) * 4 */
  HEADER_BYTES = (16 + 16 * 96) * 4,
}

/** Stripe words. */
enum Stripe {
  LOCK = 0,
  SEQ = 1,
  INDEX = 2,
  /** Entries with a value (the keys: size). */
  COUNT = 3,
  USED = 4,
  /** The INDEX block's cap, for the lock holder (beside INDEX: one dependent load less; readers read the block's). */
  ICAP = 5,
  /** Entries without a value (reserved by update for an absent key). */
  GHOSTS = 6,
  /** Free lists of value blocks (27 heads). */
  FREE = 8,
  /** Free lists of entry blocks (27 heads): an entry block is never reused as anything but an entry. */
  EFREE = 35,
  /** Free lists of index blocks (27 heads): an index block is only ever reused as an index of the same cap. */
  IFREE = 62,
}

/** Entry payload words. */
enum Entry {
  /** The entry's writer lock (guard.ts): only ever written by lock operations. */
  E_LOCK = 0,
  /** generation << 2 | phase (Phase): which life of the block, and where in it. */
  E_STATE = 1,
  E_ORDER = 2,
  /** A value block's offset, INLINE (the value is the number record at E_REC), or ABSENT (a ghost). */
  E_VALUE = 4,
  /** The key's tag | length << 2. */
  E_TL = 5,
  /** A number record of the entry's own: [T_NUM, 0, float64] (the float64 at byte 40 of the block: 8-aligned). */
  E_REC = 6,
  E_KEY = 10,
  /** Byte offset, from an entry block, of its inline number's float64: 8 + 4 * (E_REC + 2). */
  NUM_AT = 40,
}

/** What E_VALUE may hold besides a value block's offset. */
enum Val {
  /** The value is the number record at E_REC. */
  INLINE = 1,
  /** None: the entry is a ghost, reserved by update() for a key that has no value (yet). */
  ABSENT = 2,
}

/** The phase of an entry (the low 2 bits of its state word). */
enum Phase {
  /** In the index, live (reached only after its insert's publication). */
  LIVE = 0,
  /** Deleted, or being deleted by the holder of its lock (set under the lock, before it leaves the index). */
  DEAD = 1,
  /** Being filled by an inserter (with the next generation), before its publication. */
  INIT = 2,
}

/** An index slot's entry word when it holds no entry. */
enum Slot {
  EMPTY = 0,
  DELETED = 1,
}

function base(s: number): number {
  return Hdr.HEADER_WORDS + s * Size.S_WORDS;
}

/** The word index of entry block `e`'s lock word ((e + 8) / 4 + E_LOCK). */
function lockOf(e: number): number {
  return (e >> 2) + 2;
}

/** The word index of entry block `e`'s state word. */
function stateOf(e: number): number {
  return (e >> 2) + 3;
}

/** The current key's tag and length as an entry stores them (E_TL). */
function tagLen(): number {
  return key.tag | (key.len << 2);
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
  /** This thread's re-entrant hold count per stripe. */
  readonly #depth = new Int32Array(Size.STRIPES);
  /**
   * Entry blocks (with their stripe: pairs s, e) unlinked while an outer update() of this thread
   * held their lock (its fn deleted its own key, or cleared the dict): that update frees them when
   * it releases the lock, so that no block is reused while a user's fn holds its lock.
   */
  readonly #unfreed: number[] = [];
  /** Tests only: called by this thread between the steps of a read or a write (_hookForTest). */
  #hook: ((point: string) => void) | undefined = undefined;
  /**
   * This thread's cache of where string keys live (x86 only; see "The entry cache" in the file's
   * header): key -> index c of its record in #cw, [entry block, STATE, order lo, order hi, stripe].
   */
  readonly #cache = new Map<string, number>();
  #cw = new Int32Array(Size.REC * 16);
  /** Records in use in #cw (the cache holds at most Size.CACHED keys). */
  #cn = 0;
  /** Cached entries used (hits) and added (misses) since the cache was last emptied. */
  #hits = 0;
  #misses = 0;
  /** > 0: the cache is off for that many more set() calls (it missed more than it hit). */
  #cacheOff = 0;
  /** How long the next turn-off lasts: doubled by each turn-off in a row (up to Size.CACHE_OFF_MAX). */
  #offFor = Size.CACHE_OFF as number;

  /** A new dict, filled from `entries` (in order; later duplicates replace earlier values). */
  constructor(entries?: Iterable<[K, V]>) {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("SharedDict", arguments.length, 1);
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

  // ---- stripe locks ---------------------------------------------------------------------------

  #lock(s: number): void {
    if (this.#hook !== undefined) this.#runHook("stripe");
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
    let ghosts = 0;
    let used = 0;
    for (let k = 0; k < cap; k++) {
      const e = ld(i32, idx + 2 + 2 * k);
      if (e !== Slot.EMPTY) used++;
      if (e > Slot.DELETED) {
        // (an inserter that died between its publication and its entry's LIVE: the entry is whole)
        const state = ld(i32, stateOf(e));
        if ((state & 3) === Phase.INIT) st(i32, stateOf(e), state & ~3);
        if (ld(i32, ((e + 8) >> 2) + Entry.E_VALUE) === Val.ABSENT) ghosts++;
        else live++;
      }
    }
    Atomics.store(i32, b + Stripe.COUNT, live);
    st(i32, b + Stripe.GHOSTS, ghosts);
    st(i32, b + Stripe.USED, used);
  }

  // ---- entry locks ----------------------------------------------------------------------------

  /**
   * Finds the current key's entry in stripe `s` and takes its lock. Returns the entry's block (its
   * lock now held by this thread; +1 when this thread held it already, in an outer call: then the
   * caller must not release it), or 0 when the key has no entry. The entry returned is live (LIVE
   * state, reachable from the index) and stays so until the lock is released: only its lock holder
   * deletes it. The lock is taken only after a validated read showed the block to be an entry
   * (entry blocks stay entries: a lock word is never anything else); a waiter that gets it checks
   * that the entry's state is still the one it read (not deleted, not reused) and else looks again.
   */
  #grab(s: number): number {
    const h = this.#heap;
    const seqAt = base(s) + Stripe.SEQ;
    for (let n = 0; ; n++) {
      let e = 0;
      let g = 0;
      if (n < Size.RETRIES) {
        const seq = ld(h.i32, seqAt);
        if ((seq & 1) !== 0) continue;
        const slot = this.#find(s);
        if (slot === 0) continue;
        if (slot > 0) {
          e = ld(h.i32, slot + 1);
          if (!h.inside(e, 8 + 4 * Entry.E_KEY)) continue;
          g = ld(h.i32, stateOf(e));
        }
        if (Atomics.load(h.i32, seqAt) !== seq) continue;
        if (e === 0) return 0;
      } else {
        // (a stream of writers, or a dead one: look under the stripe's lock, repaired if need be)
        this.#lock(s);
        try {
          const slot = this.#findHeld(s);
          if (slot > 0) {
            e = h.i32[slot + 1] as number;
            g = Atomics.load(h.i32, stateOf(e));
          }
        } finally {
          this.#unlock(s);
        }
        if (e === 0) return 0;
      }
      if (this.#hook !== undefined) this.#runHook("grab");
      const at = lockOf(e);
      const v = Atomics.compareExchange(h.i32, at, 0, myLockValue());
      if (v !== 0) {
        if (v >>> 1 === myLockValue() >>> 1) {
          if (Atomics.load(h.i32, stateOf(e)) === g && (g & 3) === Phase.LIVE) return e + 1;
          continue;
        }
        if (acquire(h.i32, at) === Got.RECOVERED) this.#repairEntry(s, e);
      }
      if (ld(h.i32, stateOf(e)) === g && (g & 3) === Phase.LIVE) return e;
      // deleted (and maybe reused) meanwhile, or being deleted by a thread that died: look again
      release(h.i32, at);
    }
  }

  /** Releases entry `e`'s lock when `grabbed` (#grab's answer) says that this call took it. */
  #drop(grabbed: number): void {
    if ((grabbed & 1) === 0) release(this.#heap.i32, lockOf(grabbed));
  }

  /**
   * After taking entry `e`'s lock over from a dead owner: a delete it had begun (DEAD, the entry still
   * in the index) is finished. Anything else the owner did to the entry was one store, or was
   * done under the stripe's lock too (whose recovery repairs the stripe).
   */
  #repairEntry(s: number, e: number): void {
    const h = this.#heap;
    h.sync();
    if ((Atomics.load(h.i32, stateOf(e)) & 3) !== Phase.DEAD) return;
    this.#lock(s);
    try {
      const slot = this.#slotOf(s, e);
      if (slot > 0) this.#unlink(s, slot, e);
    } finally {
      this.#unlock(s);
    }
  }

  // ---- index ----------------------------------------------------------------------------------

  /** A new empty index block of `cap` slots (not yet published). */
  #newIndex(s: number, cap: number): number {
    const h = this.#heap;
    const off = h.alloc(base(s) + Stripe.IFREE, 4 + cap * 8);
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
   * fresh, #lock, and no other thread changes the index meanwhile).
   */
  #findHeld(s: number): number {
    const i32 = this.#heap.i32;
    const w = ((i32[base(s) + Stripe.INDEX] as number) + 8) >> 2;
    return probeHeld(i32, w, i32[base(s) + Stripe.ICAP] as number);
  }

  /** The slot of entry `e` in stripe `s`'s index (stripe locked), or 0 when it is not there. */
  #slotOf(s: number, e: number): number {
    const i32 = this.#heap.i32;
    const w = ((i32[base(s) + Stripe.INDEX] as number) + 8) >> 2;
    const cap = i32[w] as number;
    for (let k = 0; k < cap; k++) if (i32[w + 2 + 2 * k] === e) return w + 1 + 2 * k;
    return 0;
  }

  /** Tests only: runs the hook at `point` (the key scratch kept for the caller). */
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
   * Reads the value of entry `e` (not a ghost) into the record scratch; false on a torn read
   * (`optimistic`: a read without a lock, where the test hook runs).
   */
  #readEntry(e: number, optimistic = false): boolean {
    const h = this.#heap;
    if (!h.inside(e, 8 + 4 * Entry.E_KEY)) return false;
    const v = ld(h.i32, ((e + 8) >> 2) + Entry.E_VALUE);
    if (optimistic && this.#hook !== undefined) this.#runHook("value");
    if (v === Val.INLINE) return readRecordAt(h.i32, h.f64, e + 8 + 4 * Entry.E_REC, 16);
    if (!h.inside(v, 16)) return false;
    const room = h.payloadBytes(v);
    if (!h.inside(v, 8 + room)) return false;
    return readRecordAt(h.i32, h.f64, v + 8, room);
  }

  /**
   * The lookup of every read: 1 found (value read into the scratch when `withValue`), 0 absent (a
   * ghost is absent). Optimistic first; under the stripe's lock after RETRIES torn or overtaken tries.
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
      let found = 0;
      if (slot > 0) {
        const e = ld(h.i32, slot + 1);
        if (!h.inside(e, 8 + 4 * Entry.E_KEY)) continue;
        if (ld(h.i32, ((e + 8) >> 2) + Entry.E_VALUE) !== Val.ABSENT) {
          found = 1;
          if (withValue && !this.#readEntry(e, true)) continue;
        }
      }
      if (Atomics.load(h.i32, seqAt) === seq) return found;
    }
    // (an in-place number writer holds only the entry's lock: its one 8-byte store is read whole)
    this.#lock(s);
    try {
      const slot = this.#findHeld(s);
      if (slot <= 0) return 0;
      const e = h.i32[slot + 1] as number;
      if (h.i32[((e + 8) >> 2) + Entry.E_VALUE] === Val.ABSENT) return 0;
      if (withValue && !this.#readEntry(e)) throw new RuntimeError("SharedDict: corrupt entry");
      return 1;
    } finally {
      this.#unlock(s);
    }
  }

  // ---- writes ---------------------------------------------------------------------------------

  /**
   * Stores a value in entry `e` (its lock held by this thread; stripe `s`): the number `x` when
   * `num`, else the staged record of `bytes`. A number replacing an inline number on x86 (mem.ts
   * TSO) is written in place, by one 8-byte store, under the entry's lock alone: readers (who read
   * it with one 8-byte load) see it entirely or not at all, and a dying thread makes it entirely or
   * not at all (a terminated worker stops at a check, never inside one store). Everything else
   * allocates or frees blocks, or fills a ghost: under the stripe's lock too (#replace).
   */
  #storeAt(s: number, e: number, num: boolean, x: number, bytes: number): void {
    const h = this.#heap;
    if (TSO && num && h.i32[((e + 8) >> 2) + Entry.E_VALUE] === Val.INLINE) {
      h.f64[(e + Entry.NUM_AT) >> 3] = x;
      return;
    }
    this.#lock(s);
    try {
      this.#replace(s, e, num, x, bytes);
    } finally {
      this.#unlock(s);
    }
  }

  /** #storeAt's general case: entry `e`'s lock and stripe `s`'s lock held. */
  #replace(s: number, e: number, num: boolean, x: number, bytes: number): void {
    const h = this.#heap;
    const b = base(s);
    const free = b + Stripe.FREE;
    const p = (e + 8) >> 2;
    const old = h.i32[p + Entry.E_VALUE] as number;
    if (old === Val.ABSENT) {
      // a ghost gets its value: the key is inserted (its place in the order is taken now). The
      // entry's number record is unreachable while E_VALUE is ABSENT (a reader that read the
      // record of an earlier incarnation of this block began before the write that unlinked it).
      let vb = Val.INLINE as number;
      if (num) storeNumber(h.i32, h.f64, e + Entry.NUM_AT, x);
      else {
        vb = h.alloc(free, bytes);
        writeStaged(h.i32, vb + 8, bytes);
      }
      const i32 = h.i32;
      const order = Atomics.add(this.#order, Hdr.ORDER / 2, 1n);
      st(i32, p + Entry.E_ORDER, Number(order & 0xffffffffn) | 0);
      st(i32, p + Entry.E_ORDER + 1, Number(order >> 32n) | 0);
      // (one store publishes it: no write window; the counts follow, recounted if this thread dies)
      st(i32, p + Entry.E_VALUE, vb);
      st(i32, b + Stripe.GHOSTS, (i32[b + Stripe.GHOSTS] as number) - 1);
      Atomics.store(i32, b + Stripe.COUNT, (i32[b + Stripe.COUNT] as number) + 1);
      return;
    }
    if (num && (TSO || old !== Val.INLINE)) {
      if (old === Val.INLINE) {
        h.f64[(e + Entry.NUM_AT) >> 3] = x; // (x86, in place: #storeAt)
        return;
      }
      // the entry's own number record is unreachable while E_VALUE names a block (a reader that
      // read INLINE before, and reads it now, began before the advance that replaced it: it fails
      // validation): filled, then published by one store; the old block freed, the sequence advanced
      storeNumber(h.i32, h.f64, e + Entry.NUM_AT, x);
      st(h.i32, p + Entry.E_VALUE, Val.INLINE);
      h.release(free, old);
      advance(h.i32, b + Stripe.SEQ);
      return;
    }
    // one store publishes the complete new block (elsewhere than x86, a number replacing an inline
    // number too: two stores in place could be torn by a dying thread); the old one is freed, then
    // the sequence advances (guard.ts): a reader still reading the old block fails only if it may
    // be reused
    if (num) bytes = stageNumber(x);
    const vb = h.alloc(free, bytes);
    writeStaged(h.i32, vb + 8, bytes);
    const i32 = h.i32;
    st(i32, p + Entry.E_VALUE, vb);
    if (old !== Val.INLINE) h.release(free, old);
    advance(i32, b + Stripe.SEQ);
  }

  /**
   * Inserts the current key (absent: `found` is #findHeld's negative answer; stripe `s` locked) with
   * the number `x` (`num`), the staged record of `bytes`, or, for a `ghost`, no value. The entry's
   * lock word is left as it is (a waiter from the block's previous life may hold it for a moment);
   * its state moves to the next generation, which no such waiter expects. Returns the entry.
   */
  #insert(s: number, found: number, num: boolean, x: number, bytes: number, ghost: boolean): number {
    const h = this.#heap;
    const b = base(s);
    const free = b + Stripe.FREE;
    // its value block (none for a number: it is inline; none for a ghost), its entry block, then
    // (maybe) a bigger index, then publish
    let vb = ghost ? Val.ABSENT : Val.INLINE;
    if (!ghost && !num) {
      vb = h.alloc(free, bytes);
      writeStaged(h.i32, vb + 8, bytes);
    }
    let eb = 0;
    let newIdx = 0;
    try {
      eb = h.alloc(b + Stripe.EFREE, 4 * (Entry.E_KEY + key.nwords));
      const i32 = h.i32;
      const count = (i32[b + Stripe.COUNT] as number) + (i32[b + Stripe.GHOSTS] as number);
      const used = i32[b + Stripe.USED] as number;
      const ioff = i32[b + Stripe.INDEX] as number;
      const cap = i32[(ioff + 8) >> 2] as number;
      if ((i32[-found + 1] === Slot.EMPTY ? used + 1 : used) * 4 > cap * 3) {
        let ncap = Size.MIN_CAP;
        while (ncap < (count + 1) * 2) ncap *= 2;
        newIdx = this.#rebuilt(s, ncap);
      }
    } catch (e) {
      // no room: give back what this call took; nothing was published
      if (eb !== 0) h.release(b + Stripe.EFREE, eb);
      if (vb > Val.ABSENT) h.release(free, vb);
      throw e;
    }
    const i32 = h.i32;
    const p = (eb + 8) >> 2;
    // the block's next generation, being filled (its fields are read only once it is LIVE)
    const state = ((((i32[p + Entry.E_STATE] as number) >>> 2) + 1) << 2) | Phase.INIT;
    st(i32, p + Entry.E_STATE, state);
    if (!ghost) {
      const order = Atomics.add(this.#order, Hdr.ORDER / 2, 1n);
      st(i32, p + Entry.E_ORDER, Number(order & 0xffffffffn) | 0);
      st(i32, p + Entry.E_ORDER + 1, Number(order >> 32n) | 0);
    }
    st(i32, p + Entry.E_VALUE, vb);
    st(i32, p + Entry.E_REC, T_NUM);
    st(i32, p + Entry.E_REC + 1, 0);
    if (num && !ghost) storeNumber(i32, h.f64, eb + Entry.NUM_AT, x);
    st(i32, p + Entry.E_TL, tagLen());
    for (let j = 0; j < key.nwords; j++) st(i32, p + Entry.E_KEY + j, key.words[j] as number);
    beginWrite(i32, b + Stripe.SEQ);
    let slot = -found;
    if (newIdx !== 0) {
      const old = i32[b + Stripe.INDEX] as number;
      st(i32, b + Stripe.INDEX, newIdx);
      st(i32, b + Stripe.ICAP, i32[(newIdx + 8) >> 2] as number);
      h.release(b + Stripe.IFREE, old);
      st(i32, b + Stripe.USED, (i32[b + Stripe.COUNT] as number) + (i32[b + Stripe.GHOSTS] as number));
      const w = (newIdx + 8) >> 2;
      slot = -probe(h, i32, w, i32[w] as number);
    }
    const wasEmpty = i32[slot + 1] === Slot.EMPTY;
    st(i32, slot, key.hash);
    st(i32, slot + 1, eb);
    st(i32, p + Entry.E_STATE, state & ~3); // LIVE
    if (ghost) st(i32, b + Stripe.GHOSTS, (i32[b + Stripe.GHOSTS] as number) + 1);
    else Atomics.store(i32, b + Stripe.COUNT, (i32[b + Stripe.COUNT] as number) + 1);
    if (wasEmpty) st(i32, b + Stripe.USED, (i32[b + Stripe.USED] as number) + 1);
    endWrite(i32, b + Stripe.SEQ);
    return eb;
  }

  /** A new index of `cap` slots holding stripe `s`'s entries (not yet published). */
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

  /**
   * Deletes entry `e` (live; its lock held by this thread; stripe `s`): its state goes DEAD first
   * (a waiter for its lock then knows it is gone, and a thread that takes the lock over from this
   * one finishes the delete, #repairEntry), then it leaves the index under the stripe's lock.
   * `nested`: the lock is an outer update()'s (#grab answered +1), which frees the block (#unfreed).
   */
  #deleteHeld(s: number, e: number, nested = false): void {
    const h = this.#heap;
    // (st: in program order before the stripe lock's CAS, mem.ts)
    st(h.i32, stateOf(e), ((h.i32[stateOf(e)] as number) & ~3) | Phase.DEAD);
    this.#lock(s);
    try {
      let slot = this.#findHeld(s);
      if (slot <= 0 || h.i32[slot + 1] !== e) slot = this.#slotOf(s, e);
      if (slot > 0) this.#unlink(s, slot, e, nested);
    } finally {
      this.#unlock(s);
    }
  }

  /**
   * Takes entry `e` (DEAD) out of `slot` and frees it and its value (stripe locked); shrinks
   * the index when it is mostly empty. `keep`: the entry block is not freed but left to the outer
   * update() of this thread that holds its lock (#unfreed).
   */
  #unlink(s: number, slot: number, e: number, keep = false): void {
    const h = this.#heap;
    const i32 = h.i32;
    const b = base(s);
    const free = b + Stripe.FREE;
    const v = i32[((e + 8) >> 2) + Entry.E_VALUE] as number;
    beginWrite(i32, b + Stripe.SEQ);
    st(i32, slot + 1, Slot.DELETED);
    if (v === Val.ABSENT) st(i32, b + Stripe.GHOSTS, (i32[b + Stripe.GHOSTS] as number) - 1);
    else Atomics.store(i32, b + Stripe.COUNT, (i32[b + Stripe.COUNT] as number) - 1);
    if (v > Val.ABSENT) h.release(free, v);
    if (keep) this.#unfreed.push(s, e);
    else h.release(b + Stripe.EFREE, e);
    endWrite(i32, b + Stripe.SEQ);
    const count = (i32[b + Stripe.COUNT] as number) + (i32[b + Stripe.GHOSTS] as number);
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
      h.release(b + Stripe.IFREE, old);
      endWrite(j32, b + Stripe.SEQ);
    }
  }

  /**
   * Stores a value for the current key (stripe `s`): in its entry under the entry's lock, or, when
   * absent, in a new entry under the stripe's lock (set's body; the staged record when not `num`;
   * `absent`: grabFast found no entry, so the stripe's lock is taken first).
   */
  #put(s: number, num: boolean, x: number, bytes: number, absent = false): void {
    for (;;) {
      const e = absent ? 0 : this.#grab(s);
      absent = false;
      if (e !== 0) {
        try {
          this.#storeAt(s, e & ~1, num, x, bytes);
        } finally {
          this.#drop(e);
        }
        return;
      }
      this.#lock(s);
      try {
        const slot = this.#findHeld(s);
        if (slot < 0) {
          this.#insert(s, slot, num, x, bytes, false);
          return;
        }
        if (slot === 0) throw new RuntimeError("SharedDict: corrupt index"); // (Stripe.USED < cap: never)
      } finally {
        this.#unlock(s);
      }
      // inserted by another thread meanwhile: store in its entry
    }
  }

  #stripe(): number {
    return key.hash >>> 26;
  }

  // ---- the entry cache (x86) ------------------------------------------------------------------

  /**
   * set()'s in-place store through cache record `c`: takes the entry's lock with one CAS and, if the
   * entry is still the cached life of the key (STATE, so LIVE, and the 64-bit order unchanged) with
   * an inline number, stores `x` and releases. False (nothing changed, the lock not held) otherwise:
   * the caller takes the ordinary path, which refreshes or adds the record.
   */
  #setCached(c: number, x: number): boolean {
    const cw = this.#cw;
    const e = cw[c] as number;
    const h = this.#heap;
    const i32 = h.i32;
    if (!(e > 0 && e + 64 <= h.cap)) return false;
    const at = lockOf(e);
    if (Atomics.compareExchange(i32, at, 0, myLockValue()) !== 0) return false;
    const p = (e + 8) >> 2;
    if (
      i32[p + Entry.E_STATE] === cw[c + 1] &&
      i32[p + Entry.E_ORDER] === cw[c + 2] &&
      i32[p + Entry.E_ORDER + 1] === cw[c + 3] &&
      i32[p + Entry.E_VALUE] === Val.INLINE
    ) {
      h.f64[(e + Entry.NUM_AT) >> 3] = x;
      this.#hits++;
      if (((i32[at] as number) & 1) === 0) i32[at] = 0;
      else release(i32, at);
      return true;
    }
    release(i32, at);
    return false;
  }

  /**
   * Records entry `e` of stripe `s` as key `k`'s, with its STATE (LIVE) and order as read under its
   * lock by set(), or by a get() validated by the stripe's sequence: in its record `c`, or in a new
   * one. A full cache is emptied; one that missed more than it hit since it
   * was last emptied is turned off for a while, twice as long each time in a row (a thread cycling
   * through more keys than the cache holds would only pay for it).
   */
  #remember(k: string, c: number | undefined, e: number, s: number, state: number, lo: number, hi: number): void {
    if (this.#cacheOff > 0) {
      this.#cacheOff--;
      return;
    }
    if (c === undefined) {
      if (this.#cn === Size.CACHED) {
        this.#cache.clear();
        this.#cn = 0;
        const missed = this.#misses > this.#hits;
        this.#hits = this.#misses = 0;
        if (missed) {
          this.#cacheOff = this.#offFor;
          this.#offFor = Math.min(this.#offFor * 2, Size.CACHE_OFF_MAX);
          return;
        }
        this.#offFor = Size.CACHE_OFF;
      }
      c = Size.REC * this.#cn++;
      if (c + Size.REC > this.#cw.length) {
        const cw = new Int32Array(this.#cw.length * 2);
        cw.set(this.#cw);
        this.#cw = cw;
      }
      this.#cache.set(k, c);
    }
    this.#misses++;
    const cw = this.#cw;
    cw[c] = e;
    cw[c + 1] = state;
    cw[c + 2] = lo;
    cw[c + 3] = hi;
    cw[c + 4] = s;
  }

  // ---- the API --------------------------------------------------------------------------------

  /**
   * The value stored for `key` (a copy; shared objects stay shared), or `fallback` (default
   * undefined) when there is none, as Python's `dict.get(key, default)`.
   */
  get(k: K): V | undefined;
  get<D>(k: K, fallback: D): V | D;
  get(k: K, fallback?: unknown): unknown {
    let c: number | undefined;
    if (TSO && typeof k === "string" && this.#cacheOff === 0 && this.#hook === undefined) {
      // a cached entry, still this key's, with a number in it (header: "The entry cache")
      c = this.#cache.get(k);
      if (c !== undefined) {
        const cw = this.#cw;
        const e = cw[c] as number;
        const h = this.#heap;
        const i32 = h.i32;
        const seqAt = base(cw[c + 4] as number) + Stripe.SEQ;
        const seq = i32[seqAt] as number;
        const p = (e + 8) >> 2;
        if (
          (seq & 1) === 0 &&
          e > 0 &&
          e + 64 <= h.cap &&
          i32[p + Entry.E_STATE] === cw[c + 1] &&
          i32[p + Entry.E_ORDER] === cw[c + 2] &&
          i32[p + Entry.E_ORDER + 1] === cw[c + 3] &&
          i32[p + Entry.E_VALUE] === Val.INLINE
        ) {
          const x = h.f64[(e + Entry.NUM_AT) >> 3] as number;
          if (Atomics.load(i32, seqAt) === seq) {
            this.#hits++;
            return x as V;
          }
        }
      }
    }
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
        if (Atomics.load(i32, seqAt) === seq) return fallback;
      } else if (slot > 0) {
        const limit = h.cap;
        const e = ld(i32, slot + 1);
        if (e > 0 && e + 8 + 4 * Entry.E_KEY <= limit) {
          const v = ld(i32, ((e + 8) >> 2) + Entry.E_VALUE);
          if (this.#hook !== undefined) this.#runHook("value");
          let at = 0;
          if (v === Val.INLINE) at = e + Entry.NUM_AT;
          else if (v > 0 && v + 24 <= limit && ld(i32, (v + 8) >> 2) === T_NUM) at = v + 16;
          if (at !== 0) {
            const p = (e + 8) >> 2;
            const state = ld(i32, p + Entry.E_STATE);
            const lo = ld(i32, p + Entry.E_ORDER);
            const hi = ld(i32, p + Entry.E_ORDER + 1);
            const x = this.#numberAt(at);
            if (Atomics.load(i32, seqAt) === seq) {
              // (validated: the entry was this key's, LIVE or being deleted, at that state and order)
              if (TSO && v === Val.INLINE && (state & 3) === Phase.LIVE && typeof k === "string")
                this.#remember(k, c, e, s, state, lo, hi);
              return x as V;
            }
          }
        }
      }
    }
    return this.#lookup(s, true) === 1 ? (decodeRead() as V) : fallback;
  }

  /** True when `key` is in the dict. */
  has(key: K): boolean {
    keyOf(key, "SharedDict.has()");
    return this.#lookup(this.#stripe(), false) === 1;
  }

  /** Stores `value` for `key` (a new key goes last in the order; an existing one keeps its place). */
  set(k: K, value: V): this {
    let c: number | undefined;
    if (typeof k === "string") {
      if (TSO && typeof value === "number" && this.#cacheOff === 0) {
        // the commonest case of all: a cached entry, still this key's (header: "The entry cache")
        c = this.#cache.get(k);
        if (c !== undefined && this.#setCached(c, value)) return this;
      }
      strKeyOf(k);
    } else keyOf(k, "SharedDict.set()");
    if (typeof value === "number") {
      // the common case: an existing key's inline number replaced in place (x86) under its entry's
      // lock, taken by grabFast (no try/finally: nothing between the lock and its release can throw)
      const s = this.#stripe();
      const h = this.#heap;
      const e = grabFast(h, base(s));
      if (e <= 0) {
        this.#put(s, true, value, 16, e < 0);
        return this;
      }
      const i32 = h.i32;
      if (i32[((e + 8) >> 2) + Entry.E_VALUE] === Val.INLINE) {
        h.f64[(e + Entry.NUM_AT) >> 3] = value;
        if (typeof k === "string") {
          const p = (e + 8) >> 2;
          this.#remember(
            k,
            c,
            e,
            s,
            i32[p + Entry.E_STATE] as number,
            i32[p + Entry.E_ORDER] as number,
            i32[p + Entry.E_ORDER + 1] as number,
          );
        }
        const at = lockOf(e);
        if (((i32[at] as number) & 1) === 0) i32[at] = 0;
        else release(i32, at);
        return this;
      }
      try {
        this.#storeAt(s, e, true, value, 16);
      } finally {
        release(h.i32, lockOf(e));
      }
      return this;
    }
    const epoch = key.epoch;
    const bytes = stageValue(value, "SharedDict.set(): the value");
    if (key.epoch !== epoch) keyOf(k, "SharedDict.set()"); // a getter used a dict
    const s = this.#stripe();
    const e = this.#hook === undefined ? grabFast(this.#heap, base(s)) : 0;
    if (e <= 0) this.#put(s, false, 0, bytes, e < 0);
    else {
      try {
        this.#storeAt(s, e, false, 0, bytes);
      } finally {
        release(this.#heap.i32, lockOf(e));
      }
    }
    return this;
  }

  /** Removes `key`; true when it was there. */
  delete(k: K): boolean {
    keyOf(k, "SharedDict.delete()");
    const s = this.#stripe();
    let e = this.#hook === undefined ? grabFast(this.#heap, base(s)) : 0;
    if (e <= 0) e = this.#grab(s);
    if (e === 0) return false;
    const ent = e & ~1;
    try {
      if (this.#heap.i32[((ent + 8) >> 2) + Entry.E_VALUE] === Val.ABSENT) return false;
      this.#deleteHeld(s, ent, (e & 1) !== 0);
      return true;
    } finally {
      this.#drop(e);
    }
  }

  /** The value for `key`; when it has none, stores `value` and returns it (one atomic step). */
  setdefault(k: K, value: V): V {
    keyOf(k, "SharedDict.setdefault()");
    const epoch = key.epoch;
    const num = typeof value === "number";
    const bytes = stageValue(value, "SharedDict.setdefault(): the value");
    if (key.epoch !== epoch) keyOf(k, "SharedDict.setdefault()");
    const x = num ? (value as number) : 0;
    const s = this.#stripe();
    let e = this.#hook === undefined ? grabFast(this.#heap, base(s)) : 0;
    for (;;) {
      if (e === 0) e = this.#grab(s);
      if (e > 0) {
        const ent = e & ~1;
        try {
          if (this.#heap.i32[((ent + 8) >> 2) + Entry.E_VALUE] === Val.ABSENT) {
            this.#storeAt(s, ent, num, x, bytes);
            return value;
          }
          if (!this.#readEntry(ent)) throw new RuntimeError("SharedDict: corrupt entry");
        } finally {
          this.#drop(e);
        }
        return decodeRead() as V;
      }
      this.#lock(s);
      try {
        const slot = this.#findHeld(s);
        if (slot < 0) {
          this.#insert(s, slot, num, x, bytes, false);
          return value;
        }
      } finally {
        this.#unlock(s);
      }
      e = 0;
    }
  }

  /**
   * Removes `key` and returns its value; when it is missing, returns `fallback` if one was given,
   * else throws KeyError.
   */
  pop(k: K, fallback?: V): V {
    keyOf(k, "SharedDict.pop()");
    const s = this.#stripe();
    let e = this.#hook === undefined ? grabFast(this.#heap, base(s)) : 0;
    if (e <= 0) e = this.#grab(s);
    let found = false;
    if (e !== 0) {
      const ent = e & ~1;
      try {
        if (this.#heap.i32[((ent + 8) >> 2) + Entry.E_VALUE] !== Val.ABSENT) {
          if (!this.#readEntry(ent)) throw new RuntimeError("SharedDict: corrupt entry");
          this.#deleteHeld(s, ent, (e & 1) !== 0);
          found = true;
        }
      } finally {
        this.#drop(e);
      }
    }
    if (found) return decodeRead() as V;
    // biome-ignore lint/complexity/noArguments: as Python's pop, an omitted fallback differs from an undefined one
    if (arguments.length > 1) return fallback as V;
    throw new KeyError(`SharedDict.pop(): no key ${JSON.stringify(k)}`);
  }

  /**
   * Replaces the value of `key` with `fn(old)` (old is undefined when absent) atomically: fn runs in
   * this thread with the key's entry locked against other writers of that key (readers go on seeing
   * the old value; writers of other keys are not held up; fn may itself use the dict, this key
   * too). If fn throws, or returns what cannot be stored, nothing changes. Returns the new value.
   */
  update(k: K, fn: (old: V | undefined) => V): V {
    keyOf(k, "SharedDict.update()");
    if (typeof fn !== "function") throw new TypeError("SharedDict.update(): fn must be a function");
    const s = this.#stripe();
    const h = this.#heap;
    let e = this.#hook === undefined ? grabFast(h, base(s)) : 0;
    if (e === 0) e = this.#grab(s);
    while (e <= 0) {
      // absent: a ghost entry (no value) is reserved, so that concurrent updates of the key meet at
      // its lock, which this thread tries to take at once (a try only: a stripe's holder never waits
      // for an entry; the new entry's lock is free but for a moment's waiter from its block's past)
      this.#lock(s);
      try {
        const slot = this.#findHeld(s);
        if (slot < 0) {
          const eb = this.#insert(s, slot, false, 0, 0, true);
          if (Atomics.compareExchange(h.i32, lockOf(eb), 0, myLockValue()) === 0) e = eb;
        }
      } finally {
        this.#unlock(s);
      }
      if (e <= 0) e = this.#grab(s);
    }
    const ent = e & ~1;
    const g = h.i32[stateOf(ent)] as number;
    let done = false;
    try {
      let old: V | undefined;
      const v = h.i32[((ent + 8) >> 2) + Entry.E_VALUE] as number;
      // (plain reads of a number: every writer of the entry holds its lock, as this thread does)
      if (v === Val.INLINE) old = h.f64[(ent + Entry.NUM_AT) >> 3] as V;
      else if (v === Val.ABSENT) old = undefined;
      else if (h.inside(v, 24) && h.i32[(v + 8) >> 2] === T_NUM) old = h.f64[(v + 16) >> 3] as V;
      else {
        if (!this.#readEntry(ent)) throw new RuntimeError("SharedDict: corrupt entry");
        old = decodeRead() as V;
      }
      // fn (and the value's getters) may use this dict re-entrantly: the key is encoded again if
      // they overwrote this thread's key scratch; if they deleted the key (its entry's state moved),
      // the value is stored as set() would
      const epoch = key.epoch;
      const value = fn(old);
      const isNumber = typeof value === "number";
      const bytes = isNumber ? 16 : stageValue(value, "SharedDict.update(): the value fn returned");
      if (key.epoch !== epoch) keyOf(k, "SharedDict.update()");
      const x = isNumber ? (value as number) : 0;
      if (this.#heap.i32[stateOf(ent)] === g) this.#storeAt(s, ent, isNumber, x, bytes);
      else this.#put(s, isNumber, x, bytes);
      done = true;
      return value;
    } finally {
      if ((e & 1) === 0) {
        if (!done) this.#dropGhost(k, s, ent, g);
        if (this.#unfreed.length > 0) this.#freeUnlinked(ent);
      }
      this.#drop(e);
    }
  }

  /** Frees entry block `e` if fn unlinked it while this update held its lock (#unfreed). */
  #freeUnlinked(e: number): void {
    const u = this.#unfreed;
    for (let j = 0; j < u.length; j += 2) {
      if (u[j + 1] !== e) continue;
      const s = u[j] as number;
      u.splice(j, 2);
      this.#lock(s);
      try {
        this.#heap.release(base(s) + Stripe.EFREE, e);
      } finally {
        this.#unlock(s);
      }
      return;
    }
  }

  /** After a failed update: a ghost it reserved (still one, its lock held by this call) is removed. */
  #dropGhost(k: K, s: number, e: number, g: number): void {
    const i32 = this.#heap.i32;
    if (i32[stateOf(e)] !== g || i32[((e + 8) >> 2) + Entry.E_VALUE] !== Val.ABSENT) return;
    keyOf(k, "SharedDict.update()");
    this.#deleteHeld(s, e);
  }

  /** The number of keys (the sum of the stripes' counts, each read atomically). */
  get size(): number {
    const i32 = this.#heap.i32;
    let n = 0;
    for (let s = 0; s < Size.STRIPES; s++) n += Atomics.load(i32, base(s) + Stripe.COUNT);
    return n;
  }

  /**
   * Removes every key: every stripe locked, then every entry's lock tried (never waited for while a
   * stripe is held: an entry's holder may be waiting for a stripe); when one is busy, everything is
   * released, that entry's lock waited for, and the whole tried again. Atomic.
   */
  clear(): void {
    const h = this.#heap;
    const me = myLockValue();
    for (;;) {
      for (let s = 0; s < Size.STRIPES; s++) this.#lock(s);
      const taken: number[] = [];
      // (entries whose lock an outer update() of this thread holds: it frees them, #unfreed)
      const outer: number[] = [];
      let busy = 0;
      let busyStripe = 0;
      try {
        scan: for (let s = 0; s < Size.STRIPES; s++) {
          const i32 = h.i32;
          const w = ((i32[base(s) + Stripe.INDEX] as number) + 8) >> 2;
          const cap = i32[w] as number;
          for (let k = 0; k < cap; k++) {
            const e = i32[w + 2 + 2 * k] as number;
            if (e <= Slot.DELETED) continue;
            const v = Atomics.compareExchange(i32, lockOf(e), 0, me);
            if (v === 0) taken.push(e);
            else if (v >>> 1 === me >>> 1) outer.push(e);
            else {
              busy = e;
              busyStripe = s;
              break scan;
            }
          }
        }
        if (busy === 0) {
          for (let s = 0; s < Size.STRIPES; s++) this.#empty(s, outer);
        }
      } finally {
        for (const e of taken) release(h.i32, lockOf(e));
        for (let s = Size.STRIPES - 1; s >= 0; s--) this.#unlock(s);
      }
      if (busy === 0) return;
      if (acquire(h.i32, lockOf(busy)) === Got.RECOVERED) this.#repairEntry(busyStripe, busy);
      release(h.i32, lockOf(busy));
    }
  }

  /**
   * clear()'s work in stripe `s` (every stripe and every entry locked; the blocks of `outer`, locked
   * by an outer update() of this thread, are left to it to free: #unfreed).
   */
  #empty(s: number, outer: number[]): void {
    const h = this.#heap;
    const b = base(s);
    const free = b + Stripe.FREE;
    const fresh = this.#newIndex(s, Size.MIN_CAP);
    const i32 = h.i32;
    const old = i32[b + Stripe.INDEX] as number;
    beginWrite(i32, b + Stripe.SEQ);
    st(i32, b + Stripe.INDEX, fresh);
    st(i32, b + Stripe.ICAP, Size.MIN_CAP);
    Atomics.store(i32, b + Stripe.COUNT, 0);
    st(i32, b + Stripe.GHOSTS, 0);
    st(i32, b + Stripe.USED, 0);
    const w = (old + 8) >> 2;
    const cap = i32[w] as number;
    for (let k = 0; k < cap; k++) {
      const e = i32[w + 2 + 2 * k] as number;
      if (e <= Slot.DELETED) continue;
      Atomics.store(i32, stateOf(e), ((i32[stateOf(e)] as number) & ~3) | Phase.DEAD);
      const v = i32[((e + 8) >> 2) + Entry.E_VALUE] as number;
      if (v > Val.ABSENT) h.release(free, v);
      if (outer.includes(e)) this.#unfreed.push(s, e);
      else h.release(b + Stripe.EFREE, e);
    }
    h.release(b + Stripe.IFREE, old);
    endWrite(i32, b + Stripe.SEQ);
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
          if (Atomics.load(i32, p + Entry.E_VALUE) === Val.ABSENT) continue;
          const order =
            (Atomics.load(i32, p + Entry.E_ORDER + 1) >>> 0) * 2 ** 32 + (Atomics.load(i32, p + Entry.E_ORDER) >>> 0);
          const tl = Atomics.load(i32, p + Entry.E_TL);
          pairs.push([order, keyAt(i32, tl & 3, tl >>> 2, p + Entry.E_KEY) as K]);
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
   * @internal For tests: takes the lock of `k`'s entry (which must exist) without releasing it, as
   * a thread killed inside an update would; `deleting`: as one killed inside a delete, after the
   * entry's state went DEAD and before it left the index.
   */
  _holdEntryForTest(k: K, deleting = false): void {
    keyOf(k, "SharedDict");
    const e = this.#grab(this.#stripe());
    if (e === 0 || (e & 1) !== 0) throw new RuntimeError("_holdEntryForTest: no such key, or held already");
    if (deleting) Atomics.add(this.#heap.i32, stateOf(e), Phase.DEAD);
  }

  /**
   * @internal For tests: `fn(point)` is called by this thread between the steps of a read or a write
   * of this dict: "value" (a reader read the entry's value word, not yet its value), "half"
   * (elsewhere than x86, between the two words of a number), "grab" (in #grab, the path of every writer
   * of an existing key but a set() that grabFast or the entry cache serves: it found its key's entry
   * and is about to take the entry's lock), "stripe" (a stripe's lock is being taken: a test can
   * count them), so that a test can write meanwhile (the key scratch is
   * kept for the caller; a write in the hook must not stage a value for a set() that is under way).
   * undefined removes it.
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

/**
 * #grab's common case, on x86 only (mem.ts TSO: plain loads stay in order; elsewhere it returns 0):
 * the current key's live entry in the stripe at word `b`, its lock taken by this call (a plain CAS);
 * -1 when the probe met an empty slot (the key looks absent: a hint, not validated, for a caller
 * that looks again under the stripe's lock); 0 in every other case (held, being deleted or filled, a
 * torn read, a hash shared with another key): then #grab. No sequence validation: the probe may read a stale index block or stale
 * entries, but an index block is only ever reused as an index of the same cap (Stripe.IFREE), so
 * every entry word it reads is EMPTY, DELETED, an entry block (Stripe.EFREE: its lock word is never
 * anything else) or, beyond this thread's view of the buffer, undefined. So the first entry with the
 * key's hash is locked, then checked: LIVE, it stays in its generation while the lock is held (only
 * the lock's holder makes it DEAD, and only a DEAD entry is reused), and its key, written before it
 * became LIVE, is read after its state: if it is the key, the entry is the key's.
 */
function grabFast(h: Heap, b: number): number {
  if (!TSO) return 0;
  const i32 = h.i32;
  const w = ((i32[b + Stripe.INDEX] as number) + 8) >> 2;
  const cap = (i32[w] as number) | 0;
  const hash = key.hash;
  const tl = tagLen();
  const mask = cap - 1;
  for (let n = 0, k = hash & mask; n < cap; n++, k = (k + 1) & mask) {
    const slot = w + 1 + 2 * k;
    const e = i32[slot + 1] as number;
    if (e === Slot.EMPTY) return -1;
    if (e === Slot.DELETED || i32[slot] !== hash) continue;
    if (!(e > 0 && e + 64 <= h.cap)) return 0;
    const at = lockOf(e);
    if (Atomics.compareExchange(i32, at, 0, myLockValue()) !== 0) return 0;
    const p = (e + 8) >> 2;
    if ((((i32[p + Entry.E_STATE] as number) & 3) as Phase) === Phase.LIVE && i32[p + Entry.E_TL] === tl) {
      const words = key.words;
      const nw = key.nwords;
      let j = 0;
      while (j < nw && i32[p + Entry.E_KEY + j] === words[j]) j++;
      if (j === nw) return e;
    }
    release(i32, at);
    return 0;
  }
  return 0;
}

/** #find's probe of the index at word `w` (`cap` slots) for the current key. */
function probe(h: Heap, i32: Int32Array, w: number, cap: number): number {
  const hash = key.hash;
  const tl = tagLen();
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
    if (ld(i32, p + Entry.E_TL) !== tl) continue;
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
  const tl = tagLen();
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
    if (i32[p + Entry.E_TL] !== tl) continue;
    const words = key.words;
    const nw = key.nwords;
    let j = 0;
    while (j < nw && i32[p + Entry.E_KEY + j] === words[j]) j++;
    if (j === nw) return slot;
  }
  return firstFree;
}
