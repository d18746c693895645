/**
 * Python's printf-style `%` formatting (`"%s and %5.2f" % (a, b)`), as `logging` uses it for
 * message arguments and for the record format (`"%(threadName)-9s %(message)s" % record`).
 *
 * A conversion is `%[(key)][flags][width][.precision][length]type`:
 * - flags `-` (left-align), `0` (zero-pad numbers), `+`, space (sign), `#` (alternate form);
 * - width and precision are digits or `*` (taken from the arguments);
 * - length modifiers `h`, `l`, `L` are accepted and ignored, as in Python;
 * - types `s` (String() for primitives, util.inspect() for objects), `r` (util.inspect()),
 *   `a` (as `r`, non-ASCII escaped), `d i u` (integers; numbers are truncated), `x X o` (integers only),
 *   `e E f F g G` (floats, rounded exactly, half to even, as CPython), `c` (a character), `%%`.
 *
 * Errors are Python's, with its messages: `TypeError` for a wrong argument type or count,
 * `RangeError` (Python's ValueError) for a malformed format.
 */
import { inspect } from "node:util";

/** Where `%(key)s` conversions look their values up. */
export type Lookup = (key: string) => unknown;

/** The arguments of one formatting: positional values, or a mapping for `%(key)s`. */
export type FormatArgs = { positional: readonly unknown[] } | { mapping: Lookup; whole?: unknown };

const NO_VALUE = Symbol("no value");

/** `String()` for primitives, `util.inspect()` for objects and functions (Python's `str()`). */
export function str(value: unknown): string {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return String(value);
  return inspect(value);
}

/** Python's `repr()`: `util.inspect()`. */
export function repr(value: unknown): string {
  return inspect(value);
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") {
    const name = (value as object).constructor?.name;
    return name ? name : "object";
  }
  return typeof value;
}

/**
 * Formats `fmt` with `args` as Python's `fmt % args` does. With `positional` arguments every
 * argument must be used ("not all arguments converted" otherwise); with a `mapping`, `%(key)`
 * conversions look up keys and plain conversions use `whole` (Python's `"%s" % some_dict`).
 */
export function percentFormat(fmt: string, args: FormatArgs): string {
  let out = "";
  let argIndex = 0;
  const positional = "positional" in args ? args.positional : null;
  const nextArg = (): unknown => {
    if (positional === null) {
      const whole = (args as { whole?: unknown }).whole;
      if (argIndex++ === 0 && whole !== undefined) return whole;
      throw new TypeError("not enough arguments for format string");
    }
    if (argIndex >= positional.length) throw new TypeError("not enough arguments for format string");
    return positional[argIndex++];
  };
  const n = fmt.length;
  let i = 0;
  while (i < n) {
    const pct = fmt.indexOf("%", i);
    if (pct < 0) {
      out += fmt.slice(i);
      break;
    }
    out += fmt.slice(i, pct);
    i = pct + 1;
    if (i >= n) throw new RangeError("incomplete format");
    // %(key)
    let value: unknown = NO_VALUE;
    if (fmt.charCodeAt(i) === 40 /* ( */) {
      if (positional !== null) throw new TypeError("format requires a mapping");
      let depth = 1;
      const start = i + 1;
      i++;
      while (i < n && depth > 0) {
        const c = fmt.charCodeAt(i);
        if (c === 40) depth++;
        else if (c === 41) depth--;
        i++;
      }
      if (depth > 0) throw new RangeError("incomplete format key");
      value = (args as { mapping: Lookup }).mapping(fmt.slice(start, i - 1));
    }
    // flags
    let left = false;
    let zero = false;
    let plus = false;
    let space = false;
    let alt = false;
    for (; i < n; i++) {
      const c = fmt[i];
      if (c === "-") left = true;
      else if (c === "0") zero = true;
      else if (c === "+") plus = true;
      else if (c === " ") space = true;
      else if (c === "#") alt = true;
      else break;
    }
    // width
    let width = -1;
    if (fmt[i] === "*") {
      const w = nextArg();
      if (typeof w !== "number" || !Number.isInteger(w)) throw new TypeError("* wants int");
      width = w;
      if (width < 0) {
        left = true;
        width = -width;
      }
      i++;
    } else {
      const s = i;
      while (i < n && fmt.charCodeAt(i) >= 48 && fmt.charCodeAt(i) <= 57) i++;
      if (i > s) width = Number(fmt.slice(s, i));
    }
    // precision
    let prec = -1;
    if (fmt[i] === ".") {
      i++;
      if (fmt[i] === "*") {
        const p = nextArg();
        if (typeof p !== "number" || !Number.isInteger(p)) throw new TypeError("* wants int");
        prec = Math.max(0, p);
        i++;
      } else {
        const s = i;
        while (i < n && fmt.charCodeAt(i) >= 48 && fmt.charCodeAt(i) <= 57) i++;
        prec = i > s ? Number(fmt.slice(s, i)) : 0;
      }
    }
    while (i < n && (fmt[i] === "h" || fmt[i] === "l" || fmt[i] === "L")) i++;
    if (i >= n) throw new RangeError("incomplete format");
    const type = fmt[i] as string;
    const typeIndex = i;
    i++;
    if (type === "%") {
      if (typeIndex !== pct + 1 || value !== NO_VALUE) throw unsupported(type, typeIndex);
      out += "%";
      continue;
    }
    if (value === NO_VALUE && !"sradiuxXoeEfFgGc".includes(type)) {
      throw unsupported(type, typeIndex);
    }
    if (value === NO_VALUE) value = nextArg();
    const spec: Spec = { left, zero, plus, space, alt, width, prec, type };
    out += convert(value, spec, typeIndex);
  }
  if (positional !== null && argIndex < positional.length) {
    throw new TypeError("not all arguments converted during string formatting");
  }
  return out;
}

