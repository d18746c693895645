/**
 * The task protocol between a ThreadPoolExecutor (executor.ts) and its pool threads
 * (pool-thread.ts): the words of the blocks they share, the statistics a pool thread keeps, and
 * the messages. The executor posts TaskBatch messages on the thread's MessagePort; the thread
 * posts back outcomes, OUTCOME_FIELDS each: the handle and generation of the task's future word
 * (which name the task: slots.ts), a status (OK | FAILED, plus MARKED when the value is encoded),
 * the value (a list of none: the thread ran out of tasks having skipped its last ones, cancelled or
 * moved, with no outcome to post; the executor then looks for tasks to move to it, balance.ts).
 * A task's future word moves PENDING -> RUNNING -> FINISHED in the pool thread.
 *
 * Lone messages (a task awaited alone, its outcome): a message that is a primitive (not an object)
 * is one task or one outcome whose other fields are in a ring of the thread's (LANE_SLOTS slots,
 * shared by the two): the executor writes the task's handle, generation, code and submit time in
 * task slot k before it posts its k-th lone task, whose message is the task's one primitive
 * argument (a CALL1 task); the thread writes an outcome's handle, generation and status in outcome
 * slot k before it posts its k-th lone outcome, whose message is the primitive value. Both sides
 * take messages in the order posted, so the k-th primitive message is slot k mod LANE_SLOTS.
 * (A message that is an object costs both threads about 0.4 µs more to copy than a primitive.) A
 * slot is written again only once its message has been taken: a lone task is posted only while
 * OUTSTANDING (which counts it until the thread has run or skipped it, long after it read its
 * slot) is at most LANE_SLOTS; a lone outcome only while fewer than LANE_SLOTS lone outcomes are
 * not yet counted in OUTCOMES_TAKEN, which the executor raises as it takes each one (a 32-bit word:
 * the thread compares its own count with it mod 2^32, so lone outcomes go on past 2^31 and 2^32;
 * both sides' counts, for the slots, are JS numbers, exact to 2^53). A thread that
 * dies leaves nothing to repair here: the executor reads an outcome slot only for a message the
 * thread posted (after writing it), and a replacement thread has rings of its own.
 */
import type { TargetSpec } from "../transport/target.js";

/**
 * Words of a pool thread's state block (shared with its executor). OUTSTANDING counts the tasks
 * given to the thread and not yet run; the executor raises it (a CAS) before it posts a task. An
 * idle thread past its idleTimeout retires by a CAS of OUTSTANDING 0 -> RETIRED, so the executor
 * never gives a task to a thread that has retired, and a thread never retires with a task coming.
 */
export const OUTSTANDING = 0;
/**
 * 1 once the thread ended while it ran a task (EXIT_HOW says how), set after EXIT_CODE and
 * EXIT_HOW: the executor fails the running task at once. Not set for EXIT_TASK, whose task's
 * outcome was posted: the executor waits for the thread's end in the thread table before it
 * replaces it (so maxWorkers is never exceeded).
 */
export const EXITED = 1;
export const EXIT_CODE = 2;
/**
 * How the thread ended: EXIT_EVENT (its process 'exit' event while a task ran: a process.exit()
 * that no stack unwound), EXIT_CALLBACK (a process.exit() in a callback, a timer or a listener,
 * not in the task's own code: it unwinds that callback and ends the thread), THROW_CALLBACK (an
 * uncaught exception in such a callback, which also ends the thread), or EXIT_TASK (a task's own
 * code raised SystemExit, a process.exit() unwound to the pool: that task's future fails with it,
 * and the thread ends after posting it, as any thread whose code calls process.exit() ends).
 */
export const EXIT_HOW = 3;
export const EXIT_EVENT = 0;
export const EXIT_CALLBACK = 1;
export const THROW_CALLBACK = 2;
export const EXIT_TASK = 3;
/** Lone outcomes (see the file comment) the executor has taken; written by the executor only. */
export const OUTCOMES_TAKEN = 4;

/**
 * @internal Test hook (test/futures/lone-wrap.test.ts): `loneStart`, the count of lone outcomes a
 * new pool thread's executor starts from (in OUTCOMES_TAKEN, where the thread starts its own count:
 * below 2^32), to see the counts wrap; `made`, called with each new pool thread's state block.
 */
export const laneTestHooks: { loneStart?: number; made?: (state: Int32Array) => void } = {};
/**
 * @internal Test hooks (test/futures/lone-run.test.ts), set inside a pool thread (from its
 * initializer): `ran`, called as a lone task runs at once from its message (pool-thread.ts
 * #runLone(), not the pump); `beforeStart`, called with that task's argument just before its CAS
 * to RUNNING (the window in which a cancel makes it be skipped); `queued`, called as a lone task
 * is left to the pump instead (the thread is busy, or the target not compiled yet).
 */
export const loneRunHooks: { ran?: () => void; beforeStart?: (arg: unknown) => void; queued?: () => void } = {};
export const STATE_WORDS = 5;
export const RETIRED = -1;
/** Words of the executor's block (shared by all its threads). */
export const BROKEN = 0;
/** Pool threads started and not ended (retiring threads keep it >= minWorkers). */
export const LIVE = 1;
export const SHARED_WORDS = 2;

