/**
 * Python ordering for PriorityQueue, on sort keys stored in shared memory.
 *
 * A put encodes the item's *key* once (outside the queue's lock); the heap compares keys in place,
 * without deserializing anything. Python's rules:
 *   - numbers, booleans (Python's bool is an int) and bigints compare numerically with each other
 *     (a bigint exactly; NaN is unordered: every `<` with it is false);
 *   - strings compare by code point (not UTF-16 unit: "\u{1F600}" > "\uFFFF", as in Python);
 *   - arrays compare as tuples: the first elements that are not equal (==) decide, by `<`; if one
 *     array is a prefix of the other, the shorter is smaller;
 *   - anything else (objects, null, undefined, ...) has no `<`: comparing it is a TypeError, except
 *     that inside arrays equal elements are skipped first (as `(1, {}) < (2, {})` works in Python).
 *     Equality of such values is equality of their serialized bytes.
 *
 * Key layout (8-byte aligned words):
 *   NUM    [1, 0] float64                                      16 bytes
 *   BIG    [2, sign] float64 approx, [nbytes, 0], magnitude (little-endian bytes, padded)
 *   STR    [3, units] UTF-16 units (padded)
 *   ARR    [4, count] [totalBytes, 0] then the elements
 *   OTHER  [5, nbytes] v8.serialize bytes (padded)
 */
import v8 from "node:v8";

const K_NUM = 1;
const K_BIG = 2;
const K_STR = 3;
const K_ARR = 4;
const K_OTHER = 5;

/** A key source: views over the memory holding keys (a queue's arena, or a staged key). */
export interface KeyViews {
  i32: Int32Array;
  f64: Float64Array;
  u16: Uint16Array;
  u8: Uint8Array;
}

class KeyWriter {
  buf = new ArrayBuffer(256);
  i32 = new Int32Array(this.buf);
  f64 = new Float64Array(this.buf);
  u16 = new Uint16Array(this.buf);
  u8 = new Uint8Array(this.buf);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.pos + n) size *= 2;
    const next = new ArrayBuffer(size);
    new Uint8Array(next).set(this.u8);
    this.buf = next;
    this.i32 = new Int32Array(next);
    this.f64 = new Float64Array(next);
    this.u16 = new Uint16Array(next);
    this.u8 = new Uint8Array(next);
  }

  head(tag: number, aux: number): number {
    this.ensure(8);
    const at = this.pos;
    this.i32[at >> 2] = tag;
    this.i32[(at >> 2) + 1] = aux;
    this.pos += 8;
    return at;
  }

  num(x: number): void {
    this.head(K_NUM, 0);
    this.ensure(8);
    this.f64[this.pos >> 3] = x;
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    const n = (b.length + 7) & ~7;
    this.ensure(n);
    this.u8.set(b, this.pos);
    this.pos += n;
  }
}

const SAFE = 2n ** 53n;
let uniqueOther = 0;

function writeValue(w: KeyWriter, v: unknown, path: Set<unknown>): void {
  switch (typeof v) {
    case "number":
      w.num(v);
      return;
    case "boolean":
      w.num(v ? 1 : 0);
      return;
    case "bigint": {
      if (v <= SAFE && v >= -SAFE) {
        w.num(Number(v));
        return;
      }
      const neg = v < 0n;
      let mag = neg ? -v : v;
      const bytes: number[] = [];
      while (mag > 0n) {
        bytes.push(Number(mag & 255n));
        mag >>= 8n;
      }
      w.head(K_BIG, neg ? -1 : 1);
      w.ensure(16);
      w.f64[w.pos >> 3] = Number(v);
      w.i32[(w.pos + 8) >> 2] = bytes.length;
      w.pos += 16;
      w.bytes(Uint8Array.from(bytes));
      return;
    }
    case "string": {
      w.head(K_STR, v.length);
      const n = (v.length * 2 + 7) & ~7;
      w.ensure(n);
      const base = w.pos >> 1;
      for (let i = 0; i < v.length; i++) w.u16[base + i] = v.charCodeAt(i);
      w.pos += n;
      return;
    }
  }
  if (Array.isArray(v) && !path.has(v)) {
    path.add(v);
    const at = w.head(K_ARR, v.length);
    w.ensure(8);
    w.pos += 8;
    for (const e of v) writeValue(w, e, path);
    w.i32[(at >> 2) + 2] = w.pos - at;
    path.delete(v);
    return;
  }
  let b: Uint8Array;
  try {
    b = v8.serialize(v);
  } catch {
    // Not serializable as is (a shared object, a SharedArrayBuffer ...): equal only to itself.
    b = v8.serialize(`\u0000unique ${++uniqueOther}`);
  }
  w.head(K_OTHER, b.length);
  w.bytes(b);
}

