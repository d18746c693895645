/**
 * Values of SharedDict / SharedList as records in shared memory: the queue's item codec
 * (queue/codec.ts, plain.ts) with two differences, because a stored value is read many times
 * instead of taken once:
 *   - shared objects inside a value (a Lock, a Queue, a SharedArrayBuffer...) are carried by *kept*
 *     buffer refs (transport/directory.ts keepBuffer/peekBuffer: registered with the hub once per
 *     buffer, fetched once per thread), not by take-once refs;
 *   - every record lives inline in a heap block (no out-of-line LARGE items), so deleting or
 *     replacing a value gives its memory back to the object's free lists.
 * Record format: codec.ts's (tag word, length word, body), tags NUM, CONST, STR, PLAIN, V8.
 *
 * `stageValue` runs before any lock is taken: every check and every encoding step that can fail
 * (TypeError naming where in the value) happens there, so a value that cannot be stored changes
 * nothing. Records are copied into and out of shared memory word by word (mem.ts `ld`/`st`, guard.ts).
 */
import v8 from "node:v8";
import { align8, Staged, stage, T_CONST, T_NUM, T_PLAIN, T_STR, T_V8, writeRecord } from "../queue/codec.js";
import { decodePlain, encodePlain, writtenWords } from "../queue/plain.js";
import { guardDuties } from "../shared/wait.js";
import { decode } from "../transport/decode.js";
import { keepBuffer, peekBuffer } from "../transport/directory.js";
import { encode } from "../transport/encode.js";
import { ld, st as store, TSO } from "./mem.js";

/** The largest encoded value (bytes). */
const LIMIT = 256 * 1024 * 1024;
const CONSTANTS = [undefined, null, false, true];

/** A growable per-thread scratch area with the views the codec uses. */
class Scratch {
  buf!: ArrayBuffer;
  i32!: Int32Array;
  f64!: Float64Array;
  u16!: Uint16Array;
  u8!: Buffer;
  constructor(bytes: number) {
    this.fit(bytes);
  }
  fit(bytes: number): void {
    if (this.buf !== undefined && this.buf.byteLength >= bytes) return;
    let size = this.buf === undefined ? bytes : this.buf.byteLength;
    while (size < bytes) size *= 2;
    this.buf = new ArrayBuffer(size);
    this.i32 = new Int32Array(this.buf);
    this.f64 = new Float64Array(this.buf);
    this.u16 = new Uint16Array(this.buf);
    this.u8 = Buffer.from(this.buf);
  }
}

const st = new Staged();
/**
 * The staged record (header + body) of the last stageValue(). A blocking duty (shared/wait.ts
 * guardDuties: an excepthook a set's wait for a lock runs) stages into another one meanwhile.
 */
export let staged = new Scratch(4096);
let spareStaged: Scratch | null = null;
guardDuties(() => {
  const outer = staged;
  staged = spareStaged ?? new Scratch(4096);
  spareStaged = null;
  return () => {
    spareStaged = staged;
    staged = outer;
  };
});
/** The body of the last record read (body at byte 0); its header in readW0/readLen. */
const taken = new Scratch(4096);
let readW0 = 0;
let readLen = 0;

function dataCloneError(e: unknown, what: string): TypeError {
  const msg = e instanceof Error ? e.message : String(e);
  return new TypeError(`${what} cannot be stored: ${msg}`);
}

/** Encodes `value` into `staged`; returns the record's bytes (a multiple of 8). TypeError if it cannot be stored. */
export function stageValue(value: unknown, what: string): number {
  switch (typeof value) {
    case "number": {
      // the fast path: the record's two header words and the float64, straight into the scratch
      const s = staged;
      s.i32[0] = T_NUM;
      s.i32[1] = 0;
      s.f64[1] = value;
      return 16;
    }
    case "boolean":
    case "undefined":
      stage(value, st);
      break;
    case "string":
      if (value.length <= 32) stage(value, st);
      else {
        st.reset();
        st.tag = T_STR;
        st.str = value;
        st.len = value.length;
        st.size = 8 + align8(value.length * 2);
      }
      break;
    case "function":
    case "symbol":
      encode(value, what); // throws the transport's TypeError, naming the value
      throw new TypeError(`${what} cannot be stored`);
    default: {
      if (value === null) {
        stage(value, st);
        break;
      }
      const bytes = encodePlain(value, LIMIT);
      if (bytes >= 0) {
        st.reset();
        st.tag = T_PLAIN;
        st.len = bytes;
        st.size = 8 + bytes;
        st.words = writtenWords();
        break;
      }
      const enc = encode(value, what, { bufferRef: (sab) => keepBuffer(sab) });
      let out: Uint8Array;
      try {
        out = v8.serialize(enc.value);
      } catch (e) {
        throw dataCloneError(e, what);
      }
      if (out.length > LIMIT) throw new RangeError(`${what} is too large to store (${out.length} bytes)`);
      st.reset();
      st.tag = T_V8;
      st.marked = enc.marked;
      st.bytes = out;
      st.len = out.length;
      // (kept refs are never given back, so the record lists none: the body starts at +8)
      st.size = 8 + align8(out.length);
    }
  }
  const size = st.size;
  staged.fit(size);
  writeRecord(staged, 0, st);
  st.reset(); // (the plain scratch words stage() held are copied: another encode may use them)
  return size;
}

