/**
 * Barrier: `parties` threads wait until all have arrived, then all go on, as Python's
 * `threading.Barrier` (and built the same way, on a Condition over a Lock).
 *
 * State: five Int32 words, an occupant table, plus the Condition, the parties, the default timeout,
 * the action and its arguments in meta (immutable).
 *   [0] STATE  0 FILLING, 1 DRAINING, -1 RESETTING, -2 BROKEN
 *   [1] COUNT  waits inside wait() (arrived and not yet left)
 *   [2] ASYNC  how many of them are waitAsync() calls
 *   [3] ACTOR  the ident of the thread running the action, 0 while none does (a blocking wait(),
 *              reset() or abort() of that thread meanwhile, which would wait for ever for the lock
 *              its action holds, is a RuntimeError)
 *   [4] DIED   why it is BROKEN after a thread died: `ident << 1 | inAction` for a dead lock holder
 *              (below), `-ident` for a wait of an ended thread swept from a FILLING round, else 0
 *   occupants (a second, growable buffer): per thread-table slot [IDENT, N, NASYNC], the ident of
 *              the slot's thread that last arrived and how many of COUNT (and of ASYNC) are its.
 *              A wait names its thread by lockOwner (shared/runtime.ts): code a thread left running
 *              after it ended arrives under that thread's slot and ident, which hold (slotHolds)
 *              while its worker runs; before, it arrived under slot -1 (no entry: its exit never
 *              counted it out, and DRAINING never ended) or as its ended thread (swept as dead).
 * All change only under the Condition's lock (nWaiting/broken read them without it, as CPython).
 * Whenever the lock is free, COUNT and ASYNC are the sums of the occupants' N and NASYNC.
 * Dead occupants: a thread can end, or be killed, with a waitAsync() pending here, or die inside a
 * blocking wait() (its worker terminated there: a thread that owns an excepthook runs it inside its
 * waits, and the hook may exceed the thread's resourceLimits), its worker exiting with it. Its arrival would count for ever: the round would
 * complete with a party that is gone and, as it never leaves, DRAINING would never end (every
 * later wait() hangs).
 * So every wait() and reset() first sweeps the table (#sweep): the waits of ended threads are taken
 * out of COUNT and ASYNC; one taken from a FILLING round breaks the barrier, as CPython's wait()
 * breaks it when a waiter is interrupted (DIED names the thread, for the BrokenBarrierError); a DRAINING or RESETTING round left empty is FILLING again.
 * While async waits are inside, waiters sleep in slices of SWEEP_MS and sweep between them, so a
 * thread that dies while the others already wait is noticed too (the first async wait to arrive
 * wakes the waiters that sleep whole, so that they sleep in slices from then on). A leaving wait whose entry was
 * swept (its thread is ended) changes nothing.
 * A round: waiters arrive while FILLING (arrivals during DRAINING/RESETTING wait for it to end);
 * the one that makes COUNT == parties runs the action, sets DRAINING and notifies all; the last to
 * leave sets FILLING again. A timeout, abort() or a failing action sets BROKEN: every waiter gets
 * BrokenBarrierError. reset() sets RESETTING (waiters get BrokenBarrierError; the last to leave
 * sets FILLING). Wake-ups are the Condition's: no lost wake-up (see condition.ts).
 * The action runs in the thread whose wait() completes the round, under the lock, before anyone
 * is released; in other threads than its creator it is the target compiled there (action.ts).
 * A thread killed while it holds the lock (out of memory or its worker terminated in the action,
 * or anywhere inside wait(), reset(), abort(); process.exit() in a timer while an async action is
 * awaited): the lock is internal, so a waiter takes it over from the dead holder (mutex.ts, "Dead
 * holders": within DEAD_CHECK_MS of sleeping on it) and #takenOver() repairs the barrier as Python
 * treats an action that raises: the Condition's lists are rebuilt (condition.ts kRepair), the dead
 * thread's waits are swept, COUNT and ASYNC are recounted from the occupant table (the dead thread
 * may have died between the two), DIED records who died and whether in the action, and the barrier
 * is BROKEN: every waiter, blocking and async, and every later wait() gets BrokenBarrierError
 * saying so, until reset(). As nobody else would wake them, waiters sleep in slices of at most
 * DEAD_SLICE_MS (SWEEP_MS while async waits are inside) and re-take the lock between them, so
 * those asleep when the holder died notice it too.
 */
