/**
 * What each thread is waiting on, published in its thread-table slot so that any thread can read
 * it (threads/dump.ts) while the waiting thread — or every thread — is blocked.
 *
 * Layout: WAIT_WORDS words at SLOT_WAIT of the thread's slot (shared/runtime.ts):
 *   [SEQ]    a sequence lock: odd while the thread rewrites the record, bumped again after
 *   [IDENT]  ident of the thread that wrote the record (a reused slot's stale record is ignored)
 *   blocking record, 7 words: [KIND, ID_LO, ID_HI, INDEX, OWNER, SINCE_S, SINCE_MS]
 *   async record, 8 words:    [COUNT, KIND, ID_LO, ID_HI, INDEX, OWNER, SINCE_S, SINCE_MS]
 * KIND is an index in KINDS (0 = not waiting); ID the waited object's process-wide id (two words:
 * ids may outgrow 31 bits); INDEX the word of its memory slept on; OWNER the ident of the thread that
 * held the Lock/RLock when the waiter went to sleep (0 = none seen / not a lock); SINCE the wall
 * time (Date.now(): seconds and milliseconds) when the wait began.
 *
 * Only the thread itself writes its record, and only around the slow path of a wait (after its
 * spin, right before Atomics.wait / Atomics.waitAsync really sleeps): the uncontended fast paths
 * never come here. A thread has at most one blocking wait at a time (a wait nested inside another,
 * e.g. an excepthook run between slices, is saved and restored); it may have many pending async
 * waits: COUNT says how many, and the record names the oldest still pending (this thread keeps the
 * others in a local list, in arrival order, and publishes the next oldest when the oldest ends).
 * Readers use the sequence lock: a record read while SEQ is odd or changed is read again. The end
 * of a blocking wait with none to restore (the common end, right after every wake-up) is a single
 * store of KIND = 0 outside the sequence lock: the record's other words do not change, so a reader
 * sees the whole wait or none.
 *
 * A blocking wait on a lock publishes the owner it read when it went to sleep (again after each
 * wake, and between the slices of a thread with duties, refreshOwner()); it does not wake just to
 * re-read it: a waiter that wakes and sleeps again goes to the back of the runtime's line of
 * waiters on the word and would lose its turn (waiters are woken in arrival order). So when the
 * lock changed hands while the thread slept (another waiter was woken first), the record names the
 * holder it saw. A thread that dies leaves its record behind; readers show records only for
 * threads that are alive.
 *
 * Which object a word belongs to: each shared primitive calls describe() on its buffer when it is
 * made or revived in a thread (a WeakMap lookup on the slow path). Words of the global block are
 * named by their index: a slot's state word is a start()/join() of that thread, its mailbox a reply
 * from the hub, ALIVE_NON_DAEMON the exit wait.
 */
import {
  ALIVE_NON_DAEMON,
  boot,
  G,
  MAIN_STOPPED,
  MAX_THREADS,
  SLOT_IDENT,
  SLOT_INTS,
  SLOT_MAILBOX,
  SLOT_STATE,
  SLOT_WAIT,
  slotIndex,
} from "./runtime.js";

/** Kinds of things a thread can wait on; the index is what the record stores. */
export const KINDS = [
  "",
  "Lock",
  "RLock",
  "Condition",
  "Semaphore",
  "BoundedSemaphore",
  "Event",
  "Barrier",
  "Queue",
  "LifoQueue",
  "PriorityQueue",
  "SimpleQueue",
  "Future",
  "Thread",
  "hub reply",
  "exit",
  "sleep",
  "internal word",
] as const;
export type WaitKind = (typeof KINDS)[number];

const K_THREAD = KINDS.indexOf("Thread");
const K_HUB = KINDS.indexOf("hub reply");
const K_EXIT = KINDS.indexOf("exit");
const K_UNKNOWN = KINDS.indexOf("internal word");

export const W_SEQ = 0;
export const W_IDENT = 1;
/** Start of the blocking record. */
export const W_BLOCKING = 2;
/** Start of the async record (COUNT first, then the same words as the blocking record). */
export const W_ASYNC = 9;
export const R_KIND = 0;
export const R_ID_LO = 1;
export const R_ID_HI = 2;
export const R_INDEX = 3;
export const R_OWNER = 4;
export const R_SINCE_S = 5;
export const R_SINCE_MS = 6;

interface Described {
  kind: number;
  id: number;
  /** Word of the buffer that holds the owner's ident (Lock, RLock), or -1. */
  ownerAt: number;
  /** The owner's word holds `(ident + 1) << 1 | waiters` (RLock: sync/mutex.ts, the owned mutex), not the ident. */
  coded: boolean;
  /** Lock words of a buffer with several (a queue's): each one's owner word, for waits on it (else ownerAt). */
  lockOwners: ReadonlyMap<number, number> | undefined;
}

const described = new WeakMap<ArrayBufferLike, Described>();

