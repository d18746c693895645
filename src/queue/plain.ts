/**
 * The compact codec for plain data: the fast path of a queue item (codec.ts), written straight
 * as 32-bit words, without the transport's encode() walk and without v8.serialize.
 *
 * "Plain" = numbers, strings, booleans, null, undefined, bigints, and arrays / objects of these,
 * where every object's prototype is Object.prototype or null and every array's is Array.prototype,
 * none is a Proxy or a shared object, no object appears twice in the value (no cycles, no shared
 * sub-objects: structured clone would keep those as one object), the nesting is at most MAX_DEPTH
 * and the encoding at most `limit` bytes. `encodePlain` returns -1 for anything else, having
 * written nothing that matters, and the item takes the general path (encode + v8.serialize).
 *
 * What comes out is what the general path gives: objects get their own enumerable string-keyed
 * properties (read once, getters included) in Object.keys order, as plain objects with
 * Object.prototype; arrays get indexes 0..length-1 (a hole arrives as undefined, other properties
 * are dropped, as the transport's encode() does). An object with an own "__proto__" key takes the
 * general path (so the fast path never sets a prototype).
 *
 * Stream (Int32 words, little-endian; the record body starts 8-byte aligned). A value is a tag
 * word `kind | aux << 4` and then:
 *   UNDEF NULL FALSE TRUE   nothing
 *   INT                     aux = 0; one int32 word (integral numbers in int32 range, not -0)
 *   F64                     aux = 0; a pad word if needed so the float64 is 8-aligned, then 2 words
 *   STR1                    aux = length; the Latin-1 bytes, padded to a word
 *   STR2                    aux = length; the UTF-16 units, padded to a word (lone surrogates kept)
 *   BIG                     aux = sign | words << 1; the magnitude, 32 bits a word, low first
 *   ARR                     aux = length; the elements
 *   OBJ                     aux = keys; then the word count of the key block, the key block (each
 *                           key: one word `length << 1 | twoByte`, then its bytes as STR1/STR2),
 *                           then the values in the keys' order
 *
 * Decoding reads the words of a record already copied out of shared memory (readRecord). One-byte
 * strings up to 8 units are looked up by their (at most two) packed words in a per-thread table of
 * recent ones, and made by String.fromCharCode (a flat string, no native call) when not there
 * (recentString; a queue's SSTR items too), up to 16 units likewise by their four words
 * (recentMid; a queue's MSTR items too), up to 32 by their five to eight words (recentPacked; a
 * queue's PSTR items too); other strings up to 24 units go through a small
 * per-thread intern table, so a repeated one costs a hash and a compare instead of an allocation
 * (keys are read once per shape: see Shapes). The encoder writes one-byte units four to a word.
 *
 * Shapes: objects of one shape (the same keys in the same order) are the common case — a stream of
 * records, results, messages. The encoder keeps the key blocks it wrote last per shape (a small
 * per-thread table, matched by the keys themselves) and copies a block instead of writing each key
 * again, and once a shape has come often writes the object with a function made for it (its keys
 * compared with constants, the tag and key block stored as constants, then named loads, each value
 * read once and written at once, in the keys' order, as v8.serialize does; int32 numbers and
 * booleans written inline, one-byte strings of up to 8 units packed by straight code, the rest
 * through put()). The shape written last is tried first, by its made writer, before the table (a
 * stream of one shape skips the table's hash); it makes the walk's checks itself (not a Proxy, no
 * shared object, the prototype, not met before), where V8 knows the object's map and so the
 * prototype check costs no runtime call, and hands the keys it read to put() when they are not
 * its shape's. The top object of a value is not noted among the objects met (a value holding it
 * again is found one level later, where its own contents hold it again). The
 * decoder keeps the shapes it read (matched by the key block's words; the last one compared
 * first), with their key strings, and once a shape has come often it builds its objects with a
 * function made for it from an object literal (`{"id": g(), "name": g()}`: one allocation with
 * the final hidden class, instead of one property store after another; int32 numbers and booleans
 * are read inline, one-byte strings of up to 8 units by a direct call, the rest by g()). Both tables
 * are bounded; where code generation from strings is disallowed
 * (`--disallow-code-generation-from-strings`), objects are built key by key.
 */
import { kShare } from "../transport/shareable.js";
import { types } from "node:util";

const K_UNDEF = 0;
const K_NULL = 1;
const K_FALSE = 2;
const K_TRUE = 3;
const K_INT = 4;
const K_F64 = 5;
const K_STR1 = 6;
const K_STR2 = 7;
const K_BIG = 8;
const K_ARR = 9;
const K_OBJ = 10;

/** Deeper values take the general path (v8.serialize has no such limit, but they are rare). */
export const MAX_DEPTH = 64;
/** Strings up to this many units are written by a JS loop; longer ones by Buffer.write (native). */
const SHORT = 32;
/** Strings up to this many units are looked up in the intern table on decode. */
const INTERN_MAX = 24;
const INTERN_SIZE = 4096;

const EMPTY = {};
const NO_KEYS: string[] = [];

/** A per-thread growable word buffer the encoder writes into. */
export class Writer {
  buf: ArrayBuffer;
  i32: Int32Array;
  f64: Float64Array;
  u16: Uint16Array;
  u8: Buffer;
  /** Next free word. */
  pos = 0;
  /** Bytes the encoding may not exceed (set per call). */
  limit = 0;
  /** buf.byteLength (read once per growth, not per room() call). */
  bytes: number;
  /** Objects already written (a repeat means: take the general path); `seenN` of them. */
  seen: object[] = new Array<object>(16).fill(EMPTY);
  seenN = 0;
  seenSet: Set<object> | null = null;
  /**
   * The keys a made writer read from an object of another shape (OTHER_SHAPE), handed to put()
   * so that it does not read them again.
   */
  keys: string[] = NO_KEYS;

