/**
 * What a RedisExecutor job carries, shared by the client (executor.ts, client-thread.ts), the
 * worker process (worker.ts) and the pool thread that runs the task (run-task.ts).
 *
 * A BullMQ job's data and return value are JSON, so values travel as base64 text of
 * `v8.serialize(encode(value))`: everything v8's serializer carries (Maps, Sets, Dates, typed
 * arrays, BigInts, cycles...), errors keeping class, name, message, stack, cause and own
 * properties (transport/encode.ts). Shared objects (Lock, Queue, SharedArrayBuffer, ...) live in
 * one process's memory and cannot cross machines: `remoteBytes()` throws a TypeError naming where
 * in the value one sits, before anything is sent.
 *
 *   job.name = the target's name (for dashboards)
 *   job.data = { t: RemoteTarget, m: CALL | CHUNK, a: args text }
 *   return value = outcome text, outcome = { ok: true, value } | { ok: false, error }
 *
 * Plain values skip v8's serializer and base64 (~6 us each way here, per job): args that are a
 * list of strings, booleans, null and finite numbers other than -0 (for a map() chunk, a list of
 * such lists) travel as "=" + their JSON, and so does such a result ("=" + JSON of the value,
 * "=" alone for undefined); JSON gives these back exactly. Base64 text never starts with "=".
 *
 * A task that throws, and a job the worker refuses, complete their BullMQ job with a failed
 * outcome: BullMQ's own failure (and retry) path is left to lost workers (stalled jobs).
 */
import { deserialize, serialize } from "node:v8";
import { types } from "node:util";
import { decode } from "../transport/decode.js";
import { encode, MARK } from "../transport/encode.js";

/** Call the target with the args; or, for a map() chunk, once per item, giving the list of results. */
export const CALL = 0;
export const CHUNK = 1;

/** A target as it travels to a worker: a module specifier resolved there, or a function's source. */
export type RemoteTarget =
  | { kind: "module"; module: string; export: string }
  | { kind: "source"; source: string; name: string };

/** The JSON data of one job (`a`: see argsText()). */
export interface JobData {
  t: RemoteTarget;
  m: typeof CALL | typeof CHUNK;
  a: string;
}

/** A task's outcome, as it travels back. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function pathText(path: (string | number)[], root: string): string {
  let s = root;
  for (const p of path)
    s += typeof p === "number" ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`;
  return s;
}

/** Throws a TypeError naming the first shared object in `v` (an encode() copy), if there is one. */
function refuseShared(v: unknown, where: string): void {
  const seen = new Set<object>();
  const path: (string | number)[] = [];
  const fail = (what: string): never => {
    throw new TypeError(
      `${pathText(path, where)} cannot be sent to another machine: it is ${what}, which lives in this process's memory (send plain data)`,
    );
  };
  const walk = (x: unknown): void => {
    if (typeof x !== "object" || x === null || seen.has(x)) return;
    seen.add(x);
    if (types.isSharedArrayBuffer(x)) fail("a SharedArrayBuffer");
    if (ArrayBuffer.isView(x)) {
      if (types.isSharedArrayBuffer(x.buffer)) fail(`a ${x.constructor.name} over a SharedArrayBuffer`);
      return;
    }
    const rec = x as Record<string, unknown>;
    if (rec[MARK] === "shared") fail(`a ${String(rec.kind)} (a shared object)`);
    if (Array.isArray(x)) {
      x.forEach((item, i) => {
        path.push(i);
        walk(item);
        path.pop();
      });
    } else if (x instanceof Map) {
      for (const [k, val] of x) {
        path.push("<map key>");
        walk(k);
        path.pop();
        path.push(typeof k === "string" || typeof k === "number" ? k : "<map value>");
        walk(val);
        path.pop();
      }
    } else if (x instanceof Set) {
      path.push("<set item>");
      for (const item of x) walk(item);
      path.pop();
    } else if (rec[MARK] === "error") {
      // Error markers: their cause and own properties are the error's.
      for (const key of ["cause", "errors"]) {
        if (key in rec) {
          path.push(key);
          walk(rec[key]);
          path.pop();
        }
      }
      for (const [key, val] of Object.entries(rec.props as Record<string, unknown>)) {
        path.push(key);
        walk(val);
        path.pop();
      }
    } else {
      for (const key of Object.keys(rec)) {
        path.push(key);
        walk(rec[key]);
        path.pop();
      }
    }
  };
  walk(v);
}

function primitive(v: unknown): boolean {
  return v === null || (typeof v !== "object" && typeof v !== "function" && typeof v !== "symbol");
}

