/**
 * Executor: what ThreadPoolExecutor and RedisExecutor (distributed/) have in common, as Python's
 * `concurrent.futures.Executor`. It holds the one declaration of the overloads of `submit()`,
 * `map()` and `mapAsync()` (how TypeScript checks a target against its arguments); each executor
 * implements the calls behind them.
 */
import { kStaysHome } from "../transport/shareable.js";
import type { ModuleTarget, Target } from "../transport/target.js";
import type { Future } from "./future.js";
import { isAsyncOnly, isIterable, zipAsyncIterables, zipIterables } from "./map.js";

/**
 * One iterable per parameter of `fn` (`map(fn, xs, ys)` calls `fn(x, y)`, as Python's
 * `Executor.map(fn, *iterables)`): `Iterable<A[i]>` for each parameter type `A[i]`.
 */
export type IterablesOf<A extends unknown[]> = { [K in keyof A]: Iterable<A[K]> };

/** `IterablesOf` for mapAsync(): each may be an async iterable too. */
export type AsyncIterablesOf<A extends unknown[]> = { [K in keyof A]: Iterable<A[K]> | AsyncIterable<A[K]> };

/**
 * map()'s arguments after `fn`: the iterables, then the options if the last is not iterable. One
 * iterable is passed on as is; several are zipped (Python's `zip(*iterables)`) into ZippedArgs.
 */
function splitMapArgs<O>(
  rest: unknown[],
  what: string,
  async: boolean,
): { iterable: Iterable<unknown> | AsyncIterable<unknown>; options: O | undefined } {
  let options: O | undefined;
  let n = rest.length;
  const last = rest[n - 1];
  // (an async iterable is never the options, also for map(), which then says to use mapAsync())
  if (n > 1 && (last === undefined || !(isIterable(last) || isAsyncOnly(last)))) {
    options = last as O | undefined;
    n--;
  }
  if (n <= 1) return { iterable: rest[0] as Iterable<unknown>, options };
  const iterables = rest.slice(0, n);
  // Checked now, as the single iterable is, so nothing is submitted when one is not iterable.
  iterables.forEach((v, i) => {
    if (!async && isAsyncOnly(v)) {
      throw new TypeError(`${what}: iterables[${i}] is async iterable only: use mapAsync()`);
    }
    if (!isIterable(v) && !isAsyncOnly(v)) throw new TypeError(`${what}: iterables[${i}] is not iterable`);
  });
  const iterable = iterables.some(isAsyncOnly) ? zipAsyncIterables(iterables, what) : zipIterables(iterables, what);
  return { iterable, options };
}

/**
 * A function target when the result type `R` is given explicitly (`submit<number>(fn, ...)`): it
 * must return `R` (or a promise of it). `R` is never inferred here (NoInfer, default never), so
 * without an explicit `R` this form does not apply and the checked form's error is reported.
 */
// biome-ignore lint/suspicious/noExplicitAny: with R given, the parameters are not checked
export type ExplicitResult<R> = (...args: any[]) => NoInfer<R> | PromiseLike<NoInfer<R>>;

/**
 * A value typed as a whole `Target` (a function or `{ module, export }`, e.g. a helper's
 * parameter, as API.md's `map<R>(fn: Target, ...)` takes it); a value typed as a function is
 * refused here (`never`), so the error to read is its own overload's.
 */
// biome-ignore lint/suspicious/noExplicitAny: any function type
export type AnyTarget<F> = [F] extends [(...args: any[]) => unknown] ? never : F;

/**
 * The last overload of `submit()` (and `submitWith()`...): with the result type `R` given and `F`
 * not, an {@link ExplicitResult}; without type arguments, `F` is inferred from the argument and
 * a value typed `Target` is accepted ({@link AnyTarget}), its result `unknown`.
 */
export type ExplicitTarget<R, F> = [F] extends [never] ? ExplicitResult<R> : AnyTarget<F>;

/**
 * The last overload of `map()` / `mapAsync()`: with the result type `R` given, any `Target`, as
 * API.md's `map<R>(fn: Target, ...)` (a function's return is not checked against `R`); without
 * type arguments, a value typed `Target` ({@link AnyTarget}), its results `unknown`.
 */
export type MapTarget<R, F> = [F] extends [never] ? ([R] extends [never] ? never : Target) : AnyTarget<F>;

/** `R` when given, else `unknown` (the result of a value typed `Target`). */
export type ResultOf<R> = [R] extends [never] ? unknown : R;

/** The calls every executor takes; `O` is its options of `map()`. */
export abstract class Executor<O> {
  static {
    // An executor cannot be sent to another thread (its pool answers to this one): a TypeError saying so.
    Object.defineProperty(Executor.prototype, kStaysHome, {
      value:
        "an executor belongs to the thread that made it: submit from this thread, or make an executor in the other one",
    });
  }