  constructor(bytes = 1024) {
    this.bytes = bytes;
    this.buf = new ArrayBuffer(bytes);
    this.i32 = new Int32Array(this.buf);
    this.f64 = new Float64Array(this.buf);
    this.u16 = new Uint16Array(this.buf);
    this.u8 = Buffer.from(this.buf);
  }

  /** Makes room for `words` more words; false when that would pass the limit. */
  room(words: number): boolean {
    const need = (this.pos + words) * 4;
    if (need > this.limit) return false;
    if (need <= this.bytes) return true;
    let size = this.bytes * 2;
    while (size < need) size *= 2;
    const next = new ArrayBuffer(size);
    this.bytes = size;
    new Int32Array(next).set(this.i32.subarray(0, this.pos));
    this.buf = next;
    this.i32 = new Int32Array(next);
    this.f64 = new Float64Array(next);
    this.u16 = new Uint16Array(next);
    this.u8 = Buffer.from(next);
    return true;
  }
}

/** This thread's writer (scratch words). */
let writer = new Writer();
/**
 * The writer's words are in use: by an encode under way, or by a staged record that holds them
 * until it is stored (holdWords). Either may let code run that encodes again in this thread: a
 * getter of the value (its put of another item), or a blocking put's wait, whose duties run an
 * excepthook that puts. An encode that finds the words in use takes a new writer as this
 * thread's, and leaves the old one to its holder.
 */
let inUse = false;
/** The writer of the last encode (writtenWords). */
let last = writer;

function takeWriter(): Writer {
  if (inUse) writer = new Writer();
  inUse = true;
  return writer;
}

/**
 * Writes `value` into this thread's writer from word 0; returns the number of bytes written
 * (a multiple of 8), or -1 when the value is not plain data or the encoding would pass `limit`.
 * The bytes stay valid until the next call (see `writtenWords`) unless held (holdWords).
 */
export function encodePlain(value: unknown, limit: number): number {
  const w = takeWriter();
  w.pos = 0;
  w.limit = limit;
  let ok: boolean;
  try {
    // (an object item, the commonest plain one, straight to the walk's object part: no kind tests)
    ok =
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? putNonArray(w, value, 0)
        : put(w, value, 0);
  } finally {
    // (a getter that throws ends the put as it would on the general path)
    const seen = w.seen;
    for (let i = 0; i < w.seenN; i++) seen[i] = EMPTY; // drop the references
    w.seenN = 0;
    w.seenSet = null;
    w.keys = NO_KEYS;
    if (w === writer) inUse = false;
  }
  if (!ok) return -1;
  if ((w.pos & 1) === 1) {
    if (!w.room(1)) return -1;
    w.i32[w.pos++] = 0;
  }
  last = w;
  return w.pos * 4;
}

/**
 * encodePlain() of a short string item (codec.ts passes at most 32 units): the same words,
 * without the walk's set-up (no object can be met, so nothing is remembered).
 */
export function encodeShortString(s: string): number {
  const w = takeWriter();
  w.pos = 0;
  w.limit = 16 + 2 * s.length;
  putString(w, s, true);
  if ((w.pos & 1) === 1) w.i32[w.pos++] = 0;
  inUse = false; // (no code of the caller's ran: w is still this thread's writer)
  last = w;
  return w.pos * 4;
}

/** The words encodePlain() wrote (a view on this thread's scratch; copy it, or hold it, to keep it). */
export function writtenWords(): Int32Array {
  return last.i32;
}

/**
 * writtenWords(), held until releaseWords(): an encode meanwhile (by code a wait runs) writes
 * elsewhere. (Words of a writer already left to this caller need no hold.)
 */
export function holdWords(): Int32Array {
  if (last === writer) inUse = true;
  return last.i32;
}

/** The end of a holdWords() that returned `words`. */
export function releaseWords(words: Int32Array | null): void {
  if (words === writer.i32) inUse = false;
}

/**
 * A string value (STR1/STR2): one-byte strings of 1..8 units (ids, names, states: the common
 * values) packed by straight code, as a queue's SSTR items (codec.ts stageItem); the rest by
 * putString(). The words are putString()'s.
 */
function putValueString(w: Writer, s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 8 || !w.room(3)) return putString(w, s, true);
  let a = s.charCodeAt(0);
  let wide = a;
  let b = 0;
  let c = 0;
  if (n > 1) {
    c = s.charCodeAt(1);
    wide |= c;
    a |= c << 8;
  }
  if (n > 2) {
    c = s.charCodeAt(2);
    wide |= c;
    a |= c << 16;
  }
  if (n > 3) {
    c = s.charCodeAt(3);
    wide |= c;
    a |= c << 24;
  }
  if (n > 4) {
    c = s.charCodeAt(4);
    wide |= c;
    b = c;
  }
  if (n > 5) {
    c = s.charCodeAt(5);
    wide |= c;
    b |= c << 8;
  }
  if (n > 6) {
    c = s.charCodeAt(6);
    wide |= c;
    b |= c << 16;
  }
  if (n > 7) {
    c = s.charCodeAt(7);
    wide |= c;
    b |= c << 24;
  }
  if (wide >= 256) return putString(w, s, true);
  const p = w.pos;
  const i32 = w.i32;
  i32[p] = K_STR1 | (n << 4);
  i32[p + 1] = a;
  if (n > 4) {
    i32[p + 2] = b;
    w.pos = p + 3;
  } else w.pos = p + 2;
  return true;
}

