/**
 * map() and mapAsync() of the executors: how items are grouped into tasks (Groups: every
 * ThreadPoolExecutor submission loop goes through it, so a chunk is formed one way), and the results
 * side shared by ThreadPoolExecutor and RedisExecutor: `results()` for map(), `MapFeed` for
 * mapAsync(). Both hand out results in order within the timeout and, on a failure, a timeout or an
 * early exit from the loop, cancel the tasks not yet started, the one waited for included (CPython's
 * `_result_or_cancel`).
 */
import { TimeoutError } from "../errors.js";
import { remaining } from "../shared/wait.js";
import type { Future } from "./future.js";

type R = unknown;

/**
 * `next` made to run one call at a time, each after the last has settled, as an async generator
 * queues its next() calls: the async iterators here keep one wake-up and one position, which a
 * second call made while the first waits would take over (the first then waited for ever).
 */
export function oneAtATime<V>(next: () => Promise<V>): () => Promise<V> {
  let last: Promise<unknown> = Promise.resolve();
  return () => {
    const p = last.then(next);
    last = p.then(
      () => {},
      () => {},
    );
    return p;
  };
}

/**
 * What a map() chunk's future fails with when one of its calls failed (protocol.ts PARTIAL): the
 * results of the calls before it, which map() hands out before it raises `error`, as CPython's
 * ThreadPoolExecutor.map() (chunksize has no effect there) yields every result before the failed
 * call's. Only map()'s own chunk futures hold one; no user sees it.
 */
export class PartialChunk {
  constructor(
    readonly results: unknown[],
    readonly error: unknown,
  ) {}
}

/**
 * One call's arguments from several iterables zipped (Python's `map(fn, xs, ys)` calls
 * `fn(x, y)`): an item of the iterable that `zipIterables()` / `zipAsyncIterables()` yield, which
 * the executors turn into the call's arguments (callArgsOf) rather than a single argument.
 */
export class ZippedArgs {
  constructor(readonly args: unknown[]) {}
}

/** A map() item's call arguments: `[item]`, or a zipped item's arguments. */
export function callArgsOf(item: unknown): unknown[] {
  return item instanceof ZippedArgs ? item.args : [item];
}

/** Whether `v` is a sync iterable (strings included, as Python zips them). */
export function isIterable(v: unknown): v is Iterable<unknown> {
  return (
    typeof v === "string" ||
    (v !== null && typeof v === "object" && typeof (v as Iterable<unknown>)[Symbol.iterator] === "function")
  );
}

/** Whether `v` is an async iterable (and not a sync one). */
export function isAsyncOnly(v: unknown): v is AsyncIterable<unknown> {
  return (
    v !== null &&
    typeof v === "object" &&
    typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function" &&
    !isIterable(v)
  );
}

/**
 * Python's `zip(*iterables)` as map() takes several iterables: ZippedArgs up to the shortest. A
 * value that is not iterable is a TypeError naming its place (`iterables[1]`).
 */
export function* zipIterables(iterables: unknown[], what: string): Generator<ZippedArgs> {
  const its = iterables.map((v, i) => {
    if (!isIterable(v)) throw new TypeError(`${what}: iterables[${i}] is not iterable`);
    return v[Symbol.iterator]();
  });
  try {
    for (;;) {
      const args: unknown[] = [];
      for (const it of its) {
        const r = it.next();
        if (r.done) return;
        args.push(r.value);
      }
      yield new ZippedArgs(args);
    }
  } finally {
    for (const it of its) it.return?.();
  }
}

/** zipIterables() where some are async iterables (mapAsync()): each next() awaits them in order. */
export async function* zipAsyncIterables(iterables: unknown[], what: string): AsyncGenerator<ZippedArgs> {
  const its = iterables.map((v, i): Iterator<unknown> | AsyncIterator<unknown> => {
    if (isIterable(v)) return v[Symbol.iterator]();
    if (isAsyncOnly(v)) return v[Symbol.asyncIterator]();
    throw new TypeError(`${what}: iterables[${i}] is not iterable`);
  });
  try {
    for (;;) {
      const args: unknown[] = [];
      for (const it of its) {
        const r = await it.next();
        if (r.done) return;
        args.push(r.value);
      }
      yield new ZippedArgs(args);
    }
  } finally {
    for (const it of its) await it.return?.();
  }
}

