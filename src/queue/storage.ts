/**
 * The byte storage of a queue: a growable SharedArrayBuffer (`new SharedArrayBuffer(n, {
 * maxByteLength })`) that every thread holding the queue sees, plus the FIFO ring used by `Queue`
 * and `SimpleQueue` (LIFO stack: lifo.ts, heap: priority.ts).
 *
 * Growth: a put that finds no room grows the buffer (doubling, up to MAX_BYTES) under the lock;
 * each thread notices the new length the next time it holds the lock and remaps its views.
 *
 * Memory: the data buffer starts at INITIAL_BYTES and grows with the bytes of the small items
 * queued at once. Items over LARGE_BYTES (64 KiB) encoded never enter it: each gets its own
 * SharedArrayBuffer, released when the item is consumed (or discarded by shutdown(true)). When the
 * queue drains, the ring's indexes are reset to the buffer's start, so the next items reuse the
 * same (already touched) pages. A SharedArrayBuffer cannot shrink, so the data buffer keeps its
 * high-water size — bounded by the small items that were queued at once (a million numbers:
 * 16 MB) — until every thread has dropped the queue and the buffer is garbage-collected.
 *
 * The FIFO ring (words HEAD, TAIL, USED of the control block, all byte offsets):
 *   - records (codec.ts) are contiguous and never wrap; a record that does not fit before the end
 *     is written at offset 0, after a SKIP record filling the rest (or nothing, if exactly at the
 *     end). Records are multiples of 8 bytes, so a SKIP always fits.
 *   - the data is [HEAD, TAIL) when not wrapped, [HEAD, end) + [0, TAIL) when wrapped; USED (bytes,
 *     SKIPs included) tells "full" (HEAD == TAIL, USED > 0) from "empty" (USED == 0).
 *   - growing a wrapped ring moves [0, TAIL) to just after the old end (the new length is at least
 *     twice the old), so the reader, arriving at the old end (through the SKIP or exactly), finds
 *     the rest there.
 *   - when the last item is taken, HEAD = TAIL = USED = 0.
 */
import { COUNT, HEAD, TAIL, USED } from "./layout.js";
import { readRecord, recordRefs, recordSize, type Staged, T_SKIP, type Taken, type Views, writeRecord } from "./codec.js";

export const INITIAL_BYTES = 64 * 1024;
/** The largest a data buffer may grow (offsets are int32). */
export const MAX_BYTES = 2 ** 31 - 8;

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
      if (min > MAX_BYTES) throw new RangeError(`queue storage cannot grow past ${MAX_BYTES} bytes`);
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
}

/** FIFO: a byte ring. */
export class RingStore implements Store {
  readonly data: Data;

  constructor(buffers?: SharedArrayBuffer[]) {
    this.data = new Data(buffers?.[0]);
  }

  buffers(): SharedArrayBuffer[] {
    return [this.data.sab];
  }

  put(h: Int32Array, st: Staged): void {
    const d = this.data;
    d.sync();
    const s = st.size;
    let head = h[HEAD] as number;
    let tail = h[TAIL] as number;
    let used = h[USED] as number;
    if (used === 0) head = tail = 0;
    let at = -1;
    if (tail > head || used === 0) {
      if (d.cap - tail >= s) at = tail;
      else if (s <= head) {
        if (d.cap > tail) {
          d.i32[tail >> 2] = T_SKIP;
          d.i32[(tail >> 2) + 1] = d.cap - tail;
          used += d.cap - tail;
        }
        at = 0;
      }
    } else if (head - tail >= s) at = tail;
    if (at < 0) {
      // Grow. A wrapped ring ([head, end) + [0, tail)) moves [0, tail) to just after the old end.
      const old = d.cap;
      const wrapped = !(tail > head);
      d.grow(wrapped ? old + tail + s : tail + s);
      if (wrapped) {
        if (tail > 0) d.u8.copyWithin(old, 0, tail);
        tail += old;
      }
      at = tail;
    }
    writeRecord(d, at, st);
    tail = at + s;
    used += s;
    if (tail === d.cap) tail = 0;
    h[HEAD] = head;
    h[TAIL] = tail;
    h[USED] = used;
  }

  take(h: Int32Array, out: Taken): void {
    const d = this.data;
    d.sync();
    let head = h[HEAD] as number;
    let used = h[USED] as number;
    if (((d.i32[head >> 2] as number) & 255) === T_SKIP) {
      const skip = d.i32[(head >> 2) + 1] as number;
      used -= skip;
      head += skip;
      if (head === d.cap) head = 0;
    }
    const size = readRecord(d, head, out);
    head += size;
    used -= size;
    if (head === d.cap) head = 0;
    if ((h[COUNT] as number) === 1) head = h[TAIL] = used = 0;
    h[HEAD] = head;
    h[USED] = used;
  }

  clear(h: Int32Array, refs: number[]): void {
    const d = this.data;
    d.sync();
    let head = h[HEAD] as number;
    for (let n = h[COUNT] as number; n > 0; ) {
      if (((d.i32[head >> 2] as number) & 255) !== T_SKIP) {
        recordRefs(d, head, refs);
        n--;
      }
      head += recordSize(d, head);
      if (head === d.cap) head = 0;
    }
    h[HEAD] = h[TAIL] = h[USED] = 0;
  }
}
