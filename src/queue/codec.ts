/**
 * How a queue item becomes bytes in shared memory and back.
 *
 * A put *stages* the item before it takes the queue's lock (all encoding work, all allocation and
 * every check that can fail happen there); under the lock the staged record is only copied in. A
 * get copies the record out to this thread's scratch buffer under the lock and *decodes* it after
 * (an LSTR record is made into its string under the lock, straight from the store: see below).
 *
 * Record layout (offsets from the record start, which is 8-byte aligned; sizes are multiples of 8):
 *   word 0   tag (bits 0-7) | marked (bit 8) | nrefs (bits 9-31)
 *   word 1   NUM: unused; CONST: which constant; STR: UTF-16 units; V8/LARGE: payload bytes
 *   NUM      float64 at +8                                  (16 bytes)
 *   CONST    undefined / null / false / true                (8 bytes)
 *   STR      the UTF-16 code units at +8                    (8 + units*2, rounded up)
 *   V8       nrefs refs at +8 (two words each: low 32 bits, high bits; refs are 53-bit, never
 *            reused), then v8.serialize bytes at +8+8*nrefs
 *   LARGE    as V8, but the bytes live in their own SharedArrayBuffer, whose directory ref is refs[0]
 *   PLAIN    plain data in the compact word stream of plain.ts at +8 (word 1: its bytes, a
 *            multiple of 8): objects, arrays, bigints, short strings
 *   SKIP     (ring only) word 1 = bytes to skip to the ring's end
 *   SSTR     (queues only: stageItem) a string of 1..8 units, each below 256: word 1 = units, the
 *            units four to a word at +8 and +12, zero-padded (16 bytes, as a number)
 *   MSTR     (queues only: stageItem) the same for 9..16 units: four words at +8..+20 (24 bytes)
 *   PSTR     (queues only: stageItem) the same for 17..32 units: their words at +8, zero-padded
 *            (8 + units, rounded up: 32 or 40 bytes)
 *   LSTR     (queues only: stageItem) a string of 33..LARGE_BYTES units, each below 256: word 1 =
 *            units, one byte a unit at +8 (8 + units, rounded up); written by Buffer's latin1Write
 *            under the lock, as STR's UTF-16, and made into a string by readRecord() itself, under
 *            the lock, straight from the store (no copy out to the scratch buffer)
 *
 * Fast paths: numbers, constants and strings up to LARGE_BYTES/2 units skip v8.serialize
 * altogether; so does plain data (plain.ts: objects and arrays of numbers, strings, booleans,
 * null, undefined, bigints, without shared objects, repeats or other prototypes), staged into
 * this thread's scratch words and copied into the store word by word under the lock. Anything
 * else (Map, Set, Date, typed arrays, Errors, class instances, shared objects ...) takes the
 * general path, so each kind of value arrives exactly as before. Values
 * that hold shared objects go through the transport's encode() with `bufferRef = exportBuffer`
 * (each SharedArrayBuffer is registered with the hub directory once per item; the refs are also
 * listed in the record so that an item discarded unread can give them back). Items whose encoded
 * bytes exceed LARGE_BYTES get a SharedArrayBuffer of their own (also through the directory): the
 * ring only holds a 16-byte reference, and that memory is freed as soon as the item is consumed.
 */
import v8 from "node:v8";
import { decode } from "../transport/decode.js";
import { exportBuffer, importBuffer } from "../transport/directory.js";
import { encode } from "../transport/encode.js";
import {
  decodePlain,
  encodePlain,
  encodeShortString,
  holdWords,
  MID_MAX,
  PACKED_MAX,
  recentMid,
  recentPacked,
  recentString,
  releaseWords,
  writtenWords,
} from "./plain.js";

export const T_NUM = 1;
export const T_CONST = 2;
export const T_STR = 3;
export const T_V8 = 4;
export const T_LARGE = 5;
export const T_SKIP = 6;
export const T_PLAIN = 7;
export const T_SSTR = 8;
export const T_MSTR = 9;
export const T_LSTR = 10;
export const T_PSTR = 11;

/** One-byte strings of 1..SSTR_MAX units are a T_SSTR record in a queue (stageItem), up to MID_MAX a T_MSTR one. */
const SSTR_MAX = 8;

