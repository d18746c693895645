/**
 * The one place that decides how a value crosses into another thread.
 *
 * `encode()` walks the value as structured clone would and returns a copy that structured clone
 * (postMessage) or `v8.serialize` can carry, where
 *  - every shared object (see shareable.ts) is replaced by a marker holding its record,
 *  - every Error is replaced by a marker keeping its class, name, message, stack, cause and own props,
 *  - instances of user classes become plain objects of their own enumerable fields (as structured
 *    clone does), so the receiving side never sees a prototype it does not have,
 *  - anything that cannot cross (functions, symbols, WeakMaps, promises, host objects ...) is a
 *    TypeError naming where in the value it sits; except, with `lenientErrors` (a task's or a
 *    thread's exception), inside an Error's cause and own properties, which are left out instead.
 * `decode()` (decode.ts) turns the markers back into objects on the receiving side.
 *
 * Two modes: for messages (postMessage) SharedArrayBuffers travel as themselves; for bytes (queues,
 * which store `v8.serialize` output in shared memory) a `bufferRef` callback replaces each
 * SharedArrayBuffer by a number the receiving side can resolve.
 */
import { util } from "../shared/builtins.js";
import { MessagePort } from "node:worker_threads";
import { isShareable, kShare, lookup, remember, ShareRefused, type ShareRecord, staysHome } from "./shareable.js";

const { types } = util;
/** util.types.isExternal, where the runtime has it (Deno's node:util does not). */
const isExternal: (value: unknown) => boolean = typeof types.isExternal === "function" ? types.isExternal : () => false;

/** The key that marks an object made by encode(); user data cannot produce it by accident. */
export const MARK = "\u0000threading";

export interface EncodeOptions {
  /** Objects moved rather than copied (MessagePorts, ArrayBuffers): they pass through as themselves. */
  transfer?: ReadonlySet<object>;
  /** Bytes mode: how a SharedArrayBuffer is named inside serialized bytes. */
  bufferRef?: (buffer: SharedArrayBuffer) => unknown;
  /**
   * An Error's own properties that cannot cross (a function, a socket, ...) are left out and the
   * error crosses without them, rather than the whole copy failing: for a task's or a thread's
   * exception, which a TypeError about one of its fields would hide.
   */
  lenientErrors?: boolean;
}

export interface Encoded {
  value: unknown;
  /** False when the copy holds no marker, so the receiver can skip decode(). */
  marked: boolean;
}

const plainPrototypes = new Set<unknown>([Object.prototype, null]);

/**
 * True for an instance of a class implemented natively (a host object such as a socket handle,
 * or a V8 built-in this walk does not know): structured clone cannot copy those, while an instance
 * of a class written in JavaScript crosses as its own fields.
 */
function isNativeInstance(obj: object): boolean {
  const proto = Object.getPrototypeOf(obj);
  if (plainPrototypes.has(proto)) return false;
  const ctor = proto?.constructor;
  return typeof ctor === "function" && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(ctor));
}

/**
 * A Node stream (a net.Socket, an http message, a file stream, ...): refused as what it is ("it is
 * a Socket"), not by the first listener function the walk would meet inside it
 * ("item._events.end ... is a function"). Its own state objects tell, without loading node:stream.
 */
function isStream(obj: object): boolean {
  return Object.hasOwn(obj, "_readableState") || Object.hasOwn(obj, "_writableState");
}

/** Sets an own data property, also one named "__proto__" (an assignment would set the prototype). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

function describe(value: unknown): string {
  // First: a Proxy (of a function too) is not read through (its traps would run, or throw if revoked).
  if (types.isProxy(value)) return "a Proxy";
  if (typeof value === "function") return `a function${value.name ? ` (${value.name})` : ""}`;
  if (typeof value === "symbol") return `a symbol (${value.description ?? ""})`;
  const ctor = (value as object).constructor?.name;
  return ctor ? `${article(ctor)} ${ctor}` : "an object";
}

/**
 * "a" or "an" before a class name, by how it is read (roughly): an acronym letter by letter (an
 * HTTPAgent, a URLSearchParams), a word by its first sound (an Endpoint, an Upload; a User, a
 * Unicorn, a Euro, a OneShot).
 */
function article(name: string): "a" | "an" {
  if (/^[A-Z][A-Z]/.test(name)) return /^[AEFHILMNORSX]/.test(name) ? "an" : "a";
  if (/^(?:U[^aeiou][aeiouy]|Eu|Ew|One)/i.test(name)) return "a";
  return /^[aeiou]/i.test(name) ? "an" : "a";
}

