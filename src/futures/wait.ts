/**
 * Waiting for many futures: `asCompleted` / `asCompletedAsync` (each Future as it finishes) and
 * `wait` / `waitAsync` (until the first, the first failure, or all), as Python's concurrent.futures.
 *
 * Both forms yield the Future objects themselves. A Future is thenable, so an async generator's
 * `yield` would unwrap it into its result: the async iterator here is written by hand.
 */
import { TimeoutError } from "../errors.js";
import { afterMs, checkOptions, deadlineOf, remaining, secondsMs, type Timeout, timeoutMs } from "../shared/wait.js";
import { blockOn, Future, type FutureLink, internals, linksOf } from "./future.js";
import { oneAtATime } from "./map.js";

/** `returnWhen` of wait(): return when any future finishes or is cancelled. */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/** `returnWhen` of wait(): return when any future fails, else when all are done. */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/** `returnWhen` of wait() (the default): return when all futures are done. */
export const ALL_COMPLETED = "ALL_COMPLETED";

/** Options of `wait()` / `waitAsync()`. */
export interface WaitOptions {
  /** Seconds (default forever); when it passes, wait() returns what is done by then. */
  timeout?: number | null | undefined;
  /** When to return: FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED (the default). */
  returnWhen?: typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED | undefined;
}

function futuresOf<T>(fs: Iterable<Future<T>>, what: string): Future<T>[] {
  if (fs === null || fs === undefined || typeof (fs as Iterable<Future<T>>)[Symbol.iterator] !== "function") {
    throw new TypeError(`${what}: fs must be an iterable of Futures`);
  }
  // Each future once (as Python's set(fs)), in their order; marked with this call's stamp rather
  // than put in a Set (all of them are taken first: the iterable is user code).
  const all = [...fs];
  const stamp = ++stamps;
  const unique: Future<T>[] = [];
  for (const f of all) {
    if (!(f instanceof Future)) throw new TypeError(`${what}: ${String(f)} is not a Future`);
    if (internals.stamp(f as Future<unknown>, stamp)) unique.push(f);
  }
  return unique;
}

let stamps = 0;

class Completion<T> {
  readonly fs: Future<T>[];
  readonly ready: Future<T>[] = [];
  readonly links: Set<FutureLink>;
  readonly deadline: number;
  yielded = 0;
  listener: (() => void) | undefined;

  constructor(fs: Iterable<Future<T>>, timeout: Timeout | undefined, what: string) {
    this.deadline = deadlineOf(timeoutMs(timeout, what));
    this.fs = futuresOf(fs, what);
    // Takes what the executors have posted, so futures already finished count as such.
    this.links = linksOf(this.fs as Future<unknown>[]);
    for (const l of this.links) l.poll();
    const settled = (f: Future<unknown>): void => {
      this.ready.push(f as Future<T>);
      this.listener?.();
    };
    for (const f of this.fs) internals.onSettle(f as Future<unknown>, settled);
  }

  timeout(): TimeoutError {
    return new TimeoutError(`${this.fs.length - this.yielded} (of ${this.fs.length}) futures unfinished`);
  }
}

/**
 * Yields the futures of `fs` as they finish (or are cancelled), those already done first; next()
 * blocks. When `timeout` seconds (counted from this call) pass first, next() throws
 * TimeoutError("N (of M) futures unfinished").
 */
export function asCompleted<F extends Future<unknown>>(fs: Iterable<F>, timeout?: Timeout): IterableIterator<F>;
export function asCompleted(fs: Iterable<Future<unknown>>, timeout?: Timeout): IterableIterator<Future<unknown>> {
  type T = unknown;
  const c = new Completion(fs, timeout, "asCompleted()");
  const links = c.links;
  const it: IterableIterator<Future<T>> = {
    next(): IteratorResult<Future<T>> {
      if (c.yielded === c.fs.length) return { done: true, value: undefined };
      if (c.ready.length === 0 && !blockOn(links, () => c.ready.length > 0, c.deadline, "asCompleted()")) {
        throw c.timeout();
      }
      c.yielded++;
      return { done: false, value: c.ready.shift() as Future<T> };
    },
    return(): IteratorResult<Future<T>> {
      c.yielded = c.fs.length;
      return { done: true, value: undefined };
    },
    [Symbol.iterator]() {
      return it;
    },
  };
  return it;
}

/**
 * A Future as `asCompletedAsync()` yields it: the very Future (`F`), typed so that TypeScript's
 * `for await`, which types every value as awaited (a Future is thenable), gives the Future and not
 * its result. Its `then` is typed `never`: read the outcome with `result()`, `exception()` or
 * `resultAsync()`. A `CompletedFuture<F>` is assignable wherever an `F` is expected.
 */
export type CompletedFuture<F> = F & { readonly then: never };

/**
 * What `asCompletedAsync()` returns: an `AsyncIterableIterator<F>` (its `next()` gives the futures
 * typed as given, so `await (await it.next()).value` is the result's type) whose iteration with
 * `for await` types them as {@link CompletedFuture} (`f.result()` type-checks in the loop). At run
 * time both are the very Future objects.
 */
export interface AsCompletedAsyncIterator<F> extends AsyncIterator<F, undefined> {
  /** `for await` reads the futures through this: typed as CompletedFuture<F>, the same objects. */
  [Symbol.asyncIterator](): AsyncIterableIterator<CompletedFuture<F>>;
}