/**
 * `value` as bytes for another machine. A TypeError, naming where in the value it sits, for what
 * cannot cross: what cannot cross threads (functions, symbols, ...) and shared objects; a
 * RangeError for a value nested too deeply (encode.ts MAX_NESTING).
 * `lenientErrors`: inside an Error, a property that cannot cross is left out instead (encode()).
 */
export function remoteBytes(value: unknown, where: string, lenientErrors = false): Buffer {
  if (Array.isArray(value) && value.every(primitive)) return serialize(value);
  let copy: unknown;
  try {
    copy = encode(value, where, { lenientErrors }).value;
  } catch (e) {
    // (encode() says "thread": here it is another machine; a RangeError: nested too deeply)
    if (e instanceof TypeError) throw new TypeError(e.message.replace(ANOTHER_THREAD, ANOTHER_MACHINE));
    if (e instanceof RangeError) throw new RangeError(e.message.replace(ANOTHER_THREAD, ANOTHER_MACHINE));
    throw e;
  }
  refuseShared(copy, where);
  return serialize(copy);
}

const ANOTHER_THREAD = "sent to another thread";
const ANOTHER_MACHINE = "sent to another machine";

/** The value `remoteBytes()` made. */
export function fromRemoteBytes(bytes: Uint8Array): unknown {
  return decode(deserialize(bytes), true);
}

/** The text that marks JSON (base64 never starts with it). */
const JSON_MARK = "=";

/** A value that JSON gives back exactly: a string, a boolean, null, a finite number other than -0. */
function jsonExact(v: unknown): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v) && !Object.is(v, -0);
    default:
      return v === null;
  }
}

/** A list (no holes, no extra properties: a fresh arguments list) of JSON-exact values, or of such lists (`depth` 2). */
function jsonExactList(v: unknown, depth: number): boolean {
  if (!Array.isArray(v) || Object.getPrototypeOf(v) !== Array.prototype) return false;
  for (let i = 0; i < v.length; i++) {
    if (!(i in v)) return false;
    const item = v[i];
    if (depth > 1 ? !jsonExactList(item, depth - 1) : !jsonExact(item)) return false;
  }
  return true;
}

/**
 * A job's arguments (`args` of a call; for a map() chunk, the list of each call's args) for the
 * job's data: JSON text ("=" + JSON) when they are plain values JSON gives back exactly, else the
 * bytes of `remoteBytes()` (the client thread makes them base64). A TypeError, naming where it
 * sits, for a value that cannot cross machines.
 */
export function argsPayload(args: unknown[], chunk: boolean, where: string): string | Buffer {
  if (jsonExactList(args, chunk ? 2 : 1)) return JSON_MARK + JSON.stringify(args);
  return remoteBytes(args, where);
}

/** The arguments argsPayload() made, as the job's data carries them (JSON, or base64). */
export function argsOf(text: string): unknown[] {
  if (text.startsWith(JSON_MARK)) return JSON.parse(text.slice(JSON_MARK.length)) as unknown[];
  return fromRemoteBytes(Buffer.from(text, "base64")) as unknown[];
}

/** An outcome as text (the job's return value). An unsendable result becomes a failed outcome. */
export function outcomeText(outcome: Outcome): string {
  if (outcome.ok) {
    const { value } = outcome;
    if (value === undefined) return JSON_MARK;
    if (jsonExact(value)) return JSON_MARK + JSON.stringify(value);
    // Another plain result (a BigInt...): nothing to encode, nothing shared to look for.
    if (primitive(value)) return serialize(outcome).toString("base64");
  }
  // A task's error crosses without the properties that cannot (as a pool thread's, encode.ts).
  try {
    return remoteBytes(outcome, outcome.ok ? "result" : "error", !outcome.ok).toString("base64");
  } catch (e) {
    // The error names the place in the result (or the exception), not in this outcome's envelope
    // ("result", not "result.value"), as a pool thread's does.
    let error = e;
    try {
      if (outcome.ok) remoteBytes(outcome.value, "result");
      else remoteBytes(outcome.error, "exception", true);
    } catch (named) {
      error = named;
    }
    return remoteBytes({ ok: false, error }, "error", true).toString("base64");
  }
}

/** The outcome `outcomeText()` made. */
export function outcomeOf(text: string): Outcome {
  if (text.startsWith(JSON_MARK)) {
    return { ok: true, value: text.length === JSON_MARK.length ? undefined : JSON.parse(text.slice(JSON_MARK.length)) };
  }
  return fromRemoteBytes(Buffer.from(text, "base64")) as Outcome;
}
