/**
 * Python's array typecodes (as `multiprocessing.Value` / `multiprocessing.Array` take them) and
 * how one element of each is read and written in shared memory, atomically.
 *
 *   b Int8  B Uint8  h Int16  H Uint16  i Int32  I Uint32  l Int32  L Uint32   (number)
 *   q BigInt64  Q BigUint64                                                   (bigint)
 *   f Float32  d Float64                                                      (number)
 *
 * `l`/`L` are 32-bit here (C's `long` at its minimum width, as on Windows); `q`/`Q` are the 64-bit
 * codes and hold `bigint`. Integer elements are read and written with Atomics (one instruction, never
 * torn). Floats have no Atomics, so a float element is read and written through an integer view of
 * the same bytes (Int32 for `f`, BigInt64 for `d`) with Atomics and converted in a per-thread scratch
 * cell: a reader never sees half of a write.
 */

/** Python's typecodes. */
export type TypeCode = "b" | "B" | "h" | "H" | "i" | "I" | "l" | "L" | "q" | "Q" | "f" | "d";

type IntArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
/** The typed array behind a Value or SharedArray (what getObj() returns). */
export type TypedView = IntArray | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

interface Code {
  C: new (b: SharedArrayBuffer, off?: number, len?: number) => TypedView;
  bytes: number;
  big: boolean;
  float: boolean;
  min: number | bigint;
  max: number | bigint;
}

const CODES: Record<TypeCode, Code> = {
  b: { C: Int8Array, bytes: 1, big: false, float: false, min: -128, max: 127 },
  B: { C: Uint8Array, bytes: 1, big: false, float: false, min: 0, max: 255 },
  h: { C: Int16Array, bytes: 2, big: false, float: false, min: -32768, max: 32767 },
  H: { C: Uint16Array, bytes: 2, big: false, float: false, min: 0, max: 65535 },
  i: { C: Int32Array, bytes: 4, big: false, float: false, min: -(2 ** 31), max: 2 ** 31 - 1 },
  I: { C: Uint32Array, bytes: 4, big: false, float: false, min: 0, max: 2 ** 32 - 1 },
  l: { C: Int32Array, bytes: 4, big: false, float: false, min: -(2 ** 31), max: 2 ** 31 - 1 },
  L: { C: Uint32Array, bytes: 4, big: false, float: false, min: 0, max: 2 ** 32 - 1 },
  q: { C: BigInt64Array, bytes: 8, big: true, float: false, min: -(2n ** 63n), max: 2n ** 63n - 1n },
  Q: { C: BigUint64Array, bytes: 8, big: true, float: false, min: 0n, max: 2n ** 64n - 1n },
  f: { C: Float32Array, bytes: 4, big: false, float: true, min: 0, max: 0 },
  d: { C: Float64Array, bytes: 8, big: false, float: true, min: 0, max: 0 },
};

const scratch = new ArrayBuffer(8);
const f32 = new Float32Array(scratch);
const f64 = new Float64Array(scratch);
const i32 = new Int32Array(scratch);
const i64 = new BigInt64Array(scratch);

/** The elements of one typecode over a SharedArrayBuffer, read and written atomically. */
export class Cells {
  readonly code: TypeCode;
  readonly info: Code;
  /** The typed array users get from getObj(). */
  readonly view: TypedView;
  /** The view Atomics work on (the view itself for integers; Int32/BigInt64 for floats). */
  private readonly atomic: IntArray | BigInt64Array | BigUint64Array;

  constructor(code: TypeCode, buffer: SharedArrayBuffer, length: number) {
    this.code = code;
    this.info = CODES[code];
    this.view = new this.info.C(buffer, 0, length);
    this.atomic =
      code === "f"
        ? new Int32Array(buffer, 0, length)
        : code === "d"
          ? new BigInt64Array(buffer, 0, length)
          : (this.view as IntArray | BigInt64Array | BigUint64Array);
  }

  get(i: number): number | bigint {
    if (this.code === "f") {
      i32[0] = Atomics.load(this.atomic as Int32Array, i);
      return f32[0] as number;
    }
    if (this.code === "d") {
      i64[0] = Atomics.load(this.atomic as BigInt64Array, i);
      return f64[0] as number;
    }
    return Atomics.load(this.atomic as Int32Array, i);
  }

  /** Stores an already checked value. */
  put(i: number, v: number | bigint): void {
    if (this.code === "f") {
      f32[0] = v as number;
      Atomics.store(this.atomic as Int32Array, i, i32[0] as number);
    } else if (this.code === "d") {
      f64[0] = v as number;
      Atomics.store(this.atomic as BigInt64Array, i, i64[0] as bigint);
    } else Atomics.store(this.atomic as Int32Array, i, v as number);
  }

  /** Python's checks: TypeError for the wrong kind of number, RangeError (OverflowError) out of range. */
  check(v: unknown, what: string): number | bigint {
    const info = this.info;
    if (info.big) {
      if (typeof v !== "bigint")
        throw new TypeError(`${what}: typecode '${this.code}' holds a bigint, not ${describe(v)}`);
    } else if (typeof v !== "number") {
      throw new TypeError(`${what}: typecode '${this.code}' holds a number, not ${describe(v)}`);
    } else if (info.float) {
      return v;
    } else if (!Number.isInteger(v)) {
      throw new TypeError(`${what}: typecode '${this.code}' holds an integer, not ${v}`);
    }
    if (v < info.min || v > info.max) {
      throw new RangeError(`${what}: ${v} is out of range for typecode '${this.code}' (${info.min}..${info.max})`);
    }
    return v as number | bigint;
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "number" || typeof v === "bigint") return `${typeof v} ${v}`;
  return typeof v;
}

/** The byte size of one element; TypeError for an unknown typecode. */
export function elementBytes(code: unknown, what: string): number {
  if (typeof code !== "string" || !Object.hasOwn(CODES, code)) {
    throw new TypeError(
      `${what}: bad typecode (must be b, B, h, H, i, I, l, L, q, Q, f or d), not ${typeof code === "string" ? JSON.stringify(code) : typeof code}`,
    );
  }
  return CODES[code as TypeCode].bytes;
}

/** The zero of a typecode (0 or 0n). */
export function zeroOf(code: TypeCode): number | bigint {
  return CODES[code].big ? 0n : 0;
}