/** A string: tagged (STR1/STR2 tag word) or as an object key (length/width word). */
function putString(w: Writer, s: string, tagged: boolean): boolean {
  const n = s.length;
  const head = 1;
  if (n <= SHORT) {
    if (!w.room(head + ((n + 1) >> 1))) return false;
    const start = w.pos + head;
    // One-byte units, four to a word (the last word padded with zeros), until a wider one
    const i32 = w.i32;
    let wide = 0;
    let i = 0;
    let at = start;
    for (; i + 4 <= n; i += 4) {
      const c0 = s.charCodeAt(i);
      const c1 = s.charCodeAt(i + 1);
      const c2 = s.charCodeAt(i + 2);
      const c3 = s.charCodeAt(i + 3);
      wide |= c0 | c1 | c2 | c3;
      i32[at++] = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    }
    if (i < n) {
      let word = 0;
      for (let b = 0; i < n; i++, b += 8) {
        const c = s.charCodeAt(i);
        wide |= c;
        word |= c << b;
      }
      i32[at++] = word;
    }
    if (wide < 256) {
      i32[w.pos] = tagged ? K_STR1 | (n << 4) : n << 1;
      w.pos = at;
      return true;
    }
    const u16 = w.u16;
    at = start * 2;
    for (let i = 0; i < n; i++) u16[at++] = s.charCodeAt(i);
    if ((at & 1) !== 0) u16[at++] = 0;
    w.i32[w.pos] = tagged ? K_STR2 | (n << 4) : (n << 1) | 1;
    w.pos = at >> 1;
    return true;
  }
  if (n >= 2 ** 27) return false;
  // Long strings: UTF-16 by the native writer (no scan for width).
  const words = (n + 1) >> 1;
  if (!w.room(head + words)) return false;
  const start = (w.pos + head) * 4;
  w.u8.write(s, start, n * 2, "utf16le");
  if ((n & 1) !== 0) w.u16[(start >> 1) + n] = 0;
  w.i32[w.pos] = tagged ? K_STR2 | (n << 4) : (n << 1) | 1;
  w.pos += head + words;
  return true;
}

/**
 * Notes `o` as written at `depth`; false when it was written before (a cycle or a shared
 * sub-object). The top object (depth 0) is not noted (storing each item in the writer cost a
 * write barrier's remembered-set insertion, ~3 ns an item): a value that holds its top object
 * again is found one level later, where that object's own contents hold it again.
 */
function remember(w: Writer, o: object, depth: number): boolean {
  if (depth === 0) return true;
  if (w.seenSet !== null) {
    if (w.seenSet.has(o)) return false;
    w.seenSet.add(o);
    return true;
  }
  const seen = w.seen;
  const n = w.seenN;
  for (let i = 0; i < n; i++) if (seen[i] === o) return false;
  if (n < 16) {
    seen[n] = o;
    w.seenN = n + 1;
  } else w.seenSet = new Set(seen.slice(0, n)).add(o);
  return true;
}

function put(w: Writer, v: unknown, depth: number): boolean {
  // (typeof tests one by one, not a switch: V8 turns each into a type check, codec.ts stage())
  if (typeof v === "number") {
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (!w.room(2)) return false;
      w.i32[w.pos] = K_INT;
      w.i32[w.pos + 1] = v;
      w.pos += 2;
      return true;
    }
    if (!w.room(4)) return false;
    w.i32[w.pos++] = K_F64;
    if ((w.pos & 1) === 1) w.i32[w.pos++] = 0;
    w.f64[w.pos >> 1] = v;
    w.pos += 2;
    return true;
  }
  if (typeof v === "string") return putValueString(w, v);
  if (typeof v !== "object") {
    if (typeof v === "boolean") {
      if (!w.room(1)) return false;
      w.i32[w.pos++] = v ? K_TRUE : K_FALSE;
      return true;
    }
    if (typeof v === "undefined") {
      if (!w.room(1)) return false;
      w.i32[w.pos++] = K_UNDEF;
      return true;
    }
    if (typeof v === "bigint") return putBigInt(w, v);
    return false;
  }
  if (v === null) {
    if (!w.room(1)) return false;
    w.i32[w.pos++] = K_NULL;
    return true;
  }
  if (depth >= MAX_DEPTH) return false;
  return Array.isArray(v) ? putKeyed(w, v, depth) : putNonArray(w, v, depth);
}

/** put() of an object that is not an array (Array.isArray: a Proxy of an array is one). */
function putNonArray(w: Writer, o: object, depth: number): boolean {
  // The shape of the object written last (a stream of one shape), when it has its made writer:
  // that makes the checks below itself, where V8 knows the object's map (so the prototype check
  // is a constant, not Object.getPrototypeOf's runtime call), and writes the whole object when
  // its keys are the shape's; for another shape it hands over the keys it read (w.keys).
  let keys: string[] | null | undefined;
  const last = lastEnc;
  if (last !== undefined && last.write !== null) {
    const r = last.write(w, o, depth + 1, undefined);
    if (r === WRITTEN) return true;
    if (r === NOT_PLAIN) return false;
    if (r === OTHER_SHAPE) {
      keys = w.keys;
      w.keys = NO_KEYS;
    }
  }
  if (keys === undefined) keys = plainKeys(w, o, depth);
  if (keys === null) return false;
  return putObject(w, o, keys, depth);
}

/** put() of an array or a Proxy of one (plainKeys writes an array, refuses a Proxy). */
function putKeyed(w: Writer, o: object, depth: number): boolean {
  const keys = plainKeys(w, o, depth);
  if (keys === null) return false;
  return putObject(w, o, keys, depth);
}

/**
 * The own enumerable keys of `o` (at `depth`) when it is an object put() writes as one (not a
 * Proxy, no shared object, prototype Object.prototype or null, not met before: remembered now);
 * an array (Array.prototype) is written here whole and gets NO_KEYS or, when not plain, null;
 * null for anything else.
 */
