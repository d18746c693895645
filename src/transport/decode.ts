/**
 * The receiving half of encode.ts: turns markers back into shared objects (the one object this
 * thread has for that id) and errors (keeping their class). Works in place on the fresh copy that
 * structured clone or `v8.deserialize` produced.
 */
import { crossingErrorClasses } from "../errors.js";
import { MARK, setOwn } from "./encode.js";
import { objectFor } from "./shareable.js";

export interface DecodeOptions {
  /** Bytes mode: the SharedArrayBuffer a reference made by `EncodeOptions.bufferRef` names. */
  resolveBuffer?: (ref: unknown) => SharedArrayBuffer;
}

type Ctor = new (...args: never[]) => Error;

/** Decodes a copy made by `encode()`; `marked: false` copies come back untouched. */
export function decode(value: unknown, marked: boolean, options: DecodeOptions = {}): unknown {
  if (!marked) return value;
  const done = new Map<object, unknown>();

  const walk = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    const prior = done.get(v);
    if (prior !== undefined) return prior;
    const tag = (v as Record<string, unknown>)[MARK];
    if (tag !== undefined) return unmark(v as Record<string, unknown>, tag);
    done.set(v, v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i]);
    } else if (v instanceof Map) {
      const entries = [...v];
      v.clear();
      for (const [k, val] of entries) v.set(walk(k), walk(val));
    } else if (v instanceof Set) {
      const items = [...v];
      v.clear();
      for (const item of items) v.add(walk(item));
    } else if (Object.getPrototypeOf(v) === Object.prototype) {
      const o = v as Record<string, unknown>;
      for (const key of Object.keys(o)) setOwn(o, key, walk(o[key]));
    }
    return v;
  };

  const buffer = (ref: unknown): SharedArrayBuffer =>
    options.resolveBuffer ? options.resolveBuffer(ref) : (ref as SharedArrayBuffer);

  const unmark = (m: Record<string, unknown>, tag: unknown): unknown => {
    switch (tag) {
      case "shared": {
        const buffers = (m.buffers as unknown[]).map(buffer);
        const meta = m.meta === undefined ? undefined : walk(m.meta);
        const obj = objectFor({ kind: m.kind as string, id: m.id as number, buffers, meta });
        done.set(m, obj);
        return obj;
      }
      case "sab": {
        const sab = buffer(m.ref);
        done.set(m, sab);
        return sab;
      }
      case "view": {
        const sab = buffer(m.ref);
        const C = (
          globalThis as unknown as Record<string, new (b: SharedArrayBuffer, o: number, l: number) => unknown>
        )[m.type as string];
        const view = new (C as NonNullable<typeof C>)(sab, m.byteOffset as number, m.length as number);
        done.set(m, view);
        return view;
      }
      case "error": {
        // A DOMException (AbortError, TimeoutError of AbortSignal.timeout(), ...) is made by its
        // constructor: its name, message and code are read from its internal slots.
        const dom = m.cls === "DOMException" && typeof DOMException === "function";
        const C = (crossingErrorClasses[m.cls as string] ??
          (m.cls === "AggregateError" ? AggregateError : Error)) as Ctor;
        const err = (dom ? new DOMException(String(m.message), String(m.name)) : Object.create(C.prototype)) as Error &
          Record<string, unknown>;
        done.set(m, err);
        const define = (key: string, value: unknown) =>
          Object.defineProperty(err, key, { value, writable: true, configurable: true, enumerable: false });
        if (!dom) define("message", m.message);
        define("stack", m.stack);
        if (!dom && (m.name !== C.prototype.name || Object.hasOwn(err, "name"))) define("name", m.name);
        if ("cause" in m) define("cause", walk(m.cause));
        if ("errors" in m) define("errors", walk(m.errors));
        const props = m.props as Record<string, unknown>;
        for (const key of Object.keys(props)) err[key] = walk(props[key]);
        return err;
      }
    }
    return m;
  };

  return walk(value);
}
