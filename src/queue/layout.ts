/**
 * What the two control blocks of a queue have in common. A queue's control block is one small
 * fixed SharedArrayBuffer of HEADER_WORDS Int32 words, shared by every thread that holds the queue.
 * Its layout belongs to the engine that drives it — the one-lock engine of LifoQueue and
 * PriorityQueue (core.ts, locked-layout.ts) or the two-lock ring of Queue and SimpleQueue
 * (fifo.ts, fifo-layout.ts) — except for the words below, at the same index in both, which the
 * queue classes and the task tracking (engine.ts) read without knowing the engine:
 *
 *   UNFINISHED   the task tracking's word, which join() sleeps on, changed by atomic
 *                read-modify-write only, so taskDone() takes no lock: in the one-lock engine the
 *                puts not yet matched by taskDone(); unused in the ring, which counts tasks done
 *                in DONE on its consumers' line (fifo-layout.ts; unfinished = puts - DONE: fifo.ts)
 *   SHUTDOWN     0 running, 1 shut down, 2 shut down and shutdown(true) discarding under the
 *                lock(s) (a recovery from a thread that died in there finishes the discard)
 *   MAXSIZE      the bound the engines enforce: 0 = unbounded, else the given maxsize rounded up
 *                (CPython's full() is `0 < maxsize <= qsize()`, so Queue(1.5) holds 2 items)
 *   QID_LO, QID_HI (words 76-77) the queue's object id, the key of its waits' turns (engine.ts)
 *   GIVEN_MAXSIZE (a Float64 over words 78-79, which no engine's layout uses) the maxsize as given
 *                (1.5, -1, Infinity), which the `maxsize` property reports, as CPython keeps it;
 *                the setter writes it with MAXSIZE under the engine's lock (P_LOCK in the ring)
 */
export const UNFINISHED = 2;
export const SHUTDOWN = 3;
export const MAXSIZE = 4;
/**
 * The queue's object id (transport/shareable.ts), low and high 32 bits, written by the queue
 * class when it makes the control block: the key of its waits' turns (engine.ts, "Turns").
 */
export const QID_LO = 76;
export const QID_HI = 77;

/** Writes the queue's object `id` into its new control block `h` (QID_LO, QID_HI). */
export function setQueueId(h: Int32Array, id: number): void {
  h[QID_LO] = id | 0;
  h[QID_HI] = Math.floor(id / 2 ** 32);
}
/** The byte offset of the Float64 that holds the maxsize as given (words 78 and 79). */
export const GIVEN_MAXSIZE_BYTE = 78 * 4;
/** Words in a control block (each engine's layout fits in it). */
export const HEADER_WORDS = 80;
