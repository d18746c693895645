/**
 * The contract between the transport and the shared objects (Lock, Event, Queue, Thread, ...).
 *
 * A shared object describes itself with a {@link ShareRecord}: a kind, a process-wide id, the
 * shared buffers that hold its state, and immutable metadata. The transport sends the record
 * instead of the object; the receiving thread turns the record back into an object of that kind
 * with the reviver registered for it. Every thread keeps one object per id, so an object that
 * arrives twice, or comes back home, is the same object (`===`).
 *
 * A new primitive plugs in by implementing `[kShare]()` and calling `registerKind()`: the
 * transport itself never changes.
 */

import { nextObjectId } from "../shared/runtime.js";

/** A fresh process-wide id for a new shared object. */
export function newObjectId(): number {
  return nextObjectId();
}

/** The method a shared object implements to describe itself. */
export const kShare: unique symbol = Symbol.for("threading.share") as typeof kShare;

export interface ShareRecord {
  /** Which reviver rebuilds it, e.g. "Lock". */
  kind: string;
  /** Process-wide identity: one object per id in each thread. */
  id: number;
  /** The shared memory holding its state. */
  buffers: SharedArrayBuffer[];
  /** Immutable extra data; may itself hold values the transport carries (shared objects too). */
  meta?: unknown;
}

export interface Shareable {
  [kShare](): ShareRecord;
}

/**
 * What a `[kShare]()` throws when its object cannot be sent, saying why (a `local` subclass with
 * #private members): encode() turns it into a TypeError naming where the object sits. Any other
 * error of `[kShare]()` (a Proxy of a shared object, whose private fields are not there) is not a
 * refusal: encode() refuses that object as a Proxy.
 */
export class ShareRefused extends TypeError {}

export function isShareable(value: object): value is Shareable {
  return typeof (value as Partial<Shareable>)[kShare] === "function";
}

/**
 * The property of objects that belong to the thread that made them and cannot be sent to another
 * (a Future, an executor): its value says why and what to send instead. The transport refuses them
 * with a TypeError saying so, rather than sending a plain object without their state and methods
 * (which in a Thread subclass's field would even come back and replace the creator's object).
 */
export const kStaysHome: unique symbol = Symbol.for("threading.staysHome") as typeof kStaysHome;

/** Why `value` (an object) cannot leave its thread, or undefined if it may. */
export function staysHome(value: object): string | undefined {
  const why = (value as { [kStaysHome]?: unknown })[kStaysHome];
  return typeof why === "string" ? why : undefined;
}

type Reviver = (record: ShareRecord) => object;
const revivers = new Map<string, Reviver>();

/** Registers how records of `kind` become objects in a receiving thread. */
export function registerKind(kind: string, revive: Reviver): void {
  revivers.set(kind, revive);
}

const live = new Map<number, WeakRef<object>>();
const forget = new FinalizationRegistry<number>((id) => {
  const ref = live.get(id);
  if (ref !== undefined && ref.deref() === undefined) live.delete(id);
});

/** Records that `obj` is this thread's object for `id` (called by a shared object when it is made). */
export function remember(id: number, obj: object): void {
  live.set(id, new WeakRef(obj));
  forget.register(obj, id);
}

/** This thread's object for `id`, if it has one. */
export function lookup(id: number): object | undefined {
  return live.get(id)?.deref();
}

/** Every shared object this thread has sent or received and still holds (for the hang report). */
export function* knownObjects(): Generator<[number, object]> {
  for (const [id, ref] of live) {
    const obj = ref.deref();
    if (obj !== undefined) yield [id, obj];
  }
}

/** This thread's object for a record: the one it already has, or a new one from the reviver. */
export function objectFor(record: ShareRecord): object {
  const known = lookup(record.id);
  if (known !== undefined) return known;
  const revive = revivers.get(record.kind);
  if (revive === undefined) throw new TypeError(`threading: no shared object kind "${record.kind}" in this thread`);
  const obj = revive(record);
  remember(record.id, obj);
  return obj;
}

let pending: ShareRecord | undefined;

/**
 * Builds an object of class `C` around an existing record: the constructor calls
 * {@link adoptedRecord} and, when it gets one, attaches to that state instead of making new state.
 */
export function revive<T>(C: new () => T, record: ShareRecord): T {
  pending = record;
  try {
    return new C();
  } finally {
    pending = undefined;
  }
}

/** Inside a shared object's constructor: the record it is being revived from, if any. */
export function adoptedRecord(): ShareRecord | undefined {
  const r = pending;
  pending = undefined;
  return r;
}
