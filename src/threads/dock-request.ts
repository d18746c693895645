/**
 * The bytes of a start handed over in a dock (dock.ts): the run request (thread.ts RunRequest) of
 * a plain thread, written by its starter before the dock turns BUSY and read by the parked worker
 * that takes it, both inside start()'s wait for the thread to run.
 *
 * v8.serialize() of the whole request cost ~10-20 us on each side (its Serializer has a fixed cost
 * per call), while most of a request is the same start after start. So the request is written
 * field by field, and its target (the largest part) is serialized once per TargetSpec object and
 * known by an id, which a worker that has compiled it before reads instead of the spec:
 *   byte 0        FORMAT
 *   byte 1        flags: DAEMON; TARGET (a target follows); ARGS_V8 (the arguments are v8 bytes);
 *                 ARGS_MARKED (they hold markers for decode())
 *   TARGET:       f64 the spec's id (shared/runtime.ts nextObjectId(): never reused), u32 length,
 *                 then the spec as v8.serialize() bytes (a worker that knows the id skips them)
 *   strings       name, then base and origin: each a u32 length in UTF-16 code units, then the
 *                 units; base and origin first have an f64 id each (nextObjectId(), one per string
 *                 this starter writes: a worker that has read that id before skips the units)
 *   arguments     ARGS_V8: u32 length, then v8 bytes of the encoded value; else a u32 count, then
 *                 per argument a tag byte (UNDEFINED, NULL, FALSE, TRUE, NUMBER, STRING) and, for a
 *                 number, an f64, for a string, a string as above
 * All numbers little endian, at any byte offset (DataView). Only a plain request is written: no
 * subclass chain, fields, copy-back port, transferList, resourceLimits or isolation (those go
 * through the hub, thread.ts #send()); anything else, shared memory among the arguments (v8 bytes
 * would carry a copy), or a request over the dock's size is refused (null: the start goes through
 * the hub). The bytes are read only while the dock is BUSY with the thread (dock.ts).
 */
import { v8 } from "../shared/builtins.js";
import { DOCK_BYTES, nextObjectId } from "../shared/runtime.js";
import type { TargetSpec } from "../transport/target.js";
import type { RunRequest } from "./thread.js";

const { DefaultSerializer, deserialize } = v8;

/**
 * v8.serialize(), except that shared memory refuses: a SharedArrayBuffer throws already, but a view
 * of one (a typed array on shared memory) would be written as a copy of its bytes, and the thread
 * must get the shared memory itself.
 */
class Serializer extends DefaultSerializer {
  // Node's DefaultSerializer writes every ArrayBufferView as a host object (@types/node omits it).
  _writeHostObject(object: object): void {
    if (ArrayBuffer.isView(object) && !(object.buffer instanceof ArrayBuffer)) throw new TypeError("shared memory");
    (DefaultSerializer.prototype as unknown as { _writeHostObject(o: object): void })._writeHostObject.call(
      this,
      object,
    );
  }
}

/**
 * Whether this runtime has v8's Serializer (Bun has not: "node:v8 Serializer is not yet
 * implemented"). Without it no start goes through a dock, and the hub parks no worker in one.
 */
export const docksWork: boolean = (() => {
  try {
    new DefaultSerializer().writeHeader();
    return true;
  } catch {
    return false;
  }
})();

/** `value` as v8 bytes, or null when it holds shared memory (or cannot be serialized). */
function v8Bytes(value: unknown): Uint8Array | null {
  const serializer = new Serializer();
  try {
    serializer.writeHeader();
    serializer.writeValue(value);
  } catch {
    return null;
  }
  return serializer.releaseBuffer();
}

const FORMAT = 2;
const DAEMON = 1;
const TARGET = 2;
const ARGS_V8 = 4;
const ARGS_MARKED = 8;
const UNDEFINED = 0;
const NULL = 1;
const FALSE = 2;
const TRUE = 3;
const NUMBER = 4;
const STRING = 5;
/** Longer string arguments go as v8 bytes (the units loop pays per unit). */
const STRING_MAX = 512;

/** A target as the starter writes it: its id and its v8 bytes, made once per spec. */
interface Written {
  id: number;
  bytes: Uint8Array;
}
/** Function specs are made once per source (transport/target.ts describeTarget): known by the object. */
const writtenSpecs = new WeakMap<TargetSpec, Written>();
/** Module specs are made at each start: known by module and export. */
const writtenModules = new Map<string, Written>();

