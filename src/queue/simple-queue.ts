/**
 * SimpleQueue: Python's `queue.SimpleQueue` — an unbounded FIFO queue without task tracking or
 * shutdown. put() never blocks. Same storage and state machine as Queue (the two-lock byte ring of
 * fifo.ts); the bound, SHUTDOWN and DONE words of its control block are never set.
 */
import { type BlockOptions, blockArgs, type Timeout, timeoutMs, checkArgCount } from "../shared/wait.js";
import { describe } from "../shared/waiting.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { giveStaged, itemError, reclaim, stageItem, stageNumber, takeStaged } from "./codec.js";
import type { Engine } from "./engine.js";
import { RingEngine } from "./fifo.js";
import { HEADER_WORDS, setQueueId } from "./layout.js";
import { putError } from "./storage.js";

/** An unbounded FIFO queue shared by every thread it is passed to, as Python's `queue.SimpleQueue`. */
export class SimpleQueue<T = unknown> {
  readonly #h: Int32Array;
  readonly #eng: Engine;
  readonly #id: number;

  constructor() {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("SimpleQueue", arguments.length, 0);
    const record = adoptedRecord();
    const h = new Int32Array((record?.buffers[0] as SharedArrayBuffer) ?? new SharedArrayBuffer(HEADER_WORDS * 4));
    this.#h = h;
    this.#eng = new RingEngine(h, record?.buffers.slice(1));
    this.#id = record?.id ?? newObjectId();
    if (!record) setQueueId(h, this.#id);
    describe(h.buffer, "SimpleQueue", this.#id, -1, false, this.#eng.lockOwners);
  }

  /**
   * Puts `item` into the queue; never blocks (`block` and `timeout` are accepted and ignored, as
   * in Python, once checked). TypeError if the item cannot be sent to another thread.
   */
  put(item: T, block?: boolean, timeout?: number | null): void;
  put(item: T, options: BlockOptions): void;
  put(item: T, block: boolean | BlockOptions = true, timeout?: number | null): void {
    if (block !== true) blockArgs("SimpleQueue.put()", "block", block, timeout);
    const st = takeStaged();
    try {
      try {
        // (a number here, no call: codec.ts stageNumber)
        if (typeof item === "number") stageNumber(item, st);
        else stageItem(item, st);
      } catch (e) {
        throw itemError(e, "SimpleQueue.put()");
      }
      try {
        this.#eng.put(st, false, 0, "SimpleQueue.put()");
      } catch (e) {
        if (st.refs.length > 0) reclaim(st.refs);
        throw putError(e, "SimpleQueue.put()");
      }
    } finally {
      giveStaged(st);
    }
  }

  /** `put(item)`. */
  putNowait(item: T): void {
    this.put(item);
  }

  /** Removes and returns the oldest item; blocks (at most `timeout` s, then `Empty`) while empty. */
  get(block?: boolean, timeout?: number | null): T;
  get(options: BlockOptions): T;
  get(block: boolean | BlockOptions = true, timeout?: number | null): T {
    const what = "SimpleQueue.get()";
    let ms = 0;
    // (no timeout given: no call, as in Queue.get())
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
    const ms = timeoutMs(timeout, "SimpleQueue.getAsync()");
    return (await this.#eng.getAsync(ms, "SimpleQueue.getAsync()")) as T;
  }

  /** `get(false)`. */
  getNowait(): T {
    return this.get(false);
  }

  /** The approximate number of items (others may put or get at the same time). */
  qsize(): number {
    return this.#eng.qsize();
  }

  /** `qsize() === 0` (approximate, as qsize()). */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** @internal */
  [kShare](): ShareRecord {
    return {
      kind: "SimpleQueue",
      id: this.#id,
      buffers: [this.#h.buffer as SharedArrayBuffer, ...this.#eng.buffers()],
    };
  }

  get [Symbol.toStringTag](): string {
    return `SimpleQueue qsize=${this.qsize()}`;
  }

  static {
    registerKind("SimpleQueue", (record) => revive(SimpleQueue, record));
  }
}
