/**
 * Future: the result of a call that runs in another thread, as Python's `concurrent.futures.Future`.
 *
 * A Future belongs to the thread that made it (it never crosses threads). Its state while the task
 * is pending or running lives in one 32-bit word of shared memory (a slab word of its executor,
 * tagged with a generation so a recycled word is never mistaken for another future's; slots.ts
 * encodes it):
 *
 *   word = gen * 4 + (PENDING | RUNNING | CANCELLED | FINISHED)
 *
 * The pool thread moves it PENDING -> RUNNING (a CAS, which cancel()'s PENDING -> CANCELLED races
 * against), runs the task, posts the outcome on its MessagePort, and only then stores FINISHED and
 * rings this thread's doorbell. So whoever sees FINISHED (or the doorbell) can always take the
 * outcome with `receiveMessageOnPort`: result() works on a thread whose event loop is not turning.
 * The same port has an (unref'd while idle) listener, so promises and done callbacks settle from
 * the event loop as well.
 */
import { CancelledError, InvalidStateError, RuntimeError, TimeoutError } from "../errors.js";
import {
  afterMs,
  checkArgCount,
  deadlineOf,
  remaining,
  secondsText,
  type Timeout,
  timeoutMs,
  timeoutOf,
  waitBlocking,
} from "../shared/wait.js";
import { describe } from "../shared/waiting.js";
import { kStaysHome } from "../transport/shareable.js";
import { CANCELLED, cancel, FINISHED, PENDING, RUNNING, stateAt } from "./slots.js";

/** How long a blocking wait sleeps before it checks that the pool threads are still alive (ms). */
const HEALTH_SLICE_MS = 50;

/**
 * This thread's doorbell: pool threads add 1 to word 0 and notify after posting outcomes to this
 * thread, so one blocking wait covers any number of futures of any number of executors. Word 1
 * (SLEEPERS) counts this thread's blocking waits on it: a pool thread may skip the notify when it
 * reads 0 after its add (a wait that begins after that read finds word 0 changed and returns; so
 * an outcome awaited from the event loop costs no notify).
 */
export const doorbell: Int32Array = new Int32Array(new SharedArrayBuffer(8)); // no <SharedArrayBuffer> in the .d.ts (TypeScript < 5.7)
/** The doorbell's word that counts the blocking waits on it (see doorbell). */
export const SLEEPERS = 1;
describe(doorbell.buffer, "Future", 0);