function unsupported(type: string, index: number): RangeError {
  const code = type.codePointAt(0) ?? 0;
  return new RangeError(`unsupported format character '${type}' (0x${code.toString(16)}) at index ${index}`);
}

interface Spec {
  left: boolean;
  zero: boolean;
  plus: boolean;
  space: boolean;
  alt: boolean;
  width: number;
  prec: number;
  type: string;
}

function pad(body: string, spec: Spec): string {
  if (spec.width <= body.length) return body;
  return spec.left ? body.padEnd(spec.width) : body.padStart(spec.width);
}

/** Pads a number: `sign` + `prefix` + `digits`, zero-filled between prefix and digits with `0`. */
function padNumber(sign: string, prefix: string, digits: string, spec: Spec): string {
  const len = sign.length + prefix.length + digits.length;
  if (spec.width > len && spec.zero && !spec.left) {
    return sign + prefix + "0".repeat(spec.width - len) + digits;
  }
  return pad(sign + prefix + digits, spec);
}

function signOf(negative: boolean, spec: Spec): string {
  return negative ? "-" : spec.plus ? "+" : spec.space ? " " : "";
}

function convert(value: unknown, spec: Spec, index: number): string {
  switch (spec.type) {
    case "s":
    case "r":
    case "a": {
      let s = spec.type === "s" ? str(value) : repr(value);
      if (spec.type === "a") s = asciiEscape(s);
      if (spec.prec >= 0) s = s.slice(0, spec.prec);
      return pad(s, spec);
    }
    case "c": {
      let ch: string;
      if (typeof value === "string" && [...value].length === 1) ch = value;
      else if ((typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint") {
        const code = Number(value);
        if (code < 0 || code > 0x10ffff) throw new RangeError("%c arg not in range(0x110000)");
        ch = String.fromCodePoint(code);
      } else throw new TypeError("%c requires int or char");
      return pad(ch, spec);
    }
    case "d":
    case "i":
    case "u":
    case "x":
    case "X":
    case "o":
      return formatInteger(value, spec);
    case "e":
    case "E":
    case "f":
    case "F":
    case "g":
    case "G":
      return formatFloat(value, spec);
    default:
      throw unsupported(spec.type, index);
  }
}

function asciiEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (c < 0x80) out += ch;
    else if (c <= 0xff) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += `\\U${c.toString(16).padStart(8, "0")}`;
  }
  return out;
}

function toBigInt(value: unknown, spec: Spec): bigint {
  const t = spec.type;
  if (typeof value === "bigint") return value;
  if (typeof value === "boolean") return value ? 1n : 0n;
  if (typeof value === "number") {
    if (t === "x" || t === "X" || t === "o") {
      if (!Number.isInteger(value)) throw new TypeError(`%${t} format: an integer is required, not float`);
    } else if (Number.isNaN(value)) throw new RangeError("cannot convert float NaN to integer");
    else if (!Number.isFinite(value)) throw new RangeError("cannot convert float infinity to integer");
    return BigInt(Math.trunc(value));
  }
  if (t === "x" || t === "X" || t === "o") {
    throw new TypeError(`%${t} format: an integer is required, not ${typeName(value)}`);
  }
  throw new TypeError(`%${t} format: a real number is required, not ${typeName(value)}`);
}

function formatInteger(value: unknown, spec: Spec): string {
  const n = toBigInt(value, spec);
  const negative = n < 0n;
  const abs = negative ? -n : n;
  let digits: string;
  let prefix = "";
  switch (spec.type) {
    case "x":
      digits = abs.toString(16);
      if (spec.alt) prefix = "0x";
      break;
    case "X":
      digits = abs.toString(16).toUpperCase();
      if (spec.alt) prefix = "0X";
      break;
    case "o":
      digits = abs.toString(8);
      if (spec.alt) prefix = "0o";
      break;
    default:
      digits = abs.toString(10);
  }
  if (spec.prec > digits.length) digits = digits.padStart(spec.prec, "0");
  return padNumber(signOf(negative, spec), prefix, digits, spec);
}