/** Copies the staged record (`bytes` long) into shared memory at byte `at` (8-aligned), word by word. */
export function writeStaged(i32: Int32Array, at: number, bytes: number): void {
  const src = staged.i32;
  const w = at >> 2;
  for (let k = 0; k < bytes >> 2; k++) store(i32, w + k, src[k] as number);
}

const f64n = new Float64Array(1);
const f64w = new Int32Array(f64n.buffer);

/** The float64 at byte `at` (8-aligned) of shared memory: one 8-byte load on x86, two `ld`s elsewhere (see readRecordAt). */
export function numberAt(i32: Int32Array, f64: Float64Array, at: number): number {
  if (TSO) return f64[at >> 3] as number;
  f64w[0] = ld(i32, at >> 2);
  f64w[1] = ld(i32, (at >> 2) + 1);
  return f64n[0] as number;
}

/** The word pair `lo`, `hi` (as numberAt reads them elsewhere than x86) as a float64. */
export function joinNumber(lo: number, hi: number): number {
  f64w[0] = lo;
  f64w[1] = hi;
  return f64n[0] as number;
}

/**
 * Stores `x` as the float64 at byte `at` (8-aligned) of shared memory: one 8-byte store on x86, two
 * `store`s elsewhere (callers publish it afterwards, or write in place only on x86: see dict.ts).
 */
export function storeNumber(i32: Int32Array, f64: Float64Array, at: number, x: number): void {
  if (TSO) {
    f64[at >> 3] = x;
    return;
  }
  f64n[0] = x;
  store(i32, at >> 2, f64w[0] as number);
  store(i32, (at >> 2) + 1, f64w[1] as number);
}

/** stageValue() of a number (which cannot fail): its NUM record of 16 bytes. */
export function stageNumber(x: number): number {
  const s = staged;
  s.i32[0] = T_NUM;
  s.i32[1] = 0;
  s.f64[1] = x;
  return 16;
}

/** The number staged by the last stageValue() when it staged a number (a NUM record of 16 bytes). */
export function stagedNumber(): number {
  return staged.f64[1] as number;
}

/** True when the last stageValue() staged a number. */
export function stagedIsNumber(): boolean {
  return staged.i32[0] === T_NUM;
}

export { T_NUM };

/** The size of a record from its two header words (or -1 when they make no sense). */
export function sizeOf(w0: number, len: number): number {
  if (len < 0) return -1;
  switch (w0 & 255) {
    case T_NUM:
      return 16;
    case T_CONST:
      return len >= 0 && len < 4 ? 8 : -1;
    case T_STR:
      return 8 + align8(len * 2);
    case T_PLAIN:
      return 8 + len;
    case T_V8:
      return 8 + align8(4 * (w0 >>> 9)) + align8(len);
    default:
      return -1;
  }
}

/**
 * Copies the record at byte `at` (at most `room` bytes: its block's payload) out of shared memory into
 * this thread's scratch. False when the header makes no sense (a torn optimistic read: retry).
 */
export function readRecordAt(i32: Int32Array, f64: Float64Array, at: number, room: number): boolean {
  const w = at >> 2;
  const w0 = ld(i32, w);
  const len = ld(i32, w + 1);
  const size = sizeOf(w0, len);
  if (size < 0 || size > room) return false;
  readW0 = w0;
  readLen = len;
  if (w0 === T_NUM) {
    // x86: one 8-byte access (a SharedDict replaces a number in place there, dict.ts); elsewhere
    // numbers are never replaced in place and every shared word is read with ld (Atomics)
    if (TSO) taken.f64[0] = f64[(at + 8) >> 3] as number;
    else {
      taken.i32[0] = ld(i32, (at + 8) >> 2);
      taken.i32[1] = ld(i32, (at + 12) >> 2);
    }
    return true;
  }
  const body = (size - 8) >> 2;
  if (body > 0) {
    taken.fit(size);
    const dst = taken.i32;
    for (let k = 0; k < body; k++) dst[k] = ld(i32, w + 2 + k);
  }
  return true;
}

/** The value of the record last read by readRecordAt (after the read was validated). */
export function decodeRead(): unknown {
  const t = taken;
  switch (readW0 & 255) {
    case T_NUM:
      return t.f64[0];
    case T_CONST:
      return CONSTANTS[readLen];
    case T_STR:
      return readLen === 0 ? "" : t.u8.toString("utf16le", 0, readLen * 2);
    case T_PLAIN:
      return decodePlain(t);
  }
  const n = readW0 >>> 9;
  const body = align8(4 * n);
  const value = v8.deserialize(t.u8.subarray(body, body + readLen));
  if ((readW0 & 256) === 0) return value;
  return decode(value, true, { resolveBuffer: (ref) => peekBuffer(ref as number) });
}