import { BrokenBarrierError, RuntimeError } from "../errors.js";
import {
  call,
  checkOptions,
  deadlineOf,
  isOptions,
  remaining,
  driveAsync,
  driveBlocking,
  type Steps,
  secondsMs,
  type Timeout,
  timeoutMs,
  timeoutOf,
  checkArgCount,
} from "../shared/wait.js";
import { describe } from "../shared/waiting.js";
import { lockOwner, MAX_THREADS, slotHolds } from "../shared/runtime.js";
import { kAcquireAsyncNow, kOnDeadHolder } from "./owned.js";
import { describeTarget, type ModuleTarget, type TargetSpec } from "../transport/target.js";
import { encode } from "../transport/encode.js";
import { adoptedRecord, kShare, newObjectId, registerKind, revive, type ShareRecord } from "../transport/shareable.js";
import { Action } from "./action.js";
import { Condition, kRepair, kWaitForSteps, kWaitSteps } from "./condition.js";
import { Lock } from "./lock.js";

const STATE = 0;
const COUNT = 1;
const ASYNC = 2;
const ACTOR = 3;
const DIED = 4;
const WORDS = 5;
/** Occupant table: ints per thread-table slot, and their meaning. */
const OCC_INTS = 3;
const O_IDENT = 0;
const O_N = 1;
const O_ASYNC = 2;
/** Slots the occupant table holds at first (it doubles as higher slots arrive, up to MAX_THREADS). */
const OCC_INITIAL = 16;
/** While async waits are inside, waiters re-check for dead ones this often (ms). */
const SWEEP_MS = 100;
/** Waiters re-take the lock at least this often (ms), to notice a holder that died (file comment). */
const DEAD_SLICE_MS = 1000;
const FILLING = 0;
const DRAINING = 1;
const RESETTING = -1;
const BROKEN = -2;

interface BarrierMeta {
  cond: Condition;
  parties: number;
  timeout: number | null;
  action: TargetSpec | null;
  actionArgs: unknown[];
}

/** Python's keyword arguments of `Barrier(parties, action=None, timeout=None)`: `new Barrier(3, { timeout: 5 })`. */
export interface BarrierOptions<A extends unknown[]> {
  /** Called once per round by the thread that completes it, before anyone is released. */
  action?: ((...args: A) => unknown) | ModuleTarget | null | undefined;
  /** The default timeout of wait(), in seconds. */
  timeout?: number | null | undefined;
  /** The arguments of every round's action. */
  actionArgs?: A | undefined;
}

/** @internal Test hooks (this thread): `at(point)` runs with the barrier's lock held at named points. */
export const barrierHooks: { at?: (point: "arrive" | "exit" | "reset") => void } = {};

/**
 * A barrier for a fixed number of threads, as Python's `threading.Barrier`. Shared by every
 * thread it is passed to. `wait()` returns each thread's index in the round, 0..parties-1.
 */
// biome-ignore lint/suspicious/noExplicitAny: the default lets instances of any function share one type, as Thread
export class Barrier<A extends unknown[] = any[]> {
  readonly #w: Int32Array;
  /** The occupant table (length-tracking view of a growable buffer). */
  readonly #occ: Int32Array;
  readonly #id: number;
  readonly #cond: Condition;
  readonly #parties: number;
  /** The default timeout in seconds, null = forever. */
  readonly #timeout: number | null;
  readonly #action: Action | null;
  readonly #actionArgs: unknown[];