function plainKeys(w: Writer, o: object, depth: number): string[] | null {
  const proto = Object.getPrototypeOf(o);
  if (proto === Array.prototype) {
    if (!Array.isArray(o) || types.isProxy(o) || !remember(w, o, depth)) return null;
    const a = o as unknown[];
    const n = a.length;
    if (n >= 2 ** 27 || !w.room(1)) return null;
    w.i32[w.pos++] = K_ARR | (n << 4);
    for (let i = 0; i < n; i++) if (!put(w, a[i], depth + 1)) return null;
    return NO_KEYS;
  }
  if (proto !== Object.prototype && proto !== null) return null;
  if ((o as { [kShare]?: unknown })[kShare] !== undefined || types.isProxy(o) || !remember(w, o, depth)) return null;
  return Object.keys(o);
}

/** Writes the object `o` (at `depth`) whose keys (plainKeys) are `keys`; NO_KEYS: an array, written. */
function putObject(w: Writer, o: object, keys: string[], depth: number): boolean {
  if (keys === NO_KEYS) return true;
  const n = keys.length;
  if (n >= 2 ** 27) return false;
  let shape = n > 0 ? encShapes[encSlot(keys)] : undefined;
  if (shape !== undefined && !sameKeys(shape.keys, keys)) shape = undefined;
  if (shape !== undefined) {
    lastEnc = shape;
    // once seen often: key block and values written by a function made for the shape
    if (shape.write !== null) return shape.write(w, o, depth + 1, keys) === WRITTEN;
    if (++shape.seen === COMPILE_AFTER) shape.write = compileWriter(keys, shape.words);
    // a shape seen before: its key block copied
    const words = shape.words;
    const kw = words.length;
    if (!w.room(2 + kw)) return false;
    const i32 = w.i32;
    const at = w.pos + 2;
    i32[w.pos] = K_OBJ | (n << 4);
    i32[w.pos + 1] = kw;
    for (let i = 0; i < kw; i++) i32[at + i] = words[i] as number;
    w.pos = at + kw;
  } else {
    if (!w.room(2)) return false;
    w.i32[w.pos] = K_OBJ | (n << 4);
    const block = w.pos + 2;
    w.pos = block;
    for (let i = 0; i < n; i++) {
      const k = keys[i] as string;
      if (k === "__proto__") return false;
      if (!putString(w, k, false)) return false;
    }
    const kw = w.pos - block;
    w.i32[block - 1] = kw;
    if (n > 0 && n <= SHAPE_KEYS && kw <= SHAPE_WORDS)
      encShapes[encSlot(keys)] = { keys, words: w.i32.slice(block, block + kw), seen: 0, write: null };
  }
  for (let i = 0; i < n; i++) {
    const k = keys[i] as string;
    const v = (o as Record<string, unknown>)[k];
    // A key a getter deleted as the object was written: v8.serialize leaves it out (the general path).
    if ((v === undefined && !hasOwn(o, k)) || !put(w, v, depth + 1)) return false;
  }
  return true;
}

const hasOwn = Object.hasOwn;

/** Shapes (key lists) with more keys or longer key blocks are not cached. */
const SHAPE_KEYS = 64;
const SHAPE_WORDS = 256;
const ENC_SHAPES = 64;

/** A shape the encoder has written: its keys, their encoded key block, and (once seen often) its writer. */
interface EncShape {
  keys: string[];
  words: Int32Array;
  seen: number;
  write: ShapeWriter | null;
}

/** The encoder's shapes: key lists and their encoded key blocks, in a direct-mapped table. */
const encShapes: (EncShape | undefined)[] = new Array(ENC_SHAPES).fill(undefined);
/** The shape of the object written last (checked before the table: the common stream of one shape). */
let lastEnc: EncShape | undefined;

function encSlot(keys: string[]): number {
  const k0 = keys[0] as string;
  const k1 = keys[keys.length - 1] as string;
  return (
    (keys.length * 31 + k0.length * 7 + (k0.length > 0 ? k0.charCodeAt(0) : 0) + k1.length * 13) & (ENC_SHAPES - 1)
  );
}

function sameKeys(a: string[], b: string[]): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function putBigInt(w: Writer, v: bigint): boolean {
  const neg = v < 0n;
  let m = neg ? -v : v;
  let words = 0;
  for (let t = m; t > 0n; t >>= 32n) words++;
  if (words >= 2 ** 26 || !w.room(1 + words)) return false;
  w.i32[w.pos++] = K_BIG | (((words << 1) | (neg ? 1 : 0)) << 4);
  for (let i = 0; i < words; i++) {
    w.i32[w.pos++] = Number(BigInt.asIntN(32, m));
    m >>= 32n;
  }
  return true;
}

// ---- decoding ----

/** Views over the words of one record copied out of shared memory (Taken in codec.ts). */
export interface PlainSource {
  i32: Int32Array;
  f64: Float64Array;
  u16: Uint16Array;
  u8: Buffer;
}

/** Buffer's own slice methods (what toString(encoding, ...) calls after dispatching on the name). */
type Slicer = (this: Buffer, start: number, end: number) => string;
const proto = Buffer.prototype as unknown as Record<string, Slicer | undefined>;
const latin1: Slicer =
  proto.latin1Slice ??
  function (this: Buffer, a: number, b: number) {
    return this.toString("latin1", a, b);
  };
const ucs2: Slicer =
  proto.ucs2Slice ??
  function (this: Buffer, a: number, b: number) {
    return this.toString("utf16le", a, b);
  };

const internKeys: (string | undefined)[] = new Array(INTERN_SIZE).fill(undefined);

let src: PlainSource;
/** The read position (a word index) of the record being decoded (an object: made builders advance it). */
const R = { pos: 0 };

