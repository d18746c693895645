/**
 * The body of a pool thread (what each ThreadPoolExecutor thread runs, see executor.ts).
 *
 * It receives batches of tasks on its MessagePort and runs them one at a time, in order (an async
 * task is awaited before the next starts; a task that returns a value runs with no await, so a
 * batch of them runs in one synchronous run; a lone task that comes while the thread is idle, its
 * target compiled, runs at once from its message, #runLone(): the same steps without the pump's
 * batch and loop, the case of a task awaited one at a time). For each task (as CPython's _WorkItem.run): CAS its
 * future's word PENDING -> RUNNING (a cancelled or moved task fails the CAS and is skipped), run
 * it, post the outcome to the submitting thread, then store FINISHED and ring that thread's
 * doorbell (a thread that runs out of tasks with none to post after it skipped some posts an
 * empty list, so that the executor sees it idle and moves tasks to it: balance.ts). Outcomes of
 * consecutive quick tasks are posted together (one message), but never held
 * across a task that is not known to be quick, nor across an await. A primitive result is posted
 * as it is (no encoding); posted alone, it is the whole message, its handle, generation and status
 * in the thread's ring of lone outcomes (protocol.ts), as a lone task from the executor is its
 * primitive argument with the rest in the ring of lone tasks.
 *
 * A task that calls process.exit() (or throws SystemExit, which is all Python's sys.exit() does):
 * the SystemExit unwinds the task's stack (its `finally` blocks run) and reaches the pool, which
 * ends the thread, as process.exit() ends any thread (API.md: "the pool replaces the thread"; a
 * CPython pool thread would survive it). In order (#exit()): the thread starts no task after it;
 * the outcomes held and the task's outcome (the SystemExit, its `code` the exit code) are posted,
 * so its future fails with it; EXIT_CODE and EXIT_HOW (EXIT_TASK) are written, EXITED is not;
 * the port closes and poolThread() rejects with that SystemExit, so the thread ends silently
 * (threads/worker.ts). The tasks given to it and not started keep their words PENDING: once the
 * thread has ended in the thread table, the executor moves them to a replacement (executor.ts
 * #check), a new Thread. A map() chunk whose call exits is a chunk whose call threw: the results
 * before it, then the SystemExit. A task that catches its SystemExit (a catch-all) just returns:
 * the thread goes on, as in Python.
 * A process.exit() or an uncaught exception in a callback (a timer, a listener: left by this
 * task or an earlier one, as tasks share the thread's event loop) ends the thread (threads/worker.ts):
 * as it ends (onThreadEnding, before it is marked ended) the thread posts the outcomes held, then
 * writes EXIT_CODE and EXIT_HOW and sets EXITED, so the executor fails the running task saying what
 * ended the thread, and moves the rest to a replacement. (The process 'exit' event does the same, as
 * EXIT_EVENT, for an exit nothing else saw.) The thread does not refuse more tasks because one left
 * timers or handles behind: its globals, modules and handles are meant to outlive a task (a
 * `local`, a cache, a connection kept in a module), as a CPython pool thread's do.
 *
 * The thread keeps its globals and module instances across tasks (so a `local` gives it one
 * namespace for all its tasks), and compiles each function target once. Once it is done serving
 * (stopped, retired, or ended by a task's SystemExit) poolThread() takes its process 'exit'
 * listener off, and its onThreadEnding hook is one per worker (`serving`), so nothing of the pool is
 * left on the worker: it is handed back and may run any later thread (threads/reuse.ts), unless a
 * task left something there that could call back. A pool thread may thus start on a worker that
 * ran one before, warm: up and through a quick task within a millisecond or two.
 */