/** Strings up to this many units go through the plain codec (plain.ts encodeShortString). */
const PLAIN_STR = 32;

/** Items whose encoded form is larger than this many bytes are stored out of line (own buffer). */
export const LARGE_BYTES = 64 * 1024;

const CONSTANTS = [undefined, null, false, true];

/**
 * Matches a unit above 255: RegExp.prototype.exec (taken as the library loads: a program's own
 * exec, or a subclass's, must not decide what is written as one byte a unit) with it returns null
 * exactly when a string's units all fit in one byte. On a string V8 holds as one-byte (what
 * such a string almost always is) it fails at once, whatever the length (~20 ns); on a two-byte
 * one it scans (~0.5 ns a unit).
 */
const WIDE_UNIT = /[^\x00-\xff]/;
const regexpExec = RegExp.prototype.exec;

/** Buffer's one-byte writer and reader, without write()/toString()'s encoding dispatch. */
type Latin1Write = (this: Buffer, s: string, at: number, n: number) => number;
type Latin1Slice = (this: Buffer, from: number, to: number) => string;
const bufferProto = Buffer.prototype as unknown as { latin1Write?: Latin1Write; latin1Slice?: Latin1Slice };
const latin1Write: Latin1Write =
  bufferProto.latin1Write ??
  function (this: Buffer, s: string, at: number, n: number) {
    return this.write(s, at, n, "latin1");
  };
const latin1Slice: Latin1Slice =
  bufferProto.latin1Slice ??
  function (this: Buffer, from: number, to: number) {
    return this.toString("latin1", from, to);
  };

export function align8(n: number): number {
  return (n + 7) & ~7;
}

/** An item ready to be copied into a queue (made before the lock is taken). */
export class Staged {
  tag = 0;
  num = 0;
  /** CONST id, STR units, V8/LARGE payload bytes. */
  len = 0;
  str = "";
  bytes: Uint8Array | null = null;
  /** PLAIN: the words (this thread's scratch, held until reset(); or a copy for a put that awaits before storing). */
  words: Int32Array | null = null;
  /** `words` are held scratch words (plain.ts holdWords): reset() releases them. */
  held = false;
  refs: number[] = [];
  marked = false;
  /** Bytes the record takes in the store. */
  size = 0;
  /** PriorityQueue only: the encoded sort key (compare.ts). */
  key: Uint8Array | null = null;
  /** SSTR, MSTR: units 0-3 and 4-7, one byte each; MSTR: 8-11 and 12-15. */
  a = 0;
  b = 0;
  c = 0;
  d = 0;
  /** PSTR: the packed words (this Staged's own, made at its first PSTR; kept by reset()). */
  p: Int32Array | null = null;

  reset(): void {
    this.str = "";
    this.bytes = null;
    if (this.held) {
      this.held = false;
      releaseWords(this.words);
    }
    this.words = null;
    this.key = null;
    this.marked = false;
    if (this.refs.length > 0) this.refs = [];
  }
}

/**
 * The error of a put whose item could not be staged, naming the call (`Queue.put(): item.a cannot
 * be sent to another thread: ...`); any other error unchanged.
 */
export function itemError(e: unknown, what: string): unknown {
  if (e instanceof TypeError && e.message.startsWith("item")) return new TypeError(`${what}: ${e.message}`);
  if (e instanceof RangeError && e.message.startsWith("item")) return new RangeError(`${what}: ${e.message}`);
  return e;
}

function dataCloneError(e: unknown): TypeError {
  const msg = e instanceof Error ? e.message : String(e);
  return new TypeError(`item cannot be sent to another thread: ${msg}`);
}

/**
 * Stages `value` into `st`. Throws TypeError (naming where in the value) for what cannot cross;
 * then nothing is left registered anywhere. `keep`: the staged record must stay valid across an
 * await (putAsync), so plain words are copied out of this thread's scratch.
 */
