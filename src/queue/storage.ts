/**
 * The byte storage of a queue: a growable SharedArrayBuffer (`new SharedArrayBuffer(n, {
 * maxByteLength })`) that every thread holding the queue sees, and the Store interface of the
 * one-lock engine (core.ts; LIFO stack: lifo.ts, heap: priority.ts). The FIFO ring of `Queue` and
 * `SimpleQueue` is part of its own two-lock engine (fifo.ts).
 *
 * Growth: a put that finds no room grows the buffer (doubling, up to MAX_BYTES) under the lock(s);
 * each thread notices the new length the next time it holds the lock and remaps its views.
 *
 * Memory: the data buffer starts at INITIAL_BYTES and grows with the bytes of the small items
 * queued at once. Items over LARGE_BYTES (64 KiB) encoded never enter it: each gets its own
 * SharedArrayBuffer, released when the item is consumed (or discarded by shutdown(true)). When a
 * LIFO or priority queue drains, its indexes go back to the buffer's start, so the next items reuse
 * the same (already touched) pages; the FIFO ring (fifo.ts) does not go back when it drains
 * (producers and consumers never stop together): it keeps going round the same pages, and only a
 * growth of an empty ring starts it again at 0. A SharedArrayBuffer cannot shrink, so the data
 * buffer keeps its high-water size — bounded by the small items that were queued at once (a
 * million numbers: 16 MB) — until every thread has dropped the queue and the buffer is
 * garbage-collected.
 */
import type { Staged, Taken, Views } from "./codec.js";

export const INITIAL_BYTES = 64 * 1024;
/** The largest a data buffer may grow (offsets are int32). */
export const MAX_BYTES = 2 ** 31 - 8;

/**
 * The RangeError of a growth past MAX_BYTES, thrown before anything changed (the engines release
 * their locks on it; any other exception under a lock may have stopped anywhere: fifo.ts, core.ts).
 */
export class StorageFull extends RangeError {}

/**
 * A put's error as the caller sees it: a StorageFull names the call and says the item was not
 * queued (Python would raise MemoryError); any other error unchanged.
 */
export function putError(e: unknown, what: string): unknown {
  if (!(e instanceof StorageFull)) return e;
  return new RangeError(`${what}: ${e.message}, the most a SharedArrayBuffer holds here (the item was not queued)`);
}

/** This thread's views over a growable data buffer. */
export class Data implements Views {
  readonly sab: SharedArrayBuffer;
  cap = 0;
  i32!: Int32Array;
  f64!: Float64Array;
  u8!: Buffer;

  constructor(sab?: SharedArrayBuffer, initial = INITIAL_BYTES) {
    this.sab = sab ?? new SharedArrayBuffer(initial, { maxByteLength: MAX_BYTES });
    this.map();
  }

  private map(): void {
    const cap = this.sab.byteLength;
    this.cap = cap;
    this.i32 = new Int32Array(this.sab, 0, cap >> 2);
    this.f64 = new Float64Array(this.sab, 0, cap >> 3);
    this.u8 = Buffer.from(this.sab, 0, cap);
  }

  /** Under the lock: picks up growth made by another thread. */
  sync(): void {
    if (this.sab.byteLength !== this.cap) this.map();
  }

  /** Under the lock: grows to at least `min` bytes (RangeError past MAX_BYTES). */
  grow(min: number): void {
    let cap = Math.max(this.cap * 2, INITIAL_BYTES);
    while (cap < min) cap *= 2;
    if (cap > MAX_BYTES) {
      if (min > MAX_BYTES) throw new StorageFull(`the queue's storage cannot grow past ${MAX_BYTES} bytes`);
      cap = MAX_BYTES & ~7;
    }
    this.sab.grow(cap);
    this.map();
  }
}

/**
 * A queue's storage discipline, CPython's `_init/_qsize/_put/_get` in shared memory. Every method
 * runs under the queue's lock; `put` either stores the whole record or throws with nothing changed.
 */
export interface Store {
  readonly data: Data;
  /** The buffers that make up the store (after the control block) for the share record. */
  buffers(): SharedArrayBuffer[];
  put(h: Int32Array, st: Staged): void;
  take(h: Int32Array, out: Taken): void;
  /** Removes every item; appends their directory refs to `refs`. */
  clear(h: Int32Array, refs: number[]): void;
  /**
   * Under the lock, taken over from a thread that died holding it (core.ts, "Death"): makes the
   * store whole again from what it holds (a put that stored its item holds it, a take that took
   * its item does not) and returns how many items it holds.
   */
  recover(h: Int32Array): number;
  /**
   * After recover() found that a get whose holder died took its item out: appends that record's
   * directory refs to `refs` (its bytes are intact: nothing writes there while the lock is held).
   */
  takenRefs(h: Int32Array, refs: number[]): void;
  /**
   * For a recovery of shutdown(true): appends the directory refs of the `n` records it discards
   * (the store as it was when the discard began, TOP then `top`; clear() changes only TOP/DEAD).
   */
  discardedRefs(h: Int32Array, n: number, top: number, refs: number[]): void;
}