// The whole library, so that the bundle keeps one shared chunk for all its entries (scripts/bundle.mjs).
import "../index.js";
import type { MessagePort } from "node:worker_threads";
import { BrokenThreadPool, SystemExit } from "../errors.js";
import { onThreadEnding } from "../shared/thread-reset.js";
import { thenable } from "../shared/thenable.js";
import { afterMs } from "../shared/wait.js";
import { decode } from "../transport/decode.js";
import { encode } from "../transport/encode.js";
import { compileTarget, type TargetSpec } from "../transport/target.js";
import {
  BROKEN,
  BROKEN_MESSAGE,
  BUSY_SINCE,
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
  FAILED,
  LANE_OUTCOME_FIELDS,
  LANE_SLOTS,
  LONE_OUTCOMES_IN_FLIGHT,
  LONE_UNDEFINED,
  LANE_TASK_FIELDS,
  type Lanes,
  lanesOf,
  LIVE,
  loneRunHooks,
  MARKED,
  OK,
  OUTCOME_FIELDS,
  OUTCOMES_TAKEN,
  OUTSTANDING,
  PARTIAL,
  RETIRED,
  RUN_MAX,
  RUN_TOTAL,
  TASK_FIELDS,
  THROW_CALLBACK,
  type TaskBatch,
  WAIT_MAX,
  WAIT_TOTAL,
} from "./protocol.js";
import { SLEEPERS } from "./future.js";
import { finish, indexOf, slabOf, start } from "./slots.js";

/** (The global `performance` is an accessor on Node: read once, not at each task.) */
const clock = performance;

/** Functions run quicker than this (ms) may have their outcomes posted together. */
const QUICK_MS = 0.02;
const MAX_HELD = 256;

type Fn = (...args: unknown[]) => unknown;

/** No error yet: a map() chunk whose calls all returned (#holdPartial). */
const NO_ERROR = Symbol("no error");

/** A chunk whose call threw (or rejected): the results of the calls before it, and the error. */
class ChunkFailure {
  constructor(
    readonly results: unknown[],
    readonly error: unknown,
  ) {}
}

/**
 * Calls `fn(...a)` for each arguments list `a` of a chunk and returns the results: a list, or a
 * promise of it from the first call that returns a promise on (the outcomes held are posted before
 * the thread awaits it). A call that throws ends the chunk with a ChunkFailure (the calls after it
 * do not run), which keeps the results before it.
 */
function runChunk(pool: PoolThread, fn: Fn, list: unknown[][], from: number, out: unknown[]): unknown {
  for (let i = from; i < list.length; i++) {
    let v: unknown;
    try {
      v = fn(...(list[i] as unknown[]));
    } catch (e) {
      throw new ChunkFailure(out, e);
    }
    if (thenable(v)) {
      pool.post();
      return (async () => {
        try {
          out.push(await v);
        } catch (e) {
          throw new ChunkFailure(out, e);
        }
        return await runChunk(pool, fn, list, i + 1, out);
      })();
    }
    out.push(v);
  }
  return out;
}

/**
 * A pool thread's state: the targets and slabs it was sent, the batches of tasks not yet run, the
 * outcomes it holds, its statistics, and its idle timer.
 */
