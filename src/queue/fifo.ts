/**
 * The FIFO engine of Queue and SimpleQueue: a byte ring with two locks (Michael & Scott's two-lock
 * queue, on a ring of variable-size records), so that producers and consumers never take the same
 * lock and meet only at two counters.
 *
 * Control block (Int32 words; one 64-byte line per group, so each side writes its own line):
 *   line 0  UNFINISHED, SHUTDOWN, MAXSIZE (same indexes as the locked engine, layout.ts)
 *   line 1  producers: P_LOCK, TAIL, PUT_BYTES, PUTS, CAP_P
 *   line 2  consumers: C_LOCK, HEAD, GET_BYTES, GETS, CAP_C
 *   line 3  "not empty": NE_SEQ, GET_WAITERS, GET_SLEEPERS, GET_ASYNC_SLEEPERS
 *   line 4  "not full":  NF_SEQ, PUT_WAITERS, PUT_SLEEPERS, PUT_ASYNC_SLEEPERS
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
 *         copy the record at HEAD out (past a SKIP); HEAD, GET_BYTES (Atomics.store: frees the
 *         bytes for producers, after they were read); GETS++ (Atomics.store); unlock C;
 *         if PUT_WAITERS > 0 { NF_SEQ++; if PUT_SLEEPERS > 0 notify(NF_SEQ, 1) }; decode
 *   shutdown(immediate): lock P, lock C; SHUTDOWN = 1; [discard: walk the records for their
 *         directory refs, HEAD = TAIL, GET_BYTES = PUT_BYTES, GETS = PUTS]; NE_SEQ++; NF_SEQ++;
 *         unlock C, unlock P; [UNFINISHED -= discarded]; notify every getter, putter (and joiner)
 *   setMaxsize: lock P; MAXSIZE = n; NF_SEQ++; unlock P; notify every putter
 *   taskDone / join: as the locked engine (core.ts), on UNFINISHED.
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
 * side of the queue is stuck (as with the locked engine's single lock, layout.ts).
 */
import { Empty, Full, ShutDown } from "../errors.js";
import { deadlineOf, remaining } from "../shared/wait.js";
import { decodeTaken, readRecord, recordRefs, recordSize, type Staged, T_SKIP, Taken, writeRecord } from "./codec.js";
import { afterShutdown, SPIN, sleepOn, sleepOnAsync, wakeAll, wakeOne } from "./core.js";
import { lock, MAXSIZE, SHUTDOWN, UNFINISHED, unlock } from "./layout.js";
import { Data } from "./storage.js";