/** Decodes the plain stream at word 0 of `s`. */
export function decodePlain(s: PlainSource): unknown {
  src = s;
  // An object of the shape read last with its made builder (a stream of one shape): built here,
  // without get()'s dispatch and readShape()'s call.
  const i32 = s.i32;
  const tag = i32[0] as number;
  const last = lastDec;
  if ((tag & 15) === K_OBJ && last !== undefined && last.make !== null && last.n === tag >>> 4) {
    const words = last.words as Int32Array;
    const kw = words.length;
    if (i32[1] === kw) {
      let i = 0;
      while (i < kw && words[i] === i32[2 + i]) i++;
      if (i === kw) {
        R.pos = 2 + kw;
        return last.make(get, R, i32, shortString);
      }
    }
  }
  R.pos = 0;
  return get();
}

/** One-byte strings up to this many units are made by recentString(), not interned. */
const CHARS_MAX = 8;
const fromCharCode = String.fromCharCode;

/**
 * The short one-byte strings this thread decoded lately: a two-way set-associative table keyed by
 * the packed units. Set `s` holds two slots: their keys at recentK[8s..8s+2] and [8s+4..8s+6] (a,
 * b, n; one 32-byte half of a cache line), their strings at recentS[2s] and [2s+1]; recentK[8s+3]
 * says which slot a miss replaces (the one not used last). 128 KiB of keys (pages the table never
 * used stay untouched) and 64 KiB of string references.
 */
const RECENT_SETS = 4096;
const recentK = new Int32Array(RECENT_SETS * 8);
const recentS: string[] = new Array<string>(RECENT_SETS * 2).fill("");

/**
 * The string of `n` (1..8) one-byte units packed four to a word in `a` and `b` (units past `n`
 * zero), from this thread's table of recent ones when it is there: a stream of repeated short
 * strings (ids, words, states; a queue's SSTR items, plain.ts values and keys) costs a hash and
 * a few compares of words on one cache line instead of an allocation (the string itself is not
 * read on a hit). (n, a, b) identify the string; an empty slot has n = 0, which no such string
 * has. Two slots a set, 4096 sets: a stream cycling through 1,024 strings misses ~3% of the time
 * (2048 sets: ~11%; one slot a set, 4096 slots: ~24%), each miss a new string, kept in the table.
 */
export function recentString(n: number, a: number, b: number): string {
  const set = Math.imul(a ^ Math.imul(b ^ n, 0x85ebca6b), 0x9e3779b1) >>> 20;
  const k = set << 3;
  const K = recentK;
  if (K[k] === a && K[k + 1] === b && K[k + 2] === n) {
    K[k + 3] = 1;
    return recentS[set << 1] as string;
  }
  if (K[k + 4] === a && K[k + 5] === b && K[k + 6] === n) {
    K[k + 3] = 0;
    return recentS[(set << 1) + 1] as string;
  }
  const made = packedString(n, a, b);
  const way = K[k + 3] as number;
  const o = k + (way << 2);
  K[o] = a;
  K[o + 1] = b;
  K[o + 2] = n;
  recentS[(set << 1) + way] = made;
  K[k + 3] = way ^ 1;
  return made;
}

/**
 * The string of `n` (1..8) one-byte units packed four to a word in `a` and `b`: String.fromCharCode
 * with a fixed number of arguments makes a short flat string without a native call (~15 ns for 8
 * units; a Buffer slice costs ~40, an intern-table hit ~35).
 */
function packedString(n: number, a: number, b: number): string {
  switch (n) {
    case 1:
      return fromCharCode(a & 255);
    case 2:
      return fromCharCode(a & 255, (a >>> 8) & 255);
    case 3:
      return fromCharCode(a & 255, (a >>> 8) & 255, (a >>> 16) & 255);
    case 4:
      return fromCharCode(a & 255, (a >>> 8) & 255, (a >>> 16) & 255, a >>> 24);
    case 5:
      return fromCharCode(a & 255, (a >>> 8) & 255, (a >>> 16) & 255, a >>> 24, b & 255);
    case 6:
      return fromCharCode(a & 255, (a >>> 8) & 255, (a >>> 16) & 255, a >>> 24, b & 255, (b >>> 8) & 255);
    case 7:
      return fromCharCode(
        a & 255,
        (a >>> 8) & 255,
        (a >>> 16) & 255,
        a >>> 24,
        b & 255,
        (b >>> 8) & 255,
        (b >>> 16) & 255,
      );
    default:
      return fromCharCode(
        a & 255,
        (a >>> 8) & 255,
        (a >>> 16) & 255,
        a >>> 24,
        b & 255,
        (b >>> 8) & 255,
        (b >>> 16) & 255,
        b >>> 24,
      );
  }
}

/** One-byte strings of CHARS_MAX+1..MID_MAX units are made by recentMid(). */
export const MID_MAX = 16;

/**
 * recentString()'s table for one-byte strings of 9..16 units (ids, names, keys of that length),
 * keyed by their four packed words: set `s` holds two slots, their keys at recentMidK[16s..16s+4]
 * and [16s+8..16s+12] (a, b, c, d, n; one 64-byte line), their strings at recentMidS[2s] and
 * [2s+1]; recentMidK[16s+5] says which slot a miss replaces. 2048 sets: 128 KiB of keys (untouched
 * until such strings come) and 32 KiB of string references.
 */
const MID_SETS = 2048;
const recentMidK = new Int32Array(MID_SETS * 16);
const recentMidS: string[] = new Array<string>(MID_SETS * 2).fill("");

/**
 * recentString() for `n` (9..16) one-byte units packed four to a word in `a`, `b`, `c`, `d`
 * (units past `n` zero): a hash and five compares on one line on a hit, else the string made by
 * midString() and kept. (n, a, b, c, d) identify the string; an empty slot has n = 0.
 */