class PoolThread {
  readonly #port: MessagePort;
  readonly #state: Int32Array;
  readonly #bell: Int32Array;
  readonly #shared: Int32Array;
  readonly #stats: Float64Array;
  readonly #idleMs: number;
  readonly #minWorkers: number;
  readonly #origin = performance.timeOrigin;
  readonly #targets = new Map<number, TargetSpec>();
  readonly #compiled = new Map<number, Fn | Promise<Fn>>();
  /** Longest run seen per target (ms); unknown targets are not assumed quick. */
  readonly #longest = new Map<number, number>();
  readonly #slabs: Int32Array[] = [];
  readonly #batches: TaskBatch[] = [];
  #cursor = 0;
  #stopping = false;
  #pumping = false;
  /** The initializer has run: tasks may run. */
  #ready = false;
  #initFailed = false;
  #initError: unknown;
  /**
   * Resolves when the thread is done serving (stopped, or retired); rejects with the SystemExit of
   * a task that ended the thread (#exit()).
   */
  readonly done: Promise<void>;
  #finished: () => void = () => {};
  #exitWith: (e: SystemExit) => void = () => {};
  /** A task's SystemExit ends the thread (#exit()): no task starts any more. */
  #exiting = false;
  // Outcomes run but not yet posted (OUTCOME_FIELDS each: handle, gen, status, value), whose words
  // are marked FINISHED once they are.
  #held: unknown[] = [];
  /** A task was skipped (cancelled or moved) since the last outcomes were posted. */
  #skipped = false;
  /** A task is running (its process.exit() ends the thread with it: exited()). */
  #running = false;
  /**
   * The idle timer (idleTimeout): armed when the thread goes idle and none is armed, and not
   * cancelled when a task comes (a thread given a task at a time would set and clear a timer for
   * each). When it fires, the thread retires if it has been idle for idleMs since `#idleSince`,
   * arms it again for the time left if it went idle later, and does nothing if it is busy (it is
   * armed again when the thread is next idle). Cancelled once the thread stops serving, so that
   * no timer of the pool is left on its worker.
   */
  #cancelIdle: (() => void) | undefined;
  /** When the thread last went idle (ms, clock.now()). */
  #idleSince = 0;
  /** The rings of lone messages (protocol.ts), the lone tasks taken and the lone outcomes posted. */
  readonly #lanes: Lanes;
  #loneTaken = 0;
  #lonePosted = 0;

  constructor(
    port: MessagePort,
    state: Int32Array,
    bell: Int32Array,
    shared: Int32Array,
    stats: Float64Array,
    idleMs: number,
    minWorkers: number,
    lanes: Lanes,
  ) {
    this.#lanes = lanes;
    this.#port = port;
    this.#state = state;
    // (0, or where a test hook started the executor's count: protocol.ts laneTestHooks)
    this.#lonePosted = Atomics.load(state, OUTCOMES_TAKEN) >>> 0;
    this.#bell = bell;
    this.#shared = shared;
    this.#stats = stats;
    this.#idleMs = idleMs;
    this.#minWorkers = minWorkers;
    this.done = new Promise<void>((resolve, reject) => {
      this.#finished = resolve;
      this.#exitWith = reject;
    });
    // (handled: poolThread() returns it, maybe after it rejected)
    this.done.catch(() => {});
  }

