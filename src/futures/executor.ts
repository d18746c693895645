/**
 * ThreadPoolExecutor: Python's `concurrent.futures.ThreadPoolExecutor` on real threads.
 *
 * Each pool thread is a library Thread (not daemon, as in CPython, yet not waited for at exit: it is finished by finishAtExit(); named `${prefix}_N`, in enumerate()) running
 * poolThread() (pool-thread.ts). The executor, in the thread that made it, assigns each task to
 * the pool thread with the fewest outstanding tasks (a counter the pool thread decrements), starting
 * a new thread while none is idle and there are fewer than maxWorkers, and never waits for one to
 * start. Tasks go out on the thread's MessagePort: at once while that thread has little queued,
 * otherwise in batches (at the end of the current synchronous run, or before any blocking wait).
 *
 * Outcomes come back on the same port (see future.ts). A task whose own process.exit() unwound it fails
 * with that SystemExit (posted as its outcome), and its pool thread then ends (pool-thread.ts #exit(),
 * EXIT_HOW = EXIT_TASK): once it has ended in the thread table (not before, so maxWorkers is never
 * exceeded) its tasks not yet started go to a replacement, a new thread, as below. A pool thread that
 * dies (a process.exit() in a callback, a crash) is noticed by the blocking waits (which wake at least
 * every 50 ms), by submit(), and, from the event loop, by the close of its port (which is ref'd while it
 * has tasks, so the process lives until their futures settle) or a wait on its thread-table slot: the
 * task it was running fails with a RuntimeError naming the thread and how it ended (a process.exit() or
 * an uncaught exception in a callback, i.e. a timer or listener that this task or an earlier one left on
 * the thread's event loop: pool-thread.ts; out of memory, as the hub writes in the thread's slot before
 * it marks the thread ended, which a port seen closed first waits for, DEATH_GRACE_MS at most), its tasks
 * not yet started go to a replacement. A thread that ends before it is handed its first task (it retired
 * past idleTimeout, or died, while the executor was descheduled right after starting it) is forgotten, so
 * it never counts against maxWorkers, and the task goes to another thread (#startWorker, #enqueue). A
 * retired thread whose last outcomes cannot be read yet stays listed until they come (#check), but takes
 * no place of maxWorkers meanwhile (#assign): it runs no task any more. A thread that cannot start fails
 * the tasks given to it (RuntimeError), not the pool; a failing initializer breaks the pool for good
 * (BROKEN word: submit() raises BrokenExecutor, the pool threads fail every task).
 *
 * At the exit of the thread that made it (process.exit(), an uncaught error, the end of the
 * program), an executor with pool threads left blocks until every task submitted has settled.
 */
import { holdsWorker, onThreadEnding } from "../shared/thread-reset.js";
import { availableParallelism } from "node:os";
import { onProcessExit } from "../shared/at-exit.js";
import { MessageChannel, MessagePort, type ResourceLimits } from "node:worker_threads";
import { BrokenThreadPool, Full, RuntimeError } from "../errors.js";
import {
  boot,
  DEATH_ERROR,
  DEATH_NONE,
  DEATH_OOM,
  deathOf,
  G,
  HUB_DEAD,
  HUB_READY,
  isIdentAlive,
  isRoot,
} from "../shared/runtime.js";
import { afterMs, checkOptions, deadlineOf, isOptions, remaining, secondsMs } from "../shared/wait.js";
import { decode } from "../transport/decode.js";
import { encode } from "../transport/encode.js";
import { kShare } from "../transport/shareable.js";
import {
  describeTarget,
  isModuleTarget,
  type ModuleTarget,
  type Target,
  type TargetSpec,
} from "../transport/target.js";
import { checkResourceLimits } from "../threads/resource-limits.js";
import { holdProcess, startFailed } from "../threads/table.js";
import { kLaunchAsync, markJoinedAtExit, Thread } from "../threads/thread.js";
import { blockOn, blockUntil, doorbell, Future, type FutureLink, internals } from "./future.js";
import { FINISHED, indexOf, PENDING, RUNNING, Slots } from "./slots.js";
import { Executor, type ExplicitTarget, type ResultOf } from "./base.js";
import { Groups, MapFeed, PartialChunk, results } from "./map.js";
import { leastLoaded, sendNow, steal } from "./balance.js";
import { addStats, PoolWorker, TaskTable, taskCode } from "./pool-worker.js";
import { releaseTarget, retainTarget, targetKey } from "./targets.js";
import {
  BROKEN,
  BROKEN_MESSAGE,
  CALL,
  CALL1,
  CHUNK,
  COMPLETED,
  EXIT_CALLBACK,
  EXIT_CODE,
  EXIT_EVENT,
  EXIT_HOW,
  EXIT_TASK,
  EXITED,
  LIVE,
  FAILED,
  MARKED,
  makeLanes,
  OUTCOME_FIELDS,
  PARTIAL,
  RETIRED,
  RUN_MAX,
  RUN_TOTAL,
  SHARED_WORDS,
  STAT_SLOTS,
  STATE_WORDS,
  THROW_CALLBACK,
  WAIT_MAX,
  WAIT_TOTAL,
} from "./protocol.js";
import { libraryFile } from "../shared/paths.js";
import { unrefOwn } from "../shared/own-unref.js";

/** Options of `new ThreadPoolExecutor()`, as Python's keyword arguments. */
export interface ThreadPoolExecutorOptions {
  /**
   * At most this many threads (default min(32, availableParallelism() + 4)); as in Python, a number
   * > 0 that need not be whole: threads start while there are fewer than it (1.5 allows 2).
   */
  maxWorkers?: number | undefined;
  /** Threads are named `${threadNamePrefix}_N` (default "ThreadPoolExecutor-K"). */
  threadNamePrefix?: string | undefined;
  /** Run once in each pool thread before its first task. */
  initializer?: Target | undefined;
  /** The initializer's arguments (copied into each pool thread). */
  initargs?: unknown[] | undefined;
  /**
   * Back-pressure: at most this many tasks wait for a thread (default Infinity), i.e. at most
   * maxWorkers + maxQueue tasks are unfinished. When it is reached, `submit()` and `map()` block
   * until a task finishes (as `Queue.put()`), `submitAsync()` waits without blocking, and
   * `submitWith({ block: false })` / `{ timeout }` raise `Full`.
   */
  maxQueue?: number | undefined;
  /** Idle pool threads end after this many seconds without a task (default Infinity: never, as CPython). */
  idleTimeout?: number | undefined;
  /** Threads that idleTimeout never ends (default 0). Threads still start only when tasks need them. */
  minWorkers?: number | undefined;
  /**
   * Heap and stack limits of each pool thread, as worker_threads' resourceLimits (a thread over them
   * dies: its task fails). Node only: on Bun and Deno the constructor throws a RuntimeError saying why.
   */
  resourceLimits?: ResourceLimits | undefined;
}

export type { AnyTarget, ExplicitResult, ExplicitTarget, MapTarget, ResultOf } from "./base.js";

/** One map() task, encoded and not yet submitted (prepareGroup). */
interface PreparedGroup {
  mode: number;
  args: unknown;
  marked: boolean;
}

/**
 * Encodes one group of map() items (Groups): a call, or with chunksize > 1 a CHUNK task. `first`:
 * the group's first item's position in the iterable, which a TypeError for an item that cannot
 * cross names (`iterable[3].x`).
 */
function prepareGroup(size: number, group: unknown[], what: string, first: number): PreparedGroup {
  if (size === 1 && group.length === 1 && primitives(group)) return { mode: CALL1, args: group[0], marked: false };
  let encoded: ReturnType<typeof encode>;
  try {
    encoded = encode(group, `ThreadPoolExecutor.${what}(): item`);
  } catch (error) {
    // Said again for the item that failed, by its place in the iterable.
    for (let j = 0; j < group.length; j++) {
      const args = size === 1 ? group : (group[j] as unknown[]);
      // One item's call: [item], or one item of each zipped iterable.
      if (args.length === 1) encode(args[0], `ThreadPoolExecutor.${what}(): iterable[${first + j}]`);
      else args.forEach((a, k) => encode(a, `ThreadPoolExecutor.${what}(): iterables[${k}][${first + j}]`));
      if (size === 1) break;
    }
    throw error;
  }
  return { mode: size === 1 ? CALL : CHUNK, args: encoded.value, marked: encoded.marked };
}