function written(spec: TargetSpec): Written | null {
  if (spec.kind === "module") {
    const key = `${spec.module}\u0000${spec.export}`;
    let w = writtenModules.get(key);
    if (w === undefined) {
      const bytes = v8Bytes(spec);
      if (bytes === null) return null;
      w = { id: nextObjectId(), bytes };
      if (writtenModules.size >= 256) writtenModules.clear();
      writtenModules.set(key, w);
    }
    return w;
  }
  let w = writtenSpecs.get(spec);
  if (w === undefined) {
    const bytes = v8Bytes(spec);
    if (bytes === null) return null;
    w = { id: nextObjectId(), bytes };
    writtenSpecs.set(spec, w);
  }
  return w;
}

/**
 * Where requestBytes() writes. Its answer is a view of it, valid until the next call in this thread
 * (a start nested in a test hook writes its own): the caller copies it into the dock at once.
 */
const scratch = new ArrayBuffer(DOCK_BYTES);
const out = new Uint8Array(scratch);
const view = new DataView(scratch);

/** Thrown inside requestBytes() when the request does not fit. */
const TOO_BIG = new RangeError("dock request too big");

let at = 0;

function room(n: number): void {
  if (at + n > DOCK_BYTES - 4) throw TOO_BIG;
}

function putString(s: string): void {
  const n = s.length;
  room(4 + 2 * n);
  view.setUint32(at, n, true);
  at += 4;
  for (let i = 0; i < n; i++, at += 2) view.setUint16(at, s.charCodeAt(i), true);
}

/**
 * Strings a thread starts with again and again (the file a target was written in, the file that made
 * the thread) are known by an id, as targets are: the starter writes each one's units once and a
 * worker that has read them before skips them (a string's unit loops cost a few µs each side in
 * starts that V8 has not optimized yet).
 */
const recurring = new Map<string, Written>();

/** Writes `s` as f64 id, then as putString() does (see recurring): its units copied from the first time. */
function putRecurring(s: string): void {
  const known = recurring.get(s);
  const id = known?.id ?? nextObjectId();
  room(8);
  view.setFloat64(at, id, true);
  at += 8;
  if (known === undefined) {
    const units = at + 4;
    putString(s);
    if (recurring.size >= 64) recurring.clear();
    recurring.set(s, { id, bytes: out.slice(units, at) });
    return;
  }
  room(4 + known.bytes.length);
  view.setUint32(at, s.length, true);
  out.set(known.bytes, at + 4);
  at += 4 + known.bytes.length;
}

function putBytes(bytes: Uint8Array): void {
  room(4 + bytes.length);
  view.setUint32(at, bytes.length, true);
  out.set(bytes, at + 4);
  at += 4 + bytes.length;
}

/** True if each of `args` is written by a tag (undefined, null, a boolean, a number, a short string). */
function simpleArgs(args: unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    const t = typeof v;
    if (t === "string" ? (v as string).length > STRING_MAX : t !== "number" && t !== "boolean" && v != null)
      return false;
  }
  return true;
}

/**
 * The bytes of `request` for a dock (at most DOCK_BYTES - 4: a view of this thread's scratch, valid
 * until its next call; slice() cost a new ArrayBuffer each start), or null when it cannot go through
 * one (see the file comment).
 */
export function requestBytes(request: RunRequest): Uint8Array | null {
  if (
    !docksWork ||
    request.classes.length > 0 ||
    request.fields !== null ||
    request.classModule !== null ||
    request.copyBack !== null ||
    request.transfer.length > 0 ||
    request.resourceLimits !== null ||
    request.isolated
  ) {
    return null;
  }
  const args = request.args.value as unknown[];
  const simple = Array.isArray(args) && simpleArgs(args);
  let argBytes: Uint8Array | null = null;
  if (!simple) {
    argBytes = v8Bytes(request.args.value);
    if (argBytes === null) return null; // shared memory among the arguments: through the hub
  }
  const target = request.target === null ? null : written(request.target);
  if (request.target !== null && target === null) return null;
  at = 0;
  try {
    room(2);
    out[0] = FORMAT;
    out[1] =
      (request.daemon ? DAEMON : 0) |
      (target ? TARGET : 0) |
      (argBytes ? ARGS_V8 : 0) |
      (request.args.marked ? ARGS_MARKED : 0);
    at = 2;
    if (target) {
      room(8);
      view.setFloat64(at, target.id, true);
      at += 8;
      putBytes(target.bytes);
    }
    putString(request.name);
    putRecurring(request.base);
    putRecurring(request.origin);
    if (argBytes) putBytes(argBytes);
    else {
      room(4);
      view.setUint32(at, args.length, true);
      at += 4;
      for (let i = 0; i < args.length; i++) {
        const v = args[i];
        room(1);
        if (v === undefined) out[at++] = UNDEFINED;
        else if (v === null) out[at++] = NULL;
        else if (v === false) out[at++] = FALSE;
        else if (v === true) out[at++] = TRUE;
        else if (typeof v === "number") {
          room(9);
          out[at++] = NUMBER;
          view.setFloat64(at, v, true);
          at += 8;
        } else {
          out[at++] = STRING;
          putString(v as string);
        }
      }
    }
  } catch (e) {
    if (e === TOO_BIG) return null;
    throw e;
  }
  return out.subarray(0, at);
}