export const P_LOCK = 16;
export const TAIL = 17;
export const PUT_BYTES = 18;
export const PUTS = 19;
export const CAP_P = 20;
export const C_LOCK = 32;
export const HEAD = 33;
export const GET_BYTES = 34;
export const GETS = 35;
export const CAP_C = 36;
export const NE_SEQ = 48;
export const GET_WAITERS = 49;
export const GET_SLEEPERS = 50;
export const NF_SEQ = 64;
export const PUT_WAITERS = 65;
export const PUT_SLEEPERS = 66;
/** Async sleepers among GET_SLEEPERS / PUT_SLEEPERS (core.ts sleepOnAsync: the word after each). */
export const GET_ASYNC_SLEEPERS = 51;
export const PUT_ASYNC_SLEEPERS = 67;
/** Words in the FIFO control block (five 64-byte lines). */
export const FIFO_HEADER_WORDS = 80;

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
export class RingEngine {
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
    if (buffers === undefined) h[CAP_P] = h[CAP_C] = this.data.cap;
  }

  buffers(): SharedArrayBuffer[] {
    return [this.data.sab];
  }

  qsize(): number {
    return Math.max(0, (Atomics.load(this.h, PUTS) - Atomics.load(this.h, GETS)) | 0);
  }

  // ---- producers ----

  /** Under P_LOCK: true when MAXSIZE items are queued (reloads the cached GETS before saying so). */
  private isFull(max: number): boolean {
    const h = this.h;
    const puts = h[PUTS] as number;
    if (puts !== this.lastPuts) this.reloadProducer();
    if (((puts - this.cGets) | 0) < max) return false;
    this.cGets = Atomics.load(h, GETS);
    return ((puts - this.cGets) | 0) >= max;
  }

  private reloadProducer(): void {
    const h = this.h;
    this.cGets = Atomics.load(h, GETS);
    this.cGetBytes = Atomics.load(h, GET_BYTES);
    this.lastPuts = h[PUTS] as number;
  }

  /** Under P_LOCK: throws ShutDown / Full, or waits, until the put may store. */
  private admitBlocking(block: boolean, ms: number, what: string): void {
    const h = this.h;
    let deadline = -1;
    for (;;) {
      if (h[SHUTDOWN] !== 0) {
        unlock(h, P_LOCK);
        throw new ShutDown(`${what}: the queue is shut down`);
      }
      const max = h[MAXSIZE] as number;
      if (max <= 0 || !this.isFull(max)) return;
      if (!block) {
        unlock(h, P_LOCK);
        throw new Full(`${what}: the queue is full`);
      }
      if (deadline < 0) deadline = deadlineOf(ms);
      const left = remaining(deadline);
      if (left === 0) {
        unlock(h, P_LOCK);
        throw new Full(`${what}: the queue is still full after ${ms / 1000} s`);
      }
      Atomics.add(h, PUT_WAITERS, 1);
      const seq = Atomics.load(h, NF_SEQ);
      if (!this.isFull(max)) {
        Atomics.sub(h, PUT_WAITERS, 1);
        return;
      }
      unlock(h, P_LOCK);
      try {
        sleepOn(h, NF_SEQ, PUT_SLEEPERS, seq, left);
      } catch (e) {
        Atomics.sub(h, PUT_WAITERS, 1);
        throw e;
      }
      lock(h, P_LOCK);
      Atomics.sub(h, PUT_WAITERS, 1);
    }
  }

  put(st: Staged, block: boolean, ms: number, what: string): void {
    const h = this.h;
    if (block) {
      // Streaming fast path: a full queue usually has room again within a microsecond. Only when
      // this thread's cached view says full does it watch GETS (the consumers' line).
      const max = Atomics.load(h, MAXSIZE);
      if (max > 0 && ((Atomics.load(h, PUTS) - this.cGets) | 0) >= max) {
        for (let i = 0; i < SPIN && this.qsize() >= max; i++) relax();
      }
    }
    lock(h, P_LOCK);
    if (h[SHUTDOWN] !== 0 || (h[MAXSIZE] as number) > 0) this.admitBlocking(block, ms, what);
    this.store(st);
  }

  async putAsync(st: Staged, ms: number, what: string): Promise<void> {
    const h = this.h;
    lock(h, P_LOCK);
    let deadline = -1;
    for (;;) {
      if (h[SHUTDOWN] !== 0) {
        unlock(h, P_LOCK);
        throw new ShutDown(`${what}: the queue is shut down`);
      }
      const max = h[MAXSIZE] as number;
      if (max <= 0 || !this.isFull(max)) break;
      if (deadline < 0) deadline = deadlineOf(ms);
      const left = remaining(deadline);
      if (left === 0) {
        unlock(h, P_LOCK);
        throw new Full(`${what}: the queue is still full after ${ms / 1000} s`);
      }
      Atomics.add(h, PUT_WAITERS, 1);
      const seq = Atomics.load(h, NF_SEQ);
      if (!this.isFull(max)) {
        Atomics.sub(h, PUT_WAITERS, 1);
        break;
      }
      unlock(h, P_LOCK);
      try {
        await sleepOnAsync(h, NF_SEQ, PUT_SLEEPERS, seq, left);
      } catch (e) {
        Atomics.sub(h, PUT_WAITERS, 1);
        throw e;
      }
      lock(h, P_LOCK);
      Atomics.sub(h, PUT_WAITERS, 1);
    }
    this.store(st);
  }

  /** Under P_LOCK, admitted: stores and publishes the record, unlocks, wakes a getter. */
  private store(st: Staged): void {
    const h = this.h;
    const d = this.data;
    try {
      if ((h[CAP_P] as number) !== d.cap) d.sync();
      const puts = h[PUTS] as number;
      if (puts !== this.lastPuts) this.reloadProducer();
      const s = st.size;
      const cap = d.cap;
      let tail = h[TAIL] as number;
      const putBytes = h[PUT_BYTES] as number;
      let need = cap - tail >= s ? s : cap - tail + s;
      if (cap - ((putBytes - this.cGetBytes) | 0) < need) {
        this.cGetBytes = Atomics.load(h, GET_BYTES);
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
      h[TAIL] = tail;
      h[PUT_BYTES] = (putBytes + need) | 0;
      Atomics.add(h, UNFINISHED, 1);
      Atomics.store(h, PUTS, (puts + 1) | 0);
      this.lastPuts = (puts + 1) | 0;
    } catch (e) {
      unlock(h, P_LOCK);
      throw e;
    }
    unlock(h, P_LOCK);
    if (Atomics.load(h, GET_WAITERS) > 0) {
      Atomics.add(h, NE_SEQ, 1);
      wakeOne(h, NE_SEQ, GET_SLEEPERS);
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
    lock(h, C_LOCK);
    try {
      d.sync();
      let head = h[HEAD] as number;
      let tail = h[TAIL] as number;
      const used = ((h[PUT_BYTES] as number) - (h[GET_BYTES] as number)) | 0;
      if (used === 0) {
        head = tail = 0;
        h[HEAD] = 0;
      }
      const old = d.cap;
      const wrapped = used > 0 && tail <= head;
      d.grow(wrapped ? old + tail + s : tail + s);
      if (wrapped) {
        if (tail > 0) d.u8.copyWithin(old, 0, tail);
        tail += old;
      }
      h[TAIL] = tail;
      h[CAP_P] = d.cap;
      h[CAP_C] = d.cap;
      this.cGetBytes = h[GET_BYTES] as number;
      return tail;
    } finally {
      unlock(h, C_LOCK);
    }
  }

  // ---- consumers ----

  /** Under C_LOCK: items available (reloads the cached PUTS before saying none). */
  private available(): number {
    const h = this.h;
    const gets = h[GETS] as number;
    if (gets === this.lastGets) {
      const n = (this.cPuts - gets) | 0;
      if (n > 0) return n;
    }
    this.cPuts = Atomics.load(h, PUTS);
    this.lastGets = gets;
    return (this.cPuts - gets) | 0;
  }

  get(block: boolean, ms: number, what: string): unknown {
    const h = this.h;
    // Streaming fast path: an empty queue is usually refilled within a microsecond; watching
    // PUTS (read-only, no registration) is cheaper than registering as a waiter and being woken.
    // Only when this thread's cached view says empty does it watch PUTS (the producers' line).
    if (block && (Atomics.load(h, GETS) !== this.lastGets || this.cPuts === this.lastGets)) {
      for (let i = 0; i < SPIN && Atomics.load(h, PUTS) === Atomics.load(h, GETS); i++) relax();
    }
    lock(h, C_LOCK);
    if (this.available() <= 0) {
      let deadline = -1;
      do {
        if (Atomics.load(h, SHUTDOWN) !== 0) {
          unlock(h, C_LOCK);
          throw new ShutDown(`${what}: the queue is shut down and empty`);
        }
        if (!block) {
          unlock(h, C_LOCK);
          throw new Empty(`${what}: the queue is empty`);
        }
        if (deadline < 0) deadline = deadlineOf(ms);
        const left = remaining(deadline);
        if (left === 0) {
          unlock(h, C_LOCK);
          throw new Empty(`${what}: the queue is still empty after ${ms / 1000} s`);
        }
        Atomics.add(h, GET_WAITERS, 1);
        const seq = Atomics.load(h, NE_SEQ);
        if (this.available() > 0) {
          Atomics.sub(h, GET_WAITERS, 1);
          break;
        }
        unlock(h, C_LOCK);
        try {
          sleepOn(h, NE_SEQ, GET_SLEEPERS, seq, left);
        } catch (e) {
          Atomics.sub(h, GET_WAITERS, 1);
          throw e;
        }
        lock(h, C_LOCK);
        Atomics.sub(h, GET_WAITERS, 1);
      } while (this.available() <= 0);
    }
    return this.take();
  }

  async getAsync(ms: number, what: string): Promise<unknown> {
    const h = this.h;
    lock(h, C_LOCK);
    let deadline = -1;
    while (this.available() <= 0) {
      if (Atomics.load(h, SHUTDOWN) !== 0) {
        unlock(h, C_LOCK);
        throw new ShutDown(`${what}: the queue is shut down and empty`);
      }
      if (deadline < 0) deadline = deadlineOf(ms);
      const left = remaining(deadline);
      if (left === 0) {
        unlock(h, C_LOCK);
        throw new Empty(`${what}: the queue is still empty after ${ms / 1000} s`);
      }
      Atomics.add(h, GET_WAITERS, 1);
      const seq = Atomics.load(h, NE_SEQ);
      if (this.available() > 0) {
        Atomics.sub(h, GET_WAITERS, 1);
        break;
      }
      unlock(h, C_LOCK);
      try {
        await sleepOnAsync(h, NE_SEQ, GET_SLEEPERS, seq, left);
      } catch (e) {
        Atomics.sub(h, GET_WAITERS, 1);
        throw e;
      }
      lock(h, C_LOCK);
      Atomics.sub(h, GET_WAITERS, 1);
    }
    return this.take();
  }

  /** Under C_LOCK, with an item available: copies it out, frees its bytes, unlocks, decodes. */
  private take(): unknown {
    const h = this.h;
    const d = this.data;
    try {
      if ((h[CAP_C] as number) !== d.cap) d.sync();
      const cap = d.cap;
      let head = h[HEAD] as number;
      let getBytes = h[GET_BYTES] as number;
      if (((d.i32[head >> 2] as number) & 255) === T_SKIP) {
        const skip = d.i32[(head >> 2) + 1] as number;
        getBytes = (getBytes + skip) | 0;
        head += skip;
        if (head === cap) head = 0;
      }
      const size = readRecord(d, head, taken);
      head += size;
      if (head === cap) head = 0;
      h[HEAD] = head;
      Atomics.store(h, GET_BYTES, (getBytes + size) | 0);
      const gets = ((h[GETS] as number) + 1) | 0;
      Atomics.store(h, GETS, gets);
      this.lastGets = gets;
    } catch (e) {
      unlock(h, C_LOCK);
      throw e;
    }
    unlock(h, C_LOCK);
    if (Atomics.load(h, PUT_WAITERS) > 0) {
      Atomics.add(h, NF_SEQ, 1);
      wakeOne(h, NF_SEQ, PUT_SLEEPERS);
    }
    return decodeTaken(taken);
  }

  // ---- both ----

  shutdown(immediate: boolean): void {
    const h = this.h;
    const d = this.data;
    const refs: number[] = [];
    let discarded = 0;
    lock(h, P_LOCK);
    lock(h, C_LOCK);
    try {
      Atomics.store(h, SHUTDOWN, 1);
      if (immediate) {
        d.sync();
        discarded = ((h[PUTS] as number) - (h[GETS] as number)) | 0;
        let head = h[HEAD] as number;
        for (let n = discarded; n > 0; ) {
          if (((d.i32[head >> 2] as number) & 255) !== T_SKIP) {
            recordRefs(d, head, refs);
            n--;
          }
          head += recordSize(d, head);
          if (head === d.cap) head = 0;
        }
        h[HEAD] = h[TAIL] as number;
        Atomics.store(h, GET_BYTES, h[PUT_BYTES] as number);
        Atomics.store(h, GETS, h[PUTS] as number);
      }
      Atomics.add(h, NE_SEQ, 1);
      Atomics.add(h, NF_SEQ, 1);
    } finally {
      unlock(h, C_LOCK);
      unlock(h, P_LOCK);
    }
    afterShutdown(h, immediate, discarded, refs, NE_SEQ, NF_SEQ, GET_SLEEPERS, PUT_SLEEPERS);
  }

  setMaxsize(maxsize: number): void {
    const h = this.h;
    lock(h, P_LOCK);
    h[MAXSIZE] = maxsize;
    Atomics.add(h, NF_SEQ, 1);
    unlock(h, P_LOCK);
    wakeAll(h, NF_SEQ, PUT_SLEEPERS);
  }
}