export function stage(value: unknown, st: Staged, keep = false): void {
  st.reset();
  // (typeof tests one by one, not a switch on typeof: V8 turns each into a type check, where a
  // switch calls its Typeof builtin and compares strings)
  if (typeof value === "number") {
    st.tag = T_NUM;
    st.num = value;
    st.size = 16;
    return;
  }
  if (typeof value === "string") {
    if (value.length <= PLAIN_STR) {
      const bytes = encodeShortString(value);
      st.tag = T_PLAIN;
      st.len = bytes;
      st.size = 8 + bytes;
      holdPlain(st, bytes, keep);
      return;
    }
    if (value.length <= LARGE_BYTES / 2) {
      st.tag = T_STR;
      st.str = value;
      st.len = value.length;
      st.size = 8 + align8(value.length * 2);
      return;
    }
  } else if (typeof value === "object") {
    if (value === null) {
      st.tag = T_CONST;
      st.len = 1;
      st.size = 8;
      return;
    }
  } else if (typeof value === "undefined") {
    st.tag = T_CONST;
    st.len = 0;
    st.size = 8;
    return;
  } else if (typeof value === "boolean") {
    st.tag = T_CONST;
    st.len = value ? 3 : 2;
    st.size = 8;
    return;
  } else if (typeof value !== "bigint") {
    stageGeneral(value, st);
    return;
  }
  const bytes = encodePlain(value, LARGE_BYTES);
  if (bytes < 0) {
    stageGeneral(value, st);
    return;
  }
  st.tag = T_PLAIN;
  st.len = bytes;
  st.size = 8 + bytes;
  holdPlain(st, bytes, keep);
}

/**
 * The words just encoded (`bytes` of them), into `st`: a copy (`keep`), or this thread's scratch
 * words, held until st.reset(): what runs before the record is stored (a getter, a blocking
 * put's wait and the excepthook it may run) can put another item meanwhile.
 */
function holdPlain(st: Staged, bytes: number, keep: boolean): void {
  if (keep) st.words = writtenWords().slice(0, bytes >> 2);
  else {
    st.words = holdWords();
    st.held = true;
  }
}

/** This thread's Staged for put() (takeStaged). */
let spare: Staged | null = new Staged();

/**
 * A Staged for a put() to stage its item in: this thread's, or a new one for a put that runs
 * while another put of this thread has its item staged (from a getter of that item, or from an
 * excepthook its blocking wait runs). Given back with giveStaged().
 */
export function takeStaged(): Staged {
  const st = spare;
  if (st === null) return new Staged();
  spare = null;
  return st;
}

/** The end of takeStaged(): `st` is reset and kept for the next put. */
export function giveStaged(st: Staged): void {
  st.reset();
  spare = st;
}

/**
 * stageItem() of a number, the commonest item: `st` comes reset (as stageItem()'s). Small, so that
 * the puts inline it before they call stageItem(): a put of a number then enters no staging
 * function. Right after its thread woke, every function a put enters runs cold, and staging a
 * number through stageItem() and stage() took ~3 µs of such a put, before its notify of a
 * sleeping getter (docs/benchmarks.md, the hand-off to a blocked get()).
 */
export function stageNumber(value: number, st: Staged): void {
  st.tag = T_NUM;
  st.num = value;
  st.size = 16;
}

/**
 * stage() for a queue item: a one-byte string of 1..8 units (the commonest string item: a word,
 * an id, a short message) becomes an SSTR record packed here, one of 9..16 units (a longer id or
 * name) an MSTR record, with no staging words to copy and, on the way out, no plain decoder; one
 * of 17..32 a PSTR record (its words copied); a longer one (a line of JSON, a message) an LSTR record, half the bytes of STR's UTF-16, read
 * back with no copy (SharedDict's records keep the formats of stage()). `st` must come reset (takeStaged()'s, given
 * back reset, or a new one): an SSTR or MSTR record is staged without another reset().
 */