/** Whether `e` is V8's stack overflow ("Maximum call stack size exceeded"). */
export function isStackOverflow(e: unknown): e is RangeError {
  return e instanceof RangeError && e.message === "Maximum call stack size exceeded";
}

/**
 * The deepest nesting a value may have to cross (objects, arrays, Maps, Sets, errors within each
 * other). Copying and rebuilding recurse, as structured clone and v8.serialize do, and a thread's
 * stack is not every thread's: a Worker's default 4 MB let a thread send ~7,000 levels that the
 * main thread (984 KB: ~1,860 levels) then failed to rebuild, after the item had left the queue.
 * Under this bound every thread with a default stack rebuilds what another sent, with room to
 * spare. (Python's pickle stops sooner, at ~500 nested lists, with a RecursionError.)
 */
export const MAX_NESTING = 1000;

/**
 * What a value nested too deeply to be sent raises (past MAX_NESTING, or past this thread's stack):
 * a RangeError saying so and where, not V8's bare "Maximum call stack size exceeded".
 */
export function tooDeep(where: string, e?: RangeError): RangeError {
  const why = e === undefined ? `more than ${MAX_NESTING} levels` : e.message;
  return new RangeError(`${where} is nested too deeply to be sent to another thread (${why})`);
}

/** Prototypes (classes) whose instances were already warned about. */
const warned = new WeakSet<object>();

/**
 * An instance of a user class crosses as a plain object of its own fields (structured clone): its
 * methods stay behind, and calling one in the other thread would fail with a bare "x.m is not a
 * function". Said once per class, at send time, as a process warning (code
 * THREADING_METHODS_NOT_SENT) naming the class, the methods and where the value was; a class
 * with no methods (data only) is not mentioned.
 */
function warnMethodsLost(proto: object, where: string): void {
  if (warned.has(proto)) return;
  warned.add(proto);
  const methods = new Set<string>();
  for (let p: object | null = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const key of Object.getOwnPropertyNames(p)) {
      if (key === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(p, key);
      if (d && (typeof d.value === "function" || d.get || d.set)) methods.add(key);
    }
  }
  if (methods.size === 0) return;
  const name = (proto as { constructor?: { name?: string } }).constructor?.name || "(anonymous class)";
  const list = [...methods].slice(0, 5).join(", ") + (methods.size > 5 ? ", ..." : "");
  process.emitWarning(
    `${where} is an instance of class ${name}: it arrives in the other thread as a plain object of its own ` +
      `fields, without its methods (${list}). Send its data and rebuild the object there, or use a ` +
      `{ module, export } target that imports the class.`,
    { code: "THREADING_METHODS_NOT_SENT" },
  );
}

/** Prototypes of shared objects already looked at by warnSubclass(). */
const subclassChecked = new WeakSet<object>();

/**
 * An instance of a user's subclass of a shared class (`class CountingQueue extends Queue`) arrives
 * in the other thread as the same shared object (its state is shared), but of the base class: what
 * the subclass adds (methods, overrides, fields) stays behind, and an override is silently not
 * called there. Said once per class, at send time, as a process warning (code
 * THREADING_SUBCLASS_NOT_SENT) naming the class, the base and what it adds (nothing said for a
 * subclass that adds nothing). Not for Thread (a
 * handle elsewhere, as documented) and local (a subclass is rebuilt in each thread).
 */
function warnSubclass(obj: object, kind: string, where: string): void {
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (proto === null || subclassChecked.has(proto)) return;
  subclassChecked.add(proto);
  if (kind === "Thread" || kind === "local") return;
  const added = new Set<string>();
  let p: object | null = proto;
  for (; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if ((p as { constructor?: { name?: string } }).constructor?.name === kind) break;
    for (const key of Object.getOwnPropertyNames(p)) if (key !== "constructor") added.add(key);
  }
  if (p === proto || !p || p === Object.prototype) return; // the class itself, or not found: nothing to say
  for (const key of Object.keys(obj)) added.add(key);
  if (added.size === 0) return; // (an instance of it arrives as a base one, lacking nothing)
  const name = (proto as { constructor?: { name?: string } }).constructor?.name || "(anonymous class)";
  const list = [...added].slice(0, 5).join(", ") + (added.size > 5 ? ", ..." : "");
  process.emitWarning(
    `${where} is an instance of class ${name}, a subclass of ${kind}: it arrives in the other thread as the ` +
      `same ${kind}, without what ${name} adds (${list}). Keep that in this thread, ` +
      `or send the ${kind} with the data the other thread needs.`,
    { code: "THREADING_SUBCLASS_NOT_SENT" },
  );
}