/** What a Future needs from the executor that runs it. */
export interface FutureLink {
  /** Sends buffered tasks, takes the outcomes already posted, and notices dead pool threads. */
  poll(): void;
  /**
   * Sends buffered tasks only (what `await future` needs: its outcome comes from the event loop);
   * poll() where there is none.
   */
  flush?(): void;
  /** The future was cancelled here (its word is PENDING -> CANCELLED). */
  cancelled(f: Future<unknown>): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
type Listener = (f: Future<unknown>) => void;
/** The promise `then()` hands out, and how #finish() settles it (resolve undefined once it did). */
interface Awaited_<T> {
  promise: Promise<T>;
  resolve: ((value: unknown) => void) | undefined;
  reject: (error: unknown) => void;
}

let settleCounter = 0;

/** Internal operations of Future for the executor and the wait functions (not part of the API). */
export interface FutureInternals {
  bind(f: Future<unknown>, link: FutureLink, word: Int32Array, index: number, gen: number): void;
  settle(f: Future<unknown>, outcome: Outcome): boolean;
  /** settle() without an Outcome object: the result (failed false) or the error. */
  finish(f: Future<unknown>, failed: boolean, value: unknown): boolean;
  /** The order in which futures settled in this thread (0 while pending). */
  order(f: Future<unknown>): number;
  link(f: Future<unknown>): FutureLink | undefined;
  /** Calls `fn(f)` once when the future settles (at once if it has). Internal: never throws into the settler. */
  onSettle(f: Future<unknown>, fn: (f: Future<unknown>) => void): void;
  /** Marks `f` with `stamp` (a number not used before); false if it was marked with it already. */
  stamp(f: Future<unknown>, stamp: number): boolean;
  isFailed(f: Future<unknown>): boolean;
  task(f: Future<unknown>): unknown;
  setTask(f: Future<unknown>, task: unknown): void;
}
// Assigned in Future's static block.
export let internals: FutureInternals;

function report(e: unknown, f: Future<unknown>): void {
  const text = e instanceof Error ? (e.stack ?? String(e)) : String(e);
  process.stderr.write(`exception calling callback for ${f}\n${text}\n`);
}

/**
 * The eventual outcome of a call submitted to an executor. `await future` gives the result or
 * throws the task's error; `result(timeout)` blocks for it (also on a thread whose event loop is
 * not running).
 */
export class Future<T = unknown> implements PromiseLike<T> {
  #link: FutureLink | undefined;
  #word: Int32Array | undefined;
  #index = 0;
  #gen = 0;
  /** PENDING or RUNNING (for standalone futures), CANCELLED or FINISHED once settled here. */
  #state = PENDING;
  /** Once FINISHED: whether the call threw, and its result or error. */
  #failed = false;
  #value: unknown;
  #order = 0;
  // Made on first use (most futures never get a callback): a tiny task's future allocates no arrays.
  // biome-ignore lint/suspicious/noExplicitAny: keeps Future<T> assignable to Future<unknown>
  #callbacks: ((f: any) => void)[] | undefined;
  /** Internal listeners: none, one (no list: wait() gives each of 1e5 futures one), or a list. */
  #listeners: Listener | Listener[] | undefined;
  /** The last wait() / asCompleted() call that counted this future (see stamp()). */
  #stamp = 0;
  /**
   * The promise `then()` hands out (made on its first call), settled by #settle() itself: `await
   * future` costs the await's own hops and one reaction, no chain of promises.
   */
  #awaited: Awaited_<T> | undefined;
  /** The executor's record of the task (internal). */
  #task: unknown;

  /**
   * A pending Future. Executors make them; a standalone one is settled with `setResult()` /
   * `setException()` (Python's API for executor implementers and tests).
   */
  constructor() {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("Future", arguments.length, 0);
  }

  static {
    // A future cannot be sent to another thread (its outcome arrives in this one): a TypeError saying so.
    Object.defineProperty(Future.prototype, kStaysHome, {
      value:
        "a Future belongs to the thread that submitted its task: send its result instead, or wait for it in this thread",
    });
  }

  /** setRunningOrNotifyCancel() saw the cancel (CPython's CANCELLED_AND_NOTIFIED). */
  #cancelNotified = false;

  #settled(): boolean {
    return this.#state === FINISHED || this.#state === CANCELLED;
  }

  /** The shared state word, for futures bound to an executor (PENDING/RUNNING/...). */
  #shared(): number {
    const w = this.#word;
    if (w === undefined) return this.#state;
    const state = stateAt(w, this.#index, this.#gen);
    return state === -1 ? this.#state : state;
  }

