/**
 * The FIFO engine of Queue and SimpleQueue: a byte ring with two locks (Michael & Scott's two-lock
 * queue, on a ring of variable-size records), so that producers and consumers never take the same
 * lock and meet only at two counters.
 *
 * Control block: fifo-layout.ts (imported as FIFO), one 64-byte line per group: the words both
 * engines share (UNFINISHED, SHUTDOWN, MAXSIZE); the producers' P_LOCK, TAIL, PUT_BYTES, PUTS,
 * CAP_P; the consumers' C_LOCK, HEAD, GET_BYTES, GETS, CAP_C; "not empty" (NE_SEQ, GET_WAITERS,
 * GET_SLEEPERS, GET_ASYNC_SLEEPERS); "not full" (the same for putters). P_LOCK and C_LOCK are
 * mutexes of sync/mutex.ts.
 *
 * PUTS / GETS count the items ever put / taken, PUT_BYTES / GET_BYTES the ring bytes (SKIPs
 * included); all four wrap around as int32, and only differences are used: qsize = PUTS - GETS,
 * ring bytes in use = PUT_BYTES - GET_BYTES. TAIL, PUT_BYTES, PUTS change only under P_LOCK;
 * HEAD, GET_BYTES, GETS only under C_LOCK. SHUTDOWN, MAXSIZE and CAP_* change only under P_LOCK
 * (CAP_* and the shutdown discard under both locks: always P_LOCK first, then C_LOCK).
 *
 *   put:  (stage outside any lock) lock P; SHUTDOWN -> ShutDown; while PUTS - GETS >= MAXSIZE
 *           { Full / wait on NF_SEQ as below }; find room for the record at TAIL (else at 0 after a
 *           SKIP; else grow: lock C too, grow the buffer, move a wrapped ring's [0, TAIL) to the
 *           old end, CAP_P = CAP_C = new size, unlock C); copy the record in; TAIL, PUT_BYTES;
 *           UNFINISHED++; PUTS++ (Atomics.store: this publishes the record); unlock P;
 *           if GET_WAITERS > 0 { NE_SEQ++; if GET_SLEEPERS > 0 notify(NE_SEQ, 1) }
 *   get:  lock C; while PUTS - GETS == 0 { SHUTDOWN -> ShutDown; non-blocking / out of time ->
 *           Empty; GET_WAITERS++; seq = NE_SEQ; re-read PUTS (items now: GET_WAITERS--, take);
 *           unlock C; spin, then sleep on NE_SEQ while == seq; lock C; GET_WAITERS-- }
 *         (engine.ts waitTurn: one slow path for both engines, blocking and async)
 *         copy the record at HEAD out (past a SKIP); HEAD, GET_BYTES (Atomics.store: frees the
 *         bytes for producers, after they were read); GETS++ (Atomics.store); unlock C;
 *         if PUT_WAITERS > 0 { NF_SEQ++; if PUT_SLEEPERS > 0 notify(NF_SEQ, 1) }; decode
 *   shutdown(immediate): lock P, lock C; SHUTDOWN = 1; [discard: walk the records for their
 *         directory refs, HEAD = TAIL, GET_BYTES = PUT_BYTES, GETS = PUTS]; NE_SEQ++; NF_SEQ++;
 *         unlock C, unlock P; [UNFINISHED -= discarded]; notify every getter, putter (and joiner)
 *   setMaxsize: lock P; MAXSIZE = n; NF_SEQ++; unlock P; notify every putter
 *   taskDone / join: engine.ts, on UNFINISHED.
 *
 * No lost wake-up. Between a producer and a getter (the putter / consumer pair is the mirror
 * image, on GETS, PUT_WAITERS, NF_SEQ): the getter writes GET_WAITERS, then reads NE_SEQ, then
 * PUTS; the producer writes PUTS, then reads GET_WAITERS, then bumps NE_SEQ. All are sequentially
 * consistent atomics, so either the producer sees the registration (and bumps NE_SEQ after the
 * getter read it: its wait returns at once or is notified — the sleeper counts itself in
 * GET_SLEEPERS before Atomics.wait, the waker reads GET_SLEEPERS after its bump, one of them sees
 * the other), or the getter's re-read of PUTS sees the item and it does not sleep. Shutdown and
 * setMaxsize bump the sequence words while holding the lock under which waiters read them, so a
 * waiter that read the old value wakes. Each put wakes one getter and each get one putter; a woken
 * waiter re-checks under its lock and takes the item even if its time has just run out (as
 * CPython re-checks _qsize() first), so a wake-up is never wasted while another waiter sleeps.
 *
 * Memory order of the data: a producer writes the record bytes before its Atomics.store of PUTS,
 * and a consumer reads them after an Atomics.load of PUTS that saw it; a consumer reads a record
 * before its Atomics.store of GET_BYTES, and producers reuse those bytes only after loading it.
 * Growth and the discard hold both locks, so no consumer is reading while the ring moves.
 *
 * Per-thread caches (this object): a producer keeps the last GETS and GET_BYTES it loaded, a
 * consumer the last PUTS. A stale value only underestimates the other side's progress (the queue
 * looks fuller to producers, emptier to consumers), so it is reloaded when it would say "full",
 * "no room" or "empty". A cache is trusted only while this thread was the last to move its own
 * side's counter (PUTS / GETS equal to what it left there); otherwise it is reloaded, so the
 * int32 wrap-around can never make a stale cache look fresh.
 *
 * Death: the locks guard only word updates and one copy of already-encoded bytes (no user code,
 * no waiting, no allocation except a buffer growth). A thread that dies anywhere else changes
 * nothing or everything; one that dies asleep leaves GET_WAITERS / PUT_WAITERS one too high
 * (spare bumps, nothing else). Death while holding P_LOCK or C_LOCK leaves that lock held: that
 * side of the queue is stuck (as with the locked engine's single lock, locked-layout.ts).
 */
