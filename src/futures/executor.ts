/**
 * ThreadPoolExecutor: Python's `concurrent.futures.ThreadPoolExecutor` on real threads.
 *
 * Each pool thread is a library Thread (daemon, named `${prefix}_N`, in enumerate()) running
 * poolThread() (pool-thread.ts). The executor, in the thread that made it, assigns each task to
 * the pool thread with the fewest outstanding tasks (a counter the pool thread decrements), starting
 * a new thread while none is idle and there are fewer than maxWorkers, and never waits for one to
 * start. Tasks go out on the thread's MessagePort: at once while that thread has little queued,
 * otherwise in batches (at the end of the current synchronous run, or before any blocking wait).
 *
 * Outcomes come back on the same port (see future.ts). A pool thread that dies (process.exit() in
 * a task, a crash) is noticed by the blocking waits (which wake at least every 50 ms), by submit(),
 * and, from the event loop, by the close of its port (which is ref'd while it has tasks, so the
 * process lives until their futures settle) or a wait on its thread-table slot: the task it was
 * running fails with a RuntimeError naming the thread and how it ended, its tasks not yet started
 * go to a replacement. A thread that cannot start fails the tasks given to it (RuntimeError), not
 * the pool; a failing initializer breaks the pool for good (BROKEN word: submit() raises
 * BrokenExecutor, the pool threads fail every task).
 *
 * At the exit of the thread that made it (process.exit(), an uncaught error, the end of the
 * program), an executor with pool threads left blocks until every task submitted has settled.
 */