  /**
   * `parties`: how many threads each round needs. `action`: a function (sent to other threads as
   * source) or `{ module, export }`, called with `actionArgs` by one thread per round before the
   * round is released. `timeout`: the default for wait(), in seconds.
   * TypeError when `actionArgs` cannot cross threads.
   */
  constructor(
    parties: number,
    options: BarrierOptions<A> & { action?: (() => unknown) | ModuleTarget | null | undefined },
  );
  /** An action that needs arguments: `actionArgs` must be given and fit its parameters. */
  constructor(parties: number, options: BarrierOptions<A> & { action: (...args: A) => unknown; actionArgs: A });
  /** An action that takes no arguments (or only optional ones), `{ module, export }` or none: `actionArgs` may be left out. */
  constructor(
    parties: number,
    action?: (((...args: A) => unknown) & (() => unknown)) | ModuleTarget | null,
    timeout?: number | null,
    actionArgs?: A,
  );
  /** An action that needs arguments: `actionArgs` must be given and fit its parameters. */
  constructor(parties: number, action: (...args: A) => unknown, timeout: number | null | undefined, actionArgs: A);
  constructor(
    parties: number,
    action?: ((...args: A) => unknown) | ModuleTarget | BarrierOptions<A> | null,
    timeout?: number | null,
    actionArgs?: A,
  ) {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("Barrier", arguments.length, 4);
    // Python's keywords, Barrier(3, timeout=5), as one options object (a module target has `module`).
    if (isOptions(action) && !("module" in action)) {
      if (timeout !== undefined || actionArgs !== undefined) {
        throw new TypeError(
          "Barrier: give action, timeout and actionArgs either as arguments or in one options object",
        );
      }
      checkOptions(action, ["action", "timeout", "actionArgs"], "Barrier");
      const options = action as BarrierOptions<A>;
      ({ timeout, actionArgs } = options);
      action = options.action;
    }
    const record = adoptedRecord();
    if (record) {
      const meta = record.meta as BarrierMeta;
      this.#w = new Int32Array(record.buffers[0] as SharedArrayBuffer);
      this.#occ = new Int32Array(record.buffers[1] as SharedArrayBuffer);
      this.#id = record.id;
      this.#cond = meta.cond;
      this.#parties = meta.parties;
      this.#timeout = meta.timeout;
      this.#action = meta.action ? new Action(meta.action) : null;
      this.#actionArgs = meta.actionArgs;
      describe(this.#cond[kShare]().buffers[0] as SharedArrayBuffer, "Barrier", this.#id);
      this.#internalLock((this.#cond[kShare]().meta as { lock: Lock }).lock);
      return;
    }
    // (Python's words, as Timer's; a Barrier rebuilt in a thread, above, is made without arguments)
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as above
    if (arguments.length === 0) throw new TypeError("Barrier() missing 1 required argument: 'parties'");
    if (typeof parties !== "number")
      throw new TypeError(`Barrier: parties must be a number, not ${parties === null ? "null" : typeof parties}`);
    if (!Number.isInteger(parties) || parties < 1)
      throw new RangeError(`Barrier: parties must be an integer > 0, not ${parties}`);
    secondsMs(timeout, "Barrier()");
    if (actionArgs === undefined || actionArgs === null) actionArgs = [] as unknown as A;
    if (!Array.isArray(actionArgs)) throw new TypeError("Barrier: actionArgs must be an array");
    encode(actionArgs, "Barrier(): actionArgs");
    this.#parties = parties;
    this.#timeout = timeout === undefined || timeout === Number.POSITIVE_INFINITY ? null : timeout;
    this.#actionArgs = actionArgs;
    this.#action =
      action === undefined || action === null
        ? null
        : new Action(
            describeTarget(action, "Barrier action"),
            typeof action === "function" ? (action as (...a: unknown[]) => unknown) : undefined,
          );
    this.#w = new Int32Array(new SharedArrayBuffer(WORDS * 4));
    this.#occ = new Int32Array(
      new SharedArrayBuffer(OCC_INITIAL * OCC_INTS * 4, { maxByteLength: MAX_THREADS * OCC_INTS * 4 }),
    );
    this.#id = newObjectId();
    const lock = new Lock();
    this.#cond = new Condition(lock);
    describe(this.#cond[kShare]().buffers[0] as SharedArrayBuffer, "Barrier", this.#id);
    this.#internalLock(lock);
  }

  /** The Condition's lock is this barrier's own: a waiter takes it over from a dead holder (file comment). */
  #internalLock(lock: Lock): void {
    lock[kOnDeadHolder]((dead) => this.#takenOver(dead));
  }

  /**
   * The lock was taken over from `dead`, a thread that died holding it (lock held; file comment):
   * repair the Condition, sweep and recount, record why, and break the barrier.
   */
  #takenOver(dead: number): void {
    const w = this.#w;
    const o = this.#occ;
    this.#cond[kRepair]();
    const inAction = w[ACTOR] === dead ? 1 : 0;
    Atomics.store(w, ACTOR, 0);
    let count = 0;
    let nAsync = 0;
    for (let slot = 0, b = 0; b < o.length; slot++, b += OCC_INTS) {
      if (o[b + O_N] === 0) continue;
      if (!slotHolds(slot, o[b + O_IDENT] as number)) {
        o[b + O_N] = 0;
        o[b + O_ASYNC] = 0;
        continue;
      }
      count += o[b + O_N] as number;
      nAsync += o[b + O_ASYNC] as number;
    }
    Atomics.store(w, COUNT, count);
    Atomics.store(w, ASYNC, nAsync);
    Atomics.store(w, DIED, (dead << 1) | inAction);
    this.#break();
  }