/**
 * Groups map() items into tasks: with chunksize 1 every item is a call, `[item]` (its arguments;
 * a ZippedArgs item's are its own); with a larger chunksize, `size` calls make one CHUNK task,
 * `[[item], [item], ...]`.
 */
export class Groups {
  readonly #size: number;
  #chunk: unknown[][] = [];
  /** Items added so far. */
  added = 0;
  /** The position of the first item of the group add() or rest() returned last. */
  start = 0;

  constructor(size: number) {
    this.#size = size;
  }

  /** The task that `item` completes, if it completes one. */
  add(item: unknown): unknown[] | undefined {
    this.added++;
    if (this.#size === 1) {
      this.start = this.added - 1;
      return callArgsOf(item);
    }
    this.#chunk.push(callArgsOf(item));
    if (this.#chunk.length < this.#size) return undefined;
    return this.rest();
  }

  /** The last chunk, shorter than chunksize, if items are left. */
  rest(): unknown[] | undefined {
    if (this.#chunk.length === 0) return undefined;
    const chunk = this.#chunk;
    this.#chunk = [];
    this.start = this.added - chunk.length;
    return chunk;
  }
}

/**
 * The results of map()'s tasks `fs`, in order: each next() blocks until that result is ready (a
 * chunk's results are handed out one by one), within `deadline`. Leaving the loop early, or a
 * failure, cancels the tasks not yet started, the one whose wait failed included (CPython's
 * `_result_or_cancel`). `what` names the call in the TimeoutError ("ThreadPoolExecutor.map()").
 * Any executor's futures: ThreadPoolExecutor's and RedisExecutor's map() both end here.
 */
export function results(fs: Future<unknown>[], deadline: number, chunked: boolean, what: string): IterableIterator<R> {
  let i = 0;
  let buffered: unknown[] = [];
  let b = 0;
  let closed = false;
  // A chunk failed part-way: its results before the failed call are buffered, then this is thrown.
  let failed: { error: unknown } | undefined;
  const cancelRest = (): void => {
    closed = true;
    for (let j = i; j < fs.length; j++) (fs[j] as Future<unknown>).cancel();
  };
  const it: IterableIterator<R> = {
    next(): IteratorResult<R> {
      if (closed) return { done: true, value: undefined };
      if (b < buffered.length) return { done: false, value: buffered[b++] as R };
      if (failed !== undefined) {
        closed = true;
        throw failed.error;
      }
      if (i >= fs.length) {
        closed = true;
        return { done: true, value: undefined };
      }
      const f = fs[i++] as Future<unknown>;
      try {
        const left = remaining(deadline);
        const v = deadline === Number.POSITIVE_INFINITY ? f.result() : f.result(left / 1000);
        if (!chunked) return { done: false, value: v as R };
        buffered = v as unknown[];
        b = 0;
        return it.next();
      } catch (e) {
        // CPython's _result_or_cancel: the future whose wait failed is cancelled too (if not started).
        f.cancel();
        cancelRest();
        if (e instanceof PartialChunk) {
          closed = false; // (the results before the failed call are still to come)
          buffered = e.results;
          b = 0;
          failed = { error: e.error };
          return it.next();
        }
        if (e instanceof TimeoutError) throw new TimeoutError(`${what}: timed out`);
        throw e;
      }
    },
    return(value?: unknown): IteratorResult<R> {
      cancelRest();
      return { done: true, value: value as R };
    },
    [Symbol.iterator]() {
      return it;
    },
  };
  return it;
}

/**
 * mapAsync()'s two sides: the executor submits the tasks (all at once, or a pump that submits as
 * an async source yields: `push()` each future, `end()` once the source is exhausted or failed),
 * and `results()` hands out their results in order. Closing the results (a failure, a timeout,
 * leaving the loop early) sets `closed`, which tells the pump to stop, and ends the source.
 */
export class MapFeed {
  readonly fs: Future<unknown>[];
  /** The results are closed: the pump submits nothing more. */
  closed = false;
  #sourceDone = true;
  #sourceError: { error: unknown } | undefined;
  #source: AsyncIterator<unknown> | undefined;
  #wake: (() => void) | undefined;

  /** `fs`: the futures submitted already. */
  constructor(fs: Future<unknown>[] = []) {
    this.fs = fs;
  }

  /** A pump will submit the items of `source` (and end() when it is done). */
  feeding(source: AsyncIterator<unknown>): void {
    this.#sourceDone = false;
    this.#source = source;
  }

  /** A future the pump submitted. */
  push(f: Future<unknown>): void {
    this.fs.push(f);
    this.#wake?.();
  }

  /** The pump is done: the source is exhausted, or it (or a submission) failed with `error`. */
  end(error?: { error: unknown }): void {
    this.#sourceDone = true;
    this.#sourceError = error;
    this.#wake?.();
  }

  /**
   * The results in order: each next() waits for its result (a chunk's results are handed out one
   * by one), within `deadline`, or for the pump to submit more. `failure`: what setting up the map
   * threw, thrown by the first next(). Leaving the loop early, or a failure, cancels the tasks not
   * yet started, the one whose wait failed included (CPython's `_result_or_cancel`), and ends the
   * source. `what` names the call in the TimeoutError ("RedisExecutor.mapAsync()").
   */
  results(deadline: number, chunked: boolean, what: string, failure?: { error: unknown }): AsyncIterableIterator<R> {
    const fs = this.fs;
    let i = 0;
    let buffered: unknown[] = [];
    let b = 0;
    // A chunk failed part-way: its results before the failed call are buffered, then this is thrown.
    let failed: { error: unknown } | undefined;
    const cancelRest = (): void => {
      this.closed = true;
      for (let j = i; j < fs.length; j++) (fs[j] as Future<unknown>).cancel();
      if (!this.#sourceDone) void this.#source?.return?.();
      this.#wake?.();
    };
    const step = async (): Promise<IteratorResult<R>> => {
      if (failure !== undefined) {
        const e = failure.error;
        failure = undefined;
        this.closed = true;
        throw e;
      }
      for (;;) {
        if (failed !== undefined) {
          // (closed already: the rest was cancelled when the chunk's failure came)
          if (b < buffered.length) return { done: false, value: buffered[b++] as R };
          const e = failed.error;
          failed = undefined;
          throw e;
        }
        if (this.closed) return { done: true, value: undefined };
        if (b < buffered.length) return { done: false, value: buffered[b++] as R };
        if (i < fs.length) break;
        if (this.#sourceDone) {
          this.closed = true;
          if (this.#sourceError) throw this.#sourceError.error;
          return { done: true, value: undefined };
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
      }
      const f = fs[i++] as Future<unknown>;
      try {
        const v =
          deadline === Number.POSITIVE_INFINITY
            ? await f.resultAsync()
            : await f.resultAsync(remaining(deadline) / 1000);
        if (!chunked) return { done: false, value: v as R };
        buffered = v as unknown[];
        b = 0;
        return step();
      } catch (e) {
        f.cancel(); // as in map()
        cancelRest();
        if (e instanceof PartialChunk) {
          buffered = e.results;
          b = 0;
          failed = { error: e.error };
          return step();
        }
        if (e instanceof TimeoutError) throw new TimeoutError(`${what}: timed out`);
        throw e;
      }
    };
    const it: AsyncIterableIterator<R> = {
      // (one call at a time: `step` keeps one wake-up and one position)
      next: oneAtATime(step),
      return: async (value?: unknown): Promise<IteratorResult<R>> => {
        failed = undefined;
        cancelRest();
        return { done: true, value: value as R };
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }
}