export function recentMid(n: number, a: number, b: number, c: number, d: number): string {
  const set =
    Math.imul(a ^ Math.imul(b ^ Math.imul(c ^ Math.imul(d ^ n, 0xc2b2ae35), 0x85ebca6b), 0x27d4eb2f), 0x9e3779b1) >>>
    21;
  const k = set << 4;
  const K = recentMidK;
  if (K[k] === a && K[k + 1] === b && K[k + 2] === c && K[k + 3] === d && K[k + 4] === n) {
    K[k + 5] = 1;
    return recentMidS[set << 1] as string;
  }
  if (K[k + 8] === a && K[k + 9] === b && K[k + 10] === c && K[k + 11] === d && K[k + 12] === n) {
    K[k + 5] = 0;
    return recentMidS[(set << 1) + 1] as string;
  }
  const made = midString(n, a, b, c, d);
  const way = K[k + 5] as number;
  const o = k + (way << 3);
  K[o] = a;
  K[o + 1] = b;
  K[o + 2] = c;
  K[o + 3] = d;
  K[o + 4] = n;
  recentMidS[(set << 1) + way] = made;
  K[k + 5] = way ^ 1;
  return made;
}

/** One-byte strings of MID_MAX+1..PACKED_MAX units are made by recentPacked(). */
export const PACKED_MAX = 32;

/**
 * recentMid()'s twin for one-byte strings of 17..32 units (a short line, a small JSON text, a
 * path), keyed by their five to eight packed words and the length: set `s` holds two slots, their
 * keys at recentPackedK[32s..32s+8] and [32s+16..32s+24] (the words, then n; two 64-byte lines),
 * their strings at recentPackedS[2s] and [2s+1]; recentPackedK[32s+9] says which slot a miss
 * replaces. 1024 sets: 128 KiB of keys (untouched until such strings come), 16 KiB of references.
 */
const PACKED_SETS = 1024;
const recentPackedK = new Int32Array(PACKED_SETS * 32);
const recentPackedS: string[] = new Array<string>(PACKED_SETS * 2).fill("");

/**
 * The string of `n` (17..32) one-byte units packed four to a word from word `w` of `i32` (the
 * last word's units past `n` zero; `u8`: the same memory as bytes), from this thread's table of
 * recent ones (recentMid) or, on a miss, by a Latin-1 slice of `u8`, kept.
 */
export function recentPacked(n: number, i32: Int32Array, w: number, u8: Buffer): string {
  const nw = (n + 3) >> 2;
  let h = n;
  for (let i = 0; i < nw; i++) h = Math.imul(h ^ (i32[w + i] as number), 0x9e3779b1);
  const set = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 22;
  const K = recentPackedK;
  const k = set << 5;
  if (K[k + 8] === n) {
    let i = 0;
    while (i < nw && K[k + i] === i32[w + i]) i++;
    if (i === nw) {
      K[k + 9] = 1;
      return recentPackedS[set << 1] as string;
    }
  }
  if (K[k + 24] === n) {
    let i = 0;
    while (i < nw && K[k + 16 + i] === i32[w + i]) i++;
    if (i === nw) {
      K[k + 9] = 0;
      return recentPackedS[(set << 1) + 1] as string;
    }
  }
  const at = w * 4;
  const made = latin1.call(u8, at, at + n);
  const way = K[k + 9] as number;
  const o = k + (way << 4);
  for (let i = 0; i < nw; i++) K[o + i] = i32[w + i] as number;
  K[o + 8] = n;
  recentPackedS[(set << 1) + way] = made;
  K[k + 9] = way ^ 1;
  return made;
}

/** The string of `n` (9..16) one-byte units packed in `a`..`d`, by String.fromCharCode (packedString). */
function midString(n: number, a: number, b: number, c: number, d: number): string {
  const u0 = a & 255;
  const u1 = (a >>> 8) & 255;
  const u2 = (a >>> 16) & 255;
  const u3 = a >>> 24;
  const u4 = b & 255;
  const u5 = (b >>> 8) & 255;
  const u6 = (b >>> 16) & 255;
  const u7 = b >>> 24;
  const u8 = c & 255;
  const u9 = (c >>> 8) & 255;
  const u10 = (c >>> 16) & 255;
  const u11 = c >>> 24;
  const u12 = d & 255;
  const u13 = (d >>> 8) & 255;
  const u14 = (d >>> 16) & 255;
  switch (n) {
    case 9:
      return fromCharCode(u0, u1, u2, u3, u4, u5, u6, u7, u8);
    case 10:
      return fromCharCode(u0, u1, u2, u3, u4, u5, u6, u7, u8, u9);
    case 11:
      return fromCharCode(u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10);
    case 12:
      return fromCharCode(u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11);
    case 13:
      return fromCharCode(u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12);
    case 14:
      return fromCharCode(u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13);
    case 15:
      return fromCharCode(u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14);
    default:
      return fromCharCode(u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14, d >>> 24);
  }
}

