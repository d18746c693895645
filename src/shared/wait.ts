/**
 * Timeouts in seconds, and the two ways of waiting on a shared 32-bit word: blocking the calling
 * thread (`Atomics.wait`) or a Promise that never blocks the event loop (`Atomics.waitAsync`).
 *
 * Every wait in the library goes through here, so that
 *  - timeouts are validated once, the Python way (seconds, `undefined`/`null`/Infinity = forever,
 *    negative or NaN = RangeError),
 *  - a pending async wait keeps the process alive, as a pending timer does (`Atomics.waitAsync`
 *    alone does not), and
 *  - blocking waits in a thread give that thread's pending duties (e.g. running the excepthook it
 *    owns) a turn before they sleep, and
 *  - a wait that really sleeps publishes what it waits on for the hang report (waiting.ts; only
 *    here, after the callers' fast paths and spins), and
 *  - every slow path is one generator of steps run by two drivers, blocking and async (below,
 *    "One wait protocol, two drivers").
 */
import {
  beginAsync,
  beginBlocking,
  describe,
  endAsync,
  endBlocking,
  refreshOwner,
  type WaitRecord,
} from "./waiting.js";

/** The largest timeout accepted, in seconds (as CPython's on Linux). */
export const TIMEOUT_MAX = 9223372036.854776;

/** Python's `timeout=` keyword as an options object: `event.wait({ timeout: 0.5 })`. */
export interface TimeoutOptions {
  /** Seconds (fractions allowed); `undefined`, `null` or `Infinity` = forever. */
  timeout?: number | null | undefined;
}

/**
 * A timeout in seconds as every waiting call takes it: a number (`undefined`, `null` or `Infinity`
 * = forever), or Python's keyword as an options object, `{ timeout: 0.5 }`.
 */
export type Timeout = number | null | TimeoutOptions;

/** Python's `acquire(blocking=True, timeout=-1)` keywords: `lock.acquire({ timeout: 0.5 })`. */
export interface AcquireOptions {
  /** Default true; false: take it only if free now (no timeout then). */
  blocking?: boolean | undefined;
  /** Seconds; -1, `undefined`, `null` or `Infinity` = forever (-1 for locks only, as in Python). */
  timeout?: number | null | undefined;
}

/** Python's `put(item, block=True, timeout=None)` / `get(block=True, timeout=None)` keywords: `q.get({ timeout: 0.5 })`. */
export interface BlockOptions {
  /** Default true; false: do not wait (`Empty` / `Full` at once, and the timeout is ignored, as in Python). */
  block?: boolean | undefined;
  /** Seconds; `undefined`, `null` or `Infinity` = forever. */
  timeout?: number | null | undefined;
}

/** True for a plain `{ ... }` object (an options object), not an array, a class instance or null. */
export function isOptions(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** TypeError for an options key that is not one of `allowed` (Python's "unexpected keyword argument"). */
export function checkOptions(options: object, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(
        `${what}: unexpected option '${key}' (the options are ${allowed.map((k) => `'${k}'`).join(" and ")})`,
      );
    }
  }
}

/**
 * TypeError for a constructor given more arguments than Python's takes (`new Lock(5)`, `new Event(1)`):
 * Python's "takes no arguments (1 given)", where JavaScript would drop them unseen. `given` is the
 * call's `arguments.length`.
 */
export function checkArgCount(what: string, given: number, max: number): void {
  if (given <= max) return;
  const takes = max === 0 ? "takes no arguments" : `takes at most ${max} argument${max === 1 ? "" : "s"}`;
  throw new TypeError(`${what}() ${takes} (${given} given)`);
}

/** The timeout a waiting call was given: `value` itself, or its `timeout` when it is `{ timeout }`. */
export function timeoutOf(value: unknown, what: string): unknown {
  if (!isOptions(value)) return value;
  checkOptions(value, ["timeout"], what);
  return value.timeout;
}