import { Empty, Full, ShutDown } from "../errors.js";
import { driveAsync, driveBlocking, type Steps } from "../shared/wait.js";
import { lockBlocking, unlock } from "../sync/mutex.js";
import {
  decodeTaken,
  readRecord,
  reclaim,
  recordRefs,
  recordSize,
  type Staged,
  T_SKIP,
  Taken,
  writeRecord,
} from "./codec.js";
import { discardedDone, type Engine, type Side, SPIN, sleeperHow, waitTurn, wakeAll, wakeOne } from "./engine.js";
import * as FIFO from "./fifo-layout.js";
import { Data } from "./storage.js";

// The producers' and the consumers' mutexes (sync/mutex.ts), taken blocking: the critical sections
// are a few stores and one copy.
function lockP(h: Int32Array): void {
  lockBlocking(h, FIFO.P_LOCK, Number.POSITIVE_INFINITY);
}
function unlockP(h: Int32Array): void {
  unlock(h, FIFO.P_LOCK, FIFO.P_LOCK_ASYNC);
}
function lockC(h: Int32Array): void {
  lockBlocking(h, FIFO.C_LOCK, Number.POSITIVE_INFINITY);
}
function unlockC(h: Int32Array): void {
  unlock(h, FIFO.C_LOCK, FIFO.C_LOCK_ASYNC);
}

/** Putters wait on "not full" (NF_SEQ) under P_LOCK, getters on "not empty" (NE_SEQ) under C_LOCK. */
const PUTTERS: Side = {
  lock: lockP,
  unlock: unlockP,
  seq: FIFO.NF_SEQ,
  waiters: FIFO.PUT_WAITERS,
  how: sleeperHow(FIFO.PUT_SLEEPERS),
  Refusal: Full,
  state: "full",
};
const GETTERS: Side = {
  lock: lockC,
  unlock: unlockC,
  seq: FIFO.NE_SEQ,
  waiters: FIFO.GET_WAITERS,
  how: sleeperHow(FIFO.GET_SLEEPERS),
  Refusal: Empty,
  state: "empty",
};

const RELAX = Number(process.env.THREADING_QUEUE_RELAX ?? 16);
let sink = 0;
/**
 * A pause between two looks at the other side's cache line while spinning: every look pulls the
 * line over, which costs the side writing it a miss, so looking less often speeds both sides up.
 */
function relax(): void {
  for (let i = 0; i < RELAX; i++) sink = (sink + i) | 0;
}

/** This thread's scratch record for gets (decoded before any await, so one is enough). */
const taken = new Taken();

