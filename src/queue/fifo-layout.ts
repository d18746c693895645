/**
 * The control block of Queue and SimpleQueue (the two-lock ring, fifo.ts), as Int32 word indexes;
 * fifo.ts imports it as `FIFO` (`FIFO.NE_SEQ`). One 64-byte line per group, so that each side
 * writes its own line:
 *
 *   line 0  SHUTDOWN, MAXSIZE (words both engines share, layout.ts; UNFINISHED is unused here),
 *           DISCARD_N, DISCARD_HEAD
 *   line 1  producers: P_LOCK (the producers' lock and count of puts, one word), TAIL, PUT_BYTES, P_OWNER,
 *           CAP_P, P_EPOCH
 *   line 2  consumers: C_LOCK (the consumers' lock and count of gets), HEAD, GET_BYTES, C_OWNER, CAP_C,
 *           TAKEN_AT, OWN_GET_BYTES, C_EPOCH, TAKEN_N, TAKEN_E; DONE, DONE_EPOCH (changed by atomic
 *           read-modify-write only, by whoever calls task_done(): usually the consumers, after a get)
 *   line 3  "not empty": NE_SEQ, GET_WAITERS, GET_SLEEPERS, GET_ASYNC_SLEEPERS, GET_DISORDER, GET_TICKETS, GET_WAKES,
 *           GET_FIRST
 *   line 4  "not full":  NF_SEQ, PUT_WAITERS, PUT_SLEEPERS, PUT_ASYNC_SLEEPERS, PUT_DISORDER, PUT_TICKETS, PUT_WAKES,
 *           PUT_FIRST
 *
 * P_LOCK and C_LOCK each hold a lock, its sleepers bit, the other side's waiters flag and a count
 * (the bits: fifo.ts). What the other words mean and which lock guards them: fifo.ts.
 */
export { MAXSIZE, SHUTDOWN } from "./layout.js";

/** The items shutdown(true) discards, stored before SHUTDOWN = 2 (fifo.ts, "Death"). */
export const DISCARD_N = 5;
/** HEAD when shutdown(true) began its discard, stored with DISCARD_N: a recovery walks the discarded records from it for their directory refs (fifo.ts, "Death"). */
export const DISCARD_HEAD = 6;
export const P_LOCK = 16;
export const TAIL = 17;
export const PUT_BYTES = 18;
/**
 * Who holds P_LOCK: the holder's thread ident, written by the acquire that took it (with the
 * publication mark once its put's words are written) and cleared just before the release; 0 while
 * nobody holds it, or in those two instants (fifo.ts, "Death"). Always the lock word's index + 3.
 */
export const P_OWNER = 19;
export const CAP_P = 20;
/**
 * Under P_LOCK: bumped every 2^20 puts and every 2^28 bytes of PUT_BYTES, so that a producer's
 * caches of the consumers' progress can tell how far the puts moved since it loaded them, past the
 * wrap-around of P_LOCK's count and PUT_BYTES (fifo.ts, per-thread caches).
 */
export const P_EPOCH = 21;
export const C_LOCK = 32;
export const HEAD = 33;
export const GET_BYTES = 34;
/** Who holds C_LOCK, as P_OWNER for P_LOCK. */
export const C_OWNER = 35;
export const CAP_C = 36;
/**
 * A get that took a record holding directory refs (items over 64 KiB, shared objects) stores, in
 * its straight run: the record's offset (TAKEN_AT), the gets before it (TAKEN_N: C_LOCK's count
 * bits) and C_EPOCH (TAKEN_E); a recovery of that get, marked and dead, reclaims the refs
 * (fifo.ts, "Death"). Stale once C_LOCK's count or C_EPOCH has moved on.
 */
export const TAKEN_AT = 37;
export const OWN_GET_BYTES = 38;
/** Under C_LOCK: bumped every 2^20 gets (and by 2 when shutdown(true) moves the gets): as P_EPOCH. */
export const C_EPOCH = 39;
export const TAKEN_N = 40;
export const TAKEN_E = 41;
/**
 * The ring keeps no count of unfinished tasks: DONE holds the tasks done (task_done() calls and
 * items discarded by shutdown(true)); unfinished = puts - DONE (fifo.ts). On the consumers' line,
 * not line 0 (which every put reads) nor the producers' (layout.ts's UNFINISHED is unused here).
 */
export const DONE = 42;
/**
 * Bumped (atomic add) by whoever moves DONE across a multiple of 2^20, just after: bounds how far
 * DONE moved since a thread's cache of the puts for task_done() was loaded (fifo.ts, taskDone).
 */
export const DONE_EPOCH = 43;
export const NE_SEQ = 48;
export const GET_WAITERS = 49;
export const GET_SLEEPERS = 50;
/** Async sleepers among GET_SLEEPERS: always the word after it (engine.ts sleeperHow). */
export const GET_ASYNC_SLEEPERS = 51;
/**
 * Getters' turns (engine.ts, "Turns"): blocking getters counted as possibly out of their place in
 * the runtime's line of sleepers on NE_SEQ (always the word after GET_ASYNC_SLEEPERS), and the
 * next ticket. Changed under C_LOCK.
 */
export const GET_DISORDER = 52;
export const GET_TICKETS = 53;
/** Bumped by every wake of all the getters (engine.ts wakeAll, "Turns"). */
export const GET_WAKES = 54;
/**
 * No live blocking getter holds a ticket before it (engine.ts, "Turns": moved past its own ticket
 * by a getter whose wait ends, raised by a scan of the turns). Always the word after GET_WAKES.
 */
export const GET_FIRST = 55;
export const NF_SEQ = 64;
export const PUT_WAITERS = 65;
export const PUT_SLEEPERS = 66;
/** Async sleepers among PUT_SLEEPERS: always the word after it. */
export const PUT_ASYNC_SLEEPERS = 67;
/** Putters' turns, as GET_DISORDER / GET_TICKETS (under P_LOCK). */
export const PUT_DISORDER = 68;
export const PUT_TICKETS = 69;
/** Bumped by every wake of all the putters. */
export const PUT_WAKES = 70;
/** As GET_FIRST, for the putters. */
export const PUT_FIRST = 71;
