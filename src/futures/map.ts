/**
 * map() of the executors: how items are grouped into tasks (ThreadPoolExecutor), and the iterator over
 * the results (ThreadPoolExecutor and RedisExecutor).
 * Every map() and mapAsync() submission loop goes through Groups, so a chunk is formed one way.
 */
import { TimeoutError } from "../errors.js";
import { remaining } from "../shared/wait.js";
import type { Future } from "./future.js";

type R = unknown;

/**
 * Groups map() items into tasks: with chunksize 1 every item is a call, `[item]` (its arguments);
 * with a larger chunksize, `size` calls make one CHUNK task, `[[item], [item], ...]`.
 */
export class Groups {
  readonly #size: number;
  #chunk: unknown[][] = [];

  constructor(size: number) {
    this.#size = size;
  }

  /** The task that `item` completes, if it completes one. */
  add(item: unknown): unknown[] | undefined {
    if (this.#size === 1) return [item];
    this.#chunk.push([item]);
    if (this.#chunk.length < this.#size) return undefined;
    const chunk = this.#chunk;
    this.#chunk = [];
    return chunk;
  }

  /** The last chunk, shorter than chunksize, if items are left. */
  rest(): unknown[] | undefined {
    if (this.#chunk.length === 0) return undefined;
    const chunk = this.#chunk;
    this.#chunk = [];
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
  const cancelRest = (): void => {
    closed = true;
    for (let j = i; j < fs.length; j++) (fs[j] as Future<unknown>).cancel();
  };
  const it: IterableIterator<R> = {
    next(): IteratorResult<R> {
      if (closed) return { done: true, value: undefined };
      if (b < buffered.length) return { done: false, value: buffered[b++] as R };
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