/**
 * Names the shared memory `buffer` for the hang report: waits on any of its words are reported as
 * waits on `kind` #`id`. `ownerAt`: the word holding the ident of the thread that holds it (locks);
 * `coded`: that word holds an owned mutex's value (sync/mutex.ts) rather than the ident itself;
 * `lockOwners`: for a buffer with several locks (a queue's), the owner word of each lock word (a
 * wait on another word has no owner).
 */
export function describe(
  buffer: ArrayBufferLike,
  kind: WaitKind,
  id: number,
  ownerAt = -1,
  coded = false,
  lockOwners?: ReadonlyMap<number, number>,
): void {
  described.set(buffer, { kind: KINDS.indexOf(kind), id, ownerAt, coded, lockOwners });
}

/**
 * The owner's ident as the word at `at` records it (0 = none; see describe). An ident is below
 * 2^30: the bits above are flags of the word (a queue's owner words: fifo.ts).
 */
function readOwner(i32: Int32Array, at: number, coded: boolean): number {
  const v = Atomics.load(i32, at);
  return coded && v !== 0 ? ((v >>> 1) - 1) & IDENT_BITS : v & IDENT_BITS;
}

/** The bits of an owner word that hold an ident. */
const IDENT_BITS = (1 << 30) - 1;

/** One wait in progress: what it is on, and when it began. */
export interface WaitRecord {
  kind: number;
  id: number;
  index: number;
  owner: number;
  /** Date.now() when it began. */
  since: number;
  /** The owner's word, read again while the wait lasts (null: no owner to follow). */
  i32: Int32Array | null;
  ownerAt: number;
  coded: boolean;
}

const table0 = slotIndex(0, 0);

function recordOf(i32: Int32Array, index: number): WaitRecord {
  const since = Date.now();
  if (i32.buffer === G.buffer) {
    if (index === ALIVE_NON_DAEMON)
      return { kind: K_EXIT, id: 0, index, owner: 0, since, i32: null, ownerAt: -1, coded: false };
    // A join of the main thread sleeps on MAIN_STOPPED (its slot's state never changes: thread.ts).
    if (index === MAIN_STOPPED)
      return { kind: K_THREAD, id: 1, index, owner: 0, since, i32: null, ownerAt: -1, coded: false };
    const slot = Math.floor((index - table0) / SLOT_INTS);
    if (slot >= 0 && slot < MAX_THREADS) {
      const word = index - slotIndex(slot, 0);
      const ident = Atomics.load(G, slotIndex(slot, SLOT_IDENT));
      if (word === SLOT_STATE)
        return { kind: K_THREAD, id: ident, index, owner: 0, since, i32: null, ownerAt: -1, coded: false };
      if (word === SLOT_MAILBOX)
        return { kind: K_HUB, id: 0, index, owner: 0, since, i32: null, ownerAt: -1, coded: false };
    }
    return { kind: K_UNKNOWN, id: 0, index, owner: 0, since, i32: null, ownerAt: -1, coded: false };
  }
  const d = described.get(i32.buffer);
  if (d === undefined) return { kind: K_UNKNOWN, id: 0, index, owner: 0, since, i32: null, ownerAt: -1, coded: false };
  const ownerAt = d.lockOwners === undefined ? d.ownerAt : (d.lockOwners.get(index) ?? -1);
  const owner = ownerAt >= 0 ? readOwner(i32, ownerAt, d.coded) : 0;
  return {
    kind: d.kind,
    id: d.id,
    index,
    owner,
    since,
    i32: ownerAt >= 0 ? i32 : null,
    ownerAt,
    coded: d.coded,
  };
}

/** Index in G of this thread's wait record; -1 in a worker with no slot (the hub, a spare not yet running). */
function recordBase(): number {
  return boot.slot >= 0 ? slotIndex(boot.slot, SLOT_WAIT) : -1;
}

function write(at: number, r: WaitRecord | undefined): void {
  if (r === undefined) {
    Atomics.store(G, at + R_KIND, 0);
    return;
  }
  Atomics.store(G, at + R_KIND, r.kind);
  Atomics.store(G, at + R_ID_LO, r.id | 0);
  Atomics.store(G, at + R_ID_HI, Math.floor(r.id / 2 ** 32));
  Atomics.store(G, at + R_INDEX, r.index);
  Atomics.store(G, at + R_OWNER, r.owner);
  const s = Math.floor(r.since / 1000);
  Atomics.store(G, at + R_SINCE_S, s);
  Atomics.store(G, at + R_SINCE_MS, r.since - s * 1000);
}

function publish(base: number, fill: () => void): void {
  Atomics.add(G, base + W_SEQ, 1);
  Atomics.store(G, base + W_IDENT, boot.ident);
  fill();
  Atomics.add(G, base + W_SEQ, 1);
}

let blocking: WaitRecord | undefined;