/** A string of `n` units at byte `at` (one byte a unit, or two when `wide`). */
function readString(n: number, wide: boolean): string {
  const s = src;
  const at = R.pos * 4;
  R.pos += wide ? (n + 1) >> 1 : (n + 3) >> 2;
  if (n === 0) return "";
  if (n <= MID_MAX && !wide) {
    const i32 = s.i32;
    const w = at >> 2;
    if (n <= CHARS_MAX) return recentString(n, i32[w] as number, n > 4 ? (i32[w + 1] as number) : 0);
    return recentMid(
      n,
      i32[w] as number,
      i32[w + 1] as number,
      i32[w + 2] as number,
      n > 12 ? (i32[w + 3] as number) : 0,
    );
  }
  if (n <= PACKED_MAX && !wide) return recentPacked(n, s.i32, at >> 2, s.u8);
  if (n > INTERN_MAX) return wide ? ucs2.call(s.u8, at, at + n * 2) : latin1.call(s.u8, at, at + n);
  let hash = n;
  if (wide) {
    const u16 = s.u16;
    const b = at >> 1;
    for (let i = 0; i < n; i++) hash = Math.imul(hash ^ (u16[b + i] as number), 0x9e3779b1);
    hash = (hash ^ (hash >>> 15)) & (INTERN_SIZE - 1);
    const c = internKeys[hash];
    if (c !== undefined && c.length === n) {
      let i = 0;
      while (i < n && c.charCodeAt(i) === u16[b + i]) i++;
      if (i === n) return c;
    }
    const str = ucs2.call(s.u8, at, at + n * 2);
    internKeys[hash] = str;
    return str;
  }
  const u8 = s.u8;
  for (let i = 0; i < n; i++) hash = Math.imul(hash ^ (u8[at + i] as number), 0x9e3779b1);
  hash = (hash ^ (hash >>> 15)) & (INTERN_SIZE - 1);
  const c = internKeys[hash];
  if (c !== undefined && c.length === n) {
    let i = 0;
    while (i < n && c.charCodeAt(i) === u8[at + i]) i++;
    if (i === n) return c;
  }
  const str = latin1.call(s.u8, at, at + n);
  internKeys[hash] = str;
  return str;
}

/** A shape the decoder has read: its key block's words, its keys, and (once seen often) its maker. */
interface Shape {
  n: number;
  words: Int32Array | null;
  keys: string[];
  seen: number;
  make: Maker | null;
}

const DEC_SHAPES = 256;
/** Objects of a shape seen this many times are built by a function made for the shape. */
const COMPILE_AFTER = 8;
const decShapes: (Shape | undefined)[] = new Array(DEC_SHAPES).fill(undefined);
/** The (cached) shape read last: checked before the table. */
let lastDec: Shape | undefined;
let canCompile = true;

/** The shape whose key block (`n` keys, `kw` words) starts at the read position; moves past the block. */
function readShape(n: number, kw: number): Shape {
  const i32 = src.i32;
  const at = R.pos;
  // the shape read last (a stream of one shape), then the table's
  const last = lastDec;
  if (last !== undefined && last.n === n && (last.words as Int32Array).length === kw) {
    const words = last.words as Int32Array;
    let i = 0;
    while (i < kw && words[i] === i32[at + i]) i++;
    if (i === kw) {
      R.pos = at + kw;
      return last;
    }
  }
  let h = Math.imul(n ^ kw, 0x9e3779b1);
  for (let i = 0; i < kw; i++) h = Math.imul(h ^ (i32[at + i] as number), 0x9e3779b1);
  h = (h ^ (h >>> 15)) & (DEC_SHAPES - 1);
  const known = decShapes[h];
  if (known !== undefined && known.n === n && (known.words as Int32Array).length === kw) {
    const words = known.words as Int32Array;
    let i = 0;
    while (i < kw && words[i] === i32[at + i]) i++;
    if (i === kw) {
      R.pos = at + kw;
      lastDec = known;
      return known;
    }
  }
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const head = i32[R.pos++] as number;
    keys[i] = readString(head >>> 1, (head & 1) !== 0);
  }
  const cached = n <= SHAPE_KEYS && kw <= SHAPE_WORDS;
  const shape: Shape = { n, words: cached ? i32.slice(at, at + kw) : null, keys, seen: cached ? 0 : -1, make: null };
  if (cached) {
    decShapes[h] = shape;
    lastDec = shape;
  }
  return shape;
}

/**
 * Writes an object of a known shape: its tag, its key block and its values (compileWriter), the
 * object's values at `depth`. With `keys` (its own enumerable keys: put() made the checks), the
 * keys are compared; without, it makes put()'s checks itself first (plainKeys: not a Proxy, no
 * shared object, prototype Object.prototype, remembered) and reads the keys. Returns WRITTEN,
 * NOT_PLAIN (put() would return false), OTHER_SHAPE when the keys are not the shape's (nothing
 * written; read here: in w.keys, the checks made), or OTHER_KIND (prototype null: nothing done).
 */
type ShapeWriter = (w: Writer, o: object, depth: number, keys: string[] | undefined) => number;
const NOT_PLAIN = 0;
const WRITTEN = 1;
const OTHER_SHAPE = 2;
const OTHER_KIND = 3;

/**
 * A function writing an object of `keys` whose key block is `words`: the tag and the block as
 * constants, then the values, in order, each read once (as the loop over the keys would); or null
 * (code generation from strings not allowed here).
 */