  /** BrokenBarrierError, saying why when a thread died holding the lock or waiting (DIED). */
  #broken(): BrokenBarrierError {
    const died = Atomics.load(this.#w, DIED);
    if (died === 0) return broken();
    if (died < 0) {
      return broken(
        `the barrier is broken: thread ${-died} ended while it waited at the barrier (a waitAsync() left ` +
          "pending when it ended, or killed), so the round cannot complete",
      );
    }
    const where = (died & 1) === 1 ? "running the barrier's action" : "inside a call of this barrier, holding its lock";
    return broken(
      `the barrier is broken: thread ${died >>> 1} died ${where} (killed: out of memory, or its worker ended)`,
    );
  }

  #ms(timeout: Timeout | undefined, what: string): number {
    return timeoutMs(timeoutOf(timeout, what) ?? this.#timeout, what);
  }

  /**
   * Waits until `parties` threads have called wait() (at most `timeout` seconds; default: the
   * barrier's timeout), then returns this thread's index, 0..parties-1. BrokenBarrierError when
   * the barrier is or becomes broken, is reset, or the wait times out (which breaks it).
   */
  wait(timeout?: Timeout): number {
    this.#notInAction("Barrier.wait()");
    return driveBlocking(this.#wait(this.#ms(timeout, "Barrier.wait()"), 0));
  }

  /** The async twin of `wait()`; an action that returns a promise is awaited before the round is released. */
  async waitAsync(timeout?: Timeout): Promise<number> {
    return driveAsync(this.#wait(this.#ms(timeout, "Barrier.waitAsync()"), 1));
  }

  /**
   * The steps of wait() and waitAsync() (shared/wait.ts drives them), as CPython's: under the
   * Condition's lock, wait out a draining or resetting round, arrive, and either complete the
   * round (run the action, release everyone) or wait for it. Where the two forms differ, both are
   * named: the lock is taken async synchronously when free (as Semaphore.acquireAsync: an await
   * would hold it until this thread's next microtask checkpoint, and the caller may block before
   * it, e.g. in abort(); kAcquireAsyncNow also answers so when the lock freed up just as it
   * looked); the action is called blocking as compiled here (action.ts), async once its import is
   * ready, and its promise awaited.
   */
  *#wait(ms: number, isAsync: 0 | 1): Steps<number> {
    const cond = this.#cond;
    const w = this.#w;
    yield* call(
      () => cond.acquire(),
      () => cond[kAcquireAsyncNow](Number.POSITIVE_INFINITY),
    );
    try {
      this.#sweep();
      while (w[STATE] === RESETTING || w[STATE] === DRAINING) {
        // (the Condition's steps, driven by this wait's driver: see kWaitSteps)
        yield* cond[kWaitSteps]((w[ASYNC] as number) > 0 ? SWEEP_MS : DEAD_SLICE_MS, isAsync);
        this.#sweep();
      }
      if ((w[STATE] as number) < 0) throw this.#broken();
      const index = w[COUNT] as number;
      Atomics.store(w, COUNT, index + 1);
      barrierHooks.at?.("arrive");
      this.#arrive(isAsync);
      try {
        if (index + 1 === this.#parties) {
          try {
            const action = this.#action;
            const args = this.#actionArgs;
            if (action) {
              Atomics.store(w, ACTOR, lockOwner.ident);
              yield* call(
                () => action.callNow(args),
                async () => (await action.ready())(...args),
              );
            }
          } catch (e) {
            this.#break();
            throw e;
          } finally {
            Atomics.store(w, ACTOR, 0);
          }
          this.#release();
        } else {
          const round = () => w[STATE] !== FILLING;
          // As CPython's _wait(timeout): the timeout counts from the arrival (the wait for the
          // lock and for a draining round before it are not taken from it).
          const deadline = deadlineOf(ms);
          let done = false;
          for (;;) {
            const left = remaining(deadline);
            // No async wait inside: sleep in slices of DEAD_SLICE_MS, but wake when one arrives
            // (#arrive notifies) to sleep in slices of SWEEP_MS from then on, so that its thread's
            // end is noticed.
            const watch = (w[ASYNC] as number) === 0;
            const slice = Math.min(left, watch ? DEAD_SLICE_MS : SWEEP_MS);
            const until = watch ? () => round() || (w[ASYNC] as number) > 0 : round;
            const woke = yield* cond[kWaitForSteps](until, slice, isAsync);
            done = round();
            if (done || (!woke && slice === left)) break;
            this.#sweep();
          }
          this.#checkRound(done);
        }
        return index;
      } finally {
        this.#exit(isAsync);
      }
    } finally {
      cond.release();
    }
  }

  /**
   * A blocking call by the thread whose action is running (ACTOR): the action holds the lock until
   * it returns, or until its promise settles while that thread's other code runs (a timer, a
   * listener), so the call would wait for ever for its own thread: RuntimeError instead (CPython
   * deadlocks when an action calls its barrier's wait(), reset() or abort()).
   */
  #notInAction(what: string): void {
    const me = lockOwner.ident;
    if (me === 0 || Atomics.load(this.#w, ACTOR) !== me) return;
    throw new RuntimeError(
      `${what}: this thread is running the barrier's action, which holds the barrier's lock until it ` +
        "returns (or its promise settles): the call would wait for ever for its own thread",
    );
  }

  /** The round is complete: let everyone go. */
  #release(): void {
    Atomics.store(this.#w, STATE, DRAINING);
    this.#cond.notifyAll();
  }

  /** After waiting for the round (lock held): BrokenBarrierError unless it completed. */
  #checkRound(done: boolean): void {
    if (!done) {
      this.#break();
      throw broken("the wait timed out");
    }
    if ((this.#w[STATE] as number) < 0) throw this.#broken();
  }

  /** Arriving in wait() (lock held, counted in COUNT): records the wait in the occupant table. */
  #arrive(isAsync: 0 | 1): void {
    const w = this.#w;
    const need = (lockOwner.slot + 1) * OCC_INTS;
    if (this.#occ.length < need) {
      const sab = this.#occ.buffer as SharedArrayBuffer;
      sab.grow(Math.min(MAX_THREADS * OCC_INTS * 4, Math.max(need * 4, sab.byteLength * 2)));
    }
    const o = this.#occ;
    const b = lockOwner.slot * OCC_INTS;
    // #sweep() has emptied the entry of an ended thread that had this slot before.
    if (o[b + O_N] === 0) o[b + O_IDENT] = lockOwner.ident;
    o[b + O_N] = (o[b + O_N] as number) + 1;
    o[b + O_ASYNC] = (o[b + O_ASYNC] as number) + isAsync;
    const before = w[ASYNC] as number;
    Atomics.store(w, ASYNC, before + isAsync);
    // The first async wait inside: waiters asleep for their whole timeout wake to sleep in slices.
    if (isAsync === 1 && before === 0) this.#cond.notifyAll();
  }

  /**
   * Takes the waits of ended threads out of COUNT and ASYNC (lock held); see the header. Breaks a
   * FILLING round that lost one; refills a DRAINING or RESETTING round left empty.
   */
  #sweep(): void {
    const o = this.#occ;
    const w = this.#w;
    let dead = 0;
    let deadAsync = 0;
    let who = 0;
    for (let slot = 0, b = 0; b < o.length; slot++, b += OCC_INTS) {
      const n = o[b + O_N] as number;
      if (n === 0 || slotHolds(slot, o[b + O_IDENT] as number)) continue;
      who ||= o[b + O_IDENT] as number;
      dead += n;
      deadAsync += o[b + O_ASYNC] as number;
      o[b + O_N] = 0;
      o[b + O_ASYNC] = 0;
    }
    if (dead === 0) return;
    const count = (w[COUNT] as number) - dead;
    Atomics.store(w, COUNT, count);
    Atomics.store(w, ASYNC, (w[ASYNC] as number) - deadAsync);
    if (w[STATE] === FILLING) {
      Atomics.store(w, DIED, -who);
      this.#break();
    } else if (count === 0 && (w[STATE] === RESETTING || w[STATE] === DRAINING)) {
      Atomics.store(w, STATE, FILLING);
      this.#cond.notifyAll();
    }
  }

  /** Leaving wait() (lock held): the last one out of a draining or resetting round refills it. */
  #exit(isAsync: 0 | 1): void {
    const w = this.#w;
    const o = this.#occ;
    const b = lockOwner.slot * OCC_INTS;
    // Swept already (its worker has exited under it, and its wait is resumed only as it goes): counted out.
    if (o[b + O_IDENT] !== lockOwner.ident || (o[b + O_N] as number) === 0) return;
    o[b + O_N] = (o[b + O_N] as number) - 1;
    o[b + O_ASYNC] = (o[b + O_ASYNC] as number) - isAsync;
    Atomics.store(w, ASYNC, (w[ASYNC] as number) - isAsync);
    const count = (w[COUNT] as number) - 1;
    Atomics.store(w, COUNT, count);
    barrierHooks.at?.("exit");
    if (count === 0 && (w[STATE] === RESETTING || w[STATE] === DRAINING)) {
      Atomics.store(w, STATE, FILLING);
      this.#cond.notifyAll();
    }
  }