/** A short description of a wrong argument for an error message: `number 0.5`, `string "x"`, `object`. */
function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean")
    return `${typeof value} ${String(value)}`;
  if (typeof value === "string")
    return `string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  return Array.isArray(value) ? "an array" : typeof value;
}

/**
 * Python's `(block, timeout)` / `(blocking, timeout)` keywords, given as two arguments or as one
 * options object `{ block, timeout }` (key `name`); returns them as `[block, timeout]`, `block`
 * checked to be a boolean (default true). The timeout is not validated here.
 */
export function blockArgs(
  what: string,
  name: "block" | "blocking",
  block: unknown,
  timeout: unknown,
  timeoutDefault: unknown = undefined,
): [boolean, unknown] {
  if (isOptions(block)) {
    if (timeout !== timeoutDefault) {
      throw new TypeError(`${what}: give ${name} and timeout either as arguments or in one options object, not both`);
    }
    checkOptions(block, [name, "timeout"], what);
    timeout = block.timeout;
    block = block[name] ?? true;
  } else if (block === undefined) block = true;
  if (typeof block !== "boolean") {
    const hint = typeof block === "number" ? ` (a timeout goes second, or as { timeout: ${block} })` : "";
    throw new TypeError(`${what}: ${name} must be a boolean, not ${describeValue(block)}${hint}`);
  }
  return [block, timeout];
}

/**
 * A timeout of `ms` milliseconds as the seconds a caller gave, for messages: `0.01`, not the
 * `0.010000000000000002` that seconds -> ms -> seconds makes of it in floating point.
 */
export function secondsText(ms: number): string {
  return String(Number((ms / 1000).toPrecision(12)));
}

/**
 * Validates the timeout of a waiting call (a number of seconds, or `{ timeout }`) and returns it in
 * milliseconds (Infinity = forever). `minusOneForever` accepts -1 as "forever", as `Lock.acquire`
 * does in Python.
 */
export function timeoutMs(seconds: unknown, what: string, minusOneForever = false): number {
  if (seconds === undefined || seconds === null) return Number.POSITIVE_INFINITY;
  if (typeof seconds === "object") seconds = timeoutOf(seconds, what);
  return secondsMs(seconds, what, minusOneForever);
}

/**
 * Validates a number of seconds (no options object: a duration such as `sleep()`'s or an option's
 * value) and returns it in milliseconds (Infinity = forever). `minusOneForever` as timeoutMs.
 */
export function secondsMs(seconds: unknown, what: string, minusOneForever = false): number {
  if (seconds === undefined || seconds === null) return Number.POSITIVE_INFINITY;
  if (typeof seconds !== "number") {
    const [where, name] = named(what);
    throw new TypeError(`${where}: ${name} must be a number of seconds, not ${typeof seconds}`);
  }
  if (seconds === Number.POSITIVE_INFINITY) return seconds;
  if (minusOneForever && seconds === -1) return Number.POSITIVE_INFINITY;
  // (Python's words: "Invalid value NaN (not a number)", ValueError)
  if (Number.isNaN(seconds)) {
    const [where, name] = named(what);
    throw new RangeError(`${where}: Invalid value NaN (not a number) for the ${name}`);
  }
  if (seconds < 0) {
    // Python's words: queue's "'timeout' must be a non-negative number" (ValueError).
    const [where, name] = named(what);
    throw new RangeError(
      `${where}: '${name}' must be a non-negative number of seconds${minusOneForever ? " (or -1 for no timeout)" : ""}, not ${seconds}`,
    );
  }
  if (seconds > TIMEOUT_MAX) {
    const [where, name] = named(what);
    throw new RangeError(`${where}: ${name} too large (at most TIMEOUT_MAX = ${TIMEOUT_MAX})`);
  }
  return seconds * 1000;
}

/**
 * Where an error of secondsMs() happened and the argument it names, from `what`: an option
 * ("ThreadPoolExecutor: idleTimeout") is the call and the option, said once; a named argument
 * ("Timer(interval)") is itself and that name; else `what` and "timeout". Only on the error paths.
 */
function named(what: string): [where: string, name: string] {
  const option = /^(.*): (\w+)$/.exec(what);
  if (option) return [option[1] as string, option[2] as string];
  return [what, /\((\w+)\)$/.exec(what)?.[1] ?? "timeout"];
}

/** The absolute time (performance.now() ms) a wait of `ms` ends at. */
export function deadlineOf(ms: number): number {
  return ms === Number.POSITIVE_INFINITY ? ms : performance.now() + ms;
}

/** Milliseconds left until `deadline` (never negative). */
export function remaining(deadline: number): number {
  if (deadline === Number.POSITIVE_INFINITY) return deadline;
  return Math.max(0, deadline - performance.now());
}

/** What a wait on a word ends with (Atomics.wait's answers). */
export type WaitResult = "ok" | "not-equal" | "timed-out";

const duties: (() => void)[] = [];

/** Registers work a thread must do whenever it is about to block (e.g. deliver excepthook calls). */
export function addBlockingDuty(duty: () => void): void {
  if (!duties.includes(duty)) duties.push(duty);
}

/** Unregisters a duty (its thread has ended: a reused worker's next thread has none, see thread-reset.ts). */
export function removeBlockingDuty(duty: () => void): void {
  const i = duties.indexOf(duty);
  if (i >= 0) duties.splice(i, 1);
}

/** How deep this thread is in runDuties() (a duty's user code may block, and do duties again). */
let inDuties = 0;

/**
 * Runs the pending duties of this thread (see addBlockingDuty). Over a copy of the list: a duty
 * that removes itself (hub-client.ts) must not make the loop skip the duty after it (an excepthook
 * delivery skipped so would let join() return before the hook ran for the joined thread).
 */
export function runDuties(): void {
  if (duties.length === 0) return;
  inDuties++;
  try {
    for (const duty of duties.slice()) duty();
  } finally {
    inDuties--;
  }
}

/**
 * Runs `userCode`, the user code a duty runs (an excepthook: threads/excepthook.ts), with this
 * thread's waits set aside (guardDuties) when it runs inside a blocking wait's duties: user code
 * there runs inside the wait of an operation that has already encoded its key and staged its value
 * in this thread's scratch (a SharedDict.set waiting for an entry's lock), and a set of another
 * dict in it overwrote them, so the waiting set stored the hook's value, or under the hook's key.
 * Only around user code, not around every runDuties() (at the start of each sleep of a thread with
 * duties): a waiter's standing (a Lock's hand-off request, a queue waiter's turn) set aside there
 * left a window at every sleep in which a release or a put passed it over for a later waiter.
 */
export function setAsideWaits<T>(userCode: () => T): T {
  if (inDuties === 0 || dutyGuards.length === 0) return userCode();
  const restores = dutyGuards.map((setAside) => setAside());
  try {
    return userCode();
  } finally {
    for (let i = restores.length - 1; i >= 0; i--) (restores[i] as () => void)();
  }
}

/** See guardDuties(). */
const dutyGuards: (() => () => void)[] = [];

/**
 * Registers `setAside`, called before a duty's user code runs inside a blocking wait
 * (setAsideWaits): it gives that code a scratch of its own in place of this thread's
 * (state/record.ts, state/key.ts), or sets aside what this thread's wait holds (sync/mutex.ts,
 * queue/engine.ts), and returns what puts this thread's back once it is done.
 */
export function guardDuties(setAside: () => () => void): void {
  dutyGuards.push(setAside);
}

let sleepHook: (() => void) | undefined;

/** Registers what a thread must do right before any wait of the library puts it to sleep (sync/mutex.ts). */
export function beforeSleep(hook: () => void): void {
  sleepHook = hook;
}

/** How often a thread with duties wakes from a long blocking wait to do them (ms). */
const DUTY_SLICE_MS = 50;

/**
 * The longest blocking sleep this thread takes in one piece (ms): DUTY_SLICE_MS while it has duties,
 * else Infinity. A waiter that keeps a place of its own (queue/engine.ts, "Turns") sleeps at most
 * that long per sleep, so that it, not waitBlocking(), sleeps again after each slice and knows it.
 */
export function sliceMs(): number {
  return duties.length > 0 ? DUTY_SLICE_MS : Number.POSITIVE_INFINITY;
}

/**
 * Blocks until `i32[index]` is notified, or is found not to equal `expected`, or `ms` pass.
 * May return early ("ok") on a spurious wake: callers re-check their condition. A thread with
 * duties (see addBlockingDuty) sleeps in slices and does them in between, so e.g. an excepthook
 * it owns runs while it is blocked. `sleepers` (a word of `i32`, or -1): the sleeper counts itself
 * there before it sleeps, and uncounts itself unless it was woken by a notify ("ok": its waker
 * uncounted it; SleepHow below).
 */
export function waitBlocking(i32: Int32Array, index: number, expected: number, ms: number, sleepers = -1): WaitResult {
  // (one frame from the sleep to the steps that asked for it: what runs after a wake-up runs in
  // a thread whose caches went cold while it slept, and every call there costs; docs/benchmarks.md,
  // the hand-off to a blocked get())
  if (sleepers >= 0) Atomics.add(i32, sleepers, 1);
  let r: WaitResult | undefined;
  let prev: WaitRecord | undefined;
  let begun = false;
  try {
    sleepHook?.();
    prev = beginBlocking(i32, index);
    begun = true;
    // No slices without duties: a waiter that wakes on a timeout and sleeps again goes to the back
    // of the runtime's line of waiters on the word (V8 keeps one FIFO list per address), and would
    // lose its turn to the ones that came after it (API.md: waiters are woken in arrival order).
    if (duties.length === 0) r = Atomics.wait(i32, index, expected, ms);
    else r = waitSliced(i32, index, expected, ms);
  } finally {
    if (sleepers >= 0 && r !== "ok") Atomics.sub(i32, sleepers, 1);
    if (begun) endBlocking(prev);
  }
  return r;
}

/** waitBlocking() in a thread with duties: sleeps in slices of DUTY_SLICE_MS and does them in between. */
function waitSliced(i32: Int32Array, index: number, expected: number, ms: number): WaitResult {
  runDuties();
  const slice = duties.length > 0 ? DUTY_SLICE_MS : Number.POSITIVE_INFINITY;
  const deadline = deadlineOf(ms);
  for (;;) {
    const left = remaining(deadline);
    const r = Atomics.wait(i32, index, expected, Math.min(left, slice));
    if (r !== "timed-out" || left <= slice) return r;
    runDuties();
    refreshOwner();
  }
}

/**
 * Atomics.waitAsync as the runtime has it, taken before a thread worker wraps the global to count
 * its threads' own calls (threads/reuse.ts): the library's waits are counted here instead.
 */
export const atomicsWaitAsync = Atomics.waitAsync;

let pendingAsync = 0;
let keepAlive: ReturnType<typeof setInterval> | undefined;

/**
 * How many async waits of this thread are pending. A thread that ends with one pending leaves a
 * promise that would settle in the worker's next thread: such a worker is not reused (threads/reuse.ts).
 */
export function pendingAsyncWaits(): number {
  return pendingAsync;
}

/** The async twin of waitBlocking(): keeps the process alive while it is pending. */
export async function waitAsync(i32: Int32Array, index: number, expected: number, ms: number): Promise<WaitResult> {
  sleepHook?.();
  const r = atomicsWaitAsync(i32, index, expected, ms);
  if (!r.async) return r.value;
  const seen = beginAsync(i32, index);
  if (pendingAsync++ === 0) keepAlive = setInterval(() => {}, 2 ** 30);
  try {
    return await r.value;
  } finally {
    if (--pendingAsync === 0) clearInterval(keepAlive);
    endAsync(seen);
  }
}

/** True once `deadline` (performance.now() ms) has passed; never for Infinity. */
export function expired(deadline: number): boolean {
  return remaining(deadline) === 0;
}

/**
 * Whether a spin before a sleep is worth it, learnt from the last ones (parking_lot's adaptive
 * spinning, by counts): a spin that saw nothing makes the next 1, 2, 4 ... 64 chances sleep at
 * once; one that saw its word change resets that. Bounded waste where nothing comes soon (a spin
 * in 64 sleeps), no wake-up where something does. (A spin that saw its change late, descheduled,
 * still counts as one that saw it: counting it as one that saw nothing made start() slower on a
 * quiet 2-vCPU machine, where the woken worker often takes the starter's core until it sleeps
 * again, and a start that then sleeps at once pays its own wake-up too.)
 */
export class SpinBackoff {
  #skips = 0;
  #next = 1;
  /** Whether to spin this time (a skipped chance counts down). */
  shouldSpin(): boolean {
    if (this.#skips === 0) return true;
    this.#skips--;
    return false;
  }
  /** The outcome of a spin shouldSpin() allowed: whether it saw what it watched for. */
  spun(caught: boolean): void {
    if (caught) this.#next = 1;
    else {
      this.#skips = this.#next;
      this.#next = Math.min(64, this.#next * 2);
    }
  }
}

/**
 * The one spin: watches `w[i]` while it equals `value`, at most `ms` and at most `tries` loads;
 * returns whether it changed. A thread about to sleep watches the word first: a futex sleep and
 * wake costs about 10 µs at best and several times that on a busy machine, while a lock holder or
 * a notifier usually answers within a few µs; the spin is bounded, so a long wait still sleeps.
 */
export function spinWhile(
  w: Int32Array,
  i: number,
  value: number,
  ms: number,
  tries = Number.POSITIVE_INFINITY,
): boolean {
  if (ms <= 0 || tries <= 0) return Atomics.load(w, i) !== value;
  const until = ms === Number.POSITIVE_INFINITY ? ms : performance.now() + ms;
  for (let n = 1; ; n++) {
    if (Atomics.load(w, i) !== value) return true;
    if (n >= tries) return false;
    if ((n & 31) === 0 && until !== Number.POSITIVE_INFINITY && performance.now() >= until) return false;
  }
}

/*
 * One wait protocol, two drivers (issue 12; parking_lot's park() and Rust std's futex primitives
 * are the models). A slow path is written once, as a generator of steps (Steps<T>) that runs
 * synchronously between its requests — under its lock, or on its word — and ends through one exit:
 * it returns its result or throws. Each time it must wait it yields a request:
 *  - Sleep: sleep on `w[index]` while it equals `expected`, until `deadline`. The answer is the
 *    WaitResult ("timed-out" without sleeping once the deadline has passed; "ok" may be spurious:
 *    steps re-check their condition after every answer). How it sleeps (SleepHow):
 *      spinMs, spinTries   blocking only: watch the word first, at most that long and that many
 *                          loads (spinWhile; no spin when spinMs is 0), a hand-off without a syscall;
 *      sleepers            a word of `w` counting the sleepers, counted before the sleep; the waker
 *                          that wakes a sleeper uncounts it (a sleep answered "ok"), otherwise the
 *                          sleeper does (queue/engine.ts wakeOne);
 *      asyncSleepers       a word of `w` counting pending async sleeps (async only), for wakers that
 *                          must wake every waiter while one is pending, since its thread may be
 *                          blocked and unable to run it (sync/mutex.ts, queue/engine.ts).
 *  - Call: a wait of another primitive given in both its forms (Condition re-taking its lock,
 *    Semaphore waiting on its Condition): the blocking driver calls `blocking()`, the async one
 *    `async()` and goes on at once when that returns a plain value, not a promise — a lock taken
 *    synchronously is never held across a turn of the event loop.
 * An exception of a request (a duty run while blocked, the wait of a Call) is thrown into the
 * steps, where their `finally` undoes what they registered. driveBlocking() carries the requests
 * out by blocking the thread (waitBlocking), driveAsync() with promises (waitAsync): so the
 * blocking and async forms of every wait are the same code, and the places where they differ are
 * the named Calls and the SleepHow options above. Fast paths stay inline in the callers.
 */

/** How a Sleep sleeps (see above); the index options are -1 when unused. */
export interface SleepHow {
  readonly spinMs: number;
  readonly spinTries: number;
  readonly sleepers: number;
  readonly asyncSleepers: number;
}

/** Sleep plainly: no spin, nothing counted. */
export const PLAIN: SleepHow = { spinMs: 0, spinTries: Number.POSITIVE_INFINITY, sleepers: -1, asyncSleepers: -1 };

/** A SleepHow from its options (make it once per site: it is read on every sleep). */
export function sleepHow(how: Partial<SleepHow>): SleepHow {
  return { ...PLAIN, ...how };
}

/** A request to sleep on `w[index]` while it equals `expected`, until `deadline`. */
export class Sleep {
  constructor(
    readonly w: Int32Array,
    readonly index: number,
    readonly expected: number,
    readonly deadline: number,
    readonly how: SleepHow,
  ) {}
}

/** A request to run another wait, in the form of the driver. */
export class Call<T> {
  constructor(
    readonly blocking: () => T,
    readonly async: () => T | Promise<T>,
  ) {}
}

/** What steps yield. */
export type Request = Sleep | Call<unknown>;

/** A slow path: a generator of Requests that returns a T (see above). */
export type Steps<T> = Generator<Request, T, unknown>;

/** Within steps, `yield* park(...)`: sleeps on `w[index]` while it equals `expected`; the WaitResult. */
export function* park(
  w: Int32Array,
  index: number,
  expected: number,
  deadline: number,
  how: SleepHow = PLAIN,
): Steps<WaitResult> {
  return (yield new Sleep(w, index, expected, deadline, how)) as WaitResult;
}

/** Within steps, `yield* call(blocking, async)`: runs another wait in the driver's form; its result. */
export function* call<T>(blocking: () => T, async: () => T | Promise<T>): Steps<T> {
  return (yield new Call(blocking, async)) as T;
}

function sleepBlockingOn(s: Sleep): WaitResult {
  const left = remaining(s.deadline);
  if (left === 0) return "timed-out";
  const { w, index, expected, how } = s;
  if (
    how.spinMs > 0 &&
    spinWhile(
      w,
      index,
      expected,
      how.spinMs === Number.POSITIVE_INFINITY ? how.spinMs : Math.min(left, how.spinMs),
      how.spinTries,
    )
  )
    return "not-equal";
  return waitBlocking(w, index, expected, left, how.sleepers);
}

async function sleepAsyncOn(s: Sleep): Promise<WaitResult> {
  const left = remaining(s.deadline);
  if (left === 0) return "timed-out";
  const { w, index, expected, how } = s;
  if (how.sleepers >= 0) Atomics.add(w, how.sleepers, 1);
  if (how.asyncSleepers >= 0) Atomics.add(w, how.asyncSleepers, 1);
  let r: WaitResult | undefined;
  try {
    r = await waitAsync(w, index, expected, left);
  } finally {
    if (how.asyncSleepers >= 0) Atomics.sub(w, how.asyncSleepers, 1);
    if (how.sleepers >= 0 && r !== "ok") Atomics.sub(w, how.sleepers, 1);
  }
  return r;
}

/** Runs `steps` to their end, blocking the thread for each request; their result. */
export function driveBlocking<T>(steps: Steps<T>): T {
  let step = steps.next();
  while (!step.done) {
    const req = step.value;
    let answer: unknown;
    try {
      answer = req instanceof Sleep ? sleepBlockingOn(req) : req.blocking();
    } catch (e) {
      step = steps.throw(e);
      continue;
    }
    step = steps.next(answer);
  }
  return step.value;
}

/** Runs `steps` to their end without blocking the event loop; resolves to their result. */
export async function driveAsync<T>(steps: Steps<T>): Promise<T> {
  let step = steps.next();
  while (!step.done) {
    const req = step.value;
    let answer: unknown;
    try {
      if (req instanceof Sleep) answer = await sleepAsyncOn(req);
      else {
        answer = req.async();
        if (answer instanceof Promise) answer = await answer;
      }
    } catch (e) {
      step = steps.throw(e);
      continue;
    }
    step = steps.next(answer);
  }
  return step.value;
}

/**
 * The steps of waiting until `done()` holds, sleeping on `i32[index]` (whoever makes `done()` true
 * changes that word and notifies it), or until `deadline` passes; returns `done()`. The word is
 * read before `done()` is checked, so a change in between makes the sleep return at once.
 * `sliceMs`: sleep at most that long at a time and look again (a change whose notify never comes,
 * its thread killed between the two, is then seen within `sliceMs`).
 */
export function* until(
  i32: Int32Array,
  index: number,
  done: () => boolean,
  deadline: number,
  sliceMs = Number.POSITIVE_INFINITY,
): Steps<boolean> {
  for (;;) {
    const seen = Atomics.load(i32, index);
    if (done()) return true;
    if (expired(deadline)) return false;
    yield* park(
      i32,
      index,
      seen,
      sliceMs === Number.POSITIVE_INFINITY ? deadline : Math.min(deadline, deadlineOf(sliceMs)),
    );
  }
}

/** until(), blocking. */
export function untilBlocking(
  i32: Int32Array,
  index: number,
  done: () => boolean,
  deadline: number,
  sliceMs?: number,
): boolean {
  return driveBlocking(until(i32, index, done, deadline, sliceMs));
}

/** until(), async. */
export function untilAsync(
  i32: Int32Array,
  index: number,
  done: () => boolean,
  deadline: number,
  sliceMs?: number,
): Promise<boolean> {
  return driveAsync(until(i32, index, done, deadline, sliceMs));
}

/**
 * A sleep's seconds in ms. Unlike a timeout, they are required (Python's time.sleep() takes
 * exactly one argument): a forgotten argument would otherwise sleep for ever. Infinity still does.
 */
function sleepMs(seconds: unknown, what: string): number {
  if (seconds === undefined) throw new TypeError(`${what} takes exactly one argument, the seconds (0 given)`);
  // (null is Python's None, a timeout's "forever", but time.sleep(None) is a TypeError)
  if (seconds === null) throw new TypeError(`${what}: the seconds must be a number, not null`);
  if (typeof seconds !== "number") throw new TypeError(`${what}: the seconds must be a number, not ${typeof seconds}`);
  // Python's time.sleep(-1): ValueError("sleep length must be non-negative").
  if (typeof seconds === "number" && seconds < 0) {
    throw new RangeError(`${what}: sleep length must be non-negative, not ${seconds}`);
  }
  return secondsMs(seconds, what);
}

/** Sleeps the calling thread for `seconds` (blocking). */
export function sleep(seconds: number): void {
  const ms = sleepMs(seconds, "sleep()");
  const cell = new Int32Array(new SharedArrayBuffer(4));
  describe(cell.buffer, "sleep", 0);
  waitBlocking(cell, 0, 0, ms);
}

/** Resolves after `seconds` without blocking the event loop. */
export function sleepAsync(seconds: number): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      const ms = sleepMs(seconds, "sleepAsync()");
      afterMs(ms, resolve);
    } catch (e) {
      reject(e);
    }
  });
}

/** The longest delay one setTimeout takes (Node fires a longer one after 1 ms). */
export const timerHooks = { maxTimerMs: 2 ** 31 - 1 };

/**
 * Calls `fn` once `ms` have passed, for any `ms` (Infinity = never, yet the process stays alive,
 * as it would for a pending sleep): longer delays than one setTimeout takes are chained, each
 * link re-measuring the time left, so a timeout over 24.8 days never fires early. Returns a cancel.
 */
export function afterMs(ms: number, fn: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (ms === Number.POSITIVE_INFINITY) {
    timer = setInterval(() => {}, timerHooks.maxTimerMs);
    return () => clearInterval(timer);
  }
  const deadline = performance.now() + ms;
  const arm = (): void => {
    const left = deadline - performance.now();
    if (left <= 0) {
      fn();
      return;
    }
    timer = setTimeout(left > timerHooks.maxTimerMs ? arm : fn, Math.min(left, timerHooks.maxTimerMs));
  };
  arm();
  return () => clearTimeout(timer);
}