export function stageItem(value: unknown, st: Staged, keep = false): void {
  if (typeof value === "number") {
    stageNumber(value, st);
    return;
  }
  if (typeof value === "string") {
    const n = value.length;
    if (n > 0 && n <= SSTR_MAX) {
      // (unrolled: one predictable branch a unit, no loop counter, no shift by a variable; ~3 ns
      // less than a loop on Node 20)
      let a = value.charCodeAt(0);
      let wide = a;
      let b = 0;
      let c = 0;
      if (n > 1) {
        c = value.charCodeAt(1);
        wide |= c;
        a |= c << 8;
      }
      if (n > 2) {
        c = value.charCodeAt(2);
        wide |= c;
        a |= c << 16;
      }
      if (n > 3) {
        c = value.charCodeAt(3);
        wide |= c;
        a |= c << 24;
      }
      if (n > 4) {
        c = value.charCodeAt(4);
        wide |= c;
        b = c;
      }
      if (n > 5) {
        c = value.charCodeAt(5);
        wide |= c;
        b |= c << 8;
      }
      if (n > 6) {
        c = value.charCodeAt(6);
        wide |= c;
        b |= c << 16;
      }
      if (n > 7) {
        c = value.charCodeAt(7);
        wide |= c;
        b |= c << 24;
      }
      if (wide < 256) {
        // (no st.reset(): `st` comes reset, see above)
        st.tag = T_SSTR;
        st.len = n;
        st.a = a;
        st.b = b;
        st.size = 16;
        return;
      }
    } else if (n <= MID_MAX) {
      if (n > SSTR_MAX && stageMid(value, n, st)) return;
    } else if (n <= PACKED_MAX) {
      if (stagePacked(value, n, st)) return;
    } else if (n > PLAIN_STR && n <= LARGE_BYTES && regexpExec.call(WIDE_UNIT, value) === null) {
      st.tag = T_LSTR;
      st.str = value;
      st.len = n;
      st.size = 8 + align8(n);
      return;
    }
  }
  stage(value, st, keep);
}

/**
 * stageItem() of a string of 17..32 units: a PSTR record when every unit is below 256 (true),
 * else nothing staged (false; st.p's words then do not matter).
 */
function stagePacked(value: string, n: number, st: Staged): boolean {
  let p = st.p;
  if (p === null) {
    p = new Int32Array(8);
    st.p = p;
  }
  const words = align8(n) >> 2;
  let wide = 0;
  let i = 0;
  let w = 0;
  for (; i + 4 <= n; i += 4, w++) {
    const c0 = value.charCodeAt(i);
    const c1 = value.charCodeAt(i + 1);
    const c2 = value.charCodeAt(i + 2);
    const c3 = value.charCodeAt(i + 3);
    wide |= c0 | c1 | c2 | c3;
    p[w] = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
  }
  if (i < n) {
    let word = 0;
    for (let s = 0; i < n; i++, s += 8) {
      const c = value.charCodeAt(i);
      wide |= c;
      word |= c << s;
    }
    p[w++] = word;
  }
  if (wide >= 256) return false;
  if (w < words) p[w] = 0;
  st.tag = T_PSTR;
  st.len = n;
  st.size = 8 + (words << 2);
  return true;
}

/**
 * stageItem() of a string of 9..16 units: an MSTR record when every unit is below 256 (true),
 * else nothing staged (false). The first 8 units by straight code, the rest one branch a unit.
 */
function stageMid(value: string, n: number, st: Staged): boolean {
  let u = value.charCodeAt(0);
  let wide = u;
  let a = u;
  u = value.charCodeAt(1);
  wide |= u;
  a |= u << 8;
  u = value.charCodeAt(2);
  wide |= u;
  a |= u << 16;
  u = value.charCodeAt(3);
  wide |= u;
  a |= u << 24;
  u = value.charCodeAt(4);
  wide |= u;
  let b = u;
  u = value.charCodeAt(5);
  wide |= u;
  b |= u << 8;
  u = value.charCodeAt(6);
  wide |= u;
  b |= u << 16;
  u = value.charCodeAt(7);
  wide |= u;
  b |= u << 24;
  u = value.charCodeAt(8);
  wide |= u;
  let c = u;
  let d = 0;
  if (n > 9) {
    u = value.charCodeAt(9);
    wide |= u;
    c |= u << 8;
  }
  if (n > 10) {
    u = value.charCodeAt(10);
    wide |= u;
    c |= u << 16;
  }
  if (n > 11) {
    u = value.charCodeAt(11);
    wide |= u;
    c |= u << 24;
  }
  if (n > 12) {
    u = value.charCodeAt(12);
    wide |= u;
    d = u;
  }
  if (n > 13) {
    u = value.charCodeAt(13);
    wide |= u;
    d |= u << 8;
  }
  if (n > 14) {
    u = value.charCodeAt(14);
    wide |= u;
    d |= u << 16;
  }
  if (n > 15) {
    u = value.charCodeAt(15);
    wide |= u;
    d |= u << 24;
  }
  if (wide >= 256) return false;
  st.tag = T_MSTR;
  st.len = n;
  st.a = a;
  st.b = b;
  st.c = c;
  st.d = d;
  st.size = 24;
  return true;
}

