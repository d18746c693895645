/**
 * Timer: a thread that calls a function after `interval` seconds unless cancel() comes first
 * (Python's threading.Timer). Its run() is Python's: wait on the `finished` Event with the interval
 * as timeout, call the function unless the Event was set meanwhile, then set it. So cancel() (which
 * sets the Event, from any thread) stops it at once, and cancel() after it fired does nothing.
 *
 * The thread rebuilds the Timer as a Timer (or as the user's subclass, which may override run(),
 * Python's RepeatTimer idiom): its state is not in private fields, which a rebuilt object cannot
 * have, but in `timers`, restored there by [kSelfReady] from the thread's arguments, with the
 * function compiled in the thread. So in the Timer's own thread `currentThread()` is that Timer,
 * with cancel(), finished, interval, function and args. In other threads a Timer arrives as a
 * Thread handle that has cancel(), finished, interval and args too (its `finished` Event is
 * shared), so any thread may cancel it, as in Python.
 */
import { Event } from "../sync/event.js";
import { thenable } from "../shared/thenable.js";
import { checkArgCount, secondsMs } from "../shared/wait.js";
import { encode } from "../transport/encode.js";
import {
  callerFile,
  compileTarget,
  describeTarget,
  type ModuleTarget,
  type Target,
  type TargetSpec,
} from "../transport/target.js";
import { RuntimeError } from "../errors.js";
import { handleExtras, kSelfReady, libraryClasses, Thread } from "./thread.js";

interface TimerState {
  interval: number;
  /** The user's function (or module target); in the Timer's own thread, the compiled function. */
  function: Target;
  args: unknown[];
  finished: Event;
}

/** Each Timer's state, in every thread that has the Timer as itself (its creator, its own thread). */
const timers = new WeakMap<Timer, TimerState>();

function stateOf(t: Timer): TimerState {
  const state = timers.get(t);
  if (state === undefined) throw new RuntimeError(`Timer ${t.name} was not made by Timer's constructor`);
  return state;
}

/**
 * Runs `fn(...args)` on a new thread after `interval` seconds, unless cancelled. `args` must fit
 * a function's parameters (`A`, inferred), as a Thread's target and args. A subclass may override
 * run(), as in Python (`while (!this.finished.wait(this.interval)) this.function(...this.args)`).
 */
// biome-ignore lint/suspicious/noExplicitAny: the default lets instances of any function share one type, as Thread
export class Timer<A extends unknown[] = any[]> extends Thread {
  /** A function that takes no arguments (or only optional ones), or `{ module, export }`: `args` may be left out. */
  constructor(interval: number, fn: (((...args: A) => unknown) & (() => unknown)) | ModuleTarget, args?: A);
  /** A function that needs arguments: `args` must be given and fit its parameters. */
  constructor(interval: number, fn: (...args: A) => unknown, args: A);
  constructor(interval: number, fn: ((...args: A) => unknown) | ModuleTarget, args: A = [] as unknown as A) {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("Timer", arguments.length, 3);
    // (an undefined interval would be "forever": a call that forgot both is Python's TypeError)
    // biome-ignore lint/complexity/noArguments: as above
    const missing = ["interval", "function"].slice(arguments.length);
    if (missing.length > 0) {
      const plural = missing.length > 1 ? "s" : "";
      throw new TypeError(`Timer() missing ${missing.length} required argument${plural}: '${missing.join("' and '")}'`);
    }
    secondsMs(interval, "Timer(interval)");
    // null is Python's default (`Timer(interval, function, args=None)`): no arguments.
    if (args === null) args = [] as unknown as A;
    if (!Array.isArray(args)) throw new TypeError("Timer(interval, fn, args): args must be an array");
    const spec = describeTarget(fn, "Timer function", callerFile());
    encode(args, "Timer args");
    const finished = new Event();
    // What the thread needs to rebuild this state ([kSelfReady]); Thread's name stays "Thread-N".
    super({ args: [interval, spec, args, finished] });
    timers.set(this, { interval, function: fn, args, finished });
  }

  /** Seconds to wait before calling the function. */
  get interval(): number {
    return stateOf(this).interval;
  }
  /** The function the timer calls (in the timer's own thread: that function compiled there). */
  get function(): Target {
    return stateOf(this).function;
  }
  /** Its arguments. */
  get args(): unknown[] {
    return stateOf(this).args;
  }
  /** Set when the timer fired or was cancelled. */
  get finished(): Event {
    return stateOf(this).finished;
  }

  /** Stops the timer if it has not fired yet (harmless afterwards). */
  cancel(): void {
    stateOf(this).finished.set();
  }

  /**
   * Python's Timer.run(): waits `interval` seconds on `finished`, calls the function unless it was
   * set meanwhile, then sets it (an async function: once its promise has settled). Called directly
   * (not through start()), it runs in the calling thread, as in Python.
   */
  override run(): unknown {
    const { interval, function: fn, args, finished } = stateOf(this);
    finished.wait(interval);
    if (finished.isSet()) return undefined;
    if (typeof fn !== "function") throw new RuntimeError("a module target runs only in its own thread (call start())");
    const result = fn(...args);
    if (thenable(result)) return Promise.resolve(result).then(() => finished.set());
    finished.set();
    return undefined;
  }

  /** @internal In the timer's own thread: restores its state from the thread's arguments (see the header). */
  async [kSelfReady](threadArgs: unknown[]): Promise<void> {
    const [interval, spec, args, finished] = threadArgs as [number, TargetSpec, unknown[], Event];
    timers.set(this, { interval, function: await compileTarget(spec), args, finished });
  }

  static {
    libraryClasses.set(Timer, "Timer");
    handleExtras.share = (t) => {
      const state = t instanceof Timer ? timers.get(t) : undefined;
      return state && { finished: state.finished, interval: state.interval, args: state.args };
    };
    handleExtras.adopt = (t, extra) => {
      const { finished, interval, args } = extra as { finished: Event; interval: number; args: unknown[] };
      if (Object.hasOwn(t, "cancel")) return;
      Object.defineProperties(t, {
        finished: { value: finished, enumerable: false },
        interval: { value: interval, enumerable: false },
        args: { value: args, enumerable: false },
        cancel: {
          value: function cancel(): void {
            finished.set();
          },
          enumerable: false,
        },
      });
    };
  }
}
