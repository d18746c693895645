/**
 * Timer: a thread that calls a function after `interval` seconds unless cancel() comes first
 * (Python's threading.Timer). It waits on its `finished` Event with the interval as timeout, so
 * cancel() (which sets the Event, from any thread) stops it at once; cancel() after it fired
 * does nothing.
 */
import { Event } from "../sync/event.js";
import { secondsMs } from "../shared/wait.js";
import { encode } from "../transport/encode.js";
import { callerFile, describeTarget, type ModuleTarget, type Target } from "../transport/target.js";
import { libraryClasses, Thread } from "./thread.js";
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
  }
}