function compileWriter(keys: string[], words: Int32Array): ShapeWriter | null {
  if (!canCompile) return null;
  try {
    const kw = words.length;
    const check = keys.map((k, i) => ` || k[${i}] !== ${JSON.stringify(k)}`).join("");
    const head = [`i32[p] = ${K_OBJ | (keys.length << 4)};`, `i32[p + 1] = ${kw};`];
    for (let i = 0; i < kw; i++) head.push(`i32[p + ${2 + i}] = ${words[i] as number};`);
    // Each value read once, in order; int32 numbers and booleans written inline, the rest by put()
    // (undefined from a key a getter deleted on the way: the general path, as in put()).
    const body = keys
      .map(
        (k) => `v = o[${JSON.stringify(k)}];
  if (typeof v === "number" && (v | 0) === v && (v !== 0 || 1 / v > 0)) {
    if (!w.room(2)) return ${NOT_PLAIN};
    p = w.pos; i32 = w.i32; i32[p] = ${K_INT}; i32[p + 1] = v; w.pos = p + 2;
  } else if (typeof v === "boolean") {
    if (!w.room(1)) return ${NOT_PLAIN};
    w.i32[w.pos++] = v ? ${K_TRUE} : ${K_FALSE};
  } else if (typeof v === "string") {
    if (!putValueString(w, v)) return ${NOT_PLAIN};
  } else if ((v === undefined && !hasOwn(o, ${JSON.stringify(k)})) || !put(w, v, d)) return ${NOT_PLAIN};`,
      )
      .join("\n  ");
    // (the checks in put()'s order, as plainKeys makes them; the load of kShare, a property no
    // plain object has, checks the object's map, after which V8 folds the prototype to a constant)
    return new Function(
      "put",
      "putValueString",
      "hasOwn",
      "isProxy",
      "kShare",
      "getPrototypeOf",
      "objectPrototype",
      "remember",
      "ownKeys",
      `"use strict"; return function (w, o, d, k) {
  if (k === undefined) {
    if (isProxy(o) || o[kShare] !== undefined) return ${NOT_PLAIN};
    const p = getPrototypeOf(o);
    if (p !== objectPrototype) return p === null ? ${OTHER_KIND} : ${NOT_PLAIN};
    if (!remember(w, o, d - 1)) return ${NOT_PLAIN};
    k = ownKeys(o);
    if (k.length !== ${keys.length}${check}) {
      w.keys = k;
      return ${OTHER_SHAPE};
    }
  } else if (k.length !== ${keys.length}${check}) return ${OTHER_SHAPE};
  if (!w.room(${2 + kw})) return ${NOT_PLAIN};
  let v, p = w.pos, i32 = w.i32;
  ${head.join(" ")}
  w.pos = p + ${2 + kw};
  ${body}
  return ${WRITTEN};
};`,
    )(
      put,
      putValueString,
      hasOwn,
      types.isProxy,
      kShare,
      Object.getPrototypeOf,
      Object.prototype,
      remember,
      Object.keys,
    ) as ShapeWriter;
  } catch {
    canCompile = false; // --disallow-code-generation-from-strings
    return null;
  }
}

/** Builds an object of a shape from the values at R.pos of `i` (made by compile()). */
type Maker = (g: () => unknown, r: { pos: number }, i: Int32Array, s: (n: number) => string) => unknown;

/** A made builder's one-byte string of `n` (1..CHARS_MAX) units, its tag word at R.pos. */
function shortString(n: number): string {
  const i32 = src.i32;
  const at = R.pos + 1;
  R.pos = at + ((n + 3) >> 2);
  return recentString(n, i32[at] as number, n > 4 ? (i32[at + 1] as number) : 0);
}

/** A function building an object of `keys` from successive g() results, or null (not allowed here). */
function compile(keys: string[]): Maker | null {
  if (!canCompile || keys.includes("__proto__")) return null;
  try {
    // int32 numbers and booleans read inline (their tag words are exactly K_INT, K_TRUE, K_FALSE),
    // one-byte strings of 1..CHARS_MAX units by recentString() (rs), the rest by g(); the read
    // position is kept in a local, handed to R.pos around g() and stored back at the end
    const value = `((t = i[p]) === ${K_INT} ? i[(p += 2) - 1] : t === ${K_TRUE} ? (p++, true) : t === ${K_FALSE} ? (p++, false) : (t & 15) === ${K_STR1} && (t - ${K_STR1 | 16}) >>> 0 <= ${(CHARS_MAX - 1) << 4} ? ((n = t >>> 4), (q = p + 1), (p = q + ((n + 3) >> 2)), rs(n, i[q], n > 4 ? i[q + 1] : 0)) : ((R.pos = p), (v = g()), (p = R.pos), v))`;
    const body = keys.map((k) => `${JSON.stringify(k)}: ${value}`).join(", ");
    return new Function(
      "rs",
      `"use strict"; return function (g, R, i, s) { let t, v, n, q, p = R.pos; const o = { ${body} }; R.pos = p; return o; };`,
    )(recentString) as Maker;
  } catch {
    canCompile = false; // --disallow-code-generation-from-strings
    return null;
  }
}

function get(): unknown {
  const s = src;
  const tag = s.i32[R.pos++] as number;
  const aux = tag >>> 4;
  switch (tag & 15) {
    case K_UNDEF:
      return undefined;
    case K_NULL:
      return null;
    case K_FALSE:
      return false;
    case K_TRUE:
      return true;
    case K_INT:
      return s.i32[R.pos++];
    case K_F64: {
      if ((R.pos & 1) === 1) R.pos++;
      const x = s.f64[R.pos >> 1];
      R.pos += 2;
      return x;
    }
    case K_STR1:
      return readString(aux, false);
    case K_STR2:
      return readString(aux, true);
    case K_BIG: {
      const words = aux >>> 1;
      let m = 0n;
      for (let i = words - 1; i >= 0; i--) m = (m << 32n) | BigInt((s.i32[R.pos + i] as number) >>> 0);
      R.pos += words;
      return (aux & 1) !== 0 ? -m : m;
    }
    case K_ARR: {
      const a = new Array(aux);
      for (let i = 0; i < aux; i++) a[i] = get();
      return a;
    }
    case K_OBJ: {
      const kw = s.i32[R.pos++] as number;
      const shape = readShape(aux, kw);
      if (shape.make !== null) return shape.make(get, R, s.i32, shortString);
      if (++shape.seen === COMPILE_AFTER) shape.make = compile(shape.keys);
      const keys = shape.keys;
      const o: Record<string, unknown> = {};
      for (let i = 0; i < aux; i++) o[keys[i] as string] = get();
      return o;
    }
  }
  throw new Error(`threading: corrupt queue record (plain tag ${tag & 15})`);
}