/** Publishes that this thread is about to sleep on `i32[index]`; returns the record it replaces. */
export function beginBlocking(i32: Int32Array, index: number): WaitRecord | undefined {
  const prev = blocking;
  const base = recordBase();
  if (base < 0) return prev;
  const r = recordOf(i32, index);
  blocking = r;
  publish(base, () => write(base + W_BLOCKING, r));
  return prev;
}

/** Re-reads the owner of the lock this thread sleeps on and republishes it if it changed. */
export function refreshOwner(): void {
  const r = blocking;
  const base = recordBase();
  if (r === undefined || r.i32 === null || base < 0) return;
  const owner = readOwner(r.i32, r.ownerAt, r.coded);
  if (owner === r.owner) return;
  r.owner = owner;
  publish(base, () => Atomics.store(G, base + W_BLOCKING + R_OWNER, owner));
}

/**
 * Ends the current blocking wait, restoring `prev` (the record of a wait this one was nested in).
 * The common end, no wait to restore, is one store of KIND = 0, outside the sequence lock: the
 * record's other words stay as they were, so a reader sees the whole wait (read before the store)
 * or none. It runs right after every wake-up, in a thread whose caches have gone cold while it
 * slept: the sequence-locked rewrite (two read-modify-writes, two stores and a closure) cost ~1 µs
 * more there (docs/benchmarks.md, the hand-off to a blocked get()).
 */
export function endBlocking(prev: WaitRecord | undefined): void {
  blocking = prev;
  const slot = boot.slot;
  if (slot < 0) return;
  const base = slotIndex(slot, SLOT_WAIT);
  if (prev === undefined) Atomics.store(G, base + W_BLOCKING + R_KIND, 0);
  else publish(base, () => write(base + W_BLOCKING, prev));
}

/** This thread's pending async waits, oldest first. */
const pending = new Set<WaitRecord>();

function publishAsync(base: number): void {
  let oldest: WaitRecord | undefined;
  for (const r of pending) {
    oldest = r;
    break;
  }
  publish(base, () => {
    Atomics.store(G, base + W_ASYNC, pending.size);
    write(base + W_ASYNC + 1, oldest);
  });
}

/** Publishes a pending async wait on `i32[index]`; pass the result to endAsync() when it settles. */
export function beginAsync(i32: Int32Array, index: number): WaitRecord | undefined {
  const base = recordBase();
  if (base < 0) return undefined;
  const r = recordOf(i32, index);
  pending.add(r);
  if (pending.size === 1) publishAsync(base);
  else publish(base, () => Atomics.store(G, base + W_ASYNC, pending.size));
  return r;
}

/** Ends an async wait begun with beginAsync(). */
export function endAsync(r: WaitRecord | undefined): void {
  if (r === undefined) return;
  let wasOldest = false;
  for (const first of pending) {
    wasOldest = first === r;
    break;
  }
  pending.delete(r);
  const base = recordBase();
  if (base < 0) return;
  if (wasOldest) publishAsync(base);
  else publish(base, () => Atomics.store(G, base + W_ASYNC, pending.size));
}

/** A published record, as read by another thread. */
export interface SeenWait {
  kind: WaitKind;
  id: number;
  index: number;
  owner: number;
  since: number;
}

/** What the thread `ident` in `slot` waits on: its blocking wait, pending async count and oldest. */
export interface SeenWaits {
  blocking: SeenWait | null;
  asyncCount: number;
  oldestAsync: SeenWait | null;
}

function readRecord(at: number): SeenWait | null {
  const kind = Atomics.load(G, at + R_KIND);
  if (kind === 0) return null;
  return {
    kind: KINDS[kind] ?? "internal word",
    id: Atomics.load(G, at + R_ID_HI) * 2 ** 32 + (Atomics.load(G, at + R_ID_LO) >>> 0),
    index: Atomics.load(G, at + R_INDEX),
    owner: Atomics.load(G, at + R_OWNER),
    since: Atomics.load(G, at + R_SINCE_S) * 1000 + Atomics.load(G, at + R_SINCE_MS),
  };
}

/** Reads the wait record of the thread `ident` in `slot` (consistent: retried while it changes). */
export function readWaits(slot: number, ident: number): SeenWaits {
  const at = slotIndex(slot, SLOT_WAIT);
  for (let tries = 0; ; tries++) {
    const seq = Atomics.load(G, at + W_SEQ);
    if ((seq & 1) === 0 || tries > 1000) {
      const out: SeenWaits =
        Atomics.load(G, at + W_IDENT) !== ident
          ? { blocking: null, asyncCount: 0, oldestAsync: null }
          : {
              blocking: readRecord(at + W_BLOCKING),
              asyncCount: Atomics.load(G, at + W_ASYNC),
              oldestAsync: readRecord(at + W_ASYNC + 1),
            };
      if (Atomics.load(G, at + W_SEQ) === seq || tries > 1000) return out;
    }
  }
}
