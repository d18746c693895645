/**
 * Timer: a thread that calls a function after `interval` seconds unless cancel() comes first
 * (Python's threading.Timer). It waits on its `finished` Event with the interval as timeout, so
 * cancel() (which sets the Event, from any thread) stops it at once; cancel() after it fired
 * does nothing. In other threads a Timer arrives as a Thread handle that has cancel(), finished,
 * interval and args too (its `finished` Event is shared), so any thread may cancel it, as in Python.
 */
import { Event } from "../sync/event.js";
import { checkArgCount, secondsMs } from "../shared/wait.js";
import { encode } from "../transport/encode.js";
import { callerFile, describeTarget, type ModuleTarget, type Target } from "../transport/target.js";
import { handleExtras, libraryClasses, Thread } from "./thread.js";
import { libraryFile } from "../shared/paths.js";

/**
 * Runs `fn(...args)` on a new thread after `interval` seconds, unless cancelled. `args` must fit
 * a function's parameters (`A`, inferred), as a Thread's target and args.
 */
// biome-ignore lint/suspicious/noExplicitAny: the default lets instances of any function share one type, as Thread
export class Timer<A extends unknown[] = any[]> extends Thread {
  readonly #interval: number;
  readonly #function: Target;
  readonly #args: unknown[];
  readonly #finished: Event;

  constructor(interval: number, fn: ((...args: A) => unknown) | ModuleTarget, args: A = [] as unknown as A) {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("Timer", arguments.length, 3);
    secondsMs(interval, "Timer(interval)");
    if (!Array.isArray(args)) throw new TypeError("Timer(interval, fn, args): args must be an array");
    const spec = describeTarget(fn, "Timer function", callerFile());
    encode(args, "Timer args");
    const finished = new Event();
    super({
      target: { module: libraryFile("threads/timer-run.js"), export: "runTimer" },
      args: [interval, spec, args, finished],
    });
    this.name = this.name.replace(/ \(runTimer\)$/, "");
    this.#interval = interval;
    this.#function = fn;
    this.#args = args;
    this.#finished = finished;
  }

  /** Seconds to wait before calling the function. */
  get interval(): number {
    return this.#interval;
  }
  /** The function the timer calls. */
  get function(): Target {
    return this.#function;
  }
  /** Its arguments. */
  get args(): unknown[] {
    return this.#args;
  }
  /** Set when the timer fired or was cancelled. */
  get finished(): Event {
    return this.#finished;
  }

  /** Stops the timer if it has not fired yet (harmless afterwards). */
  cancel(): void {
    this.#finished.set();
  }

  static {
    libraryClasses.set(Timer, "Timer");
    handleExtras.share = (t) =>
      t instanceof Timer ? { finished: t.#finished, interval: t.#interval, args: t.#args } : undefined;
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