function stageGeneral(value: unknown, st: Staged): void {
  // The general path: the transport's encode(), then v8.serialize.
  const refs: number[] = [];
  let byBuffer: Map<SharedArrayBuffer, number> | undefined;
  let bytes: Uint8Array;
  let marked: boolean;
  try {
    const enc = encode(value, "item", {
      bufferRef: (sab) => {
        byBuffer ??= new Map();
        let ref = byBuffer.get(sab);
        if (ref === undefined) {
          ref = exportBuffer(sab);
          byBuffer.set(sab, ref);
          refs.push(ref);
        }
        return ref;
      },
    });
    marked = enc.marked;
    try {
      bytes = v8.serialize(enc.value);
    } catch (e) {
      throw dataCloneError(e);
    }
  } catch (e) {
    reclaim(refs);
    throw e;
  }
  st.marked = marked;
  st.len = bytes.length;
  st.refs = refs;
  if (bytes.length > LARGE_BYTES) {
    const own = new SharedArrayBuffer(bytes.length);
    new Uint8Array(own).set(bytes);
    let ownRef: number;
    try {
      ownRef = exportBuffer(own);
    } catch (e) {
      // (the directory is full: give back what the item registered, nothing is half-done)
      reclaim(refs);
      throw e;
    }
    refs.unshift(ownRef);
    st.tag = T_LARGE;
    st.bytes = null;
    st.size = 8 + 8 * refs.length;
  } else {
    st.tag = T_V8;
    st.bytes = bytes;
    st.size = 8 + 8 * refs.length + align8(bytes.length);
  }
}

/** Takes back the directory entries of a staged item that was not enqueued (or was discarded). */
export function reclaim(refs: ArrayLike<number>): void {
  for (let i = 0; i < refs.length; i++) {
    try {
      importBuffer(refs[i] as number);
    } catch {
      // the hub is gone (process exiting): nothing to give back
    }
  }
}

/** A view set over a store's data buffer. */
export interface Views {
  i32: Int32Array;
  f64: Float64Array;
  u8: Buffer;
}

/** Copies a staged record in at byte offset `at` (under the lock; no allocation). */
export function writeRecord(v: Views, at: number, st: Staged): void {
  const w = at >> 2;
  const i32 = v.i32;
  i32[w] = st.tag | (st.marked ? 256 : 0) | (st.refs.length << 9);
  i32[w + 1] = st.len;
  switch (st.tag) {
    case T_NUM:
      v.f64[(at + 8) >> 3] = st.num;
      return;
    case T_CONST:
      return;
    case T_SSTR:
      i32[w + 2] = st.a;
      i32[w + 3] = st.b;
      return;
    case T_MSTR:
      i32[w + 2] = st.a;
      i32[w + 3] = st.b;
      i32[w + 4] = st.c;
      i32[w + 5] = st.d;
      return;
    case T_STR:
      if (st.len > 0) v.u8.write(st.str, at + 8, "utf16le");
      return;
    case T_LSTR:
      latin1Write.call(v.u8, st.str, at + 8, st.len);
      return;
    case T_PLAIN:
      copyWords(st.words as Int32Array, 0, i32, w + 2, st.len >> 2);
      return;
    case T_PSTR:
      copyWords(st.p as Int32Array, 0, i32, w + 2, (st.size - 8) >> 2);
      return;
  }
  const refs = st.refs;
  for (let i = 0; i < refs.length; i++) writeRef(i32, w + 2 + 2 * i, refs[i] as number);
  if (st.tag === T_V8) v.u8.set(st.bytes as Uint8Array, at + 8 + 8 * refs.length);
}

/** Writes a directory ref (below 2^53) as two words at `w`: low 32 bits, then the high bits. */
function writeRef(i32: Int32Array, w: number, ref: number): void {
  i32[w] = ref | 0;
  i32[w + 1] = Math.floor(ref / 2 ** 32);
}