import { availableParallelism } from "node:os";
import { MessageChannel, type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { BrokenExecutor, RuntimeError, TimeoutError } from "../errors.js";
import { G, isIdentAlive, SLOT_STATE, slotIndex } from "../shared/runtime.js";
import { deadlineOf, remaining, timeoutMs } from "../shared/wait.js";
import { decode } from "../transport/decode.js";
import { encode } from "../transport/encode.js";
import { kShare } from "../transport/shareable.js";
import { describeTarget, isModuleTarget, type ModuleTarget, type Target, type TargetSpec } from "../threads/target.js";
import { Thread } from "../threads/thread.js";
import { blockUntil, doorbell, Future, type FutureLink, internals, PENDING, RUNNING } from "./future.js";
import {
  BROKEN,
  BROKEN_MESSAGE,
  CALL,
  CHUNK,
  EXIT_CODE,
  EXITED,
  OK,
  OUTSTANDING,
  STATE_WORDS,
  type TaskBatch,
} from "./pool-thread.js";
import { libraryFile } from "../shared/paths.js";

/** Options of `new ThreadPoolExecutor()`, as Python's keyword arguments. */
export interface ThreadPoolExecutorOptions {
  /** At most this many threads (default min(32, availableParallelism() + 4)). */
  maxWorkers?: number;
  /** Threads are named `${threadNamePrefix}_N` (default "ThreadPoolExecutor-K"). */
  threadNamePrefix?: string;
  /** Run once in each pool thread before its first task. */
  initializer?: Target;
  initargs?: unknown[];
}

export interface MapOptions {
  /** Seconds, counted from the map() call, for all the results. */
  timeout?: number;
  /** Calls per task (items are sent and run in chunks of this size). */
  chunksize?: number;
}

// The pool thread's body: a module target inside the library (threads/target.ts registers no
// TypeScript loader for the library's own modules, so a pool thread starts as fast as any thread).
const poolEntry = { module: libraryFile("futures/pool-thread.js"), export: "poolThread" };

const SLAB_BITS = 10;
const SLAB = 1 << SLAB_BITS;
const GEN_MASK = 0x1fffffff;
/** A thread with fewer outstanding tasks than this gets each task at once; others in batches. */
const LOW_WATER = 8;
const MAX_BATCH = 512;
/** Tasks are moved to an idle thread only from a thread with at most this many outstanding. */
const STEAL_MAX = 256;

// Targets are described once per function (and per source) in this thread; keys are per thread.
const byFunction = new WeakMap<Function, number>();
const bySource = new Map<string, number>();
const byObject = new WeakMap<object, number>();
const byModule = new Map<string, number>();
const specs: TargetSpec[] = [];

function keyOf(fn: unknown, where: string): number {
  if (typeof fn === "function") {
    let key = byFunction.get(fn);
    if (key !== undefined) return key;
    const source = Function.prototype.toString.call(fn);
    key = bySource.get(source);
    if (key !== undefined) return key; // e.g. the same arrow function made again in a loop
    const spec = describeTarget(fn, where);
    key = specs.push(spec) - 1;
    bySource.set(source, key);
    byFunction.set(fn, key);
    return key;
  }
  if (isModuleTarget(fn)) {
    let key = byObject.get(fn);
    if (key !== undefined) return key;
    const spec = describeTarget(fn, where) as TargetSpec & { kind: "module" };
    const name = `${spec.module}#${spec.export}`;
    key = byModule.get(name);
    if (key === undefined) {
      key = specs.push(spec) - 1;
      byModule.set(name, key);
    }
    byObject.set(fn, key);
    return key;
  }
  throw new TypeError(`${where} must be a function or { module, export }, not ${fn === null ? "null" : typeof fn}`);
}

let executorCounter = 0;

/**
 * Executors of this thread that still have pool threads (not shut down, or shut down without
 * waiting). At this thread's exit (process.exit(), an uncaught error, or the end of the program)
 * each finishes its running and queued tasks first, as CPython joins executor threads at exit.
 */
const unfinished = new Set<{ finishAtExit(): void }>();
process.on("exit", () => {
  for (const ex of [...unfinished]) ex.finishAtExit();
});

interface PoolWorker {
  name: string;
  thread: Thread;
  port: MessagePort;
  state: Int32Array;
  futures: Map<number, Future<unknown>>;
  /** Tasks assigned but not yet posted (TASK_FIELDS each), and the targets/slabs they need. */
  outbox: unknown[];
  targetsSent: Set<number>;
  slabsSent: number;
  stopSent: boolean;
  dead: boolean;
  referenced: boolean;
  slot: number;
  ident: number;
}

interface Pending {
  id: number;
  key: number;
  mode: number;
  args: unknown;
  marked: boolean;
  slab: number;
  index: number;
  gen: number;
}

interface MapSetup {
  deadline: number;
  chunks: Future<unknown>[];
  key: number;
  size: number;
}

const kTask = {
  get: (f: Future<unknown>) => internals.task(f) as Pending | undefined,
  set: (f: Future<unknown>, task: Pending) => internals.setTask(f, task),
  delete: (f: Future<unknown>) => internals.setTask(f, undefined),
};

function primitives(args: unknown[]): boolean {
  for (const a of args)
    if ((typeof a === "object" && a !== null) || typeof a === "function" || typeof a === "symbol") return false;
  return true;
}

/**
 * A pool of threads that run calls asynchronously, as Python's ThreadPoolExecutor:
 * `submit(fn, ...args)` returns a Future; `map(fn, items)` yields the results in order.
 */
export class ThreadPoolExecutor implements Disposable, AsyncDisposable {
  readonly #maxWorkers: number;
  readonly #prefix: string;
  readonly #init: TargetSpec | null;
  readonly #initargs: unknown[];
  readonly #shared = new Int32Array(new SharedArrayBuffer(8));
  #workers: PoolWorker[] = [];
  #started = 0;
  #shutdown = false;
  #nextId = 1;
  #slabs: Int32Array[] = [];
  #free: number[] = [];
  #fresh = SLAB;
  #flushQueued = false;
  /** Why the last pool thread could not start (a failed start fails its tasks, not the pool). */
  #startError = "";
  readonly #link: FutureLink;

  constructor(options: ThreadPoolExecutorOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        "ThreadPoolExecutor(options): options must be an object like { maxWorkers, threadNamePrefix }",
      );
    }
    const { maxWorkers, threadNamePrefix, initializer, initargs } = options;
    if (maxWorkers === undefined || maxWorkers === null) {
      this.#maxWorkers = Math.min(32, availableParallelism() + 4);
    } else {
      if (typeof maxWorkers !== "number" || !Number.isInteger(maxWorkers)) {
        throw new TypeError(`ThreadPoolExecutor: maxWorkers must be an integer, not ${maxWorkers}`);
      }
      if (maxWorkers <= 0) throw new RangeError("ThreadPoolExecutor: max_workers must be greater than 0");
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
    encode(this.#initargs, "ThreadPoolExecutor: initargs"); // fails here, not in a thread, if they cannot cross
    this.#link = {
      poll: () => this.#poll(),
      cancelled: (f) => this.#forget(f),
    };
    unfinished.add(this.#exitHook);
  }

  readonly #exitHook = { finishAtExit: (): void => this.#finishQueued() };

  /** Blocks until every task submitted so far has settled (those of threads that die included). */
  #finishQueued(): void {
    for (;;) {
      this.#poll();
      const fs = this.#workers.filter((w) => !w.dead).flatMap((w) => [...w.futures.values()]);
      if (fs.length === 0) return;
      let left = fs.length;
      for (const f of fs) internals.onSettle(f, () => left--);
      blockUntil(fs, () => left === 0, Number.POSITIVE_INFINITY);
    }
  }

  /** The most threads this executor runs at once. */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  /**
   * Schedules `fn(...args)` on a pool thread and returns its Future at once (it never waits for a
   * thread to start). A function target is sent as source (no closures; pass what it needs in
   * args); `{ module, export }` runs that module's export. Arguments are copied, except shared
   * objects, which stay shared.
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>>;
  submit<R = unknown>(fn: ModuleTarget, ...args: unknown[]): Future<R>;
  submit(fn: Target, ...args: unknown[]): Future<unknown> {
    if (this.#shutdown) throw new RuntimeError("cannot schedule new futures after shutdown");
    this.#checkBroken();
    const key = keyOf(fn, "ThreadPoolExecutor.submit(): fn");
    if (primitives(args)) return this.#submit(key, CALL, args, false);
    const { value, marked } = encode(args, "ThreadPoolExecutor.submit(): args");
    return this.#submit(key, CALL, value, marked);
  }

  /** As CPython's BrokenThreadPool: once an initializer failed, submit() itself raises. */
  #checkBroken(): void {
    if (Atomics.load(this.#shared, BROKEN) === 1) throw new BrokenExecutor(BROKEN_MESSAGE);
  }

  #submit(key: number, mode: number, args: unknown, marked: boolean): Future<unknown> {
    this.#checkBroken();
    const f = new Future<unknown>();
    let handle: number;
    if (this.#free.length > 0) handle = this.#free.pop() as number;
    else {
      if (this.#fresh === SLAB) {
        this.#slabs.push(new Int32Array(new SharedArrayBuffer(SLAB * 4)));
        this.#fresh = 0;
      }
      handle = ((this.#slabs.length - 1) << SLAB_BITS) | this.#fresh++;
    }
    const slab = handle >> SLAB_BITS;
    const index = handle & (SLAB - 1);
    const words = this.#slabs[slab] as Int32Array;
    const gen = ((Atomics.load(words, index) >> 2) + 1) & GEN_MASK;
    Atomics.store(words, index, gen * 4 + PENDING);
    internals.bind(f, this.#link, words, index, gen);
    const task: Pending = { id: this.#nextId++, key, mode, args, marked, slab, index, gen };
    kTask.set(f, task);
    this.#assign(f, task);
    return f;
  }

  /** Picks a thread for the task (starting one if none is idle and there is room) and queues it. */
  #assign(f: Future<unknown>, task: Pending): void {
    let best: PoolWorker | undefined;
    let least = Number.POSITIVE_INFINITY;
    for (const w of this.#workers) {
      const n = Atomics.load(w.state, OUTSTANDING);
      if (n < least) {
        least = n;
        best = w;
        if (n === 0) break;
      }
    }
    if ((best === undefined || least > 0) && this.#workers.length < this.#maxWorkers) {
      const w = this.#startWorker(`${this.#prefix}_${this.#started}`);
      this.#started++;
      if (w !== undefined) {
        best = w;
        least = 0;
      }
    }
    if (best === undefined) {
      kTask.delete(f);
      this.#free.push((task.slab << SLAB_BITS) | task.index);
      internals.settle(f, { ok: false, error: new RuntimeError(`can't start new thread: ${this.#startError}`) });
      return;
    }
    this.#enqueue(best, f, task, least);
  }

  #enqueue(w: PoolWorker, f: Future<unknown>, task: Pending, least: number): void {
    Atomics.add(w.state, OUTSTANDING, 1);
    w.futures.set(task.id, f);
    if (!w.referenced) {
      w.referenced = true;
      w.port.ref();
    }
    w.outbox.push(task.id, task.slab, task.index, task.gen * 4, task.key, task.mode, task.args, task.marked);
    if (least < LOW_WATER || w.outbox.length >= MAX_BATCH * 8) this.#send(w);
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
    const thread = new Thread<unknown[]>({
      target: poolEntry,
      args: [port2, state, doorbell, this.#shared, this.#init, this.#initargs],
      transferList: [port2],
      name,
      daemon: true,
    });
    const w: PoolWorker = {
      name,
      thread,
      port: port1,
      state,
      futures: new Map(),
      outbox: [],
      targetsSent: new Set(),
      slabsSent: 0,
      stopSent: false,
      dead: false,
      referenced: false,
      slot: -1,
      ident: 0,
    };
    port1.on("message", (m: unknown[]) => this.#receive(w, m));
    // The thread's end of the port closes only when it stops (no tasks left) or dies: with tasks
    // still out, it died. The port is ref'd while tasks are out, so this event keeps the process
    // alive until their futures settle (the thread table may mark the thread ended later). Not
    // from inside the close event: receiveMessageOnPort() there crashes Node (a segfault, Node
    // 20-24); the messages posted before the close have been delivered by then anyway.
    port1.on("close", () => setImmediate(() => this.#check(w, false, true)));
    port1.unref();
    let launched: Promise<void>;
    try {
      launched = thread.startAsync();
    } catch (e) {
      this.#startError = (e as Error)?.message ?? String(e);
      w.dead = true;
      port1.close();
      return undefined;
    }
    launched.catch((e: unknown) => {
      this.#startError = (e as Error)?.message ?? String(e);
      this.#check(w, true);
    });
    if (thread.ident !== null) {
      w.ident = thread.ident;
      w.slot = (thread[kShare]().meta as { slot: number }).slot;
      this.#watch(w);
    }
    this.#workers.push(w);
    return w;
  }

  /** From the event loop: notices the thread's end in the thread table (without keeping the process alive). */
  #watch(w: PoolWorker): void {
    const i = slotIndex(w.slot, SLOT_STATE);
    const again = (): void => {
      if (w.dead) return;
      if (!isIdentAlive(w.slot, w.ident)) {
        this.#check(w);
        return;
      }
      const r = Atomics.waitAsync(G, i, Atomics.load(G, i));
      if (r.async) r.value.then(again);
      else queueMicrotask(again);
    };
    again();
  }

  #send(w: PoolWorker): void {
    if (w.outbox.length === 0 || w.dead) return;
    const batch: TaskBatch = { t: w.outbox };
    w.outbox = [];
    const t = batch.t as unknown[];
    for (let i = 4; i < t.length; i += 8) {
      const key = t[i] as number;
      if (!w.targetsSent.has(key)) {
        w.targetsSent.add(key);
        (batch.f ??= []).push([key, specs[key] as TargetSpec]);
      }
    }
    if (w.slabsSent < this.#slabs.length) {
      batch.s = [];
      for (let n = w.slabsSent; n < this.#slabs.length; n++) batch.s.push([n, this.#slabs[n] as Int32Array]);
      w.slabsSent = this.#slabs.length;
    }
    w.port.postMessage(batch);
  }

  #flush(): void {
    for (const w of this.#workers) this.#send(w);
  }

  /** Takes the outcomes in `m` (one message of a pool thread). */
  #receive(w: PoolWorker, m: unknown[]): void {
    for (let i = 0; i < m.length; i += 4) {
      const id = m[i] as number;
      const f = w.futures.get(id);
      if (f === undefined) continue;
      w.futures.delete(id);
      const task = kTask.get(f);
      kTask.delete(f);
      if (task) this.#free.push((task.slab << SLAB_BITS) | task.index);
      let value: unknown;
      try {
        value = decode(m[i + 2], m[i + 3] as boolean);
      } catch (e) {
        internals.settle(f, { ok: false, error: e });
        continue;
      }
      internals.settle(f, m[i + 1] === OK ? { ok: true, value } : { ok: false, error: value });
    }
    this.#unrefIfIdle(w);
    if (Atomics.load(w.state, OUTSTANDING) === 0) this.#steal(w);
  }

  /**
   * Gives an idle thread half the not-yet-started tasks of the busiest one (so one slow task does
   * not hold up the tasks queued behind it while another thread has nothing to do, as with
   * Python's single work queue). A task moves by a CAS of its word to a new generation: the old
   * thread's copy then fails its CAS and is skipped.
   */
  #steal(idle: PoolWorker): void {
    if (idle.dead || idle.stopSent) return;
    const victims = this.#workers
      .filter((w) => w !== idle && !w.dead && Atomics.load(w.state, OUTSTANDING) > 0)
      .sort((a, b) => Atomics.load(b.state, OUTSTANDING) - Atomics.load(a.state, OUTSTANDING));
    for (const victim of victims) {
      // Only short queues: a long one is a burst of small tasks, which the assignment already
      // spreads (and scanning it each time would cost more than it saves).
      if (victim.futures.size > STEAL_MAX) continue;
      const fs = [...victim.futures.values()];
      // Half the queue; a thread with one task may not have started it (a thread still booting).
      const want = Math.max(1, Math.floor(fs.length / 2));
      const taken: [Future<unknown>, Pending][] = [];
      for (let i = fs.length - 1; i >= 0 && taken.length < want; i--) {
        const f = fs[i] as Future<unknown>;
        const task = kTask.get(f) as Pending;
        const words = this.#slabs[task.slab] as Int32Array;
        const gen = (task.gen + 1) & GEN_MASK;
        const pending = task.gen * 4 + PENDING;
        if (Atomics.compareExchange(words, task.index, pending, gen * 4 + PENDING) !== pending) break;
        victim.futures.delete(task.id);
        task.gen = gen;
        internals.bind(f, this.#link, words, task.index, gen);
        taken.push([f, task]);
      }
      if (taken.length === 0) continue;
      this.#unrefIfIdle(victim);
      for (let i = taken.length - 1; i >= 0; i--) {
        const [f, task] = taken[i] as [Future<unknown>, Pending];
        this.#enqueue(idle, f, task, Number.POSITIVE_INFINITY);
      }
      this.#send(idle);
      return;
    }
  }

  #unrefIfIdle(w: PoolWorker): void {
    if (w.referenced && w.futures.size === 0) {
      w.referenced = false;
      w.port.unref();
    }
  }

  /** A future cancelled here: the pool thread will skip it (its CAS fails). */
  #forget(f: Future<unknown>): void {
    const task = kTask.get(f);
    if (task === undefined) return;
    kTask.delete(f);
    for (const w of this.#workers) {
      if (w.futures.delete(task.id)) {
        this.#unrefIfIdle(w);
        break;
      }
    }
    this.#free.push((task.slab << SLAB_BITS) | task.index);
  }

  /** Sends buffered tasks, takes posted outcomes, and notices dead threads. */
  #poll(): void {
    for (const w of [...this.#workers]) {
      this.#send(w);
      this.#drain(w);
      this.#check(w);
    }
    for (const w of this.#workers) if (Atomics.load(w.state, OUTSTANDING) === 0) this.#steal(w);
  }

  #drain(w: PoolWorker): void {
    for (;;) {
      const m = receiveMessageOnPort(w.port);
      if (m === undefined) return;
      this.#receive(w, m.message as unknown[]);
    }
  }

  /** If `w`'s thread has ended: fail the task it was running, move the others to a replacement. */
  #check(w: PoolWorker, failedStart = false, portClosed = false): void {
    if (w.dead) return;
    const exited = Atomics.load(w.state, EXITED) === 1;
    if (!exited && !failedStart && isIdentAlive(w.slot, w.ident) && !(portClosed && w.futures.size > 0)) return;
    this.#drain(w);
    w.dead = true;
    this.#workers = this.#workers.filter((x) => x !== w);
    const how = exited
      ? `called process.exit(${Atomics.load(w.state, EXIT_CODE)})`
      : failedStart
        ? "could not start"
        : "ended abruptly";
    const orphans: [Future<unknown>, Pending][] = [];
    for (const f of w.futures.values()) {
      const task = kTask.get(f) as Pending;
      const word = (Atomics.load(this.#slabs[task.slab] as Int32Array, task.index) & 3) as number;
      if (word === PENDING && !failedStart) orphans.push([f, task]);
      else {
        kTask.delete(f);
        const error =
          word === RUNNING
            ? new RuntimeError(`pool thread ${w.name} ${how} while running this task; the pool replaced it`)
            : new RuntimeError(`pool thread ${w.name} ${how}: ${this.#startError}`);
        internals.settle(f, { ok: false, error });
      }
    }
    w.futures.clear();
    this.#unrefIfIdle(w);
    w.port.close();
    if (orphans.length > 0) {
      for (const [f, task] of orphans) {
        this.#assign(f, task);
      }
      if (this.#shutdown) this.#sendStops();
    }
  }

  #sendStops(): void {
    for (const w of this.#workers) {
      if (w.stopSent || w.dead) continue;
      this.#send(w);
      w.stopSent = true;
      w.port.postMessage({ stop: true } satisfies TaskBatch);
    }
  }

  /**
   * `fn(item)` for every item, run in the pool; returns an iterator over the results in order.
   * Every call is submitted now; each next() blocks until that result is ready. `timeout`
   * (seconds) counts from this call. Leaving the loop early cancels the calls not yet started.
   */
  map<R = unknown>(fn: Target, iterable: Iterable<unknown>, options: MapOptions = {}): IterableIterator<R> {
    const { deadline, chunks } = this.#mapSetup(fn, iterable, options, "map");
    const fs = chunks;
    let i = 0;
    let buffered: unknown[] = [];
    let b = 0;
    let closed = false;
    const cancelRest = (): void => {
      closed = true;
      for (let j = i; j < fs.length; j++) (fs[j] as Future<unknown>).cancel();
    };
    const chunked = options.chunksize !== undefined && options.chunksize > 1;
    const it: IterableIterator<R> = {
      next(): IteratorResult<R> {
        if (closed) return { done: true, value: undefined };
        if (b < buffered.length) return { done: false, value: buffered[b++] as R };
        if (i >= fs.length) {
          closed = true;
          return { done: true, value: undefined };
        }
        const f = fs[i++] as Future<unknown>;
        try {
          const left = remaining(deadline);
          const v = deadline === Number.POSITIVE_INFINITY ? f.result() : f.result(left / 1000);
          if (!chunked) return { done: false, value: v as R };
          buffered = v as unknown[];
          b = 0;
          return it.next();
        } catch (e) {
          // CPython's _result_or_cancel: the future whose wait failed is cancelled too (if not started).
          f.cancel();
          cancelRest();
          if (e instanceof TimeoutError) throw new TimeoutError(`ThreadPoolExecutor.map(): timed out`);
          throw e;
        }
      },
      return(value?: unknown): IteratorResult<R> {
        cancelRest();
        return { done: true, value: value as R };
      },
      [Symbol.iterator]() {
        return it;
      },
    };
    return it;
  }

  #mapSetup(fn: Target, iterable: Iterable<unknown>, options: MapOptions, what: string): MapSetup {
    if (typeof options !== "object" || options === null)
      throw new TypeError(`ThreadPoolExecutor.${what}(): options must be an object`);
    const deadline = deadlineOf(timeoutMs(options.timeout, `ThreadPoolExecutor.${what}()`));
    const size = options.chunksize ?? 1;
    if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
      throw new RangeError(`ThreadPoolExecutor.${what}(): chunksize must be an integer >= 1, not ${size}`);
    }
    if (this.#shutdown) throw new RuntimeError("cannot schedule new futures after shutdown");
    this.#checkBroken();
    const key = keyOf(fn, `ThreadPoolExecutor.${what}(): fn`);
    const chunks: Future<unknown>[] = [];
    if (
      iterable !== null &&
      typeof iterable === "object" &&
      Symbol.asyncIterator in iterable &&
      !(Symbol.iterator in iterable)
    ) {
      return { deadline, chunks, key, size };
    }
    if (
      iterable === null ||
      iterable === undefined ||
      typeof (iterable as Iterable<unknown>)[Symbol.iterator] !== "function"
    ) {
      throw new TypeError(`ThreadPoolExecutor.${what}(): iterable is not iterable`);
    }
    let chunk: unknown[][] = [];
    for (const item of iterable) {
      if (size === 1) chunks.push(this.#submitItem(key, [item], what));
      else {
        chunk.push([item]);
        if (chunk.length === size) {
          chunks.push(this.#submitChunk(key, chunk, what));
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) chunks.push(this.#submitChunk(key, chunk, what));
    return { deadline, chunks, key, size };
  }

  #submitItem(key: number, args: unknown[], what: string): Future<unknown> {
    if (primitives(args)) return this.#submit(key, CALL, args, false);
    const { value, marked } = encode(args, `ThreadPoolExecutor.${what}(): item`);
    return this.#submit(key, CALL, value, marked);
  }

  #submitChunk(key: number, chunk: unknown[][], what: string): Future<unknown> {
    const { value, marked } = encode(chunk, `ThreadPoolExecutor.${what}(): item`);
    return this.#submit(key, CHUNK, value, marked);
  }

  /**
   * The async twin of `map()`: a plain iterable is submitted at once, an async iterable as it
   * yields; results come in order.
   */
  mapAsync<R = unknown>(
    fn: Target,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options: MapOptions = {},
  ): AsyncIterableIterator<R> {
    let setup: MapSetup | undefined;
    let failure: unknown;
    try {
      setup = this.#mapSetup(fn, iterable as Iterable<unknown>, options, "mapAsync");
    } catch (e) {
      failure = e;
    }
    const fs: Future<unknown>[] = setup?.chunks ?? [];
    const deadline = setup?.deadline ?? Number.POSITIVE_INFINITY;
    const size = setup?.size ?? 1;
    let i = 0;
    let buffered: unknown[] = [];
    let b = 0;
    let closed = false;
    // An async source: a pump submits as it yields; next() waits for the pump when it is behind.
    let sourceDone = true;
    let sourceError: { error: unknown } | undefined;
    let wake: (() => void) | undefined;
    let source: AsyncIterator<unknown> | undefined;
    if (
      setup &&
      fs.length === 0 &&
      iterable !== null &&
      typeof iterable === "object" &&
      Symbol.asyncIterator in iterable &&
      !(Symbol.iterator in iterable)
    ) {
      sourceDone = false;
      source = (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      const { key } = setup;
      void (async () => {
        let chunk: unknown[][] = [];
        try {
          for (;;) {
            const r = await (source as AsyncIterator<unknown>).next();
            if (closed) return;
            if (r.done) break;
            if (size === 1) fs.push(this.#submitItem(key, [r.value], "mapAsync"));
            else {
              chunk.push([r.value]);
              if (chunk.length === size) {
                fs.push(this.#submitChunk(key, chunk, "mapAsync"));
                chunk = [];
              }
            }
            wake?.();
          }
          if (chunk.length > 0) fs.push(this.#submitChunk(key, chunk, "mapAsync"));
        } catch (e) {
          sourceError = { error: e };
        }
        sourceDone = true;
        wake?.();
      })();
    }
    const cancelRest = (): void => {
      closed = true;
      for (let j = i; j < fs.length; j++) (fs[j] as Future<unknown>).cancel();
      if (!sourceDone) void source?.return?.();
      wake?.();
    };
    const it: AsyncIterableIterator<R> = {
      async next(): Promise<IteratorResult<R>> {
        if (failure !== undefined) {
          const e = failure;
          failure = undefined;
          closed = true;
          throw e;
        }
        for (;;) {
          if (closed) return { done: true, value: undefined };
          if (b < buffered.length) return { done: false, value: buffered[b++] as R };
          if (i < fs.length) break;
          if (sourceDone) {
            closed = true;
            if (sourceError) throw sourceError.error;
            return { done: true, value: undefined };
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
        const f = fs[i++] as Future<unknown>;
        try {
          const v =
            deadline === Number.POSITIVE_INFINITY
              ? await f.resultAsync()
              : await f.resultAsync(remaining(deadline) / 1000);
          if (size === 1) return { done: false, value: v as R };
          buffered = v as unknown[];
          b = 0;
          return it.next();
        } catch (e) {
          f.cancel(); // as in map()
          cancelRest();
          if (e instanceof TimeoutError) throw new TimeoutError("ThreadPoolExecutor.mapAsync(): timed out");
          throw e;
        }
      },
      async return(value?: unknown): Promise<IteratorResult<R>> {
        cancelRest();
        return { done: true, value: value as R };
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }

  /**
   * No new tasks after this. With `cancelFutures`, the tasks not yet started are cancelled. With
   * `wait` (default), returns once every task has finished and the pool threads have ended.
   */
  shutdown(wait = true, options: { cancelFutures?: boolean } = {}): void {
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
  async shutdownAsync(options: { cancelFutures?: boolean } = {}): Promise<void> {
    this.#beginShutdown(options, "shutdownAsync");
    for (;;) {
      this.#poll();
      const live = this.#workers.filter((w) => !w.dead);
      if (live.length === 0) break;
      await Promise.all(live.map((w) => w.thread.joinAsync()));
    }
    this.#finishShutdown();
  }

  #beginShutdown(options: { cancelFutures?: boolean }, what: string): void {
    if (typeof options !== "object" || options === null)
      throw new TypeError(`ThreadPoolExecutor.${what}(): options must be an object`);
    this.#shutdown = true;
    if (options.cancelFutures) {
      for (const w of this.#workers) for (const f of [...w.futures.values()]) f.cancel();
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

  toString(): string {
    return `<ThreadPoolExecutor ${this.#prefix} maxWorkers=${this.#maxWorkers} threads=${this.#workers.length}${this.#shutdown ? " shut down" : ""}>`;
  }
}
