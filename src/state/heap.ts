/**
 * The memory of a SharedDict or SharedList: one growable SharedArrayBuffer that every thread holding
 * the object maps, carved into blocks.
 *
 * Blocks: power-of-two sizes from 16 bytes (class 0) up to 1 GiB (class 26), 8-byte aligned.
 *   word 0  the block's class            word 1  next free block of its class (while free)
 *   +8      the payload (size - 8 bytes)
 * New blocks come from a bump pointer (`TOP`, word 0 of the buffer) taken with Atomics.add, so two
 * writers of different stripes allocate without a lock; the first that needs the space grows the
 * buffer (`SharedArrayBuffer.prototype.grow` is atomic; a loser's smaller grow throws and is ignored).
 * Freed blocks go to free lists (one head per class) that belong to one writer lock (a dict stripe,
 * the list) and are only touched under it, so the next write of that stripe reuses them: memory of
 * deleted entries, replaced values and shrunk indexes is given back to the object. (A
 * SharedArrayBuffer cannot shrink: the buffer keeps its high-water size until it is collected.)
 *
 * Alignment: the bump pointer moves by whole cache lines (64 bytes): a block of 16 or 32 bytes is cut
 * from a new line whose other pieces go to the caller's free list, and the first block starts on a
 * line (`create`). So every block of 64 bytes or more (a dict's entries, indexes) starts on a line:
 * two keys' entries never share a cache line, so threads writing different keys do not make one line
 * bounce between cores (false sharing), and an entry of up to 64 bytes is one line, not two.
 *
 * Words are read and written with mem.ts `ld`/`st` (plain on x86, Atomics elsewhere; see guard.ts and
 * mem.ts), the bump pointer with Atomics.add. A thread that dies inside alloc() or free() leaks at
 * most that block (or that line's pieces); the lists stay well formed (each changes with one store
 * of a head).
 */
import { ld, st } from "./mem.js";

/** The byte offset of the bump pointer's word (the buffer's first word). */
export const TOP = 0;
export const CLASSES = 27;
export const MAX_BYTES = 2 ** 31 - 8;
const INITIAL = 64 * 1024;
/** A cache line's bytes (x86 and most ARM cores). */
const LINE = 64;

/** The class of a block that holds `payload` bytes. */
export function classOf(payload: number): number {
  const need = payload + 8;
  if (need <= 16) return 0;
  return need > 2 ** 30 ? CLASSES : 28 - Math.clz32(need - 1);
}

/** This thread's view of an object's memory. */
export class Heap {
  readonly sab: SharedArrayBuffer;
  i32!: Int32Array;
  /** The same memory as float64s (a number value's body is read and replaced with one access, dict.ts). */
  f64!: Float64Array;
  cap = 0;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.map();
  }

  /** A new buffer whose blocks start after `headerBytes` (a multiple of 8), at the next cache line. */
  static create(headerBytes: number): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(Math.max(INITIAL, headerBytes * 2), { maxByteLength: MAX_BYTES });
    new Int32Array(sab)[TOP] = Math.ceil(headerBytes / LINE) * LINE;
    return sab;
  }

  private map(): void {
    this.cap = this.sab.byteLength;
    this.i32 = new Int32Array(this.sab, 0, this.cap >> 2);
    this.f64 = new Float64Array(this.sab, 0, this.cap >> 3);
  }

  /** Picks up growth made by another thread. */
  sync(): void {
    if (this.sab.byteLength !== this.cap) this.map();
  }

  /**
   * Under a writer lock: makes sure every block allocated so far is inside this thread's view (the
   * bump pointer is past the end of every block, and a block is published only after its growth;
   * the previous holders' writes, the bump included, happen before this thread's acquire).
   */
  fresh(): void {
    if (ld(this.i32, TOP) > this.cap) this.sync();
  }

  /** True when the `bytes` at byte offset `off` are inside the buffer (remapping if it grew). */
  inside(off: number, bytes: number): boolean {
    if (off > 0 && off + bytes <= this.cap) return true;
    this.sync();
    return off > 0 && off + bytes <= this.cap;
  }

  /**
   * A block with room for `payload` bytes, from the free lists at `i32[free..free+CLASSES)` (owned by
   * the caller's lock) or new. RangeError when the buffer cannot hold it; nothing is changed then.
   */
  alloc(free: number, payload: number): number {
    const c = classOf(payload);
    if (c >= CLASSES) throw new RangeError(`shared storage: a value of ${payload} bytes is too large`);
    const i32 = this.i32;
    const head = i32[free + c] as number;
    if (head !== 0) {
      i32[free + c] = i32[(head >> 2) + 1] as number;
      return head;
    }
    const size = 16 << c;
    // (blocks under a cache line are cut from a whole line, the rest go to the free list: see the
    // file's comment on alignment)
    const take = Math.max(size, LINE);
    if (Atomics.load(i32, TOP) + take > MAX_BYTES)
      throw new RangeError(`shared storage cannot grow past ${MAX_BYTES} bytes`);
    const off = Atomics.add(i32, TOP, take);
    if (off + take > MAX_BYTES) throw new RangeError(`shared storage cannot grow past ${MAX_BYTES} bytes`);
    while (this.sab.byteLength < off + take) {
      let want = Math.max(this.sab.byteLength * 2, INITIAL);
      while (want < off + take) want *= 2;
      try {
        this.sab.grow(Math.min(want, MAX_BYTES));
      } catch {
        // another thread grew it meanwhile (a grow may not shrink): look again
      }
    }
    this.sync();
    const j32 = this.i32;
    st(j32, off >> 2, c);
    for (let extra = off + size; extra < off + take; extra += size) {
      st(j32, extra >> 2, c);
      this.release(free, extra);
    }
    return off;
  }

  /** Gives a block back to the free lists at `free`. */
  release(free: number, off: number): void {
    const i32 = this.i32;
    const c = i32[off >> 2] as number;
    st(i32, (off >> 2) + 1, i32[free + c] as number);
    i32[free + c] = off;
  }

  /** The payload bytes of the block at `off` (read optimistically: may be garbage, caller validates). */
  payloadBytes(off: number): number {
    const c = ld(this.i32, off >> 2);
    return c >= 0 && c < CLASSES ? (16 << c) - 8 : 0;
  }
}
