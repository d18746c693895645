/**
 * The error classes of `threading`, with Python's names. Each keeps its class when it crosses
 * between threads (see transport/).
 */

/** Misuse, as Python raises `RuntimeError`: releasing an unheld lock, starting a thread twice, ... */
export class RuntimeError extends Error {
  static {
    this.prototype.name = "RuntimeError";
  }
}
/**
 * Python's `threading.ThreadError`: since Python 3.3 another name for `RuntimeError` (the same class,
 * `ThreadError === RuntimeError`, its `name` is "RuntimeError"), for code that catches it by that name.
 */
export const ThreadError: typeof RuntimeError = RuntimeError;
/** An instance of {@link ThreadError}, which is `RuntimeError`. */
export type ThreadError = RuntimeError;
/** A missing key, as Python's `KeyError`: `SharedDict.pop(key)` of a key it does not hold, without a fallback. */
export class KeyError extends Error {
  static {
    this.prototype.name = "KeyError";
  }
}
/** A `Barrier` was broken (aborted, reset, or a wait timed out) while a thread waited on it. */
export class BrokenBarrierError extends RuntimeError {
  static {
    this.prototype.name = "BrokenBarrierError";
  }
}
/** A wait with a timeout ran out (`hold()`, `Future.result()`, `asCompleted`, `map`). */
export class TimeoutError extends Error {
  static {
    this.prototype.name = "TimeoutError";
  }
}
/** The `Future` was cancelled. */
export class CancelledError extends Error {
  static {
    this.prototype.name = "CancelledError";
  }
}
/** The executor cannot run tasks any more (a worker could not be replaced, or its initializer failed). */
export class BrokenExecutor extends Error {
  static {
    this.prototype.name = "BrokenExecutor";
  }
}
/**
 * Python's `concurrent.futures.thread.BrokenThreadPool`: a `ThreadPoolExecutor` whose thread
 * initializer failed; every pending and later task fails with it (`instanceof BrokenExecutor`).
 */
export class BrokenThreadPool extends BrokenExecutor {
  static {
    this.prototype.name = "BrokenThreadPool";
  }
}
/** Python's `concurrent.futures.InvalidStateError`: setting the outcome of a future twice. */
export class InvalidStateError extends Error {
  static {
    this.prototype.name = "InvalidStateError";
  }
}
/** `get(false)` / `getNowait()` on an empty queue, or `get(true, timeout)` that timed out. */
export class Empty extends Error {
  static {
    this.prototype.name = "Empty";
  }
}
/** `put(item, false)` / `putNowait()` on a full queue, or `put(item, true, timeout)` that timed out. */
export class Full extends Error {
  static {
    this.prototype.name = "Full";
  }
}
/** The queue was shut down: every `put`, and every `get` once it is drained, throws this. */
export class ShutDown extends Error {
  static {
    this.prototype.name = "ShutDown";
  }
}

/**
 * Python's `SystemExit`: what `process.exit()` throws inside a thread (a `Thread`'s, a pool
 * thread's, or a distributed worker's task): it unwinds that thread's stack (`finally` blocks and
 * `using` disposals run) and ends the thread silently, not the process; in a pool task it fails
 * that task's `Future` (with this error) and ends the pool thread, which the pool replaces. A
 * `throw new SystemExit(code)` does the same (it is all Python's `sys.exit()` does). `code` is
 * the exit code given to `process.exit()`.
 */
export class SystemExit extends Error {
  static {
    this.prototype.name = "SystemExit";
  }
  /** The code given to `process.exit(code)` (`undefined` when none was given). */
  code: number | string | null | undefined;
  /** `where` says what the exit ended: "in a thread" (default), "in a task" (a distributed worker's own thread). */
  constructor(code?: number | string | null, where = "in a thread") {
    super(`process.exit(${code ?? ""}) ${where}`);
    this.code = code;
  }
}

/** Every error class that crosses threads keeping its class, by name (and DOMException, which transport/decode.ts makes with its constructor). */
export const crossingErrorClasses: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  AggregateError: AggregateError as unknown as new (message?: string) => Error,
  EvalError,
  URIError,
  RuntimeError,
  KeyError,
  BrokenBarrierError,
  TimeoutError,
  CancelledError,
  BrokenExecutor,
  BrokenThreadPool,
  InvalidStateError,
  Empty,
  Full,
  ShutDown,
  SystemExit: SystemExit as unknown as new (message?: string) => Error,
};
