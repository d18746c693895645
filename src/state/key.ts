/**
 * Keys of a SharedDict: a string or a number (a number key and the string of its digits are two
 * keys, as in a JS Map and in Python's dict). Numbers compare as a Map does (SameValueZero: -0 is
 * 0, NaN is one key). A key is encoded once per call into this thread's scratch words:
 *   number  tag NUM, the float64's two words
 *   string  tag STR, its UTF-16 units two to a word
 * and hashed to 30 bits (the top 4 pick the stripe, the low ones the index slot).
 */

export const K_NUM = 1;
export const K_STR = 2;

import { guardDuties } from "../shared/wait.js";
import { ld } from "./mem.js";

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * The encoded key of the last keyOf(): tag, length (units; 0 for numbers), hash, words; `epoch`
 * counts keyOf() calls, so that a caller that ran user code (a getter, update's fn) in between can
 * tell that the scratch was overwritten and encode its key again.
 */
export const key = { tag: 0, len: 0, hash: 0, nwords: 0, words: new Int32Array(64), epoch: 0 };

// A blocking duty (shared/wait.ts guardDuties: an excepthook a dict operation's wait for a lock
// runs) encodes its keys in words of its own; the key is put back whole once it is done.
let spareWords: typeof key.words | null = null;
guardDuties(() => {
  const { tag, len, hash, nwords, words, epoch } = key;
  key.words = spareWords ?? new Int32Array(64);
  spareWords = null;
  return () => {
    spareWords = key.words;
    key.tag = tag;
    key.len = len;
    key.hash = hash;
    key.nwords = nwords;
    key.words = words;
    key.epoch = epoch;
  };
});

/** Encodes `k`; TypeError for anything but a string or a number. */
export function keyOf(k: unknown, what: string): void {
  if (typeof k === "string") strKeyOf(k);
  else otherKeyOf(k, what);
}

/** keyOf() of a string: small enough for V8 to inline into the callers' fast paths. */
export function strKeyOf(k: string): void {
  key.epoch = (key.epoch + 1) | 0;
  const n = k.length;
  const nw = (n + 1) >> 1;
  if (key.words.length < nw) key.words = new Int32Array(nw * 2);
  const words = key.words;
  let h = 0x811c9dc5 ^ n;
  const even = n & ~1;
  for (let i = 0; i < even; i += 2) {
    const word = k.charCodeAt(i) | (k.charCodeAt(i + 1) << 16);
    words[i >> 1] = word;
    h = Math.imul(h ^ word, 0x01000193);
  }
  if (even !== n) {
    const word = k.charCodeAt(even);
    words[even >> 1] = word;
    h = Math.imul(h ^ word, 0x01000193);
  }
  key.tag = K_STR;
  key.len = n;
  key.nwords = nw;
  key.hash = mix(h);
}

function otherKeyOf(k: unknown, what: string): void {
  key.epoch = (key.epoch + 1) | 0;
  if (typeof k === "number") {
    f64[0] = k === 0 ? 0 : Number.isNaN(k) ? Number.NaN : k;
    const words = key.words;
    words[0] = u32[0] as number;
    words[1] = u32[1] as number;
    key.tag = K_NUM;
    key.len = 0;
    key.nwords = 2;
    key.hash = mix(Math.imul((words[0] as number) ^ 0x5bd1e995, 0x01000193) ^ (words[1] as number));
    return;
  }
  throw new TypeError(`${what}: a key must be a string or a number, not ${k === null ? "null" : typeof k}`);
}

/**
 * The final mix: one multiply between two xor-shifts (the top bits pick the stripe, the low ones
 * the slot). Every lookup waits for it, so it is short: as even over stripes and slots as
 * murmur3's two-multiply finalizer on sequential and random keys, measured.
 */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x045d9f3b);
  // 30 bits: a small integer in V8 (with pointer compression), never a boxed number
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

/** The key whose tag, length and words are in `i32` from word `at` (read under a lock or validated after). */
export function keyAt(i32: Int32Array, tag: number, len: number, at: number): string | number {
  if (tag === K_NUM) {
    u32[0] = ld(i32, at);
    u32[1] = ld(i32, at + 1);
    return f64[0] as number;
  }
  let s = "";
  for (let i = 0; i < len; i += 2) {
    const w = ld(i32, at + (i >> 1));
    s += i + 1 < len ? String.fromCharCode(w & 0xffff, w >>> 16) : String.fromCharCode(w & 0xffff);
  }
  return s;
}