function toFloat(value: unknown, spec: Spec): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  throw new TypeError(`%${spec.type} format: a real number is required, not ${typeName(value)}`);
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The exact value of a finite positive double as `digits / 10**scale`. */
function exactDecimal(x: number): { digits: bigint; scale: number } {
  F64[0] = x;
  const hi = U32[LITTLE ? 1 : 0] as number;
  const lo = U32[LITTLE ? 0 : 1] as number;
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mantissa |= 1n << 52n;
    exp = biased - 1075;
  }
  if (exp >= 0) return { digits: mantissa << BigInt(exp), scale: 0 };
  return { digits: mantissa * 5n ** BigInt(-exp), scale: -exp };
}

/** Rounds `digits / 10**scale` to `places` decimal places (may be negative), half to even: an integer N ≈ value·10^places. */
function roundTo(digits: bigint, scale: number, places: number): bigint {
  const shift = scale - places;
  if (shift <= 0) return digits * 10n ** BigInt(-shift);
  const div = 10n ** BigInt(shift);
  const q = digits / div;
  const r = digits % div;
  const twice = r * 2n;
  if (twice > div || (twice === div && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** `%.{prec}f` of |x| (finite), without sign. */
function fixed(abs: number, prec: number, alt: boolean): string {
  let s: string;
  if (abs === 0) s = "0".repeat(prec + 1);
  else {
    const { digits, scale } = exactDecimal(abs);
    s = roundTo(digits, scale, prec)
      .toString()
      .padStart(prec + 1, "0");
  }
  if (prec === 0) return alt ? `${s}.` : s;
  return `${s.slice(0, s.length - prec)}.${s.slice(s.length - prec)}`;
}

/** `%.{prec}e` of |x| (finite) as mantissa digits (prec+1 of them) and decimal exponent. */
function scientific(abs: number, prec: number): { mant: string; exp: number } {
  if (abs === 0) return { mant: "0".repeat(prec + 1), exp: 0 };
  const { digits, scale } = exactDecimal(abs);
  let exp = digits.toString().length - 1 - scale;
  let n = roundTo(digits, scale, prec - exp);
  let s = n.toString();
  if (s.length > prec + 1) {
    // 9.99.. rounded up to 10.0..: one more digit, exactly a power of ten
    exp++;
    n /= 10n;
    s = n.toString();
  }
  return { mant: s, exp };
}

function expString(mant: string, exp: number, alt: boolean, upper: boolean): string {
  const head = mant.length > 1 ? `${mant[0]}.${mant.slice(1)}` : alt ? `${mant}.` : mant;
  const e = `${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return `${head}${upper ? "E" : "e"}${e}`;
}

function formatFloat(value: unknown, spec: Spec): string {
  const x = toFloat(value, spec);
  const upper = spec.type === "E" || spec.type === "F" || spec.type === "G";
  const negative = x < 0 || Object.is(x, -0);
  const sign = signOf(negative, spec);
  const abs = Math.abs(x);
  if (!Number.isFinite(abs)) {
    const body = Number.isNaN(abs) ? "nan" : "inf";
    return padNumber(
      Number.isNaN(abs) ? (spec.plus ? "+" : spec.space ? " " : "") : sign,
      "",
      upper ? body.toUpperCase() : body,
      spec,
    );
  }
  const prec = spec.prec < 0 ? 6 : spec.prec;
  let body: string;
  switch (spec.type) {
    case "f":
    case "F":
      body = fixed(abs, prec, spec.alt);
      break;
    case "e":
    case "E": {
      const { mant, exp } = scientific(abs, prec);
      body = expString(mant, exp, spec.alt, upper);
      break;
    }
    default: {
      const p = prec === 0 ? 1 : prec;
      const { exp } = scientific(abs, p - 1);
      if (exp >= -4 && exp < p) {
        body = fixed(abs, p - 1 - exp, spec.alt);
        if (!spec.alt && body.includes(".")) body = body.replace(/\.?0+$/, "");
      } else {
        const sci = scientific(abs, p - 1);
        let mant = sci.mant;
        if (!spec.alt) mant = mant.replace(/(?<=.)0+$/, "");
        body = expString(mant, sci.exp, spec.alt, upper);
      }
      if (spec.alt && !body.includes(".")) {
        // "%#.1g" % 1 -> "1."
        const e = body.search(/[eE]/);
        body = e < 0 ? `${body}.` : `${body.slice(0, e)}.${body.slice(e)}`;
      }
    }
  }
  return padNumber(sign, "", body, spec);
}
