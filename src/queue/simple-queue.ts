/**
 * SimpleQueue: Python's `queue.SimpleQueue` — an unbounded FIFO queue without task tracking or
 * shutdown. put() never blocks. Same storage (a byte ring, storage.ts) and state machine (core.ts)
 * as Queue; the bound, UNFINISHED and SHUTDOWN words of its control block are never used.
 */
import { timeoutMs } from "../shared/wait.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { reclaim, Staged, stage } from "./codec.js";
import * as core from "./core.js";
import { COUNT, HEADER_WORDS } from "./layout.js";
import { RingStore } from "./storage.js";

const staged = new Staged();

/** An unbounded FIFO queue shared by every thread it is passed to, as Python's `queue.SimpleQueue`. */
export class SimpleQueue<T = unknown> {
  readonly #h: Int32Array;
  readonly #store: RingStore;
  readonly #id: number;

  constructor() {
    const record = adoptedRecord();
    this.#h = new Int32Array((record?.buffers[0] as SharedArrayBuffer) ?? new SharedArrayBuffer(HEADER_WORDS * 4));
    this.#store = new RingStore(record?.buffers.slice(1));
    this.#id = record?.id ?? newObjectId();
  }

  /**
   * Puts `item` into the queue; never blocks (`block` and `timeout` are accepted and ignored, as
   * in Python). TypeError if the item cannot be sent to another thread.
   */
  put(item: T, _block = true, _timeout?: number): void {
    stage(item, staged);
    try {
      core.putBlocking(this.#h, this.#store, staged, false, 0, "SimpleQueue.put()");
    } catch (e) {
      if (staged.refs.length > 0) reclaim(staged.refs);
      throw e;
    } finally {
      staged.reset();
    }
  }

  /** `put(item)`. */
  putNowait(item: T): void {
    this.put(item);
  }

  /** Removes and returns the oldest item; blocks (at most `timeout` s, then `Empty`) while empty. */
  get(block = true, timeout?: number): T {
    const ms = block ? timeoutMs(timeout, "SimpleQueue.get()") : 0;
    return core.getBlocking(this.#h, this.#store, !!block, ms, "SimpleQueue.get()") as T;
  }

  /** The async twin of `get()`. */
  async getAsync(timeout?: number): Promise<T> {
    const ms = timeoutMs(timeout, "SimpleQueue.getAsync()");
    return (await core.getAsync(this.#h, this.#store, ms, "SimpleQueue.getAsync()")) as T;
  }

  /** `get(false)`. */
  getNowait(): T {
    return this.get(false);
  }

  qsize(): number {
    return Atomics.load(this.#h, COUNT);
  }

  empty(): boolean {
    return this.qsize() === 0;
  }

  /** @internal */
  [kShare](): ShareRecord {
    return { kind: "SimpleQueue", id: this.#id, buffers: [this.#h.buffer as SharedArrayBuffer, this.#store.data.sab] };
  }

  get [Symbol.toStringTag](): string {
    return `SimpleQueue qsize=${this.qsize()}`;
  }

  static {
    registerKind("SimpleQueue", (record) => revive(SimpleQueue, record));
  }
}