/** The FIFO engine of one queue in this thread (views, caches); the state is all in `h` and the ring. */
export class RingEngine implements Engine {
  readonly h: Int32Array;
  readonly data: Data;
  // Producer caches (valid while PUTS === lastPuts).
  private cGets = 0;
  private cGetBytes = 0;
  private lastPuts = -1;
  // Consumer cache (valid while GETS === lastGets).
  private cPuts = 0;
  private lastGets = -1;

  constructor(h: Int32Array, buffers?: SharedArrayBuffer[]) {
    this.h = h;
    this.data = new Data(buffers?.[0]);
    if (buffers === undefined) h[FIFO.CAP_P] = h[FIFO.CAP_C] = this.data.cap;
  }

  buffers(): SharedArrayBuffer[] {
    return [this.data.sab];
  }

  qsize(): number {
    return Math.max(0, (Atomics.load(this.h, FIFO.PUTS) - Atomics.load(this.h, FIFO.GETS)) | 0);
  }

  // ---- producers ----

  /** Under P_LOCK: true when MAXSIZE items are queued (reloads the cached GETS before saying so). */
  private isFull(max: number): boolean {
    const h = this.h;
    const puts = h[FIFO.PUTS] as number;
    if (puts !== this.lastPuts) this.reloadProducer();
    if (((puts - this.cGets) | 0) < max) return false;
    this.cGets = Atomics.load(h, FIFO.GETS);
    return ((puts - this.cGets) | 0) >= max;
  }

  private reloadProducer(): void {
    const h = this.h;
    this.cGets = Atomics.load(h, FIFO.GETS);
    this.cGetBytes = Atomics.load(h, FIFO.GET_BYTES);
    this.lastPuts = h[FIFO.PUTS] as number;
  }

  /** Under P_LOCK: ShutDown, or whether there is room (putters' admit, engine.ts waitTurn). */
  private room(what: string): boolean | Error {
    const h = this.h;
    if (h[FIFO.SHUTDOWN] !== 0) return new ShutDown(`${what}: the queue is shut down`);
    const max = h[FIFO.MAXSIZE] as number;
    return max <= 0 || !this.isFull(max);
  }

  /** The slow path of put and putAsync (shared/wait.ts drives it), from under P_LOCK. */
  private putSteps(st: Staged, block: boolean, ms: number, what: string): Steps<void> {
    return waitTurn(
      this.h,
      PUTTERS,
      () => this.room(what),
      () => this.store(st),
      block,
      ms,
      what,
    );
  }

  put(st: Staged, block: boolean, ms: number, what: string): void {
    const h = this.h;
    if (block) {
      // Streaming fast path: a full queue usually has room again within a microsecond. Only when
      // this thread's cached view says full does it watch GETS (the consumers' line). MAXSIZE and
      // PUTS are read plainly here (an Atomics.load costs ~7 ns, a plain read <1 ns): they only
      // decide whether to spin; whether there is room is decided under P_LOCK.
      const max = h[FIFO.MAXSIZE] as number;
      if (max > 0 && (((h[FIFO.PUTS] as number) - this.cGets) | 0) >= max) {
        for (let i = 0; i < SPIN && this.qsize() >= max; i++) relax();
      }
    }
    lockP(h);
    if (this.roomNow()) this.store(st);
    else driveBlocking(this.putSteps(st, block, ms, what));
  }

  /** Under P_LOCK: not shut down and room for one more item (the fast path of put: no generator). */
  private roomNow(): boolean {
    const h = this.h;
    if (h[FIFO.SHUTDOWN] !== 0) return false;
    const max = h[FIFO.MAXSIZE] as number;
    return max <= 0 || !this.isFull(max);
  }

  async putAsync(st: Staged, ms: number, what: string): Promise<void> {
    const h = this.h;
    lockP(h);
    if (this.roomNow()) this.store(st);
    else return driveAsync(this.putSteps(st, true, ms, what));
  }

