/**
 * PriorityQueue: Python's `queue.PriorityQueue` — the lowest item first, ordered as Python
 * compares (compare.ts): numbers, bigints, strings, and arrays as tuples (`[priority, payload]`).
 *
 * Storage: two growable buffers.
 *   - the *arena* (data buffer): records [size, heapIndex, keyBytes, 0] + sort key + item record
 *     (codec.ts), appended at TOP. A taken record is marked dead (heapIndex -1) and counted in
 *     DEAD. When a put finds no room and at least half the arena is dead, the arena is compacted
 *     (live records slid down in order, their heap slots updated through the back-pointer) instead
 *     of grown. When the queue drains, TOP = DEAD = 0.
 *   - the *heap*: an Int32 array of arena offsets, kept by exactly CPython's heapq algorithms
 *     (_siftdown for a put, the bottom-up _siftup for a get), so equal items come out in the same
 *     order as in Python. Comparisons read the keys in place.
 *
 * Incomparable items: a put compares the new key with the keys on its path up the heap, as
 * heappush does; where Python would raise TypeError, put throws TypeError before anything is
 * written — the queue is unchanged and nothing is lost. Two queued items that were never compared
 * and turn out incomparable during a get's sift-down are ordered by kind (numbers < strings <
 * arrays < other) instead of failing, so a get never loses an item (Python would raise there).
 */
import { registerKind, revive } from "../transport/shareable.js";
import { align8, readRecord, recordRefs, type Staged, stageItem, type Taken, writeRecord } from "./codec.js";
import {
  encodeKey,
  incomparable,
  incomparableKinds,
  type KeyViews,
  keyViews,
  lt,
  ltTotal,
  resetIncomparable,
} from "./compare.js";
import { LockedEngine, lockedHooks } from "./core.js";
import type { Engine } from "./engine.js";
import * as LOCKED from "./locked-layout.js";
import { Queue } from "./queue.js";
import { Data, type Store } from "./storage.js";

const REC = 16;

class Arena extends Data implements KeyViews {
  u16!: Uint16Array;
  override sync(): void {
    const before = this.i32;
    super.sync();
    if (this.i32 !== before || this.u16 === undefined) this.u16 = new Uint16Array(this.sab, 0, this.cap >> 1);
  }
  override grow(min: number): void {
    super.grow(min);
    this.u16 = new Uint16Array(this.sab, 0, this.cap >> 1);
  }
}

/** A heap of records in an arena. */
export class HeapStore implements Store {
  readonly data: Arena;
  readonly heap: Data;

  constructor(buffers?: SharedArrayBuffer[]) {
    this.data = new Arena(buffers?.[0]);
    this.heap = new Data(buffers?.[1], 4096);
    this.data.sync();
  }

  buffers(): SharedArrayBuffer[] {
    return [this.data.sab, this.heap.sab];
  }

