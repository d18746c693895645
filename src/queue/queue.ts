/**
 * Queue: Python's `queue.Queue` in shared memory — one queue that every thread it is passed to
 * puts into and gets from.
 *
 * Shared state: a control block (locks, counts, wake-up words) and the data buffer(s). As in
 * CPython, the storage discipline is a template: each queue class chooses its engine in one hook,
 * `_makeEngine()` (CPython's `_init`). `Queue` keeps a FIFO byte ring driven by the two-lock
 * engine of fifo.ts (producers and consumers never share a lock); `LifoQueue` (lifo.ts, a stack)
 * and `PriorityQueue` (priority.ts, a heap) give their Store (CPython's `_qsize/_put/_get`) to the
 * one-lock engine of core.ts. Both state machines are described at the top of their files, what
 * they share in engine.ts, the record format in codec.ts and plain.ts.
 *
 * Items: anything the transport carries (v8.serialize-able values, shared objects such as a Lock
 * or another Queue, SharedArrayBuffers and typed arrays over them, which stay shared). An item
 * that cannot cross is a TypeError from put() and the queue is unchanged.
 *
 * Memory: see storage.ts — large items (> 64 KiB encoded) live in their own buffer, freed when
 * consumed; the buffer of small items keeps its high-water size until the queue object is
 * collected in every thread (a LIFO or priority queue goes back to its start whenever it drains,
 * the FIFO ring keeps going round).
 */
import {
  type BlockOptions,
  blockArgs,
  checkOptions,
  isOptions,
  type Timeout,
  timeoutMs,
  checkArgCount,
} from "../shared/wait.js";
import { describe, type WaitKind } from "../shared/waiting.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { ShutDown } from "../errors.js";
import { giveStaged, itemError, reclaim, Staged, stageItem, stageNumber, takeStaged } from "./codec.js";
import type { Engine } from "./engine.js";
import { RingEngine } from "./fifo.js";
import { GIVEN_MAXSIZE_BYTE, HEADER_WORDS, MAXSIZE, SHUTDOWN, setQueueId } from "./layout.js";
import { putError } from "./storage.js";

/**
 * The bound the engines enforce for a `maxsize` (its checks): 0 (unbounded) for one <= 0 or
 * Infinity, else rounded up, as CPython's full() `0 < maxsize <= qsize()` lets Queue(1.5) hold 2.
 */
function checkMaxsize(maxsize: unknown, what: string): number {
  if (typeof maxsize !== "number") {
    throw new TypeError(`${what}: maxsize must be a number, not ${maxsize === null ? "null" : typeof maxsize}`);
  }
  // (a NaN count is a RangeError, as Semaphore's and Barrier's; Python's ValueError)
  if (Number.isNaN(maxsize)) throw new RangeError(`${what}: maxsize must be a number, not NaN`);
  if (maxsize <= 0 || maxsize === Number.POSITIVE_INFINITY) return 0;
  return Math.min(Math.ceil(maxsize), 2 ** 31 - 1);
}

/**
 * @internal Test hook (test/queue/maxsize-race.test.ts): runs in the `maxsize` setter after the
 * value is checked and before the engine's lock is taken.
 */
export const queueTestHooks: { beforeMaxsizeLock?: () => void } = {};

/**
 * A FIFO queue shared by every thread it is passed to, as Python's `queue.Queue`.
 * `maxsize` <= 0 (the default) means unbounded.
 */
export class Queue<T = unknown> implements AsyncIterable<T> {
  readonly #h: Int32Array;
  /** The maxsize as given (layout.ts GIVEN_MAXSIZE), which `maxsize` reports. */
  readonly #given: Float64Array;
  readonly #eng: Engine;
  readonly #id: number;