  /** Under P_LOCK, admitted: stores and publishes the record, unlocks, wakes a getter. */
  private store(st: Staged): void {
    const h = this.h;
    const d = this.data;
    try {
      if ((h[FIFO.CAP_P] as number) !== d.cap) d.sync();
      const puts = h[FIFO.PUTS] as number;
      if (puts !== this.lastPuts) this.reloadProducer();
      const s = st.size;
      const cap = d.cap;
      let tail = h[FIFO.TAIL] as number;
      const putBytes = h[FIFO.PUT_BYTES] as number;
      let need = cap - tail >= s ? s : cap - tail + s;
      if (cap - ((putBytes - this.cGetBytes) | 0) < need) {
        this.cGetBytes = Atomics.load(h, FIFO.GET_BYTES);
        if (cap - ((putBytes - this.cGetBytes) | 0) < need) {
          tail = this.grow(s);
          need = s;
        }
      }
      let at = tail;
      if (need !== s) {
        // Not enough room before the end: a SKIP to the end, the record at 0.
        d.i32[tail >> 2] = T_SKIP;
        d.i32[(tail >> 2) + 1] = cap - tail;
        at = 0;
      }
      writeRecord(d, at, st);
      tail = at + s;
      if (tail === d.cap) tail = 0;
      h[FIFO.TAIL] = tail;
      h[FIFO.PUT_BYTES] = (putBytes + need) | 0;
      Atomics.add(h, FIFO.UNFINISHED, 1);
      Atomics.store(h, FIFO.PUTS, (puts + 1) | 0);
      this.lastPuts = (puts + 1) | 0;
    } catch (e) {
      unlockP(h);
      throw e;
    }
    unlockP(h);
    if (Atomics.load(h, FIFO.GET_WAITERS) > 0) {
      Atomics.add(h, FIFO.NE_SEQ, 1);
      wakeOne(h, FIFO.NE_SEQ, FIFO.GET_SLEEPERS);
    }
  }

  /**
   * Under P_LOCK, when the ring has no room for `s` bytes: takes C_LOCK, grows the buffer (a
   * wrapped ring's [0, TAIL) moves to just after the old end, where a consumer arriving at the
   * old end, through the SKIP or exactly, continues), and returns the offset to write at.
   * RangeError past the largest size, with nothing changed.
   */
  private grow(s: number): number {
    const h = this.h;
    const d = this.data;
    lockC(h);
    try {
      d.sync();
      let head = h[FIFO.HEAD] as number;
      let tail = h[FIFO.TAIL] as number;
      const used = ((h[FIFO.PUT_BYTES] as number) - (h[FIFO.GET_BYTES] as number)) | 0;
      if (used === 0) {
        head = tail = 0;
        h[FIFO.HEAD] = 0;
      }
      const old = d.cap;
      const wrapped = used > 0 && tail <= head;
      d.grow(wrapped ? old + tail + s : tail + s);
      if (wrapped) {
        if (tail > 0) d.u8.copyWithin(old, 0, tail);
        tail += old;
      }
      h[FIFO.TAIL] = tail;
      h[FIFO.CAP_P] = d.cap;
      h[FIFO.CAP_C] = d.cap;
      this.cGetBytes = h[FIFO.GET_BYTES] as number;
      return tail;
    } finally {
      unlockC(h);
    }
  }

  // ---- consumers ----

  /** Under C_LOCK: items available (reloads the cached PUTS before saying none). */
  private available(): number {
    const h = this.h;
    const gets = h[FIFO.GETS] as number;
    if (gets === this.lastGets) {
      const n = (this.cPuts - gets) | 0;
      if (n > 0) return n;
    }
    this.cPuts = Atomics.load(h, FIFO.PUTS);
    this.lastGets = gets;
    return (this.cPuts - gets) | 0;
  }

  /** Under C_LOCK: whether there is an item, or ShutDown (getters' admit). */
  private items(what: string): boolean | Error {
    if (this.available() > 0) return true;
    return Atomics.load(this.h, FIFO.SHUTDOWN) !== 0
      ? new ShutDown(`${what}: the queue is shut down and empty`)
      : false;
  }

  /** The slow path of get and getAsync, from under C_LOCK. */
  private getSteps(block: boolean, ms: number, what: string): Steps<unknown> {
    return waitTurn(
      this.h,
      GETTERS,
      () => this.items(what),
      () => this.take(),
      block,
      ms,
      what,
    );
  }