/** Reads the ref written by writeRef at `w`. */
function readRef(i32: Int32Array, w: number): number {
  return (i32[w + 1] as number) * 2 ** 32 + ((i32[w] as number) >>> 0);
}

/**
 * Copies `n` int32 words (a loop for short records: cheaper than a native call), two a turn (a
 * record's words are even; 14 words ~17 -> ~13 ns on Node 20).
 */
export function copyWords(from: Int32Array, fromAt: number, to: Int32Array, toAt: number, n: number): void {
  if (n <= 64) {
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      to[toAt + i] = from[fromAt + i] as number;
      to[toAt + i + 1] = from[fromAt + i + 1] as number;
    }
    if (i < n) to[toAt + i] = from[fromAt + i] as number;
  } else to.set(from.subarray(fromAt, fromAt + n), toAt);
}

/** The size of the record at `at`. */
export function recordSize(v: Views, at: number): number {
  const w0 = v.i32[at >> 2] as number;
  const len = v.i32[(at >> 2) + 1] as number;
  switch (w0 & 255) {
    case T_NUM:
    case T_SSTR:
      return 16;
    case T_MSTR:
      return 24;
    case T_CONST:
      return 8;
    case T_STR:
      return 8 + align8(len * 2);
    case T_LSTR:
    case T_PSTR:
      return 8 + align8(len);
    case T_V8:
      return 8 + 8 * (w0 >>> 9) + align8(len);
    case T_LARGE:
      return 8 + 8 * (w0 >>> 9);
    case T_PLAIN:
      return 8 + len;
    default:
      return len; // SKIP
  }
}

/** Appends the directory refs of the record at `at` to `out` (for discarding it unread). */
export function recordRefs(v: Views, at: number, out: number[]): void {
  const w0 = v.i32[at >> 2] as number;
  const tag = w0 & 255;
  if (tag !== T_V8 && tag !== T_LARGE) return;
  const n = w0 >>> 9;
  for (let i = 0; i < n; i++) out.push(readRef(v.i32, (at >> 2) + 2 + 2 * i));
}

/** This thread's copy of a record taken from a queue (filled under the lock, decoded after). */
export class Taken {
  tag = 0;
  num = 0;
  len = 0;
  marked = false;
  nrefs = 0;
  // Typed-array fields are annotated without type arguments: the inferred Float64Array<ArrayBuffer>
  // would reach the published .d.ts, which TypeScript < 5.7 cannot read (README "TypeScript").
  refs: Float64Array = new Float64Array(16);
  /** LSTR: the string, made under the lock (decodeTaken hands it over and drops it). */
  str = "";
  /** SSTR, MSTR: the packed units. */
  a = 0;
  b = 0;
  c = 0;
  d = 0;
  bytes: Buffer = Buffer.allocUnsafeSlow(LARGE_BYTES + 64);
  // Views for the plain decoder (plain.ts), over the same memory as `bytes`.
  u8: Buffer = this.bytes;
  i32: Int32Array = new Int32Array(this.bytes.buffer, this.bytes.byteOffset, (LARGE_BYTES + 64) >> 2);
  u16: Uint16Array = new Uint16Array(this.bytes.buffer, this.bytes.byteOffset, (LARGE_BYTES + 64) >> 1);
  f64: Float64Array = new Float64Array(this.bytes.buffer, this.bytes.byteOffset, (LARGE_BYTES + 64) >> 3);
}

/**
 * Copies the record at `at` out into `out` (under the lock); returns its size in bytes. An LSTR
 * record is made into its string here (a native read of its bytes costs about what a copy out
 * does, and saves one).
 */