  #settle(outcome: Outcome | undefined): boolean {
    if (outcome === undefined) return this.#finish(CANCELLED, false, undefined);
    return outcome.ok ? this.#finish(FINISHED, false, outcome.value) : this.#finish(FINISHED, true, outcome.error);
  }

  /** Settles: FINISHED with a result (`failed` false) or an error, or CANCELLED. False if settled already. */
  #finish(state: number, failed: boolean, value: unknown): boolean {
    if (this.#settled()) return false;
    this.#state = state;
    this.#failed = failed;
    this.#value = value;
    this.#order = ++settleCounter;
    this.#word = undefined;
    const listeners = this.#listeners;
    if (listeners !== undefined) {
      this.#listeners = undefined;
      if (typeof listeners === "function") listeners(this as Future<unknown>);
      else for (const l of listeners) l(this as Future<unknown>);
    }
    const callbacks = this.#callbacks;
    if (callbacks !== undefined) {
      this.#callbacks = undefined;
      for (const cb of callbacks) {
        try {
          cb(this);
        } catch (e) {
          report(e, this);
        }
      }
    }
    const awaited = this.#awaited;
    if (awaited !== undefined && awaited.resolve !== undefined) {
      if (state === CANCELLED) awaited.reject(this.#cancelledError());
      else if (failed) awaited.reject(value);
      else awaited.resolve(value);
      awaited.resolve = undefined;
    }
    return true;
  }

  #listen(fn: Listener): void {
    const l = this.#listeners;
    if (l === undefined) this.#listeners = fn;
    else if (typeof l === "function") this.#listeners = [l, fn];
    else l.push(fn);
  }

  #cancelledError(): CancelledError {
    return new CancelledError(`${this} was cancelled`);
  }

  /** Waits (blocking) until settled or the deadline; false on timeout. `what` names the call. */
  #block(deadline: number, what: string): boolean {
    return blockOn(linksOf([this as Future<unknown>]), () => this.#settled(), deadline, what);
  }

  #whenSettled(ms: number, what: string): Promise<void> {
    if (this.#settled()) return Promise.resolve();
    this.#link?.poll();
    if (this.#settled()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      // (afterMs: a timeout longer than one setTimeout takes, 24.8 days, is chained, never early)
      const cancel =
        ms === Number.POSITIVE_INFINITY
          ? undefined
          : afterMs(ms, () => reject(new TimeoutError(`${what}: timed out after ${secondsText(ms)} s`)));
      this.#listen(() => {
        cancel?.();
        resolve();
      });
    });
  }

  #outcomeValue(): T {
    if (this.#state === CANCELLED) throw this.#cancelledError();
    if (this.#failed) throw this.#value;
    return this.#value as T;
  }

  #error(): unknown {
    if (this.#state === CANCELLED) throw this.#cancelledError();
    return this.#failed ? this.#value : null;
  }

  /**
   * The call's result, waiting (blocking) at most `timeout` seconds (default forever).
   * Throws the task's error, CancelledError if cancelled, TimeoutError if the time ran out.
   */
  result(timeout?: Timeout): T {
    const deadline = deadlineOf(timeoutMs(timeout, "Future.result()"));
    if (!this.#settled() && !this.#block(deadline, "Future.result()")) {
      throw new TimeoutError(`Future.result(): timed out after ${timeoutOf(timeout, "")} s`);
    }
    return this.#outcomeValue();
  }

  /** The async twin of `result()`. */
  async resultAsync(timeout?: Timeout): Promise<T> {
    await this.#whenSettled(timeoutMs(timeout, "Future.resultAsync()"), "Future.resultAsync()");
    return this.#outcomeValue();
  }

  /**
   * The error the call threw, or null if it returned, waiting (blocking) at most `timeout`
   * seconds. CancelledError if cancelled, TimeoutError if the time ran out.
   */
  exception(timeout?: Timeout): unknown {
    const deadline = deadlineOf(timeoutMs(timeout, "Future.exception()"));
    if (!this.#settled() && !this.#block(deadline, "Future.exception()")) {
      throw new TimeoutError(`Future.exception(): timed out after ${timeoutOf(timeout, "")} s`);
    }
    return this.#error();
  }

  /** The async twin of `exception()`. */
  async exceptionAsync(timeout?: Timeout): Promise<unknown> {
    await this.#whenSettled(timeoutMs(timeout, "Future.exceptionAsync()"), "Future.exceptionAsync()");
    return this.#error();
  }

  /** True when the call finished (returned or threw) or was cancelled. */
  done(): boolean {
    if (this.#settled()) return true;
    if (this.#link !== undefined) {
      const s = this.#shared();
      if (s === FINISHED || s === CANCELLED || s === RUNNING) this.#link.poll();
    }
    return this.#settled();
  }

  /** True while the call is running in a pool thread. */
  running(): boolean {
    if (this.#settled()) return false;
    return this.#shared() === RUNNING && !this.done();
  }

  /** True if the call was cancelled. */
  cancelled(): boolean {
    return this.#state === CANCELLED;
  }

  /**
   * Cancels the call if it has not started: returns true if the future is (now) cancelled, false
   * if it is running or done.
   */
  cancel(): boolean {
    if (this.#settled()) return this.#state === CANCELLED;
    const w = this.#word;
    if (w === undefined) {
      if (this.#state === RUNNING) return false;
    } else {
      if (!cancel(w, this.#index, this.#gen)) return false;
    }
    this.#settle(undefined);
    this.#link?.cancelled(this as Future<unknown>);
    return true;
  }

  /**
   * Calls `fn(future)` when the future is done, in this thread; at once if it is done already.
   * An error thrown by `fn` is printed and ignored, as in Python.
   */
  addDoneCallback(fn: (f: Future<T>) => void): void {
    if (typeof fn !== "function") throw new TypeError("Future.addDoneCallback(): fn must be a function");
    if (this.done()) {
      try {
        fn(this);
      } catch (e) {
        report(e, this as Future<unknown>);
      }
      return;
    }
    (this.#callbacks ??= []).push(fn);
  }

  /** `await future`: the result, or the task's error (CancelledError if cancelled). */
  // A Future is deliberately thenable (PromiseLike), as API.md specifies.
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    // biome-ignore lint/suspicious/noExplicitAny: as PromiseLike's: `then(undefined, (e: Error) => ...)` compiles
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    let p = this.#awaited?.promise;
    if (p === undefined) {
      if (this.#settled()) {
        try {
          p = Promise.resolve(this.#outcomeValue());
        } catch (e) {
          p = Promise.reject(e);
        }
        this.#awaited = { promise: p, resolve: undefined, reject: () => {} };
      } else {
        const awaited = { promise: undefined, resolve: undefined, reject: undefined } as unknown as Awaited_<T>;
        p = new Promise<T>((resolve, reject) => {
          awaited.resolve = resolve as (value: unknown) => void;
          awaited.reject = reject;
        });
        awaited.promise = p;
        this.#awaited = awaited;
        // Sends buffered tasks now (this one among them); the outcome comes from the event loop.
        const link = this.#link;
        if (link !== undefined) {
          if (link.flush !== undefined) link.flush();
          else link.poll();
        }
      }
    }
    // (Never an unhandled rejection of its own: the reaction attached here handles it; the
    // caller's chain is theirs.)
    return p.then(onfulfilled, onrejected);
  }

  /** `future.catch(fn)`, as a promise's. */
  // biome-ignore lint/suspicious/noExplicitAny: as Promise's catch
  catch<R = never>(onrejected?: ((reason: any) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onrejected);
  }

  /** `future.finally(fn)`, as a promise's. */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onfinally);
  }

  // Python's API for executor implementers (and unit tests of Future itself).

  /** Marks a standalone future running; false if it was cancelled (Python's set_running_or_notify_cancel). */
  setRunningOrNotifyCancel(): boolean {
    // CPython: CANCELLED -> CANCELLED_AND_NOTIFIED (false) once; a second call is a RuntimeError.
    if (this.#state === CANCELLED && !this.#cancelNotified) {
      this.#cancelNotified = true;
      return false;
    }
    if (this.#state !== PENDING || this.#link !== undefined) {
      throw new RuntimeError(`Future in unexpected state: ${this}`);
    }
    this.#state = RUNNING;
    return true;
  }

  /** Sets the result of a standalone future. */
  setResult(value: T): void {
    if (this.#link !== undefined) throw new RuntimeError("setResult(): this future belongs to an executor");
    if (this.#settled()) throw this.#alreadySet();
    this.#settle({ ok: true, value });
  }

  /** Sets the error of a standalone future. */
  setException(error: unknown): void {
    if (this.#link !== undefined) throw new RuntimeError("setException(): this future belongs to an executor");
    if (this.#settled()) throw this.#alreadySet();
    this.#settle({ ok: false, error });
  }

  /** Python's InvalidStateError for a second outcome: its state, then the future ('FINISHED: <Future ...>'). */
  #alreadySet(): InvalidStateError {
    return new InvalidStateError(`${this.#state === CANCELLED ? "CANCELLED" : "FINISHED"}: ${this}`);
  }

  /** `<Future state=pending>`, `running`, `cancelled`, `finished returned number`, `finished raised TypeError`. */
  toString(): string {
    let state: string;
    if (this.#state === CANCELLED) state = "cancelled";
    else if (this.#state === FINISHED) {
      const v = this.#value;
      state = !this.#failed
        ? `finished returned ${v === null ? "null" : typeof v === "object" ? (v.constructor?.name ?? "object") : typeof v}`
        : `finished raised ${(v as Error)?.name ?? typeof v}`;
    } else state = this.#shared() === RUNNING ? "running" : "pending";
    return `<Future state=${state}>`;
  }

  get [Symbol.toStringTag](): string {
    return "Future";
  }

  static {
    internals = {
      bind(f, link, word, index, gen) {
        f.#link = link;
        f.#word = word;
        f.#index = index;
        f.#gen = gen;
      },
      settle: (f, outcome) => f.#settle(outcome),
      finish: (f, failed, value) => f.#finish(FINISHED, failed, value),
      order: (f) => f.#order,
      link: (f) => f.#link,
      onSettle(f, fn) {
        if (f.#settled()) fn(f);
        else f.#listen(fn);
      },
      stamp(f, stamp) {
        if (f.#stamp === stamp) return false;
        f.#stamp = stamp;
        return true;
      },
      isFailed: (f) => f.#state === FINISHED && f.#failed,
      task: (f) => f.#task,
      setTask(f, task) {
        f.#task = task;
      },
    };
  }
}

// Python's `concurrent.futures.InvalidStateError` lives in errors.ts, so that it crosses threads keeping its class.
export { InvalidStateError };

/**
 * Blocks the calling thread until `done()` is true or the deadline passes (false then). Polls the
 * executors of `fs` (sends their buffered tasks, takes posted outcomes, notices dead threads) each
 * time the doorbell rings, and at least every HEALTH_SLICE_MS.
 */
export function blockUntil(fs: Iterable<Future<unknown>>, done: () => boolean, deadline: number): boolean {
  return blockOn(linksOf(fs), done, deadline);
}

/** The executors of `fs`. */
export function linksOf(fs: Iterable<Future<unknown>>): Set<FutureLink> {
  const links = new Set<FutureLink>();
  let last: FutureLink | undefined;
  for (const f of fs) {
    const l = internals.link(f);
    if (l !== undefined && l !== last) {
      links.add(l);
      last = l;
    }
  }
  return links;
}

/**
 * blockUntil() for futures of these executors. `what` (a user's wait: "Future.result()"): with no
 * executor to wait for and no deadline, what is awaited can only be settled by this very thread
 * (standalone futures: setResult(), cancel()), which the wait blocks, so it would never end: a
 * RuntimeError saying so instead of a hang. (A pending standalone Future crosses to no other
 * thread, which in Python could settle it.)
 */
export function blockOn(links: Set<FutureLink>, done: () => boolean, deadline: number, what?: string): boolean {
  if (what !== undefined && links.size === 0 && deadline === Number.POSITIVE_INFINITY && !done()) {
    throw new RuntimeError(
      `${what} would wait for ever: it waits for a Future that no executor runs, which only this thread could ` +
        "settle (setResult, setException, cancel), and it blocks this thread. Await it (resultAsync(), " +
        "asCompletedAsync(), waitAsync()), settle it first, or give a timeout",
    );
  }
  for (;;) {
    const bell = Atomics.load(doorbell, 0);
    for (const l of links) l.poll();
    if (done()) return true;
    const left = remaining(deadline);
    if (left === 0) return false;
    Atomics.add(doorbell, SLEEPERS, 1);
    try {
      waitBlocking(doorbell, 0, bell, Math.min(left, HEALTH_SLICE_MS));
    } finally {
      Atomics.sub(doorbell, SLEEPERS, 1);
    }
  }
}

/** Rings this thread's doorbell (wakes its blocking waits). */
export function ring(bell: Int32Array): void {
  Atomics.add(bell, 0, 1);
  Atomics.notify(bell, 0);
}