/** Per-task options of `submitWith()` / `submitWithAsync()`. */
export interface SubmitOptions {
  /** With maxQueue reached: true (default) waits for room, false raises `Full` at once. */
  block?: boolean | undefined;
  /** Seconds to wait for room in the queue before raising `Full` (default forever). */
  timeout?: number | undefined;
  /**
   * Aborting cancels the task if it has not started (its future is cancelled, as by
   * `future.cancel()`); a running task cannot be interrupted and finishes normally.
   */
  signal?: AbortSignal | undefined;
  /** ArrayBuffers and MessagePorts in the arguments to move into the pool thread rather than copy. */
  transferList?: (ArrayBuffer | MessagePort)[] | undefined;
}

/** Times of `ThreadPoolExecutor.stats()`, in seconds. */
export interface TimeStats {
  /** The mean over the tasks counted (0 when none). */
  mean: number;
  /** The longest. */
  max: number;
  /** The sum. */
  total: number;
}

/** A snapshot of a pool's load: `ThreadPoolExecutor.stats()`. */
export interface ExecutorStats {
  /** Pool threads alive (started, not ended). */
  threads: number;
  /** Tasks running now. */
  running: number;
  /** Tasks submitted and not started (nor cancelled). */
  queued: number;
  /** Tasks run to an outcome since the pool was made. */
  completed: number;
  /** How long tasks ran (completed tasks). */
  runTime: TimeStats;
  /** How long tasks waited between submit and start (started tasks). */
  waitTime: TimeStats;
  /** Busy thread time over maxWorkers * elapsed time since the pool was made (0..1). */
  utilization: number;
}

/** Options of `ThreadPoolExecutor.map()` / `mapAsync()`. */
export interface MapOptions {
  /** Seconds, counted from the map() call, for all the results. */
  timeout?: number | undefined;
  /** Calls per task (items are sent and run in chunks of this size). */
  chunksize?: number | undefined;
}

// The pool thread's body: a module target inside the library (transport/target.ts registers no
// TypeScript loader for the library's own modules, so a pool thread starts as fast as any thread).
const poolEntry = { module: libraryFile("futures/pool-thread.js"), export: "poolThread" };

/** Why no pool thread can start once the hub has died (threads/hub-client.ts says the same to start()). */
const HUB_DIED = "the threading hub worker has died (see stderr): no thread can be started";

/**
 * @internal For tests: `launched(thread)` runs as soon as a pool thread's start has been handed
 * over, before the executor watches the thread or gives it its first task (a test blocks there
 * until the thread has ended, as a descheduled executor may see it).
 */
export const executorTestHooks: {
  launched?: ((thread: Thread<unknown[]>) => void) | undefined;
  /**
   * `unread(name)` true: the executor cannot read what pool thread `name` posted without the event
   * loop (#drain() leaves its port alone: its messages come with their "message" events only), as
   * on Deno what was taken off the port for a "message" event that has not run yet.
   */
  unread?: ((name: string) => boolean) | undefined;
} = {};

/** How long (ms) a dead pool thread's tasks wait for the hub to say what its worker died of (#check). */
const DEATH_GRACE_MS = 2000;

/** Where a callback that ended a pool thread comes from (pool-thread.ts), for the running task's error. */
const CALLBACK =
  " (a timer or a listener left on that thread by this task or an earlier one, not this task's own code:" +
  " tasks share their thread's event loop)";