export function readRecord(v: Views, at: number, out: Taken): number {
  const w = at >> 2;
  const w0 = v.i32[w] as number;
  const len = v.i32[w + 1] as number;
  const tag = w0 & 255;
  out.tag = tag;
  out.len = len;
  switch (tag) {
    case T_NUM:
      out.num = v.f64[(at + 8) >> 3] as number;
      return 16;
    case T_SSTR:
      out.a = v.i32[w + 2] as number;
      out.b = v.i32[w + 3] as number;
      return 16;
    case T_MSTR:
      out.a = v.i32[w + 2] as number;
      out.b = v.i32[w + 3] as number;
      out.c = v.i32[w + 4] as number;
      out.d = v.i32[w + 5] as number;
      return 24;
    case T_CONST:
      return 8;
    case T_STR:
      v.u8.copy(out.bytes, 0, at + 8, at + 8 + len * 2);
      return 8 + align8(len * 2);
    case T_LSTR:
      out.str = latin1Slice.call(v.u8, at + 8, at + 8 + len);
      return 8 + align8(len);
    case T_PLAIN:
      copyWords(v.i32, w + 2, out.i32, 0, len >> 2);
      return 8 + len;
    case T_PSTR:
      copyWords(v.i32, w + 2, out.i32, 0, align8(len) >> 2);
      return 8 + align8(len);
  }
  const n = w0 >>> 9;
  out.marked = (w0 & 256) !== 0;
  out.nrefs = n;
  if (out.refs.length < n) out.refs = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) out.refs[i] = readRef(v.i32, w + 2 + 2 * i);
  const body = at + 8 + 8 * n;
  if (tag === T_LARGE) return body - at;
  v.u8.copy(out.bytes, 0, body, body + len);
  return body - at + align8(len);
}

/**
 * One item of each common kind (warmCodec): numbers (int32 and double), SSTR strings, an MSTR
 * string (9 units), a plain object, the constants. (Long and two-byte strings, arrays and bigints
 * are left out: their paths' first run compiles more of Node's and the walker's code, ~0.6 ms
 * more, for kinds a stream rarely switches to.)
 */
const WARM_ITEMS: readonly unknown[] = [
  1,
  0.5,
  "a",
  "item 123",
  "item 1000",
  { k: 1, s: "a", b: true },
  null,
  undefined,
  true,
];

let warmed = false;

/**
 * Once per thread: runs one item of each kind (WARM_ITEMS) through stageItem, writeRecord,
 * readRecord and decodeTaken over `v` (a scratch store of at least 256 bytes) and `t`. So V8's
 * type feedback covers every kind before the first put or get is optimized: a thread whose items
 * change kind (numbers, then strings; items, then a null sentinel) would otherwise deoptimize the
 * put or get path at the first item of each new kind and run it unoptimized until it is compiled
 * again, which on a busy machine took ~25 ns an item over a 400,000-item stream of strings that
 * followed one of numbers (docs/benchmarks.md). About 0.5 ms, once per thread (a reused worker
 * keeps it); THREADING_QUEUE_WARM=0 leaves it out.
 */
export function warmCodec(v: Views, t: Taken): void {
  if (warmed || process.env.THREADING_QUEUE_WARM === "0") return;
  warmed = true;
  const st = new Staged();
  for (const item of WARM_ITEMS) {
    stageItem(item, st);
    writeRecord(v, 0, st);
    readRecord(v, 0, t);
    decodeTaken(t);
    st.reset(); // (as giveStaged(): stageItem() takes it reset; its words held otherwise)
  }
}

/** Turns a taken record back into a value (after the lock is released). */
export function decodeTaken(t: Taken): unknown {
  switch (t.tag) {
    case T_NUM:
      return t.num;
    case T_SSTR:
      return recentString(t.len, t.a, t.b);
    case T_MSTR:
      return recentMid(t.len, t.a, t.b, t.c, t.d);
    case T_CONST:
      return CONSTANTS[t.len];
    case T_STR:
      return t.len === 0 ? "" : t.bytes.toString("utf16le", 0, t.len * 2);
    case T_LSTR: {
      const s = t.str;
      t.str = "";
      return s;
    }
    case T_PLAIN:
      return decodePlain(t);
    case T_PSTR:
      return recentPacked(t.len, t.i32, 0, t.u8);
  }
  let value: unknown;
  if (t.tag === T_LARGE) {
    const own = importBuffer(t.refs[0] as number);
    value = v8.deserialize(new Uint8Array(own, 0, t.len));
  } else {
    value = v8.deserialize(t.bytes.subarray(0, t.len));
  }
  if (!t.marked) return value;
  const got = new Map<number, SharedArrayBuffer>();
  return decode(value, true, {
    resolveBuffer: (ref) => {
      let sab = got.get(ref as number);
      if (sab === undefined) {
        sab = importBuffer(ref as number);
        got.set(ref as number, sab);
      }
      return sab;
    },
  });
}