  #break(): void {
    Atomics.store(this.#w, STATE, BROKEN);
    this.#cond.notifyAll();
  }

  /**
   * Returns the barrier to its initial, empty state. Threads waiting on it get BrokenBarrierError.
   */
  reset(): void {
    this.#notInAction("Barrier.reset()");
    const w = this.#w;
    using _ = this.#cond.hold();
    this.#sweep();
    Atomics.store(w, DIED, 0);
    if ((w[COUNT] as number) > 0) {
      if (w[STATE] === FILLING || w[STATE] === BROKEN) Atomics.store(w, STATE, RESETTING);
    } else {
      Atomics.store(w, STATE, FILLING);
    }
    barrierHooks.at?.("reset");
    this.#cond.notifyAll();
  }

  /** Puts the barrier in the broken state: current and future wait() calls throw BrokenBarrierError. */
  abort(): void {
    this.#notInAction("Barrier.abort()");
    using _ = this.#cond.hold();
    Atomics.store(this.#w, DIED, 0);
    this.#break();
  }

  /** How many threads each round needs. */
  get parties(): number {
    return this.#parties;
  }

  /** How many threads are waiting in the current round. */
  get nWaiting(): number {
    return Atomics.load(this.#w, STATE) === FILLING ? Atomics.load(this.#w, COUNT) : 0;
  }

  /** True when the barrier is broken (reset() repairs it). */
  get broken(): boolean {
    return Atomics.load(this.#w, STATE) === BROKEN;
  }

  /** @internal */
  [kShare](): ShareRecord {
    const meta: BarrierMeta = {
      cond: this.#cond,
      parties: this.#parties,
      timeout: this.#timeout,
      action: this.#action?.spec ?? null,
      actionArgs: this.#actionArgs,
    };
    return {
      kind: "Barrier",
      id: this.#id,
      buffers: [this.#w.buffer as SharedArrayBuffer, this.#occ.buffer as SharedArrayBuffer],
      meta,
    };
  }

  get [Symbol.toStringTag](): string {
    return this.broken ? "Barrier broken" : `Barrier waiters=${this.nWaiting}/${this.#parties}`;
  }

  static {
    registerKind("Barrier", (record) => revive(Barrier as unknown as new () => Barrier, record));
  }
}

function broken(why = "the barrier is broken"): BrokenBarrierError {
  return new BrokenBarrierError(`Barrier: ${why}`);
}
