/**
 * The control block of a LifoQueue or PriorityQueue (the one-lock engine, core.ts), as Int32 word
 * indexes; core.ts and the stores import it as `LOCKED` (`LOCKED.NE_SEQ`).
 *
 *   LOCK         the queue's mutex, owned (sync/mutex.ts: 0 free, else the holder's ownerValue(),
 *                bit 0 = maybe waiters), so that a lock left by a dead thread is taken over (core.ts)
 *   LOCK_ASYNC   its ASYNC word (sync/mutex.ts; the queue takes LOCK blocking only, so it stays 0)
 *   DISCARD_N    the items shutdown(true) discards (while SHUTDOWN is 2: core.ts, "Death")
 *   COUNT        items in the queue (qsize)
 *   UNFINISHED, SHUTDOWN, MAXSIZE  as in every control block (layout.ts)
 *   NE_SEQ       "not empty" sequence: bumped by every put that finds a getter waiting; getters sleep on it
 *   NF_SEQ       "not full" sequence: bumped by every get that finds a putter waiting; putters sleep on it
 *   GET_WAITERS  getters between "decided to wait" and "re-took the lock" (an upper bound: a getter
 *                whose thread died while waiting leaves it 1 too high, which costs a spare bump only)
 *   PUT_WAITERS  the same for putters
 *   GET_SLEEPERS getters inside Atomics.wait/waitAsync on NE_SEQ not woken yet (changed atomically,
 *                outside the lock: counted by the sleeper, uncounted by the notify that wakes it or by
 *                the sleeper itself on a timeout; engine.ts sleeperHow); PUT_SLEEPERS the same for
 *                putters. A waiter first spins briefly on the sequence word; only sleepers need an
 *                Atomics.notify.
 *   GET_ASYNC_SLEEPERS / PUT_ASYNC_SLEEPERS  the async ones among those sleepers (the word after
 *                each sleepers word): an async sleeper runs only when its thread's loop turns, so
 *                while any is counted a wake-one notifies every sleeper instead (a blocking
 *                sleeper is then surely woken).
 *   GET_DISORDER, GET_TICKETS, GET_WAKES / PUT_...  each side's turns (engine.ts, "Turns"):
 *                waiters counted as out of their place in the runtime's line, the next ticket,
 *                the wakes of every sleeper
 *   GET_FIRST / PUT_FIRST  no live blocking waiter of the side holds a ticket before it (engine.ts,
 *                "Turns")
 *   TOP, DEAD    the store's words: the end of LifoQueue's stack (lifo.ts); the end of
 *                PriorityQueue's arena and its dead bytes (priority.ts)
 *   RECOVER_N, RECOVER_AT  PriorityQueue's recovery journal (priority.ts recover())
 *   DISCARD_TOP, TAKEN_AT  where the records of a discard / of a get are, for a recovery that gives
 *                their directory refs back (core.ts, "Death")
 *
 * Every word except UNFINISHED is read and written only under LOCK (COUNT is also read without it,
 * with Atomics.load, by qsize()/empty() and the getters' short spin, which only use it as a hint).
 * UNFINISHED is changed with atomic read-modify-write only, so taskDone() never takes the lock.
 *
 * The critical section is kept tiny: values are encoded before the lock is taken and decoded
 * after it is released; under the lock a put copies already-encoded bytes in and a get copies bytes
 * out to a per-thread scratch buffer, and both update a few words. No user code runs under it, and
 * nothing in it waits. A thread that dies *while holding this lock* (its worker terminated or out
 * of memory inside those few instructions) leaves its ident in LOCK: the next thread that needs the
 * lock takes it over within CHECK_MS (50 ms) of seeing it unchanged and repairs the store (core.ts,
 * "Death"). A thread that dies anywhere else — asleep in get()/put(), or between encoding and
 * locking, or after unlocking — leaves the queue consistent, because each operation publishes its
 * whole effect in one critical section.
 */
export { MAXSIZE, SHUTDOWN, UNFINISHED } from "./layout.js";

export const LOCK = 0;
export const COUNT = 1;
export const LOCK_ASYNC = 5;
export const GET_WAITERS = 7;
export const PUT_WAITERS = 8;
/** The items shutdown(true) discards, stored before SHUTDOWN = 2 (core.ts, "Death"). */
export const DISCARD_N = 9;
/**
 * PriorityQueue's recovery journal (priority.ts HeapStore.recover): while RECOVER_N is not 0, a
 * recovery is under way and the RECOVER_N - 1 live records it found are listed in the heap buffer
 * from slot RECOVER_AT; a recovery that finds it so (its predecessor died) goes on from the list.
 */
export const RECOVER_N = 10;
export const RECOVER_AT = 11;
export const TOP = 12;
export const DEAD = 13;
/** TOP when shutdown(true) began its discard, stored with DISCARD_N (a recovery reads the discarded records' refs from it). */
export const DISCARD_TOP = 14;
/** PriorityQueue: the arena offset of the record a get is taking, stored before its first heap write (priority.ts). */
export const TAKEN_AT = 15;
// The words waiters watch get cache lines of their own, so that a getter spinning on NE_SEQ does
// not steal the line holding LOCK and COUNT from the threads working under the lock.
export const NE_SEQ = 16;
export const GET_SLEEPERS = 17;
/** Async sleepers among GET_SLEEPERS: always the word after it (engine.ts sleeperHow). */
export const GET_ASYNC_SLEEPERS = 18;
/**
 * Getters' turns (engine.ts, "Turns"): blocking getters counted as possibly out of their place in
 * the runtime's line of sleepers on NE_SEQ (always the word after GET_ASYNC_SLEEPERS), and the
 * next ticket. Under LOCK.
 */
export const GET_DISORDER = 19;
export const GET_TICKETS = 20;
/** Bumped by every wake of all the getters (engine.ts wakeAll, "Turns"). */
export const GET_WAKES = 21;
/** No live blocking getter holds a ticket before it (engine.ts, "Turns"). Always the word after GET_WAKES. */
export const GET_FIRST = 22;
export const NF_SEQ = 32;
export const PUT_SLEEPERS = 33;
/** Async sleepers among PUT_SLEEPERS: always the word after it. */
export const PUT_ASYNC_SLEEPERS = 34;
/** Putters' turns, as GET_DISORDER / GET_TICKETS. */
export const PUT_DISORDER = 35;
export const PUT_TICKETS = 36;
/** Bumped by every wake of all the putters. */
export const PUT_WAKES = 37;
/** As GET_FIRST, for the putters. */
export const PUT_FIRST = 38;
