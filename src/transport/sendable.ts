/**
 * `Sendable<T>`: what of `T` can cross into another thread, at compile time. A function target's
 * arguments are checked against `Sendable` of its parameter types, so a parameter that promises
 * something the thread cannot get is refused where the call is written:
 *  - a function (or a symbol) cannot be sent at all (a TypeError at run time);
 *  - an object with methods (an instance of a user class) arrives without them: a parameter typed
 *    with methods cannot be satisfied; type it by the data it uses (`(p: { name: string }) => ...`
 *    takes a `Person`, whose fields cross);
 *  - shared objects (`Lock`, the queues, `Thread`, ...), built-in data (Date, RegExp, Error,
 *    ArrayBuffers and typed arrays, MessagePort), and Maps, Sets, arrays and plain objects of
 *    these cross as they are.
 * The refused part reads, in the compiler's message, "a function cannot be sent to another
 * thread". `any`, `unknown` and type parameters (generic code) are not checked: each test below is
 * written so that TypeScript, relating a type parameter to it, sees a branch it may skip.
 */
import type { MessagePort } from "node:worker_threads";
import type { kShare } from "./shareable.js";

type Primitive = string | number | bigint | boolean | null | undefined | void;
type Builtin =
  | Date
  | RegExp
  | ArrayBufferLike
  | ArrayBufferView
  | Error
  | MessagePort
  | ReadonlyMap<unknown, unknown>
  | ReadonlySet<unknown>;
type SharedObject = { [kShare](): unknown };
type NotSendable = "a function cannot be sent to another thread";

/**
 * What of `T` can cross into another thread (see the module comment). Maps and Sets pass as they
 * are (their contents are not looked into); a function with properties is checked as an object.
 */
export type Sendable<T> = [T] extends [Primitive | SharedObject | Builtin]
  ? T
  : [keyof T] extends [never]
    ? // No keys: a function type, `{}` or `never`.
      [T] extends [Function]
      ? NotSendable
      : T
    : // An object is sent field by field, unless the argument is a shared object (a `local`
      // subclass keeps its methods in every thread), which may then have methods.
      { [K in keyof T]: Sendable<T[K]> } | (T & SharedObject);

/** `Sendable` of each element of an argument list. */
export type SendableArgs<A extends unknown[]> = { [K in keyof A]: Sendable<A[K]> };