  constructor(maxsize = 0) {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount(new.target.name, arguments.length, 1);
    const record = adoptedRecord();
    if (record) {
      this.#h = new Int32Array(record.buffers[0] as SharedArrayBuffer);
      this.#given = new Float64Array(this.#h.buffer, GIVEN_MAXSIZE_BYTE, 1);
      this.#eng = this._makeEngine(this.#h, record.buffers.slice(1));
      this.#id = record.id;
    } else {
      const max = checkMaxsize(maxsize, `${new.target.name}()`);
      this.#h = new Int32Array(new SharedArrayBuffer(HEADER_WORDS * 4));
      this.#h[MAXSIZE] = max;
      this.#given = new Float64Array(this.#h.buffer, GIVEN_MAXSIZE_BYTE, 1);
      this.#given[0] = maxsize;
      this.#eng = this._makeEngine(this.#h);
      this.#id = newObjectId();
      setQueueId(this.#h, this.#id);
    }
    const kind = this._kind;
    this.#putWhat = `${kind}.put()`;
    this.#putAsyncWhat = `${kind}.putAsync()`;
    this.#getWhat = `${kind}.get()`;
    this.#getAsyncWhat = `${kind}.getAsync()`;
    describe(this.#h.buffer, kind as WaitKind, this.#id, -1, this.#eng.ownersCoded, this.#eng.lockOwners);
  }

  /**
   * @internal The storage discipline and the engine that drives it (CPython's `_init`), over the
   * control block `h` (new, or revived with the store's `buffers`): here the FIFO ring with its
   * two-lock engine (fifo.ts); LifoQueue and PriorityQueue give their Store to the one-lock
   * engine (core.ts).
   */
  protected _makeEngine(h: Int32Array, buffers?: SharedArrayBuffer[]): Engine {
    return new RingEngine(h, buffers);
  }

  /** @internal Encodes an item before the lock is taken (PriorityQueue adds its sort key). */
  protected _stage(item: unknown, st: Staged, keep = false): void {
    // (a number here, no call: codec.ts stageNumber)
    if (typeof item === "number") stageNumber(item, st);
    else stageItem(item, st, keep);
  }

  /** @internal The kind name the transport revives this queue as. */
  protected get _kind(): string {
    return "Queue";
  }

  // The calls' names in error messages, made once per queue object (a put or get builds no string).
  readonly #putWhat: string;
  readonly #putAsyncWhat: string;
  readonly #getWhat: string;
  readonly #getAsyncWhat: string;

  /**
   * The bound given at construction, as given (0 or less = unbounded; a fraction such as 1.5 lets
   * the queue hold 2 items, as in Python). Settable, as in Python, for every thread.
   */
  get maxsize(): number {
    return this.#given[0] as number;
  }
  set maxsize(value: number) {
    const max = checkMaxsize(value, `${this.constructor.name}.maxsize`);
    queueTestHooks.beforeMaxsizeLock?.();
    // Both under the engine's lock: racing setters leave the reported value and the bound one setter's.
    this.#eng.setMaxsize(max, this.#given, value);
  }

  /** The approximate number of items (other threads may change it at any moment). */
  qsize(): number {
    return this.#eng.qsize();
  }

  /** True if the queue is empty (approximately, as in Python). */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** True if the queue holds maxsize items (approximately, as in Python). */
  full(): boolean {
    const max = Atomics.load(this.#h, MAXSIZE);
    return max > 0 && this.qsize() >= max;
  }

  /**
   * Puts `item` into the queue. With `block` (default), waits for a free slot at most `timeout`
   * seconds (default forever), then throws `Full`; without, throws `Full` at once if full.
   * Throws `ShutDown` after shutdown() (also to a put already waiting), TypeError if the item
   * cannot be sent to another thread (the queue is unchanged).
   */
  put(item: T, block?: boolean, timeout?: number | null): void;
  put(item: T, options: BlockOptions): void;
  put(item: T, block: boolean | BlockOptions = true, timeout?: number | null): void {
    const what = this.#putWhat;
    let ms = 0;
    // (no timeout given, the common call: Infinity without calling timeoutMs(). Right after its
    // thread woke up, every function a put enters runs cold, and this one call was 2.5-8 µs of a
    // cold put on this VM, all before the notify of a sleeping getter: docs/benchmarks.md)
    if (block === true) ms = timeout === undefined ? Number.POSITIVE_INFINITY : timeoutMs(timeout, what);
    else if (block !== false) {
      const [b, t] = blockArgs(what, "block", block, timeout);
      if (b) ms = timeoutMs(t, what);
      block = b;
    }
    const st = takeStaged();
    try {
      try {
        this._stage(item, st);
      } catch (e) {
        throw itemError(e, what);
      }
      try {
        this.#eng.put(st, block, ms, what);
      } catch (e) {
        if (st.refs.length > 0) reclaim(st.refs);
        throw putError(e, what);
      }
    } finally {
      giveStaged(st);
    }
  }

  /** The async twin of `put()`: resolves once the item is in the queue. */
  async putAsync(item: T, timeout?: Timeout): Promise<void> {
    const what = this.#putAsyncWhat;
    const ms = timeoutMs(timeout, what);
    const st = new Staged();
    try {
      this._stage(item, st, true);
    } catch (e) {
      throw itemError(e, what);
    }
    try {
      await this.#eng.putAsync(st, ms, what);
    } catch (e) {
      if (st.refs.length > 0) reclaim(st.refs);
      throw putError(e, what);
    }
  }

  /** `put(item, false)`. */
  putNowait(item: T): void {
    this.put(item, false);
  }

  /**
   * Removes and returns an item. With `block` (default), waits at most `timeout` seconds (default
   * forever), then throws `Empty`; without, throws `Empty` at once if empty. After shutdown() it
   * returns what is left, then throws `ShutDown` (also to a get already waiting).
   */
  get(block?: boolean, timeout?: number | null): T;
  get(options: BlockOptions): T;
  get(block: boolean | BlockOptions = true, timeout?: number | null): T {
    const what = this.#getWhat;
    let ms = 0;
    // (no timeout given: as in put())
    if (block === true) ms = timeout === undefined ? Number.POSITIVE_INFINITY : timeoutMs(timeout, what);
    else if (block !== false) {
      const [b, t] = blockArgs(what, "block", block, timeout);
      if (b) ms = timeoutMs(t, what);
      block = b;
    }
    return this.#eng.get(block, ms, what) as T;
  }

  /** The async twin of `get()`. */
  async getAsync(timeout?: Timeout): Promise<T> {
    const what = this.#getAsyncWhat;
    return (await this.#eng.getAsync(timeoutMs(timeout, what), what)) as T;
  }

  /** `get(false)`. */
  getNowait(): T {
    return this.get(false);
  }

  /**
   * Tells the queue that a task taken with get() is complete. RangeError (Python's ValueError)
   * when called more times than items were put.
   */
  taskDone(): void {
    this.#eng.taskDone();
  }

  /**
   * Python's `unfinished_tasks`: the items put and not yet matched by a taskDone() (or discarded by
   * shutdown(true)), in every thread; join() returns when it is 0. A hint, as qsize().
   */
  get unfinishedTasks(): number {
    return this.#eng.unfinishedTasks();
  }

  /** Blocks until every item put has been matched by a taskDone() (or discarded by shutdown(true)). */
  join(): void {
    this.#eng.join();
  }

  /** The async twin of `join()`. */
  async joinAsync(): Promise<void> {
    await this.#eng.joinAsync();
  }

  /**
   * Shuts the queue down (Python 3.13): every put() throws ShutDown from now on, also those
   * waiting; get() returns what is left, then throws ShutDown, also to those waiting. With
   * `immediate`, the items left are discarded, each counted as one taskDone(), so join() returns.
   */
  shutdown(immediate?: boolean): void;
  shutdown(options: { immediate?: boolean | undefined }): void;
  shutdown(immediate: boolean | { immediate?: boolean | undefined } = false): void {
    // Python's keyword, q.shutdown(immediate=True), as { immediate: true }.
    if (isOptions(immediate)) {
      checkOptions(immediate, ["immediate"], `${this._kind}.shutdown()`);
      immediate = immediate.immediate ?? false;
    }
    this.#eng.shutdown(!!immediate);
  }

  /** Python 3.13's `is_shutdown`: true once shutdown() was called, in every thread. */
  get isShutdown(): boolean {
    return Atomics.load(this.#h, SHUTDOWN) !== 0;
  }

  /** @internal True once shutdown() was called (for tests and the iterator). */
  get _isShutdown(): boolean {
    return this.isShutdown;
  }

  /**
   * `for await (const item of q)`: gets items until the queue is shut down and drained, then ends.
   * It does not call taskDone().
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let item: T;
      try {
        item = await this.getAsync();
      } catch (e) {
        if (e instanceof ShutDown) return;
        throw e;
      }
      yield item;
    }
  }

  /** @internal */
  [kShare](): ShareRecord {
    return {
      kind: this._kind,
      id: this.#id,
      buffers: [this.#h.buffer as SharedArrayBuffer, ...this.#eng.buffers()],
      meta: { maxsize: this.maxsize },
    };
  }

  get [Symbol.toStringTag](): string {
    return `${this._kind} qsize=${this.qsize()}`;
  }

  static {
    registerKind("Queue", (record) => revive(Queue, record));
  }
}