  get(block: boolean, ms: number, what: string): unknown {
    const h = this.h;
    // Streaming fast path: an empty queue is usually refilled within a microsecond; watching
    // PUTS (read-only, no registration) is cheaper than registering as a waiter and being woken.
    // Only when this thread's cached view says empty does it watch PUTS (the producers' line).
    // (GETS read plainly: it only decides whether to spin; available() decides under C_LOCK.)
    if (block && ((h[FIFO.GETS] as number) !== this.lastGets || this.cPuts === this.lastGets)) {
      for (let i = 0; i < SPIN && Atomics.load(h, FIFO.PUTS) === Atomics.load(h, FIFO.GETS); i++) relax();
    }
    lockC(h);
    if (this.available() > 0) return this.take();
    return driveBlocking(this.getSteps(block, ms, what));
  }

  async getAsync(ms: number, what: string): Promise<unknown> {
    lockC(this.h);
    if (this.available() > 0) return this.take();
    return driveAsync(this.getSteps(true, ms, what));
  }

  /** Under C_LOCK, with an item available: copies it out, frees its bytes, unlocks, decodes. */
  private take(): unknown {
    const h = this.h;
    const d = this.data;
    try {
      if ((h[FIFO.CAP_C] as number) !== d.cap) d.sync();
      const cap = d.cap;
      let head = h[FIFO.HEAD] as number;
      let getBytes = h[FIFO.GET_BYTES] as number;
      if (((d.i32[head >> 2] as number) & 255) === T_SKIP) {
        const skip = d.i32[(head >> 2) + 1] as number;
        getBytes = (getBytes + skip) | 0;
        head += skip;
        if (head === cap) head = 0;
      }
      const size = readRecord(d, head, taken);
      head += size;
      if (head === cap) head = 0;
      h[FIFO.HEAD] = head;
      Atomics.store(h, FIFO.GET_BYTES, (getBytes + size) | 0);
      const gets = ((h[FIFO.GETS] as number) + 1) | 0;
      Atomics.store(h, FIFO.GETS, gets);
      this.lastGets = gets;
    } catch (e) {
      unlockC(h);
      throw e;
    }
    unlockC(h);
    if (Atomics.load(h, FIFO.PUT_WAITERS) > 0) {
      Atomics.add(h, FIFO.NF_SEQ, 1);
      wakeOne(h, FIFO.NF_SEQ, FIFO.PUT_SLEEPERS);
    }
    return decodeTaken(taken);
  }

  // ---- both ----

  shutdown(immediate: boolean): void {
    const h = this.h;
    const d = this.data;
    const refs: number[] = [];
    let discarded = 0;
    lockP(h);
    lockC(h);
    try {
      Atomics.store(h, FIFO.SHUTDOWN, 1);
      if (immediate) {
        d.sync();
        discarded = ((h[FIFO.PUTS] as number) - (h[FIFO.GETS] as number)) | 0;
        let head = h[FIFO.HEAD] as number;
        for (let n = discarded; n > 0; ) {
          if (((d.i32[head >> 2] as number) & 255) !== T_SKIP) {
            recordRefs(d, head, refs);
            n--;
          }
          head += recordSize(d, head);
          if (head === d.cap) head = 0;
        }
        h[FIFO.HEAD] = h[FIFO.TAIL] as number;
        Atomics.store(h, FIFO.GET_BYTES, h[FIFO.PUT_BYTES] as number);
        Atomics.store(h, FIFO.GETS, h[FIFO.PUTS] as number);
      }
      Atomics.add(h, FIFO.NE_SEQ, 1);
      Atomics.add(h, FIFO.NF_SEQ, 1);
    } finally {
      unlockC(h);
      unlockP(h);
    }
    if (immediate) discardedDone(h, discarded);
    wakeAll(h, FIFO.NE_SEQ, FIFO.GET_SLEEPERS);
    wakeAll(h, FIFO.NF_SEQ, FIFO.PUT_SLEEPERS);
    reclaim(refs);
  }

  setMaxsize(maxsize: number): void {
    const h = this.h;
    lockP(h);
    h[FIFO.MAXSIZE] = maxsize;
    Atomics.add(h, FIFO.NF_SEQ, 1);
    unlockP(h);
    wakeAll(h, FIFO.NF_SEQ, FIFO.PUT_SLEEPERS);
  }
}