/** Targets read by this worker, by id (bounded: a worker that has seen more starts over). */
const readSpecs = new Map<number, TargetSpec>();

/** Strings written by putRecurring() this worker has read, by id (bounded as readSpecs). */
const readStrings = new Map<number, string>();

/** A reader of one request in a dock's bytes. */
class Reader {
  at = 0;
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u32(): number {
    const n = this.view.getUint32(this.at, true);
    this.at += 4;
    return n;
  }
  f64(): number {
    const x = this.view.getFloat64(this.at, true);
    this.at += 8;
    return x;
  }
  string(): string {
    const n = this.u32();
    const v = this.view;
    let s = "";
    const units: number[] = [];
    for (let i = 0; i < n; i++, this.at += 2) {
      units.push(v.getUint16(this.at, true));
      if (units.length === 4096) {
        s += String.fromCharCode.apply(null, units);
        units.length = 0;
      }
    }
    return units.length > 0 ? s + String.fromCharCode.apply(null, units) : s;
  }
  /** A string written by putRecurring(). */
  recurring(): string {
    const id = this.f64();
    const known = readStrings.get(id);
    if (known === undefined) {
      const s = this.string();
      if (readStrings.size >= 64) readStrings.clear();
      readStrings.set(id, s);
      return s;
    }
    this.at += 4 + 2 * known.length;
    return known;
  }
  /** The next length-prefixed bytes, deserialized. */
  v8(): unknown {
    const n = this.u32();
    const value = deserialize(this.bytes.subarray(this.at, this.at + n));
    this.at += n;
    return value;
  }
  skipBytes(): void {
    const n = this.u32();
    this.at += n;
  }
}

/**
 * In the worker that took a start: the request in `bytes` (a dock's area after its length, written
 * by requestBytes()), for thread `ident` in `slot`.
 */
export function readRequest(bytes: Uint8Array, slot: number, ident: number): RunRequest {
  if (bytes[0] !== FORMAT) throw new TypeError(`unknown dock request format ${bytes[0]}`);
  const flags = bytes[1] as number;
  const r = new Reader(bytes);
  r.at = 2;
  let target: TargetSpec | null = null;
  if (flags & TARGET) {
    const id = r.f64();
    const known = readSpecs.get(id);
    if (known !== undefined) {
      r.skipBytes();
      target = known;
    } else {
      target = r.v8() as TargetSpec;
      if (readSpecs.size >= 256) readSpecs.clear();
      readSpecs.set(id, target);
    }
  }
  const name = r.string();
  const base = r.recurring();
  const origin = r.recurring();
  let value: unknown[];
  if (flags & ARGS_V8) value = r.v8() as unknown[];
  else {
    const n = r.u32();
    value = new Array(n);
    for (let i = 0; i < n; i++) {
      const tag = bytes[r.at++];
      value[i] =
        tag === UNDEFINED
          ? undefined
          : tag === NULL
            ? null
            : tag === FALSE
              ? false
              : tag === TRUE
                ? true
                : tag === NUMBER
                  ? r.f64()
                  : r.string();
    }
  }
  return {
    type: "run",
    slot,
    ident,
    name,
    daemon: (flags & DAEMON) !== 0,
    target,
    args: { value, marked: (flags & ARGS_MARKED) !== 0 },
    classes: [],
    base,
    classModule: null,
    fields: null,
    origin,
    copyBack: null,
    transfer: [],
    resourceLimits: null,
    isolated: false,
  };
}