/**
 * The async twin of `asCompleted()`: `for await (const f of asCompletedAsync(fs))` gives the
 * Futures themselves (typed as `CompletedFuture<F>`, so `f.result()` type-checks in the loop).
 */
export function asCompletedAsync<F extends Future<unknown>>(
  fs: Iterable<F>,
  timeout?: Timeout,
): AsCompletedAsyncIterator<F>;
export function asCompletedAsync(
  fs: Iterable<Future<unknown>>,
  timeout?: Timeout,
): AsCompletedAsyncIterator<Future<unknown>> {
  type T = unknown;
  let c: Completion<T> | undefined;
  let failure: unknown;
  try {
    c = new Completion(fs, timeout, "asCompletedAsync()");
  } catch (e) {
    failure = e;
  }
  const it: AsyncIterableIterator<Future<T>, undefined> = {
    // (one call at a time, as an async generator's: a pending call's wake-up is the one listener)
    next: oneAtATime(async (): Promise<IteratorResult<Future<T>>> => {
      if (c === undefined) {
        const e = failure;
        failure = undefined;
        if (e !== undefined) throw e;
        return { done: true, value: undefined };
      }
      const cc = c;
      if (cc.yielded === cc.fs.length) return { done: true, value: undefined };
      if (cc.ready.length === 0) {
        await new Promise<void>((resolve, reject) => {
          const left = remaining(cc.deadline);
          const cancel =
            left === Number.POSITIVE_INFINITY
              ? undefined
              : afterMs(left, () => {
                  cc.listener = undefined;
                  reject(cc.timeout());
                });
          cc.listener = () => {
            cc.listener = undefined;
            cancel?.();
            resolve();
          };
        });
      }
      cc.yielded++;
      // An object with a Future in `value`: returned from an async function it is not unwrapped.
      return { done: false, value: cc.ready.shift() as Future<T> };
    }),
    async return(): Promise<IteratorResult<Future<T>>> {
      if (c) c.yielded = c.fs.length;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it as AsCompletedAsyncIterator<Future<T>>;
}

class Waiting<T> {
  readonly fs: Future<T>[];
  readonly deadline: number;
  readonly when: string;
  readonly links: Set<FutureLink>;
  settled = 0;
  failed = 0;
  listener: (() => void) | undefined;

  constructor(fs: Iterable<Future<T>>, options: WaitOptions | number | null, what: string) {
    // Python's positional timeout, wait(fs, 5), as well as the options object.
    if (typeof options === "number" || options === null) options = { timeout: options };
    if (typeof options !== "object") throw new TypeError(`${what}: options must be an object`);
    checkOptions(options, ["timeout", "returnWhen"], what);
    const when = options.returnWhen ?? ALL_COMPLETED;
    if (when !== FIRST_COMPLETED && when !== FIRST_EXCEPTION && when !== ALL_COMPLETED) {
      throw new RangeError(`${what}: Invalid return condition: ${String(when)}`);
    }
    this.when = when;
    this.deadline = deadlineOf(secondsMs(options.timeout, what));
    this.fs = futuresOf(fs, what);
    this.links = linksOf(this.fs as Future<unknown>[]);
    for (const l of this.links) l.poll();
    const settled = (f: Future<unknown>): void => {
      this.settled++;
      if (internals.isFailed(f)) this.failed++;
      this.listener?.();
    };
    for (const f of this.fs) internals.onSettle(f as Future<unknown>, settled);
  }

  met(): boolean {
    if (this.settled === this.fs.length) return true;
    if (this.when === FIRST_COMPLETED) return this.settled > 0;
    if (this.when === FIRST_EXCEPTION) return this.failed > 0;
    return false;
  }

  result(): { done: Set<Future<T>>; notDone: Set<Future<T>> } {
    const done = new Set<Future<T>>();
    const notDone = new Set<Future<T>>();
    for (const f of this.fs) (f.done() ? done : notDone).add(f);
    return { done, notDone };
  }
}

/**
 * Blocks until the futures meet `returnWhen` (default ALL_COMPLETED; FIRST_COMPLETED,
 * FIRST_EXCEPTION) or `timeout` seconds pass; returns `{ done, notDone }` (no error on timeout).
 */
export function wait<F extends Future<unknown>>(
  fs: Iterable<F>,
  options?: WaitOptions | number | null,
): { done: Set<F>; notDone: Set<F> };
export function wait(
  fs: Iterable<Future<unknown>>,
  options: WaitOptions | number | null = {},
): { done: Set<Future<unknown>>; notDone: Set<Future<unknown>> } {
  const w = new Waiting(fs, options, "wait()");
  if (!w.met()) blockOn(w.links, () => w.met(), w.deadline, "wait()");
  return w.result();
}

/** The async twin of `wait()`. */
export async function waitAsync<F extends Future<unknown>>(
  fs: Iterable<F>,
  options?: WaitOptions | number | null,
): Promise<{ done: Set<F>; notDone: Set<F> }>;
export async function waitAsync(
  fs: Iterable<Future<unknown>>,
  options: WaitOptions | number | null = {},
): Promise<{ done: Set<Future<unknown>>; notDone: Set<Future<unknown>> }> {
  const w = new Waiting(fs, options, "waitAsync()");
  if (!w.met()) {
    await new Promise<void>((resolve) => {
      const left = remaining(w.deadline);
      const cancel = left === Number.POSITIVE_INFINITY ? undefined : afterMs(left, resolve);
      w.listener = () => {
        if (!w.met()) return;
        w.listener = undefined;
        cancel?.();
        resolve();
      };
    });
  }
  return w.result();
}