/** Encodes the sort key of `value` (a fresh 8-byte aligned copy). */
export function encodeKey(value: unknown): Uint8Array {
  const w = new KeyWriter();
  writeValue(w, value, new Set());
  return w.u8.slice(0, w.pos);
}

/** Views over a standalone key made by encodeKey(). */
export function keyViews(key: Uint8Array): KeyViews {
  const b = key.buffer;
  return {
    i32: new Int32Array(b, key.byteOffset, key.byteLength >> 2),
    f64: new Float64Array(b, key.byteOffset, key.byteLength >> 3),
    u16: new Uint16Array(b, key.byteOffset, key.byteLength >> 1),
    u8: key,
  };
}

/** The size in bytes of the key element at `at`. */
function sizeOf(v: KeyViews, at: number): number {
  const w = at >> 2;
  switch (v.i32[w]) {
    case K_NUM:
      return 16;
    case K_BIG:
      return 24 + (((v.i32[w + 4] as number) + 7) & ~7);
    case K_STR:
      return 8 + (((v.i32[w + 1] as number) * 2 + 7) & ~7);
    case K_ARR:
      return v.i32[w + 2] as number;
    default:
      return 8 + (((v.i32[w + 1] as number) + 7) & ~7);
  }
}

/** Set when a comparison met values that have no `<` between them (Python's TypeError). */
export let incomparable = false;
/** The kinds of the last incomparable pair, for the error message. */
export let incomparableKinds = "";

export function resetIncomparable(): void {
  incomparable = false;
}

const KIND_NAMES = ["", "number", "bigint", "string", "array", "object"];

/**
 * What an OTHER key holds, by the tag v8.serialize wrote after its two header bytes (0xFF and the
 * format version), for the error message: null and undefined named as such, not as "object".
 */
const OTHER_NAMES = new Map<number, string>([
  [0x30, "null"], // '0'
  [0x5f, "undefined"], // '_'
  [0x44, "Date"], // 'D'
  [0x3b, "Map"], // ';'
  [0x27, "Set"], // "'"
  [0x52, "RegExp"], // 'R'
]);

/**
 * The same for Bun, whose v8.serialize writes JavaScriptCore's format: a 4-byte version (not
 * starting with 0xFF), then the tag.
 */
const JSC_OTHER_NAMES = new Map<number, string>([
  [0x04, "null"],
  [0x03, "undefined"],
  [0x0b, "Date"],
  [0x1e, "Map"],
  [0x1d, "Set"],
  [0x12, "RegExp"],
]);

function kindName(v: KeyViews, at: number): string {
  const kind = v.i32[at >> 2] as number;
  const length = v.i32[(at >> 2) + 1] as number;
  if (kind === K_OTHER && v.u8[at + 8] === 0xff && length > 2)
    return OTHER_NAMES.get(v.u8[at + 10] as number) ?? "object";
  if (kind === K_OTHER && v.u8[at + 8] !== 0xff && length > 4)
    return JSC_OTHER_NAMES.get(v.u8[at + 12] as number) ?? "object";
  return KIND_NAMES[kind] ?? "value";
}

function readBig(v: KeyViews, at: number): bigint {
  const w = at >> 2;
  const n = v.i32[w + 4] as number;
  let x = 0n;
  for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(v.u8[at + 24 + i] as number);
  return (v.i32[w + 1] as number) < 0 ? -x : x;
}

/** -1, 0, 1, or 2 (unordered: NaN) for two numeric elements (NUM or BIG). */
function cmpNumeric(a: KeyViews, ai: number, b: KeyViews, bi: number): number {
  const ta = a.i32[ai >> 2];
  const tb = b.i32[bi >> 2];
  const x = a.f64[(ai + 8) >> 3] as number;
  const y = b.f64[(bi + 8) >> 3] as number;
  if (x < y) return -1;
  if (x > y) return 1;
  if (x !== y) return 2;
  if (ta === K_NUM && tb === K_NUM) return 0;
  // Same float: at least one is a bigint beyond 2^53; compare exactly (rare).
  const ex = ta === K_BIG ? readBig(a, ai) : BigInt(x);
  const ey = tb === K_BIG ? readBig(b, bi) : BigInt(y);
  return ex < ey ? -1 : ex > ey ? 1 : 0;
}