/**
 * A pool thread's statistics (Float64, written by that thread only; milliseconds): total and
 * longest run and wait (start - submit) times, tasks completed, and when the running task started
 * (0 while idle), on the clock performance.timeOrigin + performance.now().
 */
export const RUN_TOTAL = 0;
export const RUN_MAX = 1;
export const WAIT_TOTAL = 2;
export const WAIT_MAX = 3;
export const COMPLETED = 4;
export const BUSY_SINCE = 5;
export const STAT_SLOTS = 6;

/**
 * Fields of one task in a batch: the handle and generation of its future's word (slots.ts), its
 * code (target key * 8 + mode * 2 + 1 if its args are encoded with marks: pool-worker.ts taskCode),
 * its args, and when it was submitted.
 */
export const TASK_FIELDS = 5;
/**
 * Task modes: call fn(...args); call fn(...a) for each a of a chunk and return the list; call
 * fn(args), args being the one argument, a primitive (no array to send for it).
 */
export const CALL = 0;
export const CHUNK = 1;
export const CALL1 = 2;

/**
 * Outcome statuses, plus MARKED when the value is encoded with marks (transport/encode.ts), and
 * PARTIAL (with FAILED) for a map() chunk whose call failed part-way: its value is
 * `[results of the calls before it, the error]`, so that map() hands out those results before it
 * raises, as CPython's ThreadPoolExecutor.map() (which ignores chunksize) does.
 */
export const OK = 0;
export const FAILED = 1;
export const MARKED = 2;
export const PARTIAL = 4;

export interface TaskBatch {
  /** Targets this thread has not seen yet: [key, spec]. */
  f?: [number, TargetSpec][];
  /** Targets dropped (futures/targets.ts; no task of this or a later batch uses them): forget them. */
  x?: number[];
  /** New slabs of future words: [slab number, words]. */
  s?: [number, Int32Array][];
  /** Tasks, TASK_FIELDS each: handle, gen (of the future's word, slots.ts), code, args, submittedAt. */
  t?: unknown[];
  stop?: true;
}

/** Fields of one outcome in a pool thread's message. */
export const OUTCOME_FIELDS = 4;

/** Slots of each ring of lone messages (see the file comment). */
export const LANE_SLOTS = 16;
/**
 * Lone outcomes a pool thread may have posted and its executor not yet taken. A lone outcome is
 * matched to its ring slot by its place among the lone messages, so they must be read in the order
 * posted: on Node, the port's "message" events and receiveMessageOnPort() (a blocking wait's drain)
 * take them from one queue, in order. Deno takes a message off the port for a "message" event
 * before it runs, so a drain in between reads later ones first: there, one lone outcome at a time
 * (the others go as lists, which name their tasks). Bun too, as a precaution (not seen to reorder). Before, a map() drained by a blocking
 * wait and then a mapAsync() on Deno gave results to the wrong futures ([10, 20, 30] came as [20, 10, 30]).
 */
export const LONE_OUTCOMES_IN_FLIGHT = "Deno" in globalThis || "Bun" in globalThis ? 1 : LANE_SLOTS;
/**
 * Whether a lone message may be `undefined`. Deno's MessagePort hands `undefined` to a "message"
 * listener as null (Deno 2.9; receiveMessageOnPort reads it as sent), so there a task whose one
 * argument, or an outcome whose value, is undefined goes in a list, whose elements keep it. Before,
 * `await pool.submit(() => undefined)` gave null on Deno, and so did submit(fn, undefined)'s argument.
 */
export const LONE_UNDEFINED = !("Deno" in globalThis);
/** Fields of a lone task's slot (Float64): handle, gen, code, submittedAt. */
export const LANE_TASK_FIELDS = 4;
/** Fields of a lone outcome's slot (Int32): handle, gen, status. */
export const LANE_OUTCOME_FIELDS = 3;

/** The rings of lone messages of one pool thread: tasks (Float64), outcomes (Int32), in one shared block. */
export interface Lanes {
  tasks: Float64Array;
  outcomes: Int32Array;
}

/** New rings for a pool thread. */
export function makeLanes(): Lanes {
  const taskBytes = LANE_SLOTS * LANE_TASK_FIELDS * 8;
  const sab = new SharedArrayBuffer(taskBytes + LANE_SLOTS * LANE_OUTCOME_FIELDS * 4);
  return lanesOf(sab);
}

/** The rings in a block made by makeLanes() (as the pool thread receives it). */
export function lanesOf(sab: SharedArrayBuffer): Lanes {
  const taskBytes = LANE_SLOTS * LANE_TASK_FIELDS * 8;
  return {
    tasks: new Float64Array(sab, 0, LANE_SLOTS * LANE_TASK_FIELDS),
    outcomes: new Int32Array(sab, taskBytes, LANE_SLOTS * LANE_OUTCOME_FIELDS),
  };
}

export const BROKEN_MESSAGE = "A thread initializer failed, the thread pool is not usable anymore";