  #compact(h: Int32Array): void {
    const a = this.data;
    const slots = this.heap.i32;
    const top = h[LOCKED.TOP] as number;
    let to = 0;
    for (let at = 0; at < top; ) {
      const size = a.i32[at >> 2] as number;
      const index = a.i32[(at >> 2) + 1] as number;
      if (index >= 0) {
        if (to !== at) a.u8.copyWithin(to, at, at + size);
        slots[index] = to;
        to += size;
        lockedHooks.at?.("compact");
      }
      at += size;
    }
    h[LOCKED.TOP] = to;
    h[LOCKED.DEAD] = 0;
  }

  put(h: Int32Array, st: Staged): void {
    const a = this.data;
    const hp = this.heap;
    a.sync();
    hp.sync();
    const key = st.key as Uint8Array;
    const kv = keyViews(key);
    const size = REC + align8(key.length) + st.size;
    const n = h[LOCKED.COUNT] as number;
    // Room first (growth and compaction change no order), so nothing below can fail half-way.
    if ((n + 1) * 4 > hp.cap) hp.grow((n + 1) * 4);
    if ((h[LOCKED.TOP] as number) + size > a.cap) {
      if ((h[LOCKED.DEAD] as number) * 2 >= (h[LOCKED.TOP] as number)) this.#compact(h);
      if ((h[LOCKED.TOP] as number) + size > a.cap) a.grow((h[LOCKED.TOP] as number) + size);
    }
    // heapq._siftdown(heap, 0, n), comparisons first: an incomparable pair aborts with no change.
    const slots = hp.i32;
    resetIncomparable();
    let pos = n;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (!lt(kv, 0, a, (slots[parent] as number) + REC)) break;
      pos = parent;
    }
    if (incomparable) {
      resetIncomparable();
      throw new TypeError(
        `PriorityQueue.put(): '<' not supported between ${incomparableKinds} (the item was not queued)`,
      );
    }
    // The record first, past TOP (not counted yet), so that nothing after the first move down
    // can throw (a stack overflow in a call): the moves and the slot are then all stores.
    const at = h[LOCKED.TOP] as number;
    a.i32[at >> 2] = size;
    a.i32[(at >> 2) + 1] = pos;
    a.i32[(at >> 2) + 2] = key.length;
    a.u8.set(key, at + REC);
    writeRecord(a, at + REC + align8(key.length), st);
    for (let i = n; i > pos; ) {
      const parent = (i - 1) >> 1;
      const off = slots[parent] as number;
      slots[i] = off;
      a.i32[(off >> 2) + 1] = i;
      i = parent;
      lockedHooks.at?.("sift");
    }
    slots[pos] = at;
    h[LOCKED.TOP] = at + size;
  }

  #lt(x: number, y: number): boolean {
    return ltTotal(this.data, x + REC, this.data, y + REC);
  }

  #set(pos: number, off: number): void {
    this.heap.i32[pos] = off;
    this.data.i32[(off >> 2) + 1] = pos;
  }

  take(h: Int32Array, out: Taken): void {
    const a = this.data;
    a.sync();
    this.heap.sync();
    const slots = this.heap.i32;
    const n = h[LOCKED.COUNT] as number;
    const result = slots[0] as number;
    // (for a recovery, should this get die once it has started moving the heap: storage.ts takenRefs)
    h[LOCKED.TAKEN_AT] = result;
    const end = n - 1;
    if (end > 0) {
      // heapq.heappop: the last element goes to the root, then _siftup(heap, 0).
      const last = slots[end] as number;
      let pos = 0;
      let child = 1;
      while (child < end) {
        const right = child + 1;
        if (right < end && !this.#lt(slots[child] as number, slots[right] as number)) child = right;
        this.#set(pos, slots[child] as number);
        pos = child;
        child = 2 * pos + 1;
        lockedHooks.at?.("siftup");
      }
      // _siftdown(heap, 0, pos) with `last`.
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (!this.#lt(last, slots[parent] as number)) break;
        this.#set(pos, slots[parent] as number);
        pos = parent;
      }
      this.#set(pos, last);
    }
    // (the slot left free names no record: recover() reads the slots up to COUNT)
    slots[end] = -1;
    const keyBytes = a.i32[(result >> 2) + 2] as number;
    readRecord(a, result + REC + align8(keyBytes), out);
    a.i32[(result >> 2) + 1] = -1;
    if (end === 0) {
      h[LOCKED.TOP] = 0;
      h[LOCKED.DEAD] = 0;
    } else h[LOCKED.DEAD] = (h[LOCKED.DEAD] as number) + (a.i32[result >> 2] as number);
  }

  /**
   * Rebuilds the heap from the records it points to. A record is in the queue when a slot at or
   * below COUNT points to it (below TOP) and its back-pointer names that slot: every heap write is
   * such a pair, in one straight run (core.ts, "Death"), so a put half-way up keeps each old record
   * (the slot it left names it no more), its own record counts once its slot is written (with TOP),
   * and a get half-way down has already lost its record (its slot 0 holds another).
   *
   * Restartable (a recovering thread may die too, and the next one runs this again): the live
   * records found are first written to a journal in the heap buffer, past every slot the rebuild
   * writes, and RECOVER_AT / RECOVER_N (live + 1) name it; from then on a recovery reads the journal
   * instead of judging the slots again. The new heap is computed aside (heappush of each in arena
   * order, reading keys only: equal items may then come out in another order than without the
   * kill), then written slot by slot with each back-pointer; the records do not move (the arena is
   * made walkable instead: each gap between live records becomes a dead record, so a compaction
   * killed half-way is harmless); then TOP, DEAD, and RECOVER_N = 0 last. Every write is the same
   * however often it is redone. Once RECOVER_N is 0 the slots name exactly the live records again,
   * so a recovery killed after it (before COUNT) finds the same ones.
   */
  recover(h: Int32Array): number {
    const a = this.data;
    a.sync();
    this.heap.sync();
    if ((h[LOCKED.RECOVER_N] as number) === 0) {
      const slots = this.heap.i32;
      const top = h[LOCKED.TOP] as number;
      const n = Math.min(h[LOCKED.COUNT] as number, slots.length - 1);
      const live: number[] = [];
      for (let j = 0; j <= n; j++) {
        const off = slots[j] as number;
        if (off >= 0 && off < top && (off & 7) === 0 && a.i32[(off >> 2) + 1] === j) live.push(off);
      }
      live.sort((x, y) => x - y);
      // (the journal after slot n + 1: the rebuild writes slots 0 .. live.length <= n + 1)
      const at = n + 2;
      if ((at + live.length) * 4 > this.heap.cap) this.heap.grow((at + live.length) * 4);
      const journal = this.heap.i32;
      for (let k = 0; k < live.length; k++) journal[at + k] = live[k] as number;
      h[LOCKED.RECOVER_AT] = at;
      h[LOCKED.RECOVER_N] = live.length + 1;
    }
    const at = h[LOCKED.RECOVER_AT] as number;
    const len = (h[LOCKED.RECOVER_N] as number) - 1;
    const live = Array.from(this.heap.i32.subarray(at, at + len));
    // heapq's heappush of each, in arena order, aside
    const order: number[] = [];
    for (let k = 0; k < len; k++) {
      const off = live[k] as number;
      let pos = k;
      order.push(off);
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (!this.#lt(off, order[parent] as number)) break;
        order[pos] = order[parent] as number;
        pos = parent;
      }
      order[pos] = off;
    }
    for (let k = 0; k < len; k++) {
      this.#set(k, order[k] as number);
      lockedHooks.at?.("recover");
    }
    this.heap.i32[len] = -1;
    // the gaps between live records become dead records: the arena is walkable from 0 to TOP
    let end = 0;
    let bytes = 0;
    for (let k = 0; k < len; k++) {
      const off = live[k] as number;
      if (off > end) {
        a.i32[end >> 2] = off - end;
        a.i32[(end >> 2) + 1] = -1;
      }
      const size = a.i32[off >> 2] as number;
      bytes += size;
      end = off + size;
    }
    h[LOCKED.TOP] = end;
    h[LOCKED.DEAD] = end - bytes;
    h[LOCKED.RECOVER_N] = 0;
    return len;
  }

  /** The record at TAKEN_AT (its key length and item are intact: recover() writes only its first two words, if any). */
  takenRefs(h: Int32Array, refs: number[]): void {
    const a = this.data;
    a.sync();
    const off = h[LOCKED.TAKEN_AT] as number;
    recordRefs(a, off + REC + align8(a.i32[(off >> 2) + 2] as number), refs);
  }

  /** The records the slots 0 .. n - 1 name (clear() leaves the slots and the arena's bytes as they were). */
  discardedRefs(_h: Int32Array, n: number, _top: number, refs: number[]): void {
    const a = this.data;
    a.sync();
    this.heap.sync();
    const slots = this.heap.i32;
    for (let i = 0; i < n; i++) {
      const off = slots[i] as number;
      recordRefs(a, off + REC + align8(a.i32[(off >> 2) + 2] as number), refs);
    }
  }

  clear(h: Int32Array, refs: number[]): void {
    const a = this.data;
    a.sync();
    this.heap.sync();
    const slots = this.heap.i32;
    const n = h[LOCKED.COUNT] as number;
    for (let i = 0; i < n; i++) {
      const off = slots[i] as number;
      recordRefs(a, off + REC + align8(a.i32[(off >> 2) + 2] as number), refs);
    }
    h[LOCKED.TOP] = 0;
    h[LOCKED.DEAD] = 0;
  }
}

/**
 * A priority queue shared by every thread it is passed to, as Python's `queue.PriorityQueue`:
 * get() returns the lowest item, compared as Python compares (numbers, bigints, strings, arrays as
 * tuples such as `[priority, payload]`). Incomparable items are a TypeError from put().
 */
export class PriorityQueue<T = unknown> extends Queue<T> {
  protected override _makeEngine(h: Int32Array, buffers?: SharedArrayBuffer[]): Engine {
    return new LockedEngine(h, new HeapStore(buffers));
  }

  protected override get _kind(): string {
    return "PriorityQueue";
  }

  /** @internal Stages the item and its sort key. */
  protected override _stage(item: unknown, st: Staged, keep = false): void {
    stageItem(item, st, keep);
    st.key = encodeKey(item);
  }

  static {
    registerKind("PriorityQueue", (record) => revive(PriorityQueue, record));
  }
}
