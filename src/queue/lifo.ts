/**
 * LifoQueue: Python's `queue.LifoQueue` — the last item put is the first got.
 *
 * Storage: a byte stack in the growable data buffer. Word TOP of the control block
 * (locked-layout.ts) is the stack's end (bytes). Each record (codec.ts) is followed by an 8-byte
 * trailer holding its size, so a get finds the top record's start from TOP alone. The stack goes back to offset 0 by itself when the
 * queue drains; the buffer keeps its high-water size (see storage.ts).
 */
import { readRecord, recordRefs, type Staged, type Taken, writeRecord } from "./codec.js";
import { LockedEngine } from "./core.js";
import type { Engine } from "./engine.js";
import * as LOCKED from "./locked-layout.js";
import { Queue } from "./queue.js";
import { Data, type Store } from "./storage.js";
import { registerKind, revive } from "../transport/shareable.js";

/** LIFO: a byte stack with size trailers. */
export class StackStore implements Store {
  readonly data: Data;

  constructor(buffers?: SharedArrayBuffer[]) {
    this.data = new Data(buffers?.[0]);
  }

  buffers(): SharedArrayBuffer[] {
    return [this.data.sab];
  }

  put(h: Int32Array, st: Staged): void {
    const d = this.data;
    d.sync();
    const top = h[LOCKED.TOP] as number;
    const end = top + st.size + 8;
    if (end > d.cap) d.grow(end);
    writeRecord(d, top, st);
    d.i32[(top + st.size) >> 2] = st.size;
    h[LOCKED.TOP] = end;
  }

  take(h: Int32Array, out: Taken): void {
    const d = this.data;
    d.sync();
    const top = h[LOCKED.TOP] as number;
    const size = d.i32[(top - 8) >> 2] as number;
    const at = top - 8 - size;
    readRecord(d, at, out);
    h[LOCKED.TOP] = at;
  }

  /**
   * The records from TOP down, by their trailers: a put writes its record and trailer before TOP,
   * a take moves TOP down after copying its record out, each TOP in a straight run (core.ts).
   */
  recover(h: Int32Array): number {
    const d = this.data;
    d.sync();
    let n = 0;
    for (let top = h[LOCKED.TOP] as number; top > 0; n++) top -= 8 + (d.i32[(top - 8) >> 2] as number);
    return n;
  }

  /** The record a take moved TOP down past starts at TOP. */
  takenRefs(h: Int32Array, refs: number[]): void {
    const d = this.data;
    d.sync();
    const top = h[LOCKED.TOP] as number;
    if (top + 8 <= d.cap) recordRefs(d, top, refs);
  }

  discardedRefs(_h: Int32Array, n: number, top: number, refs: number[]): void {
    const d = this.data;
    d.sync();
    for (; n > 0 && top > 0; n--) {
      const at = top - 8 - (d.i32[(top - 8) >> 2] as number);
      recordRefs(d, at, refs);
      top = at;
    }
  }

  clear(h: Int32Array, refs: number[]): void {
    const d = this.data;
    d.sync();
    for (let top = h[LOCKED.TOP] as number; top > 0; ) {
      const at = top - 8 - (d.i32[(top - 8) >> 2] as number);
      recordRefs(d, at, refs);
      top = at;
    }
    h[LOCKED.TOP] = 0;
  }
}

/** A LIFO queue shared by every thread it is passed to, as Python's `queue.LifoQueue`. */
export class LifoQueue<T = unknown> extends Queue<T> {
  protected override _makeEngine(h: Int32Array, buffers?: SharedArrayBuffer[]): Engine {
    return new LockedEngine(h, new StackStore(buffers));
  }

  protected override get _kind(): string {
    return "LifoQueue";
  }

  static {
    registerKind("LifoQueue", (record) => revive(LifoQueue, record));
  }
}