  /** Posts the outcomes held, marks their words FINISHED, and rings the submitting thread's doorbell. */
  post(): void {
    if (this.#held.length === 0) return;
    this.#skipped = false;
    const held = this.#held;
    this.#held = [];
    const value = held[3];
    if (held.length === OUTCOME_FIELDS && this.#loneValue(value)) {
      this.#postLone(held[0] as number, held[1] as number, held[2] as number, value);
      return;
    }
    this.#port.postMessage(held);
    const slabs = this.#slabs;
    for (let i = 0; i < held.length; i += OUTCOME_FIELDS) {
      const handle = held[i] as number;
      finish(slabs[slabOf(handle)] as Int32Array, indexOf(handle), held[i + 1] as number);
    }
    this.#ring();
  }

  /**
   * Whether an outcome of `value` (as posted: encoded already, or a primitive) may go as a lone
   * outcome now: a primitive other than a symbol (not undefined where LONE_UNDEFINED says no), and a
   * free ring slot.
   */
  #loneValue(value: unknown): boolean {
    return (
      ((typeof value !== "object" && typeof value !== "function" && typeof value !== "symbol") || value === null) &&
      (value !== undefined || LONE_UNDEFINED) &&
      // (mod 2^32: OUTCOMES_TAKEN holds the executor's count in 32 bits)
      (this.#lonePosted - Atomics.load(this.#state, OUTCOMES_TAKEN)) >>> 0 < LONE_OUTCOMES_IN_FLIGHT
    );
  }

  /**
   * Posts one outcome of a primitive value alone, its other fields in the ring (protocol.ts), marks
   * its word FINISHED and rings the doorbell (as post()). Only where #loneValue(value) says so.
   */
  #postLone(handle: number, gen: number, status: number, value: unknown): void {
    const ring = this.#lanes.outcomes;
    const at = (this.#lonePosted % LANE_SLOTS) * LANE_OUTCOME_FIELDS;
    ring[at] = handle;
    ring[at + 1] = gen;
    ring[at + 2] = status;
    this.#lonePosted++;
    this.#port.postMessage(value);
    finish(this.#slabs[slabOf(handle)] as Int32Array, indexOf(handle), gen);
    this.#ring();
  }

  /** Rings the submitting thread's doorbell, after outcomes were posted. */
  #ring(): void {
    // Notified only while the submitting thread sleeps in a blocking wait (future.ts doorbell).
    Atomics.add(this.#bell, 0, 1);
    if (Atomics.load(this.#bell, SLEEPERS) !== 0) Atomics.notify(this.#bell, 0);
  }

  /**
   * The thread ends while a task runs (see the file comment): post what is done, then say how it
   * ended (once: the process 'exit' event may follow the end seen by onThreadEnding).
   */
  exited(how: number, code: number | undefined): void {
    if (!this.#running || Atomics.load(this.#state, EXITED) === 1) return;
    try {
      this.post();
    } catch {
      // the port may be closing; the executor still sees EXITED
    }
    Atomics.store(this.#state, EXIT_CODE, code ?? 0);
    Atomics.store(this.#state, EXIT_HOW, how);
    Atomics.store(this.#state, EXITED, 1);
    Atomics.add(this.#bell, 0, 1);
    Atomics.notify(this.#bell, 0);
  }

  /** onThreadEnding: `cause`, what a callback threw that ends the thread (undefined: it did not). */
  ending(cause: unknown): void {
    if (cause === undefined) return;
    if (cause instanceof SystemExit) this.exited(EXIT_CALLBACK, exitCode(cause.code));
    else this.exited(THROW_CALLBACK, undefined);
  }

  /** Once the initializer failed (or another thread's did), every task fails with BrokenExecutor. */
  checkBroken(): void {
    if (this.#initFailed || Atomics.load(this.#shared, BROKEN) === 1) {
      throw Object.assign(new BrokenThreadPool(BROKEN_MESSAGE), this.#initFailed ? { cause: this.#initError } : {});
    }
  }

  /** The function of target `key`, compiled on first use (a promise while it compiles). */
  target(key: number): Fn | Promise<Fn> {
    let fn = this.#compiled.get(key);
    if (fn === undefined) {
      const spec = this.#targets.get(key);
      if (spec === undefined) throw new Error(`threading: pool thread has no target #${key}`);
      const p = compileTarget(spec);
      this.#compiled.set(key, p);
      p.then(
        (f) => {
          if (this.#targets.has(key)) this.#compiled.set(key, f);
        },
        () => this.#compiled.delete(key),
      );
      fn = p;
    }
    return fn;
  }

  /**
   * A message from the executor: a batch of tasks (and the targets and slabs they need), stop, or
   * (a primitive) a lone task's argument, whose other fields are in the ring (protocol.ts).
   */
  receive(message: unknown): void {
    if (this.#exiting) return; // (its tasks stay PENDING: the executor moves them to the replacement)
    let batch: TaskBatch;
    if (typeof message !== "object" || message === null) {
      const ring = this.#lanes.tasks;
      const at = (this.#loneTaken % LANE_SLOTS) * LANE_TASK_FIELDS;
      this.#loneTaken++;
      const handle = ring[at] as number;
      const gen = ring[at + 1] as number;
      const code = ring[at + 2] as number;
      const submittedAt = ring[at + 3] as number;
      if (this.#batches.length === 0 && this.#runLone(handle, gen, code, message, submittedAt)) return;
      if (loneRunHooks.queued !== undefined) loneRunHooks.queued();
      batch = { t: [handle, gen, code, message, submittedAt] };
    } else batch = message as TaskBatch;
    if (batch.stop) this.#stopping = true;
    this.#batches.push(batch);
    if (this.#ready) void this.#pump();
  }

  /**
   * A lone task (protocol.ts) that comes while the thread is idle, run at once from its message,
   * without the pump's batch and loop (a task awaited one at a time: its outcome is posted before
   * anything else is done). As the pump runs it: the CAS to RUNNING (a cancelled or moved task is
   * skipped, and an empty list says the thread has nothing left), the call, the outcome posted.
   * False (the pump runs it) unless the thread is idle and ready and the target is compiled. A
   * promise returned is awaited as the pump awaits one (#awaitLone), messages received meanwhile
   * waiting for the pump.
   */
  #runLone(handle: number, gen: number, code: number, arg: unknown, submittedAt: number): boolean {
    if (this.#pumping || !this.#ready || this.#stopping || this.#held.length !== 0) return false;
    const key = Math.floor(code / 8);
    const fn = this.#compiled.get(key);
    if (typeof fn !== "function") return false; // not compiled yet, or compiling (a promise)
    if (loneRunHooks.beforeStart !== undefined) loneRunHooks.beforeStart(arg);
    if (!start(this.#slabs[slabOf(handle)] as Int32Array, indexOf(handle), gen)) {
      // cancelled before it started, or moved to another thread: nothing left to run
      Atomics.sub(this.#state, OUTSTANDING, 1);
      this.#port.postMessage([]);
      this.#armIdle();
      return true;
    }
    if (loneRunHooks.ran !== undefined) loneRunHooks.ran();
    this.#pumping = true; // (messages that come during the call wait for the pump, as in it)
    this.#running = true;
    const started = clock.now();
    this.#began(submittedAt, started);
    let ok = true;
    let value: unknown;
    try {
      this.checkBroken();
      value = fn(arg);
    } catch (e) {
      ok = false;
      value = e;
    }
    if (ok && thenable(value)) {
      void this.#awaitLone(handle, gen, key, started, value);
      return true;
    }
    this.#pumping = false;
    let ended: number | undefined; // (when the task ended: the idle time counts from there)
    if (this.#loneValue(value)) {
      // A primitive outcome (nothing to encode, no SystemExit): posted alone at once, never held.
      this.#running = false;
      ended = clock.now();
      this.#ended(key, ended - started);
      Atomics.sub(this.#state, OUTSTANDING, 1);
      this.#postLone(handle, gen, ok ? OK : FAILED, value);
    } else {
      if (!this.#done(handle, gen, key, started, ok, value, false)) return true;
      this.post();
    }
    if (this.#batches.length > 0) void this.#pump();
    else this.#armIdle(ended);
    return true;
  }

  /** #runLone()'s task returned `promise`: its outcome once settled, then the messages that came meanwhile. */
  async #awaitLone(handle: number, gen: number, key: number, started: number, promise: unknown): Promise<void> {
    let ok = true;
    let value: unknown;
    try {
      value = await promise;
    } catch (e) {
      ok = false;
      value = e;
    }
    this.#pumping = false;
    if (!this.#done(handle, gen, key, started, ok, value, false)) return;
    void this.#pump(); // (with no batch: posts the outcome and waits idle, as after any task)
  }

  /**
   * The task at `handle` (generation `gen`, of target `key`, started at `started`) ran: its
   * statistics, its OUTSTANDING count, its outcome held. False if its SystemExit ended the thread.
   */
  #done(
    handle: number,
    gen: number,
    key: number,
    started: number,
    ok: boolean,
    value: unknown,
    chunk: boolean,
  ): boolean {
    this.#running = false;
    this.#ended(key, clock.now() - started);
    Atomics.sub(this.#state, OUTSTANDING, 1);
    this.#hold(handle, gen, ok, value, chunk);
    const exit = ok ? undefined : systemExitOf(value);
    if (exit !== undefined) {
      this.#exit(exit);
      return false;
    }
    return true;
  }

  /** Runs the initializer (a failure breaks the pool), then the tasks. */
  async initialize(init: TargetSpec | null, initargs: unknown[]): Promise<void> {
    if (init !== null) {
      try {
        const fn = await compileTarget(init);
        await fn(...initargs);
      } catch (e) {
        this.#initFailed = true;
        this.#initError = e;
        Atomics.store(this.#shared, BROKEN, 1);
        const text = e instanceof Error ? (e.stack ?? String(e)) : String(e);
        process.stderr.write(`Exception in initializer:\n${text}\n`);
      }
    }
    this.#ready = true;
    void this.#pump();
  }

  /**
   * Runs the tasks received, one at a time, until none is left; then stops, or waits idle. A task
   * whose target is compiled and returns a value (not a promise) runs without an await: the
   * tasks of a batch run in one synchronous run.
   */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        if (this.#exiting) return;
        const batch = this.#batches[0];
        if (batch === undefined) break;
        if (batch.x) {
          for (const key of batch.x) {
            this.#targets.delete(key);
            this.#compiled.delete(key);
            this.#longest.delete(key);
          }
          batch.x = undefined;
        }
        // (Cleared only where present: a batch of tasks alone keeps its one property, no new shape.)
        if (batch.f) {
          for (const [key, spec] of batch.f) this.#targets.set(key, spec);
          batch.f = undefined;
        }
        if (batch.s) {
          for (const [no, words] of batch.s) this.#slabs[no] = words;
          batch.s = undefined;
        }
        const t = batch.t;
        if (t === undefined || this.#cursor >= t.length) {
          this.#batches.shift();
          this.#cursor = 0;
          if (this.#batches.length === 0) this.post();
          continue;
        }
        const at = this.#cursor;
        this.#cursor += TASK_FIELDS;
        const handle = t[at] as number;
        const gen = t[at + 1] as number;
        const words = this.#slabs[slabOf(handle)] as Int32Array;
        if (!start(words, indexOf(handle), gen)) {
          // cancelled before it started, or moved to another thread
          t[at + 3] = undefined;
          Atomics.sub(this.#state, OUTSTANDING, 1);
          this.#skipped = true;
          continue;
        }
        const code = t[at + 2] as number;
        const key = Math.floor(code / 8);
        const mode = (code >> 1) & 3;
        const args = t[at + 3];
        t[at + 3] = undefined;
        const quick = (this.#longest.get(key) ?? Number.POSITIVE_INFINITY) < QUICK_MS;
        if (!quick || this.#held.length >= MAX_HELD * OUTCOME_FIELDS) this.post();
        this.#running = true;
        const started = clock.now();
        this.#began(t[at + 4] as number, started);
        let ok = true;
        let value: unknown;
        try {
          this.checkBroken();
          let fn = this.target(key);
          if (thenable(fn)) {
            this.post();
            fn = await fn;
          }
          if (mode === CALL1) value = fn(args);
          else {
            const raw = decode(args, (code & 1) === 1) as unknown[];
            value = mode === CALL ? fn(...raw) : runChunk(this, fn, raw as unknown[][], 0, []);
          }
          if (thenable(value)) {
            this.post();
            value = await value;
          }
        } catch (e) {
          ok = false;
          value = e;
        }
        if (!this.#done(handle, gen, key, started, ok, value, mode === CHUNK)) return;
        if (this.#held.length >= MAX_HELD * OUTCOME_FIELDS) this.post();
      }
      // Out of tasks: the executor looks for tasks to move here when outcomes come in. With none
      // to post since tasks were skipped (the last ones cancelled or moved), an empty list says so.
      if (this.#skipped && this.#held.length === 0 && !this.#stopping) this.#port.postMessage([]);
      this.#skipped = false;
      this.post();
      if (this.#stopping) {
        this.#stopIdle();
        this.#port.close();
        this.#finished();
      } else this.#armIdle();
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * The task just run raised `exit` (its process.exit() unwound it): the thread ends (see the file
   * comment). Its outcome is held already; every outcome held is posted before anything else.
   */
  #exit(exit: SystemExit): void {
    this.#exiting = true;
    this.#stopIdle();
    this.#batches.length = 0;
    this.post();
    Atomics.store(this.#state, EXIT_CODE, exitCode(exit.code));
    Atomics.store(this.#state, EXIT_HOW, EXIT_TASK);
    this.#port.close();
    this.#exitWith(exit);
  }

  #began(submittedAt: number, started: number): void {
    const stats = this.#stats;
    const waited = this.#origin + started - submittedAt;
    stats[WAIT_TOTAL] += waited;
    if (waited > (stats[WAIT_MAX] as number)) stats[WAIT_MAX] = waited;
    stats[BUSY_SINCE] = this.#origin + started;
  }

  #ended(key: number, took: number): void {
    const stats = this.#stats;
    if (!(took <= (this.#longest.get(key) ?? 0))) this.#longest.set(key, took);
    stats[RUN_TOTAL] += took;
    if (took > (stats[RUN_MAX] as number)) stats[RUN_MAX] = took;
    stats[COMPLETED] += 1;
    stats[BUSY_SINCE] = 0;
  }

  /**
   * Encodes a task's outcome (one that cannot cross fails the task) and holds it until post().
   * `chunk`: a map() chunk's, whose results are handed out one by one.
   */
  #hold(handle: number, gen: number, ok: boolean, value: unknown, chunk = false): void {
    if (value instanceof ChunkFailure && this.#holdPartial(handle, gen, value.results, value.error)) return;
    const type = typeof value;
    if ((type === "object" && value !== null) || type === "function" || type === "symbol") {
      let encoded: { value: unknown; marked: boolean };
      try {
        encoded = ok ? encode(value, "result") : encode(value, "exception", { lenientErrors: true });
      } catch (e) {
        if (chunk && ok && this.#holdPartial(handle, gen, value as unknown[], NO_ERROR)) return;
        ok = false;
        encoded = encode(e, "exception", { lenientErrors: true });
      }
      value = encoded.value;
      this.#held.push(handle, gen, (ok ? OK : FAILED) | (encoded.marked ? MARKED : 0), value);
    } else this.#held.push(handle, gen, ok ? OK : FAILED, value);
  }

  /**
   * Holds a map() chunk's outcome whose results cannot all be handed out: a call failed with
   * `error` after the calls that gave `results`, or (`error` NO_ERROR) a result cannot cross. The
   * outcome is [the results before the first that cannot cross or the failed call, the error], so
   * that map() hands out those results before it raises, as it does with a call per future (and as
   * CPython's ThreadPoolExecutor.map(), where chunksize has no effect). A result that cannot cross
   * fails the chunk there, with the TypeError it gives a call's future. False when every result
   * crosses and there is no error (then the chunk succeeds as usual).
   */
  #holdPartial(handle: number, gen: number, results: unknown[], error: unknown): boolean {
    try {
      let list: { value: unknown; marked: boolean };
      try {
        list = encode(results, "result");
      } catch {
        let k = 0;
        for (; k < results.length; k++) {
          try {
            encode(results[k], "result");
          } catch (e) {
            error = e;
            break;
          }
        }
        list = encode(results.slice(0, k), "result");
      }
      if (error === NO_ERROR) return false;
      let encoded: { value: unknown; marked: boolean };
      try {
        encoded = encode(error, "exception", { lenientErrors: true });
      } catch (e) {
        encoded = encode(e, "exception", { lenientErrors: true });
      }
      const marked = list.marked || encoded.marked ? MARKED : 0;
      this.#held.push(handle, gen, FAILED | PARTIAL | marked, [list.value, encoded.value]);
      return true;
    } catch {
      return false; // (not seen: the chunk's outcome is encoded as a whole)
    }
  }

  /**
   * The thread went idle (at `since`, default now): the idle timer counts from then (see
   * #cancelIdle); past idleTimeout it retires, while more than minWorkers are alive. (afterMs: an
   * idleTimeout longer than one setTimeout takes, 24.8 days, is chained, never early.)
   */
  #armIdle(since?: number): void {
    if (this.#idleMs === Number.POSITIVE_INFINITY) return;
    this.#idleSince = since ?? clock.now();
    if (this.#cancelIdle === undefined) this.#cancelIdle = afterMs(this.#idleMs, () => this.#idleFired());
  }

  /** The thread stops serving: no idle timer of the pool is left on its worker. */
  #stopIdle(): void {
    if (this.#cancelIdle === undefined) return;
    this.#cancelIdle();
    this.#cancelIdle = undefined;
  }

  /** The idle timer fired: retire if idle for idleMs, else wait for the rest of it (see #cancelIdle). */
  #idleFired(): void {
    this.#cancelIdle = undefined;
    if (this.#stopping || this.#exiting || this.#pumping || this.#batches.length > 0) return;
    if (Atomics.load(this.#state, OUTSTANDING) !== 0) return;
    const left = this.#idleSince + this.#idleMs - clock.now();
    if (left > 0) this.#cancelIdle = afterMs(left, () => this.#idleFired());
    else this.#retire();
  }

  /** Idle for idleMs: leaves the pool, unless it is down to minWorkers or a task is on its way. */
  #retire(): void {
    const shared = this.#shared;
    for (;;) {
      const live = Atomics.load(shared, LIVE);
      if (live <= this.#minWorkers) {
        this.#armIdle(); // look again later: another thread may have started meanwhile
        return;
      }
      if (Atomics.compareExchange(shared, LIVE, live, live - 1) === live) break;
    }
    if (Atomics.compareExchange(this.#state, OUTSTANDING, 0, RETIRED) !== 0) {
      Atomics.add(shared, LIVE, 1); // a task is on its way: its batch arms the timer again
      return;
    }
    this.#stopping = true;
    this.#port.close();
    this.#finished();
  }
}

/** The SystemExit a task raised (a map() chunk's failed call's), or undefined. */
function systemExitOf(error: unknown): SystemExit | undefined {
  const e = error instanceof ChunkFailure ? error.error : error;
  return e instanceof SystemExit ? e : undefined;
}

/** process.exit(code)'s code as a number (Node takes an integer or a string of one; else 1). */
function exitCode(code: number | string | null | undefined): number {
  const n = Number(code ?? 0);
  return Number.isInteger(n) ? n : 1;
}

/** Runs in the pool thread: serves tasks until the executor sends `stop` (or the thread retires). */
export async function poolThread(
  port: MessagePort,
  state: Int32Array,
  bell: Int32Array,
  shared: Int32Array,
  init: TargetSpec | null,
  initargs: unknown[],
  stats: Float64Array,
  idleMs: number,
  minWorkers: number,
  lanes: SharedArrayBuffer,
): Promise<void> {
  const pool = new PoolThread(port, state, bell, shared, stats, idleMs, minWorkers, lanesOf(lanes));
  serving = pool;
  const onExit = (code: number): void => pool.exited(EXIT_EVENT, code);
  process.on("exit", onExit);
  port.on("message", (message: unknown) => pool.receive(message));
  try {
    await pool.initialize(init, initargs);
    return await pool.done;
  } finally {
    // Done serving (stopped, retired, or ended by a task's SystemExit): nothing of the pool is
    // left on the thread's event loop, so its worker may run the next thread (threads/reuse.ts).
    process.off("exit", onExit);
    if (serving === pool) serving = undefined;
  }
}

/** The pool thread this worker runs now (one per worker; registered once per worker, below). */
let serving: PoolThread | undefined;
onThreadEnding((cause) => serving?.ending(cause));