/** Code-point order of two UTF-16 units sequences: -1, 0, 1. */
function cmpStr(a: KeyViews, ai: number, b: KeyViews, bi: number): number {
  const na = a.i32[(ai >> 2) + 1] as number;
  const nb = b.i32[(bi >> 2) + 1] as number;
  const pa = (ai + 8) >> 1;
  const pb = (bi + 8) >> 1;
  const n = Math.min(na, nb);
  for (let i = 0; i < n; i++) {
    let x = a.u16[pa + i] as number;
    let y = b.u16[pb + i] as number;
    if (x !== y) {
      // Surrogates (D800-DFFF) encode code points above every BMP unit: lift them over E000-FFFF.
      if (x >= 0xd800) x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      if (y >= 0xd800) y = y < 0xe000 ? y + 0x2000 : y - 0x800;
      return x < y ? -1 : 1;
    }
  }
  return na < nb ? -1 : na > nb ? 1 : 0;
}

const isNumeric = (t: number | undefined) => t === K_NUM || t === K_BIG;

/** Python's `==` between two key elements (never fails). */
function eq(a: KeyViews, ai: number, b: KeyViews, bi: number): boolean {
  const ta = a.i32[ai >> 2];
  const tb = b.i32[bi >> 2];
  if (isNumeric(ta) && isNumeric(tb)) return cmpNumeric(a, ai, b, bi) === 0;
  if (ta !== tb) return false;
  if (ta === K_STR) return cmpStr(a, ai, b, bi) === 0;
  if (ta === K_ARR) {
    const n = a.i32[(ai >> 2) + 1] as number;
    if (n !== b.i32[(bi >> 2) + 1]) return false;
    let pa = ai + 16;
    let pb = bi + 16;
    for (let i = 0; i < n; i++) {
      if (!eq(a, pa, b, pb)) return false;
      pa += sizeOf(a, pa);
      pb += sizeOf(b, pb);
    }
    return true;
  }
  const n = a.i32[(ai >> 2) + 1] as number;
  if (n !== b.i32[(bi >> 2) + 1]) return false;
  for (let i = 0; i < n; i++) if (a.u8[ai + 8 + i] !== b.u8[bi + 8 + i]) return false;
  return true;
}

/**
 * Python's `a < b` for the keys at `ai` and `bi`. When the values have no `<` between them it
 * returns false and sets `incomparable`.
 */
export function lt(a: KeyViews, ai: number, b: KeyViews, bi: number): boolean {
  const ta = a.i32[ai >> 2];
  const tb = b.i32[bi >> 2];
  if (isNumeric(ta) && isNumeric(tb)) return cmpNumeric(a, ai, b, bi) === -1;
  if (ta === K_STR && tb === K_STR) return cmpStr(a, ai, b, bi) < 0;
  if (ta === K_ARR && tb === K_ARR) {
    const na = a.i32[(ai >> 2) + 1] as number;
    const nb = b.i32[(bi >> 2) + 1] as number;
    let pa = ai + 16;
    let pb = bi + 16;
    for (let i = 0; i < na && i < nb; i++) {
      if (!eq(a, pa, b, pb)) return lt(a, pa, b, pb);
      pa += sizeOf(a, pa);
      pb += sizeOf(b, pb);
    }
    return na < nb;
  }
  if (!incomparable) incomparableKinds = `'${kindName(a, ai)}' and '${kindName(b, bi)}'`;
  incomparable = true;
  return false;
}

const RANK = [9, 0, 0, 1, 2, 3];

/**
 * A total order for the heap's own sift-downs in get(): Python's `<` where it is defined, and
 * otherwise an order by kind (numbers < strings < arrays < other), so a get never fails.
 */
export function ltTotal(a: KeyViews, ai: number, b: KeyViews, bi: number): boolean {
  incomparable = false;
  const r = lt(a, ai, b, bi);
  if (!incomparable) return r;
  incomparable = false;
  const ra = RANK[a.i32[ai >> 2] as number] ?? 9;
  const rb = RANK[b.i32[bi >> 2] as number] ?? 9;
  return ra < rb;
}
