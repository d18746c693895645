/**
 * Executor: what ThreadPoolExecutor and RedisExecutor (distributed/) have in common, as Python's
 * `concurrent.futures.Executor`. It holds the one declaration of the overloads of `submit()`,
 * `map()` and `mapAsync()` (how TypeScript checks a target against its arguments); each executor
 * implements the calls behind them.
 */
import type { ModuleTarget, Target } from "../transport/target.js";
import type { Future } from "./future.js";

/**
 * A function target when the result type `R` is given explicitly (`submit<number>(fn, ...)`): it
 * must return `R` (or a promise of it). `R` is never inferred here (NoInfer, default never), so
 * without an explicit `R` this form does not apply and the checked form's error is reported.
 */
// biome-ignore lint/suspicious/noExplicitAny: with R given, the parameters are not checked
export type ExplicitResult<R> = (...args: any[]) => NoInfer<R> | PromiseLike<NoInfer<R>>;

/** The calls every executor takes; `O` is its options of `map()`. */
export abstract class Executor<O> {
  /**
   * Schedules `fn(...args)` and returns its Future at once. A function target is sent as source
   * (no closures; pass what it needs in args); `{ module, export }` runs that module's export.
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>>;
  submit<R = unknown>(fn: ModuleTarget, ...args: unknown[]): Future<R>;
  /** With the result type given (`submit<number>(fn, 1, 2)`): `fn` must return it; args are not checked. */
  submit<R = never>(fn: ExplicitResult<R>, ...args: unknown[]): Future<R>;
  submit(fn: Target, ...args: unknown[]): Future<unknown> {
    return this.submitCall(fn, args);
  }

  /**
   * `fn(item)` for every item; returns an iterator over the results in order. Every call is
   * submitted now; each next() blocks until that result is ready. `timeout` (seconds) counts from
   * this call. Leaving the loop early cancels the calls not yet started.
   */
  map<T, R>(fn: (item: T) => R, iterable: Iterable<T>, options?: O): IterableIterator<Awaited<R>>;
  map<R = unknown>(fn: ModuleTarget, iterable: Iterable<unknown>, options?: O): IterableIterator<R>;
  /** With the result type given (`map<number>(fn, items)`): `fn` must return it. */
  map<R = never>(fn: ExplicitResult<R>, iterable: Iterable<unknown>, options?: O): IterableIterator<R>;
  map(fn: Target, iterable: Iterable<unknown>, options?: O): IterableIterator<unknown> {
    return this.mapCalls(fn, iterable, options);
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
  mapAsync<R = unknown>(
    fn: ModuleTarget,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options?: O,
  ): AsyncIterableIterator<R>;
  mapAsync<R = never>(
    fn: ExplicitResult<R>,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options?: O,
  ): AsyncIterableIterator<R>;
  mapAsync(
    fn: Target,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options?: O,
  ): AsyncIterableIterator<unknown> {
    return this.mapCallsAsync(fn, iterable, options);
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