function pathText(path: (string | number)[], root: string): string {
  let s = root;
  for (const p of path)
    s += typeof p === "number" ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`;
  return s;
}

/**
 * encode() of a plain array of primitives (a thread's usual arguments, none at all among them),
 * without the walk's set-up: the same dense copy the walk makes, or undefined for anything else.
 */
function flatCopy(value: unknown): unknown[] | undefined {
  if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype || types.isProxy(value))
    return undefined;
  const n = value.length;
  const out: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const v: unknown = value[i];
    switch (typeof v) {
      case "undefined":
      case "boolean":
      case "number":
      case "string":
      case "bigint":
        out[i] = v;
        continue;
      case "object":
        if (v === null) {
          out[i] = v;
          continue;
        }
    }
    return undefined;
  }
  return out;
}

/**
 * Copies `value` into a form that can cross threads. `where` names the value in error messages,
 * e.g. "args" or "item".
 */
export function encode(value: unknown, where: string, options: EncodeOptions = {}): Encoded {
  const flat = flatCopy(value);
  if (flat !== undefined) return { value: flat, marked: false };
  let marked = false;
  const seen = new Map<object, unknown>();
  const path: (string | number)[] = [];

  /** The error fail() threw, if any. */
  let failure: TypeError | undefined;
  const fail = (bad: unknown, why?: string): never => {
    const reason = why === undefined ? "" : ` (${why})`;
    failure = new TypeError(
      `${pathText(path, where)} cannot be sent to another thread: it is ${describe(bad)}${reason}`,
    );
    throw failure;
  };
  /** The object walk() took up last (path names it until its first field is walked). */
  let walking: object | undefined;
  /** The TypeError of a shared object's [kShare]() that refused to be sent, as thrown. */
  let refused: TypeError | undefined;

  const walk = (v: unknown): unknown => {
    switch (typeof v) {
      case "undefined":
      case "boolean":
      case "number":
      case "string":
      case "bigint":
        return v;
      case "function":
      case "symbol":
        return fail(v);
    }
    if (v === null) return v;
    const obj = v as object;
    const done = seen.get(obj);
    if (done !== undefined) return done;
    if (path.length >= MAX_NESTING) throw tooDeep(where);
    if (options.transfer?.has(obj)) return obj;
    walking = obj;

    if (isShareable(obj)) {
      let record: ShareRecord;
      try {
        record = obj[kShare]();
      } catch (e) {
        // A shared object that refuses to be sent says why (a local subclass with #private
        // members), named where it sits; not replaced below by "it is a Proxy" (a local is one).
        if (!(e instanceof ShareRefused)) throw e;
        refused = new TypeError(`${pathText(path, where)} cannot be sent to another thread: ${e.message}`);
        throw refused;
      }
      if (!subclassChecked.has(Object.getPrototypeOf(obj))) warnSubclass(obj, record.kind, pathText(path, where));
      // From now on this thread must answer for this id with this very object.
      if (lookup(record.id) !== obj) remember(record.id, obj);
      const out: Record<string, unknown> = { [MARK]: "shared", kind: record.kind, id: record.id };
      seen.set(obj, out);
      out.buffers = options.bufferRef ? record.buffers.map(options.bufferRef) : record.buffers;
      if (record.meta !== undefined) out.meta = walk(record.meta);
      marked = true;
      return out;
    }
    if (Array.isArray(obj)) {
      const out: unknown[] = new Array(obj.length);
      seen.set(obj, out);
      for (let i = 0; i < obj.length; i++) {
        path.push(i);
        out[i] = walk(obj[i]);
        path.pop();
      }
      return out;
    }
    if (types.isSharedArrayBuffer(obj)) {
      if (!options.bufferRef) return obj;
      marked = true;
      const out = { [MARK]: "sab", ref: options.bufferRef(obj) };
      seen.set(obj, out);
      return out;
    }
    if (ArrayBuffer.isView(obj)) {
      if (options.bufferRef && types.isSharedArrayBuffer(obj.buffer)) {
        marked = true;
        const type = obj.constructor.name;
        const length = obj instanceof DataView ? obj.byteLength : (obj as unknown as { length: number }).length;
        const out = { [MARK]: "view", type, byteOffset: obj.byteOffset, length, ref: options.bufferRef(obj.buffer) };
        seen.set(obj, out);
        return out;
      }
      return obj;
    }
    if (obj instanceof Error) {
      const out: Record<string, unknown> = { [MARK]: "error" };
      seen.set(obj, out);
      marked = true;
      let proto = Object.getPrototypeOf(obj);
      while (proto && !Object.hasOwn(proto, "constructor")) proto = Object.getPrototypeOf(proto);
      out.cls = proto?.constructor?.name ?? "Error";
      out.name = obj.name;
      out.message = obj.message;
      out.stack = obj.stack;
      if ("cause" in obj) {
        const depth = path.length;
        path.push("cause");
        if (options.lenientErrors) {
          try {
            out.cause = walk(obj.cause);
          } catch (e) {
            if (e !== failure) throw e;
            failure = undefined; // left out, as a property that cannot cross
          }
        } else out.cause = walk(obj.cause);
        path.length = depth;
      }
      if (obj instanceof AggregateError) {
        path.push("errors");
        out.errors = walk(obj.errors);
        path.pop();
      }
      const props: Record<string, unknown> = {};
      for (const key of Object.keys(obj)) {
        if (key === "cause" || key === "stack" || key === "message" || key === "name") continue;
        const depth = path.length;
        path.push(key);
        if (options.lenientErrors) {
          try {
            props[key] = walk((obj as unknown as Record<string, unknown>)[key]);
          } catch (e) {
            if (e !== failure) throw e;
            failure = undefined; // left out: the error crosses without this property
          }
        } else props[key] = walk((obj as unknown as Record<string, unknown>)[key]);
        path.length = depth;
      }
      out.props = props;
      return out;
    }
    if (obj instanceof Map) {
      const out = new Map();
      seen.set(obj, out);
      for (const [k, val] of obj) {
        path.push("<map key>");
        const ek = walk(k);
        path.pop();
        path.push(typeof k === "string" || typeof k === "number" ? k : "<map value>");
        out.set(ek, walk(val));
        path.pop();
      }
      return out;
    }
    if (obj instanceof Set) {
      const out = new Set();
      seen.set(obj, out);
      for (const item of obj) {
        path.push("<set item>");
        out.add(walk(item));
        path.pop();
      }
      return out;
    }
    if (obj instanceof Date || obj instanceof RegExp || types.isArrayBuffer(obj) || types.isBoxedPrimitive(obj)) {
      // Kept as is for structured clone, which would refuse a Proxy of one without naming where.
      if (types.isSymbolObject(obj) || types.isProxy(obj)) fail(obj);
      seen.set(obj, obj);
      return obj;
    }
    if (
      obj instanceof MessagePort ||
      isNativeInstance(obj) ||
      types.isWeakMap(obj) ||
      types.isWeakSet(obj) ||
      types.isPromise(obj) ||
      types.isProxy(obj) ||
      types.isKeyObject(obj) ||
      isExternal(obj) ||
      types.isGeneratorObject(obj) ||
      isStream(obj) ||
      (typeof Blob === "function" && obj instanceof Blob) ||
      obj instanceof WeakRef
    ) {
      return fail(obj);
    }
    const home = staysHome(obj);
    if (home !== undefined) return fail(obj, home);
    // A plain object, or an instance of a user class: its own enumerable fields, as structured clone.
    const proto = Object.getPrototypeOf(obj);
    if (!plainPrototypes.has(proto)) warnMethodsLost(proto, pathText(path, where));
    const out: Record<string, unknown> = {};
    seen.set(obj, out);
    for (const key of Object.keys(obj)) {
      path.push(key);
      setOwn(out, key, walk((obj as Record<string, unknown>)[key]));
      path.pop();
    }
    return out;
  };

  let out: unknown;
  try {
    out = walk(value);
  } catch (e) {
    // A Proxy cannot cross (structured clone refuses it). One walked as what it reads as (an
    // array, an Error) crosses as that; one whose traps throw (revoked), or that reads as what
    // it cannot act as (a Map, a Lock: their methods refuse a Proxy), is refused as a Proxy, not
    // with the error its trap or that method threw. Looked at on this error path only.
    if (e !== failure && e !== refused && walking !== undefined && types.isProxy(walking)) fail(walking);
    if (isStackOverflow(e)) throw tooDeep(where, e);
    throw e;
  }
  return { value: out, marked };
}