/** A start failure's reason for a message: the error's message, never empty. */
function reasonOf(e: unknown): string {
  // (the task's error says "can't start new thread: " itself)
  const text = (e instanceof Error ? e.message || e.name : String(e)).replace(/^can't start new thread: /, "");
  return text === "" ? "unknown reason (an empty error)" : text;
}

let executorCounter = 0;

/** This thread's performance.timeOrigin (a getter that costs as much as a task's bookkeeping). */
const origin = performance.timeOrigin;
/** (The global `performance` is an accessor on Node: read once, not at each submit.) */
const clock = performance;
/** Now, in ms on the performance.timeOrigin clock. */
const now = (): number => origin + clock.now();

/**
 * Executors of this thread that still have pool threads (not shut down, or shut down without
 * waiting). At this thread's exit (process.exit(), an uncaught error, or the end of the program)
 * each finishes its running and queued tasks first, as CPython joins executor threads at exit.
 */
const unfinished = new Set<{ finishAtExit(): void }>();
/**
 * A thread worker whose thread ended with such executors keeps the process alive until its exit
 * has finished them: otherwise the thread's end would let the process exit (and kill this worker)
 * with their tasks queued. CPython joins executor threads at exit, whoever made the executor. Its
 * thread stays RUNNING until the hub has seen the worker exit (its worker is held: not reused); a
 * daemon or pool thread is counted then among the live non-daemon threads (table.ts holdProcess),
 * and counted out as the hub ends it, even if the worker dies in its exit.
 */
let holdingProcess = false;
/**
 * This thread is exiting (its process "exit" event began): no executor of this thread takes new
 * tasks from then on, as CPython's submit() raises "cannot schedule new futures after interpreter
 * shutdown" once its exit hook has run. Before, a submit() from a later "exit" listener (or a done
 * callback run meanwhile) returned a future whose task never ran: the process exited under it.
 */
let exiting = false;
onProcessExit(() => {
  exiting = true;
  for (const ex of [...unfinished]) ex.finishAtExit();
}, isRoot);
// A thread that ends with such an executor ends its worker too (so the exit above finishes the
// tasks), instead of handing the worker to another thread (shared/thread-reset.ts).
holdsWorker(() => unfinished.size > 0);
onThreadEnding(() => {
  if (isRoot || holdingProcess || unfinished.size === 0) return;
  holdingProcess = true;
  holdProcess(boot.slot);
});

/** What a submission to a shut-down executor, or one made while this thread exits, raises (CPython's words). */
function closedError(shutdown: boolean): RuntimeError {
  return new RuntimeError(
    shutdown ? "cannot schedule new futures after shutdown" : "cannot schedule new futures after interpreter shutdown",
  );
}

interface Prepared {
  key: number;
  args: unknown;
  marked: boolean;
  transfer: (ArrayBuffer | MessagePort)[] | undefined;
}

interface MapSetup {
  deadline: number;
  chunks: Future<unknown>[];
  key: number;
  size: number;
}

/** The executor's record of future `f` (undefined once it settled here). */
function taskOf(f: Future<unknown>): number | undefined {
  return internals.task(f) as number | undefined;
}

function primitives(args: unknown[]): boolean {
  for (const a of args)
    if ((typeof a === "object" && a !== null) || typeof a === "function" || typeof a === "symbol") return false;
  return true;
}

/**
 * A pool of threads that run calls asynchronously, as Python's ThreadPoolExecutor:
 * `submit(fn, ...args)` returns a Future; `map(fn, items)` yields the results in order.
 * `submit()` schedules the call on a pool thread and never waits for a thread to start;
 * arguments are copied, except shared objects, which stay shared.
 */
export class ThreadPoolExecutor extends Executor<MapOptions> implements Disposable, AsyncDisposable {
  readonly #maxWorkers: number;
  readonly #prefix: string;
  readonly #init: TargetSpec | null;
  readonly #initargs: unknown[];
  readonly #shared = new Int32Array(new SharedArrayBuffer(SHARED_WORDS * 4));
  readonly #maxQueue: number;
  readonly #idleMs: number;
  readonly #minWorkers: number;
  readonly #limits: ResourceLimits | undefined;
  readonly #born = origin + clock.now();
  /** Statistics of pool threads that have ended. */
  readonly #gone = new Float64Array(STAT_SLOTS);
  /** submitAsync() calls waiting for room in the queue. */
  #roomWaiters: (() => void)[] = [];
  #workers: PoolWorker[] = [];
  #started = 0;
  #shutdown = false;
  /** The tasks not settled here, by the handle of their future's word (an outcome names it). */
  readonly #table = new TaskTable();
  /** The words of this pool's futures. */
  readonly #slots = new Slots();
  #flushQueued = false;
  /** Why the last pool thread could not start (a failed start fails its tasks, not the pool). */
  /** Why the last pool thread could not be started (never empty once a start failed). */
  #startError = "";
  readonly #link: FutureLink;

  /** `new ThreadPoolExecutor({ maxWorkers: 4 })`: Python's keyword arguments. */
  constructor(options?: ThreadPoolExecutorOptions);
  /** `new ThreadPoolExecutor(4)`: Python's positional `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer, initargs)`. */
  constructor(
    maxWorkers: number | null | undefined,
    threadNamePrefix?: string,
    initializer?: Target,
    initargs?: unknown[],
  );
  constructor(options: ThreadPoolExecutorOptions | number | null | undefined = {}, ...positional: unknown[]) {
    super();
    if (typeof options === "number" || options === null || (options === undefined && positional.length > 0)) {
      if (positional.length > 3) {
        throw new TypeError(`ThreadPoolExecutor() takes at most 4 arguments (${1 + positional.length} given)`);
      }
      const [threadNamePrefix, initializer, initargs] = positional;
      const given: Record<string, unknown> = {
        maxWorkers: options ?? undefined,
        threadNamePrefix,
        initializer,
        initargs,
      };
      for (const key of Object.keys(given)) if (given[key] === undefined) delete given[key];
      options = given as ThreadPoolExecutorOptions;
    } else if (positional.length > 0) {
      throw new TypeError("ThreadPoolExecutor: give the options object alone, or Python's positional arguments");
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        "ThreadPoolExecutor(options): options must be an object like { maxWorkers, threadNamePrefix }",
      );
    }
    // An unknown key (a typo such as max_workers) is a TypeError, as Python's unexpected keyword argument.
    checkOptions(
      options,
      [
        "maxWorkers",
        "threadNamePrefix",
        "initializer",
        "initargs",
        "maxQueue",
        "idleTimeout",
        "minWorkers",
        "resourceLimits",
      ],
      "ThreadPoolExecutor",
    );
    const { maxWorkers, threadNamePrefix, initializer, initargs, maxQueue, idleTimeout, minWorkers, resourceLimits } =
      options;
    if (maxWorkers === undefined || maxWorkers === null) {
      this.#maxWorkers = Math.min(32, availableParallelism() + 4);
    } else {
      if (typeof maxWorkers !== "number") {
        throw new TypeError(
          `ThreadPoolExecutor: maxWorkers must be a number, not ${typeof maxWorkers === "string" ? JSON.stringify(maxWorkers) : typeof maxWorkers}`,
        );
      }
      if (Number.isNaN(maxWorkers))
        throw new RangeError("ThreadPoolExecutor: maxWorkers must be a number > 0, not NaN");
      if (maxWorkers <= 0) throw new RangeError("ThreadPoolExecutor: max_workers must be greater than 0");
      // As Python's: kept as given, and a thread starts while there are fewer than it (1.5 -> 2 threads,
      // cpus / 2 works as in Python; Infinity: no bound).
      this.#maxWorkers = maxWorkers;
    }
    if (threadNamePrefix !== undefined && typeof threadNamePrefix !== "string") {
      throw new TypeError("ThreadPoolExecutor: threadNamePrefix must be a string");
    }
    this.#prefix = threadNamePrefix || `ThreadPoolExecutor-${executorCounter++}`;
    if (
      initializer !== undefined &&
      initializer !== null &&
      typeof initializer !== "function" &&
      !isModuleTarget(initializer)
    ) {
      throw new TypeError("ThreadPoolExecutor: initializer must be a callable or { module, export }");
    }
    this.#init = initializer ? describeTarget(initializer, "ThreadPoolExecutor: initializer") : null;
    if (initargs !== undefined && !Array.isArray(initargs))
      throw new TypeError("ThreadPoolExecutor: initargs must be an array");
    this.#initargs = initargs ?? [];
    if (maxQueue === undefined || maxQueue === Number.POSITIVE_INFINITY) this.#maxQueue = Number.POSITIVE_INFINITY;
    else {
      if (typeof maxQueue !== "number" || !Number.isInteger(maxQueue)) {
        throw new TypeError(`ThreadPoolExecutor: maxQueue must be an integer or Infinity, not ${String(maxQueue)}`);
      }
      if (maxQueue < 0) throw new RangeError(`ThreadPoolExecutor: maxQueue must be >= 0, not ${maxQueue}`);
      this.#maxQueue = maxQueue;
    }
    this.#idleMs =
      idleTimeout === undefined ? Number.POSITIVE_INFINITY : secondsMs(idleTimeout, "ThreadPoolExecutor: idleTimeout");
    if (minWorkers === undefined) this.#minWorkers = 0;
    else {
      if (typeof minWorkers !== "number" || !Number.isInteger(minWorkers)) {
        throw new TypeError(`ThreadPoolExecutor: minWorkers must be an integer, not ${String(minWorkers)}`);
      }
      if (minWorkers < 0 || minWorkers > this.#maxWorkers) {
        throw new RangeError(`ThreadPoolExecutor: minWorkers must be between 0 and maxWorkers (${this.#maxWorkers})`);
      }
      this.#minWorkers = minWorkers;
    }
    if (resourceLimits !== undefined) checkResourceLimits("ThreadPoolExecutor", resourceLimits);
    this.#limits = resourceLimits;
    encode(this.#initargs, "ThreadPoolExecutor: initargs"); // fails here, not in a thread, if they cannot cross
    this.#link = {
      poll: () => this.#poll(),
      flush: () => this.#flush(),
      cancelled: (f) => this.#forget(f),
    };
    unfinished.add(this.#exitHook);
  }

  readonly #exitHook = { finishAtExit: (): void => this.#finishQueued() };

  /** Blocks until every task submitted so far has settled (those of threads that die included). */
  #finishQueued(): void {
    for (;;) {
      this.#poll();
      const fs = this.#workers
        .filter((w) => !w.dead)
        .flatMap((w) => w.live().map((h) => this.#table.future[h] as Future<unknown>));
      if (fs.length === 0) return;
      let left = fs.length;
      for (const f of fs) internals.onSettle(f, () => left--);
      blockUntil(fs, () => left === 0, Number.POSITIVE_INFINITY);
    }
  }

  /** `maxWorkers` as given (or its default): the executor runs at most `Math.ceil(maxWorkers)` threads at once. */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  /** @internal submit() (its overloads: base.ts). */
  protected submitCall(fn: Target, args: unknown[]): Future<unknown> {
    if (this.#shutdown || exiting) throw closedError(this.#shutdown);
    this.#checkBroken();
    const key = targetKey(fn, "ThreadPoolExecutor.submit(): fn", this.#init === null);
    if (this.#maxQueue === Number.POSITIVE_INFINITY && primitives(args)) {
      // No wait for room and nothing to encode: no code runs before the task holds the key (TaskTable.add).
      return args.length === 1 ? this.#submit(key, CALL1, args[0], false) : this.#submit(key, CALL, args, false);
    }
    retainTarget(key); // while it waits for room or its args are encoded (targets.ts); its task then holds it
    try {
      if (this.#maxQueue !== Number.POSITIVE_INFINITY) this.#waitRoom(true, Number.POSITIVE_INFINITY, "submit");
      if (primitives(args)) {
        return args.length === 1 ? this.#submit(key, CALL1, args[0], false) : this.#submit(key, CALL, args, false);
      }
      const { value, marked } = encode(args, "ThreadPoolExecutor.submit(): args");
      return this.#submit(key, CALL, value, marked);
    } finally {
      releaseTarget(key);
    }
  }

  /**
   * As `submit()`, with per-task options: `block` / `timeout` for room in the queue (maxQueue;
   * `Full` when there is none), `signal` to cancel the task while it has not started, and
   * `transferList` to move ArrayBuffers / MessagePorts of the arguments instead of copying them.
   */
  submitWith<A extends unknown[], R>(options: SubmitOptions, fn: (...args: A) => R, ...args: A): Future<Awaited<R>>;
  submitWith<R = unknown>(options: SubmitOptions, fn: ModuleTarget, ...args: unknown[]): Future<R>;
  submitWith<R = never, F extends Target = never>(
    options: SubmitOptions,
    fn: ExplicitTarget<R, F>,
    ...args: unknown[]
  ): Future<ResultOf<R>>;
  submitWith(options: SubmitOptions, fn: Target, ...args: unknown[]): Future<unknown> {
    const prepared = this.#prepare(options, fn, args, "submitWith");
    try {
      const block = options.block ?? true;
      this.#waitRoom(block, deadlineOf(secondsMs(options.timeout, "ThreadPoolExecutor.submitWith()")), "submitWith");
      return this.#launchPrepared(prepared, options.signal);
    } finally {
      releaseTarget(prepared.key);
    }
  }

  /**
   * The async twin of `submit()`: waits for room in the queue (maxQueue) without blocking the
   * event loop, submits, and resolves to the call's result (as `await pool.submit(...)`). A Future
   * is thenable, so a promise can never hold one: for a Future (to cancel, or to wait on with
   * others) use `submit()` / `submitWith({ block: false })`; to cancel while it waits, give
   * `submitWithAsync()` a `signal`.
   */
  submitAsync<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>>;
  submitAsync<R = unknown>(fn: ModuleTarget, ...args: unknown[]): Promise<R>;
  submitAsync<R = never, F extends Target = never>(fn: ExplicitTarget<R, F>, ...args: unknown[]): Promise<ResultOf<R>>;
  submitAsync(fn: Target, ...args: unknown[]): Promise<unknown> {
    return this.#submitAsync({}, fn, args, "submitAsync");
  }

  /**
   * The async twin of `submitWith()`: resolves to the result; rejects with `Full` (`block: false`,
   * or no room before `timeout`) or `CancelledError` (the signal aborted before the call started).
   */
  submitWithAsync<A extends unknown[], R>(
    options: SubmitOptions,
    fn: (...args: A) => R,
    ...args: A
  ): Promise<Awaited<R>>;
  submitWithAsync<R = unknown>(options: SubmitOptions, fn: ModuleTarget, ...args: unknown[]): Promise<R>;
  submitWithAsync<R = never, F extends Target = never>(
    options: SubmitOptions,
    fn: ExplicitTarget<R, F>,
    ...args: unknown[]
  ): Promise<ResultOf<R>>;
  submitWithAsync(options: SubmitOptions, fn: Target, ...args: unknown[]): Promise<unknown> {
    return this.#submitAsync(options, fn, args, "submitWithAsync");
  }

  // Resolves to the Future, which (being thenable) the promise adopts: the caller gets the result.
  async #submitAsync(options: SubmitOptions, fn: Target, args: unknown[], what: string): Promise<unknown> {
    const prepared = this.#prepare(options, fn, args, what);
    try {
      const deadline = deadlineOf(secondsMs(options.timeout, `ThreadPoolExecutor.${what}()`));
      if (!this.#hasRoom()) {
        if (options.block === false) throw this.#full(what);
        if (!(await this.#roomAsync(deadline, options.signal))) throw this.#full(what);
        if (this.#shutdown || exiting) throw closedError(this.#shutdown);
        this.#checkBroken();
      }
      return this.#launchPrepared(prepared, options.signal);
    } finally {
      releaseTarget(prepared.key);
    }
  }

  /** Checks and encodes a submission (nothing is scheduled yet); its target key is retained (targets.ts). */
  #prepare(options: SubmitOptions, fn: Target, args: unknown[], what: string): Prepared {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`ThreadPoolExecutor.${what}(): options must be an object like { signal, transferList }`);
    }
    // A misspelt option ({ tmeout: 1 }) is Python's "unexpected keyword argument", not a silent default.
    checkOptions(options, ["block", "timeout", "signal", "transferList"], `ThreadPoolExecutor.${what}()`);
    const { block, signal, transferList } = options;
    if (block !== undefined && typeof block !== "boolean") {
      throw new TypeError(`ThreadPoolExecutor.${what}(): block must be a boolean, not ${typeof block}`);
    }
    secondsMs(options.timeout, `ThreadPoolExecutor.${what}()`);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`ThreadPoolExecutor.${what}(): signal must be an AbortSignal`);
    }
    let transfer: (ArrayBuffer | MessagePort)[] | undefined;
    if (transferList !== undefined) {
      if (!Array.isArray(transferList)) {
        throw new TypeError(`ThreadPoolExecutor.${what}(): transferList must be an array`);
      }
      for (const t of transferList) {
        if (!(t instanceof ArrayBuffer) && !(t instanceof MessagePort)) {
          throw new TypeError(
            `ThreadPoolExecutor.${what}(): transferList holds ArrayBuffers and MessagePorts only, not ${String(t)}`,
          );
        }
      }
      if (transferList.length > 0) transfer = [...transferList];
    }
    if (this.#shutdown || exiting) throw closedError(this.#shutdown);
    this.#checkBroken();
    const key = targetKey(fn, `ThreadPoolExecutor.${what}(): fn`, this.#init === null);
    if (transfer === undefined && primitives(args)) {
      retainTarget(key);
      return { key, args, marked: false, transfer };
    }
    const where = `ThreadPoolExecutor.${what}(): args`;
    const { value, marked } = encode(args, where, transfer ? { transfer: new Set<object>(transfer) } : {});
    retainTarget(key);
    return { key, args: value, marked, transfer };
  }

  #launchPrepared(p: Prepared, signal: AbortSignal | undefined): Future<unknown> {
    if (signal?.aborted) {
      // Aborted before it was scheduled: a cancelled future (nothing runs, nothing is moved).
      const f = new Future<unknown>();
      f.cancel();
      return f;
    }
    const f = this.#submit(p.key, CALL, p.args, p.marked, p.transfer);
    if (signal !== undefined && !f.done()) {
      const onAbort = (): void => {
        f.cancel();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      internals.onSettle(f, () => signal.removeEventListener("abort", onAbort));
    }
    return f;
  }

  /** Tasks submitted and not yet settled here. */
  #unfinished(): number {
    let n = 0;
    for (const w of this.#workers) n += w.count;
    return n;
  }

  #hasRoom(): boolean {
    return this.#maxQueue === Number.POSITIVE_INFINITY || this.#unfinished() < this.#maxWorkers + this.#maxQueue;
  }

  #full(what: string): Full {
    return new Full(
      `ThreadPoolExecutor.${what}(): the queue is full (maxWorkers ${this.#maxWorkers} + maxQueue ${this.#maxQueue} tasks unfinished)`,
    );
  }

  /**
   * Blocks until there is room in the queue (Full if `block` is false or the deadline passes).
   * The outcomes it takes meanwhile run done callbacks: one that shut the pool down makes the
   * waiting submission raise, as one that broke it does.
   */
  #waitRoom(block: boolean, deadline: number, what: string): void {
    if (this.#hasRoom()) return;
    this.#poll();
    if (
      !this.#hasRoom() &&
      !this.#shutdown &&
      (!block || !blockOn(new Set([this.#link]), () => this.#hasRoom() || this.#broken() || this.#shutdown, deadline))
    ) {
      throw this.#full(what);
    }
    if (this.#shutdown || exiting) throw closedError(this.#shutdown);
    this.#checkBroken();
  }

  /** Resolves true once there is room in the queue, false at the deadline or when `signal` aborts. */
  async #roomAsync(deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    for (;;) {
      this.#poll();
      if (this.#hasRoom() || this.#broken() || this.#shutdown) return true;
      if (signal?.aborted) return true; // the caller makes a cancelled future
      const left = remaining(deadline);
      if (left === 0) return false;
      await new Promise<void>((resolve) => {
        let cancel: (() => void) | undefined;
        const done = (): void => {
          cancel?.();
          signal?.removeEventListener("abort", done);
          resolve();
        };
        if (left !== Number.POSITIVE_INFINITY) cancel = afterMs(left, done);
        signal?.addEventListener("abort", done, { once: true });
        this.#roomWaiters.push(done);
      });
    }
  }

  /** A task settled: submitAsync() calls waiting for room look again. */
  #wakeRoom(): void {
    if (this.#roomWaiters.length === 0) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  #broken(): boolean {
    return Atomics.load(this.#shared, BROKEN) === 1;
  }

  /** As CPython's BrokenThreadPool: once an initializer failed, submit() itself raises. */
  #checkBroken(): void {
    if (Atomics.load(this.#shared, BROKEN) === 1) throw new BrokenThreadPool(BROKEN_MESSAGE);
  }

  #submit(
    key: number,
    mode: number,
    args: unknown,
    marked: boolean,
    transfer?: (ArrayBuffer | MessagePort)[],
  ): Future<unknown> {
    this.#checkBroken();
    const f = new Future<unknown>();
    const slots = this.#slots;
    const h = slots.open();
    const gen = slots.gen;
    internals.bind(f, this.#link, slots.wordsOf(h), indexOf(h), gen);
    internals.setTask(f, h);
    this.#table.add(h, gen, f, taskCode(key, mode, marked), args, origin + clock.now(), transfer);
    this.#assign(h);
    return f;
  }

  /** The task settled (or was cancelled) here: its records go, its word is free for a new future. */
  #release(h: number): void {
    const f = this.#table.future[h] as Future<unknown>;
    this.#table.remove(h);
    internals.setTask(f, undefined);
    this.#slots.giveHandle(h);
  }

  /** Retired threads still listed that #forgetRetired() found in this #assign() (their last outcomes unread). */
  #leaving = 0;

  /** leastLoaded() found `w` retired: forget it (one closure for every #assign()), or count it leaving. */
  readonly #forgetRetired = (w: PoolWorker): void => {
    if (this.#retired(w)) return;
    this.#check(w, false, true);
    if (!w.dead) this.#leaving++;
  };

  /** Picks a thread for the task (starting one if none is idle and there is room) and queues it. */
  #assign(h: number): void {
    // A retired thread is forgotten now (it no longer counts against maxWorkers below; a task it
    // left is re-assigned). One whose last outcomes cannot be read yet (#retired() false: a message
    // taken off its port for a "message" event that has not run, as when a done callback run for
    // the first outcome of that thread's list submits, or on Deno) stays listed until #check has
    // them, but it runs no task any more: it takes no place of maxWorkers either (before, with every
    // place so taken, the task failed "can't start new thread: " with no reason).
    const outer = this.#leaving; // (an #assign() from a done callback run inside this one's)
    this.#leaving = 0;
    let { best, least } = leastLoaded(this.#workers, this.#forgetRetired);
    const leaving = this.#leaving;
    this.#leaving = outer;
    if ((best === undefined || least > 0) && this.#workers.length - leaving < this.#maxWorkers) {
      const w = this.#startWorker(`${this.#prefix}_${this.#started}`);
      this.#started++;
      if (w !== undefined) {
        best = w;
        least = 0;
      }
    }
    if (best === undefined) {
      // Only when a thread could not be started (#startWorker recorded why).
      const f = this.#table.future[h] as Future<unknown>;
      this.#release(h);
      internals.settle(f, { ok: false, error: new RuntimeError(`can't start new thread: ${this.#startError}`) });
      return;
    }
    this.#enqueue(best, h, least);
  }

  #enqueue(w: PoolWorker, h: number, least: number): void {
    if (w.dead || !w.reserve()) {
      // It retired (idleTimeout) meanwhile, or it ended before it was handed this task (a thread
      // just started that ended as #startWorker watched it, forgotten already).
      if (!this.#retired(w)) this.#check(w, false, true);
      this.#assign(h);
      return;
    }
    w.queue(h);
    if (sendNow(w, this.#table.transfer.size > 0 && this.#table.transfer.has(h), least)) w.send(this.#slots.slabs);
    else if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => {
        this.#flushQueued = false;
        this.#flush();
      });
    }
  }

  #startWorker(name: string): PoolWorker | undefined {
    const { port1, port2 } = new MessageChannel();
    const state = new Int32Array(new SharedArrayBuffer(STATE_WORDS * 4));
    const stats = new Float64Array(new SharedArrayBuffer(STAT_SLOTS * 8));
    const lanes = makeLanes();
    const idle = [stats, this.#idleMs, this.#minWorkers];
    const thread = new Thread<unknown[]>({
      target: poolEntry,
      args: [port2, state, doorbell, this.#shared, this.#init, this.#initargs, ...idle, lanes.tasks.buffer],
      transferList: [port2],
      name,
      // Not daemon, as CPython's (3.9+; a thread a task starts inherits that), yet the exit does not
      // wait for it: finishAtExit() runs this executor's tasks to their end first.
      daemon: false,
      ...(this.#limits ? { resourceLimits: this.#limits } : {}),
    });
    markJoinedAtExit(thread);
    const w = new PoolWorker(name, thread, port1, state, stats, this.#table, lanes);
    port1.on("message", (m: unknown) => this.#receive(w, m));
    // The thread's end of the port closes only when it stops (no tasks left) or dies: with tasks
    // still out, it died. The port is ref'd while tasks are out, so this event keeps the process
    // alive until their futures settle (the thread table may mark the thread ended later). Not
    // from inside the close event: receiveMessageOnPort() there crashes Node (a segfault, Node
    // 20-24); the messages posted before the close have been delivered by then anyway.
    port1.on("close", () => setImmediate(() => this.#check(w, false, true)));
    unrefOwn(port1);
    let launched: Promise<void>;
    if (Atomics.load(G, HUB_READY) === HUB_DEAD) {
      // startAsync() would reject, seen only from the event loop: a blocking result() or
      // shutdown(true) waiting for this task would never see it (they hung).
      this.#startError = HUB_DIED;
      w.markDead();
      port1.close();
      return undefined;
    }
    Atomics.add(this.#shared, LIVE, 1);
    try {
      // (A start that no Worker can run throws here: --permission without --allow-worker.)
      launched = thread[kLaunchAsync]();
    } catch (e) {
      Atomics.sub(this.#shared, LIVE, 1);
      this.#startError = reasonOf(e);
      w.markDead();
      port1.close();
      return undefined;
    }
    launched.catch((e: unknown) => {
      this.#startError = reasonOf(e);
      this.#check(w, true);
    });
    // Listed before it is watched: watch() checks at once, and a thread that has ended by then (on a
    // warm worker it can boot, idle past idleTimeout and retire while this thread is descheduled)
    // is forgotten by #check, which takes it off the list. Listed after that, it stayed there dead
    // for good, counted against maxWorkers and never given a task: once every place was such a
    // thread, each task failed "can't start new thread: " with no reason (futures/pool-options,
    // 'idleTimeout racing submissions', Node 24 with pool workers reused).
    this.#workers.push(w);
    executorTestHooks.launched?.(thread);
    if (thread.ident !== null) {
      w.ident = thread.ident;
      w.slot = (thread[kShare]().meta as { slot: number }).slot;
      w.watch(() => this.#check(w));
    }
    // (It may be dead already: #enqueue gives its task to another thread.)
    return w;
  }

  #flush(): void {
    for (const w of this.#workers) w.send(this.#slots.slabs);
  }

  /**
   * Takes the outcomes in `m` (one message of a pool thread): a list, OUTCOME_FIELDS each, or a
   * lone outcome's primitive value, whose other fields are in the thread's ring (protocol.ts).
   */
  #receive(w: PoolWorker, m: unknown): void {
    if (typeof m !== "object" || m === null) {
      const ring = w.lanes.outcomes;
      const at = w.loneOutcome();
      const h = ring[at] as number;
      const gen = ring[at + 1] as number;
      const status = ring[at + 2] as number;
      w.tookLone();
      this.#outcome(w, h, gen, status, m);
    } else {
      const list = m as unknown[];
      for (let i = 0; i < list.length; i += OUTCOME_FIELDS) {
        this.#outcome(w, list[i] as number, list[i + 1] as number, list[i + 2] as number, list[i + 3]);
      }
    }
    this.#wakeRoom();
    w.unrefIfIdle();
    if (w.outstanding() === 0) this.#steal(w);
  }

  /** Settles the future of the task at `h` (generation `gen`) given to `w`, if it is still that task's. */
  #outcome(w: PoolWorker, h: number, gen: number, status: number, value: unknown): void {
    const table = this.#table;
    // Not this task's outcome any more: it was cancelled, or the word serves another task now.
    if (!table.holds(h, gen, w)) return;
    const f = table.future[h] as Future<unknown>;
    this.#release(h);
    w.settled();
    if ((status & MARKED) !== 0) {
      try {
        value = decode(value, true);
      } catch (e) {
        internals.finish(f, true, e);
        return;
      }
    }
    if ((status & PARTIAL) !== 0) {
      const [results, error] = value as [unknown[], unknown];
      value = new PartialChunk(results, error);
    }
    internals.finish(f, (status & FAILED) !== 0, value);
  }

  /** Gives idle thread `idle` tasks not yet started of the busiest thread (balance.ts). */
  #steal(idle: PoolWorker): void {
    const { victim, taken, retryMs } = steal(idle, this.#workers, this.#slots, this.#link, now);
    if (victim === undefined) {
      // Nothing taken only because the busiest thread has not started its oldest task and that
      // one is recent: look again once it is not (the idle thread posts nothing that would make
      // this run again; its tasks would wait behind a long one meanwhile).
      if (retryMs !== undefined && !this.#stealRetries.has(idle)) {
        this.#stealRetries.add(idle);
        setTimeout(
          () => {
            this.#stealRetries.delete(idle);
            if (!idle.dead && idle.outstanding() === 0) this.#steal(idle);
          },
          Math.max(1, Math.ceil(retryMs)),
        ).unref(); // (tasks out keep the process alive: their ports are ref'd)
      }
      return;
    }
    victim.unrefIfIdle();
    for (const h of taken) this.#enqueue(idle, h, Number.POSITIVE_INFINITY);
    idle.send(this.#slots.slabs);
  }

  /** Idle threads that will look for tasks to take again (#steal). */
  readonly #stealRetries = new Set<PoolWorker>();

  /** A future cancelled here: the pool thread will skip it (its CAS fails). */
  #forget(f: Future<unknown>): void {
    const h = taskOf(f);
    if (h === undefined) return;
    const w = this.#table.worker[h];
    this.#release(h);
    if (w !== undefined && !w.dead) {
      w.settled();
      w.unrefIfIdle();
    }
    this.#wakeRoom();
  }

  /**
   * A thread that retired after idleTimeout (it had no task): forget it (it ends by itself). False
   * if a task of it is still unsettled once its port is drained: its outcome was posted before the
   * retire, but taken off the port for a "message" event that has not finished (Deno takes it off
   * before the event runs; on Node, a done callback run for an earlier outcome of the same message
   * submits, and #assign calls this). #check then waits for it, DEATH_GRACE_MS at most, and after
   * that handles the thread as one that died, so that future still settles.
   */
  #retired(w: PoolWorker): boolean {
    if (w.dead) return true;
    // the outcomes it posted before it retired
    this.#drain(w);
    if (w.count > 0) return false;
    w.markDead();
    this.#workers = this.#workers.filter((x) => x !== w);
    addStats(this.#gone, w.stats);
    w.unrefIfIdle();
    w.port.close();
    return true;
  }

  /**
   * A snapshot of the pool's load: threads, tasks running / queued / completed, run and wait
   * times (seconds), and utilization (busy thread time over maxWorkers * time since creation).
   */
  stats(): ExecutorStats {
    this.#poll();
    const now = origin + clock.now();
    const sum = new Float64Array(this.#gone);
    let running = 0;
    let busy = 0;
    for (const w of this.#workers) {
      addStats(sum, w.stats);
      const since = w.busySince();
      if (since > 0) {
        running++;
        busy += Math.max(0, now - since);
      }
    }
    const completed = sum[COMPLETED] as number;
    // Started tasks: completed, running, and those whose outcome is on its way (counted as completed).
    const started = completed + running;
    const elapsed = Math.max(1e-9, now - this.#born);
    return {
      threads: this.#workers.length,
      running,
      queued: Math.max(0, this.#unfinished() - running),
      completed,
      runTime: {
        mean: completed > 0 ? (sum[RUN_TOTAL] as number) / completed / 1000 : 0,
        max: (sum[RUN_MAX] as number) / 1000,
        total: (sum[RUN_TOTAL] as number) / 1000,
      },
      waitTime: {
        mean: started > 0 ? (sum[WAIT_TOTAL] as number) / started / 1000 : 0,
        max: (sum[WAIT_MAX] as number) / 1000,
        total: (sum[WAIT_TOTAL] as number) / 1000,
      },
      utilization: Math.min(1, ((sum[RUN_TOTAL] as number) + busy) / (this.#maxWorkers * elapsed)),
    };
  }

  /** Sends buffered tasks, takes posted outcomes, and notices dead threads. */
  #poll(): void {
    for (const w of [...this.#workers]) {
      w.send(this.#slots.slabs);
      this.#drain(w);
      this.#check(w);
    }
    for (const w of this.#workers) if (w.outstanding() === 0) this.#steal(w);
  }

  /**
   * Takes what the thread of `w` has posted, without the event loop; not what was taken off its port
   * for a "message" event not yet run (Deno), nor anything of a thread executorTestHooks.unread names.
   */
  #drain(w: PoolWorker): void {
    if (executorTestHooks.unread?.(w.name) !== true) w.drain(this.#receiver(w));
  }

  #receiver(w: PoolWorker): (m: unknown) => void {
    return (m) => this.#receive(w, m);
  }

  /** If `w`'s thread has ended: fail the task it was running, move the others to a replacement. */
  #check(w: PoolWorker, failedStart = false, portClosed = false): void {
    if (w.dead) return;
    // A start that failed (no worker could run the thread) is settled by startAsync()'s rejection,
    // which brings the reason: its tasks fail then. Taken here as a death, they would be given to a
    // new thread that fails the same way, for ever (a heap limit too small to boot a worker). The
    // failure is in the table until startAsync() takes it, and the Thread is unstarted from then.
    if (!failedStart && w.ident !== 0 && (startFailed(w.slot, w.ident) || w.thread.ident === null)) return;
    if (w.outstanding() === RETIRED) {
      if (this.#retired(w)) return;
      // Its last outcomes may still be on their way: Deno takes a message off the port for its
      // "message" event before the event runs, where drain() cannot read it (a task then failed
      // "ended abruptly" although its outcome came a moment later: pool-options.test on Deno).
      if (w.closedAt === 0) w.closedAt = clock.now();
      if (clock.now() - w.closedAt < DEATH_GRACE_MS) {
        setTimeout(() => this.#check(w, false, true), 10);
        return;
      }
      portClosed = true; // a task left behind: fail it below
    }
    const exited = Atomics.load(w.state, EXITED) === 1;
    // A task's process.exit() ends the thread after its outcome is posted (pool-thread.ts #exit()):
    // the thread is replaced once it has ended in the table, never while it is alive (maxWorkers).
    const taskExit = !exited && Atomics.load(w.state, EXIT_HOW) === EXIT_TASK;
    if (!exited && !failedStart && isIdentAlive(w.slot, w.ident)) {
      if (taskExit) {
        // Its port is closed (it closed it as it began to end): look again soon, until it has
        // ended, since tasks may be given to it meanwhile and watch() keeps no process alive.
        if (portClosed) setTimeout(() => this.#check(w, false, true), 10);
        return;
      }
      if (!(portClosed && w.count > 0)) return;
      // Its port closed with tasks out: its worker died. The hub marks the thread ended once it has
      // written what the worker died of (deathOf: out of memory), which the running task's error
      // says; wait for that a little (a timer keeps the process alive meanwhile; the table's end
      // calls this again through watch()), then go on without it.
      if (w.closedAt === 0) w.closedAt = clock.now();
      if (clock.now() - w.closedAt < DEATH_GRACE_MS) {
        setTimeout(() => this.#check(w, false, true), 10);
        return;
      }
    }
    this.#drain(w);
    if (w.live().some((h) => this.#slots.stateOfHandle(h) === FINISHED)) {
      // Outcomes it posted (their words FINISHED) are not here yet: Deno takes a message off the
      // port for its "message" event before the event runs, where drain() cannot read it (a task
      // whose process.exit() was posted as its SystemExit failed "called process.exit(3): ",
      // futures/exit.test on Deno, once the thread ended as fast as its worker was reused). They
      // come with the event: wait for them (a timer keeps the process alive), DEATH_GRACE_MS at most.
      if (w.closedAt === 0) w.closedAt = clock.now();
      if (clock.now() - w.closedAt < DEATH_GRACE_MS) {
        setTimeout(() => this.#check(w, failedStart, portClosed), 10);
        return;
      }
    }
    w.markDead();
    this.#workers = this.#workers.filter((x) => x !== w);
    addStats(this.#gone, w.stats);
    // A retired thread took itself off LIVE; any other end is counted here.
    if (w.outstanding() !== RETIRED) Atomics.sub(this.#shared, LIVE, 1);
    const death = exited || taskExit || failedStart ? DEATH_NONE : deathOf(w.slot, w.ident);
    const how =
      exited || taskExit
        ? this.#exitedHow(w)
        : failedStart
          ? "could not start"
          : death === DEATH_OOM
            ? "ran out of memory"
            : death === DEATH_ERROR
              ? "died of an error of its worker (reported to the excepthook)"
              : Atomics.load(G, HUB_READY) === HUB_DEAD
                ? "died with the threading hub worker (every thread died with it; see stderr)"
                : "ended abruptly";
    const orphans: number[] = [];
    const table = this.#table;
    for (const h of w.live()) {
      const f = table.future[h] as Future<unknown>;
      const word = this.#slots.stateOfHandle(h);
      const moved = table.transfer.has(h);
      if (word === PENDING && !failedStart && !moved) orphans.push(h);
      else {
        this.#release(h);
        const error =
          word === RUNNING
            ? death === DEATH_OOM
              ? this.#outOfMemory(w)
              : new RuntimeError(
                  `pool thread ${w.name} ${how} while running this task${exited && Atomics.load(w.state, EXIT_HOW) !== EXIT_EVENT ? CALLBACK : ""}; the pool replaced it`,
                )
            : word === PENDING && moved && !failedStart
              ? new RuntimeError(
                  `pool thread ${w.name} ${how} before this task started; its transferred arguments went with it`,
                )
              : new RuntimeError(`pool thread ${w.name} ${how}: ${this.#startError}`);
        internals.settle(f, { ok: false, error });
      }
    }
    w.clear();
    this.#wakeRoom();
    w.unrefIfIdle();
    w.port.close();
    if (orphans.length > 0) {
      for (const h of orphans) this.#assign(h);
      if (this.#shutdown) this.#sendStops();
    }
  }

  /** How the thread of `w` ended by EXITED (pool-thread.ts): the exit and where it was called. */
  #exitedHow(w: PoolWorker): string {
    const code = Atomics.load(w.state, EXIT_CODE);
    switch (Atomics.load(w.state, EXIT_HOW)) {
      case EXIT_CALLBACK:
        return `called process.exit(${code}) in a callback`;
      case THROW_CALLBACK:
        return "was ended by an uncaught exception in a callback (reported to the excepthook)";
      default:
        return `called process.exit(${code})`;
    }
  }

  /** The error of the task that was running when the thread of `w` ran out of memory. */
  #outOfMemory(w: PoolWorker): RuntimeError {
    const limit = this.#limits?.maxOldGenerationSizeMb ?? boot.resourceLimits?.maxOldGenerationSizeMb;
    const heap = limit === undefined ? "its heap limit" : `its heap limit (maxOldGenerationSizeMb: ${limit})`;
    const e = new RuntimeError(
      `pool thread ${w.name} ran out of memory while running this task (ERR_WORKER_OUT_OF_MEMORY: ` +
        `the thread's heap grew past ${heap}); the pool replaced it. Give the pool threads more memory ` +
        "(ThreadPoolExecutor's resourceLimits option, { maxOldGenerationSizeMb }) or make the task hold less",
    );
    return Object.assign(e, { code: "ERR_WORKER_OUT_OF_MEMORY" });
  }

  #sendStops(): void {
    for (const w of this.#workers) w.stop(this.#slots.slabs);
  }

  /** @internal map() (its overloads: base.ts). */
  protected mapCalls(fn: Target, iterable: Iterable<unknown>, options: MapOptions = {}): IterableIterator<unknown> {
    const { deadline, chunks } = this.#mapSetup(fn, iterable, options, "map");
    return results(
      chunks,
      deadline,
      options.chunksize !== undefined && options.chunksize > 1,
      "ThreadPoolExecutor.map()",
    );
  }

  #mapSetup(fn: Target, iterable: Iterable<unknown>, options: MapOptions, what: string): MapSetup {
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      // Python's map(fn, xs, ys) zips several iterables; here the third argument is the options.
      const hint = Array.isArray(options) ? ", not a second iterable (zip the iterables into one of tuples)" : "";
      throw new TypeError(`ThreadPoolExecutor.${what}(): options must be an object like { timeout, chunksize }${hint}`);
    }
    checkOptions(options, ["timeout", "chunksize"], `ThreadPoolExecutor.${what}()`);
    const deadline = deadlineOf(secondsMs(options.timeout, `ThreadPoolExecutor.${what}()`));
    const size = options.chunksize ?? 1;
    if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
      throw new RangeError(`ThreadPoolExecutor.${what}(): chunksize must be an integer >= 1, not ${size}`);
    }
    if (this.#shutdown || exiting) throw closedError(this.#shutdown);
    this.#checkBroken();
    const key = targetKey(fn, `ThreadPoolExecutor.${what}(): fn`, this.#init === null);
    // Retained while this submits (targets.ts); handed over, retained, to mapAsync()'s pump.
    retainTarget(key);
    let handed = false;
    try {
      const chunks: Future<unknown>[] = [];
      if (
        iterable !== null &&
        typeof iterable === "object" &&
        Symbol.asyncIterator in iterable &&
        !(Symbol.iterator in iterable)
      ) {
        if (what !== "mapAsync") {
          throw new TypeError(`ThreadPoolExecutor.${what}(): iterable is async iterable only: use mapAsync()`);
        }
        handed = true;
        return { deadline, chunks, key, size };
      }
      if (
        iterable === null ||
        iterable === undefined ||
        typeof (iterable as Iterable<unknown>)[Symbol.iterator] !== "function"
      ) {
        throw new TypeError(`ThreadPoolExecutor.${what}(): iterable is not iterable`);
      }
      const bounded = this.#maxQueue !== Number.POSITIVE_INFINITY;
      // With maxQueue, mapAsync() submits a plain iterable as room frees up, as an async one.
      if (bounded && what === "mapAsync") {
        handed = true;
        return { deadline, chunks, key, size };
      }
      // Every call is read and encoded before the first is submitted: an item that cannot cross, or
      // an iterable that throws, fails the map() with nothing submitted (no call of it runs), as a
      // submit() that throws submits nothing.
      const groups = new Groups(size);
      const tasks: PreparedGroup[] = [];
      for (const item of iterable) {
        const group = groups.add(item);
        if (group !== undefined) tasks.push(prepareGroup(size, group, what, groups.start));
      }
      const last = groups.rest();
      if (last !== undefined) tasks.push(prepareGroup(size, last, what, groups.start));
      for (const t of tasks) {
        if (bounded) this.#waitRoom(true, Number.POSITIVE_INFINITY, what);
        chunks.push(this.#submit(key, t.mode, t.args, t.marked));
      }
      return { deadline, chunks, key, size };
    } finally {
      if (!handed) releaseTarget(key);
    }
  }

  /** Submits one group of map() items (Groups): see prepareGroup(). */
  #submitGroup(key: number, size: number, group: unknown[], what: string, first: number): Future<unknown> {
    const t = prepareGroup(size, group, what, first);
    return this.#submit(key, t.mode, t.args, t.marked);
  }

  /** @internal mapAsync() (its overloads: base.ts). */
  protected mapCallsAsync(
    fn: Target,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options: MapOptions = {},
  ): AsyncIterableIterator<unknown> {
    let setup: MapSetup | undefined;
    let failure: { error: unknown } | undefined;
    try {
      setup = this.#mapSetup(fn, iterable as Iterable<unknown>, options, "mapAsync");
    } catch (error) {
      failure = { error };
    }
    const feed = new MapFeed(setup?.chunks);
    const size = setup?.size ?? 1;
    // An async source: a pump submits as it yields; next() waits for the pump when it is behind.
    const isAsync =
      iterable !== null &&
      typeof iterable === "object" &&
      Symbol.asyncIterator in iterable &&
      !(Symbol.iterator in iterable);
    const bounded = this.#maxQueue !== Number.POSITIVE_INFINITY;
    if (setup && feed.fs.length === 0 && (isAsync || bounded)) {
      let source: AsyncIterator<unknown>;
      if (isAsync) source = (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      else {
        const items = (iterable as Iterable<unknown>)[Symbol.iterator]();
        source = {
          next: async () => items.next(),
          return: async (v?: unknown) => items.return?.(v) ?? { done: true, value: v },
        };
      }
      feed.feeding(source);
      const { key } = setup;
      // With maxQueue, each submission first waits (asynchronously) for room.
      const room = async (): Promise<boolean> => {
        if (bounded && !this.#hasRoom()) await this.#roomAsync(Number.POSITIVE_INFINITY, undefined);
        if (this.#shutdown || exiting) throw closedError(this.#shutdown);
        return !feed.closed;
      };
      void (async () => {
        const groups = new Groups(size);
        try {
          for (;;) {
            const r = await source.next();
            if (feed.closed) return;
            if (r.done) break;
            const group = groups.add(r.value);
            if (group !== undefined) {
              if (!(await room())) return;
              feed.push(this.#submitGroup(key, size, group, "mapAsync", groups.start));
            }
          }
          const last = groups.rest();
          if (last !== undefined && (await room()))
            feed.push(this.#submitGroup(key, size, last, "mapAsync", groups.start));
        } catch (error) {
          feed.end({ error });
          return;
        } finally {
          releaseTarget(key); // retained by #mapSetup()
        }
        feed.end();
      })();
    }
    return feed.results(
      setup?.deadline ?? Number.POSITIVE_INFINITY,
      size > 1,
      "ThreadPoolExecutor.mapAsync()",
      failure,
    );
  }

  /**
   * No new tasks after this. With `cancelFutures`, the tasks not yet started are cancelled, but for
   * the next one of each thread running none (which that thread has taken, as an idle CPython pool
   * thread has). With `wait` (default), returns once every task has finished and the pool threads
   * have ended.
   * Python's keywords work as one options object too: `shutdown({ wait: false, cancelFutures: true })`.
   */
  shutdown(wait?: boolean, options?: { cancelFutures?: boolean | undefined }): void;
  shutdown(options: { wait?: boolean | undefined; cancelFutures?: boolean | undefined }): void;
  shutdown(
    wait: boolean | { wait?: boolean | undefined; cancelFutures?: boolean | undefined } = true,
    options: { cancelFutures?: boolean | undefined } = {},
  ): void {
    if (isOptions(wait)) {
      checkOptions(wait, ["wait", "cancelFutures"], "ThreadPoolExecutor.shutdown()");
      options = { cancelFutures: wait.cancelFutures };
      wait = wait.wait ?? true;
    }
    this.#beginShutdown(options, "shutdown");
    if (!wait) return;
    for (;;) {
      this.#finishQueued();
      const live = this.#workers.filter((w) => !w.dead);
      if (live.length === 0) break;
      for (const w of live) w.thread.join(0.05);
    }
    this.#finishShutdown();
  }

  /** The async twin of `shutdown(true)`. */
  async shutdownAsync(options: { cancelFutures?: boolean | undefined } = {}): Promise<void> {
    this.#beginShutdown(options, "shutdownAsync");
    for (;;) {
      this.#poll();
      const live = this.#workers.filter((w) => !w.dead);
      if (live.length === 0) break;
      await Promise.all(live.map((w) => w.thread.joinAsync()));
      // Ended, but maybe still listed: #check keeps a thread until it has what the thread posted
      // last (an outcome taken off the port for a "message" event not yet run, which drain()
      // cannot read: Deno) or the hub's word on its death, from its timers and the port's events,
      // DEATH_GRACE_MS at most. Those are waited for as such: the joins, resolved at once, looped
      // here in microtasks, where no event or timer runs, until the grace ran out and the task
      // whose outcome was on its way failed "ended abruptly" (executor.test test_cancel_futures
      // on Deno, with pool workers reused: their threads end as soon as they stop).
      this.#poll();
      await Promise.all(live.filter((w) => !w.dead).map((w) => w.forgotten()));
    }
    this.#finishShutdown();
  }

  #beginShutdown(options: { cancelFutures?: boolean | undefined }, what: string): void {
    if (typeof options !== "object" || options === null)
      throw new TypeError(`ThreadPoolExecutor.${what}(): options must be an object`);
    // A misspelt option (cancel_futures, cancelFuture) is an error, not a shutdown without it.
    checkOptions(options, ["cancelFutures"], `ThreadPoolExecutor.${what}()`);
    this.#shutdown = true;
    this.#wakeRoom(); // submitAsync() calls waiting for room now raise
    if (options.cancelFutures) {
      // The tasks not started are cancelled, but for the next one of a thread running none: as a
      // CPython pool thread idle in its queue's get() has taken the next task as soon as it was
      // submitted, that one runs (50 tasks queued on 5 threads run 5 and cancel 45, where before
      // a pool whose threads were still starting cancelled all 50).
      const future = this.#table.future;
      for (const w of this.#workers) {
        let first = !w.dead;
        for (const h of w.live()) {
          const f = future[h];
          if (f === undefined || f.done()) continue;
          if (first) {
            first = false;
            if (!f.running()) continue; // the thread's next task: it runs
          }
          f.cancel();
        }
      }
    }
    this.#sendStops();
  }

  #finishShutdown(): void {
    for (const w of [...this.#workers]) {
      this.#drain(w);
      this.#check(w);
    }
    if (this.#workers.length === 0) unfinished.delete(this.#exitHook);
  }

  /** `using pool = new ThreadPoolExecutor()`: shutdown(true) at the end of the block. */
  [Symbol.dispose](): void {
    this.shutdown(true);
  }

  /** `await using pool = ...`: shutdownAsync() at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdownAsync();
  }

  /** `<ThreadPoolExecutor PREFIX maxWorkers=N threads=M>`, ` shut down` once shut down. */
  override toString(): string {
    return `<ThreadPoolExecutor ${this.#prefix} maxWorkers=${this.#maxWorkers} threads=${this.#workers.length}${this.#shutdown ? " shut down" : ""}>`;
  }
}