  /**
   * Schedules `fn(...args)` and returns its Future at once. A function target is sent as source
   * (no closures; pass what it needs in args); `{ module, export }` runs that module's export.
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>>;
  submit<R = unknown>(fn: ModuleTarget, ...args: unknown[]): Future<R>;
  /**
   * With the result type given (`submit<number>(fn, 1, 2)`): `fn` must return it; args are not
   * checked. A value typed `Target`: `Future<unknown>` (`submit<number, Target>(t)` for a Future<number>).
   */
  submit<R = never, F extends Target = never>(fn: ExplicitTarget<R, F>, ...args: unknown[]): Future<ResultOf<R>>;
  submit(fn: Target, ...args: unknown[]): Future<unknown> {
    return this.submitCall(fn, args);
  }

  /**
   * `fn(item)` for every item; returns an iterator over the results in order. Every call is
   * submitted now; each next() blocks until that result is ready. `timeout` (seconds) counts from
   * this call. Leaving the loop early cancels the calls not yet started.
   */
  map<T, R>(fn: (item: T) => R, iterable: Iterable<T>, options?: O): IterableIterator<Awaited<R>>;
  /**
   * Several iterables, as Python's `map(fn, *iterables)`: `map(fn, xs, ys)` calls `fn(x, y)` for
   * each pair, up to the shortest iterable; the options, if any, go last.
   */
  map<A extends unknown[], R>(fn: (...args: A) => R, ...iterables: IterablesOf<A>): IterableIterator<Awaited<R>>;
  /** Several iterables and the options, last. */
  map<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...iterablesAndOptions: [...IterablesOf<A>, O]
  ): IterableIterator<Awaited<R>>;
  map<R = unknown>(fn: ModuleTarget, iterable: Iterable<unknown>, options?: O): IterableIterator<R>;
  /** A module target over several iterables (the options, if any, last). */
  map<R = unknown>(fn: ModuleTarget, ...iterablesAndOptions: unknown[]): IterableIterator<R>;
  /**
   * With the result type given (`map<number>(fn, items)`), any target, as API.md's `map<R>(fn:
   * Target, ...)`; a value typed `Target` without it: results `unknown`.
   */
  map<R = never, F extends Target = never>(
    fn: MapTarget<R, F>,
    iterable: Iterable<unknown>,
    options?: O,
  ): IterableIterator<ResultOf<R>>;
  map(fn: Target, ...rest: unknown[]): IterableIterator<unknown> {
    const { iterable, options } = splitMapArgs<O>(rest, `${this.constructor.name}.map()`, false);
    return this.mapCalls(fn, iterable as Iterable<unknown>, options);
  }

  /**
   * The async twin of `map()`: a plain iterable is submitted at once, an async iterable as it
   * yields; results come in order.
   */
  mapAsync<T, R>(
    fn: (item: T) => R,
    iterable: Iterable<T> | AsyncIterable<T>,
    options?: O,
  ): AsyncIterableIterator<Awaited<R>>;
  /** Several iterables (each may be async), as map(); the options, if any, last. */
  mapAsync<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...iterables: AsyncIterablesOf<A>
  ): AsyncIterableIterator<Awaited<R>>;
  /** Several iterables and the options, last. */
  mapAsync<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...iterablesAndOptions: [...AsyncIterablesOf<A>, O]
  ): AsyncIterableIterator<Awaited<R>>;
  mapAsync<R = unknown>(
    fn: ModuleTarget,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options?: O,
  ): AsyncIterableIterator<R>;
  /** A module target over several iterables (the options, if any, last). */
  mapAsync<R = unknown>(fn: ModuleTarget, ...iterablesAndOptions: unknown[]): AsyncIterableIterator<R>;
  /** With the result type given, any target; a value typed `Target` without it: as map(). */
  mapAsync<R = never, F extends Target = never>(
    fn: MapTarget<R, F>,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options?: O,
  ): AsyncIterableIterator<ResultOf<R>>;
  mapAsync(fn: Target, ...rest: unknown[]): AsyncIterableIterator<unknown> {
    let split: { iterable: Iterable<unknown> | AsyncIterable<unknown>; options: O | undefined };
    try {
      split = splitMapArgs<O>(rest, `${this.constructor.name}.mapAsync()`, true);
    } catch (error) {
      // ...Async calls never throw: the error comes from the first next().
      const failed: AsyncIterableIterator<unknown> = {
        next: () => Promise.reject(error),
        [Symbol.asyncIterator]: () => failed,
      };
      return failed;
    }
    return this.mapCallsAsync(fn, split.iterable, split.options);
  }

  /** @internal submit(): the executor's implementation. */
  protected abstract submitCall(fn: Target, args: unknown[]): Future<unknown>;
  /** @internal map(): the executor's implementation (`options` as given, possibly undefined). */
  protected abstract mapCalls(
    fn: Target,
    iterable: Iterable<unknown>,
    options: O | undefined,
  ): IterableIterator<unknown>;
  /** @internal mapAsync(): the executor's implementation (`options` as given, possibly undefined). */
  protected abstract mapCallsAsync(
    fn: Target,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options: O | undefined,
  ): AsyncIterableIterator<unknown>;
}
