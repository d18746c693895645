/**
 * What one thread leaves in its worker's modules, and how it is reset for the next thread.
 *
 * A worker runs one thread after another (threads/worker.ts): module instances and globals stay,
 * as Python's threads share one interpreter's modules. State that belongs to one thread (which
 * thread is current, its `local` namespaces, its excepthook, its loggers) registers a reset here;
 * the worker calls resetThreadState() after a thread has ended and before it runs the next one.
 * A module whose state the thread left can be finished only by the worker's exit (an executor
 * that still has pool threads: its tasks are finished in the `exit` event) registers a check with
 * holdsWorker(): the worker then exits instead of being reused.
 *
 * No imports: every module of the library may register here without an import cycle.
 */

const resets: (() => void)[] = [];
const holds: (() => boolean)[] = [];
const endings: ((cause?: unknown) => void)[] = [];

/** Registers `fn`, run in a worker after each thread that ran there has ended (see resetThreadState). */
export function onThreadReset(fn: () => void): void {
  resets.push(fn);
}

/**
 * Runs every registered reset, in registration order. A reset that throws does not stop the
 * others; the first error is rethrown at the end (the worker then is not reused).
 */
export function resetThreadState(): void {
  let failure: { error: unknown } | undefined;
  for (const fn of resets) {
    try {
      fn();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}

/**
 * Registers `check`, true while this module holds state of the ended thread that only the worker's
 * exit can finish: the worker then exits after that thread instead of running the next one.
 */
export function holdsWorker(check: () => boolean): void {
  holds.push(check);
}

/** True when a module holds the worker (see holdsWorker). */
export function workerHeld(): boolean {
  return holds.some((check) => check());
}

/**
 * Registers `fn`, run in a worker as each thread that ran there ends, just before the thread is
 * marked ended (its joiners wake, it stops counting as a live thread), whether or not the worker
 * is reused after it. `cause`: what a callback of the thread (a timer, a listener) threw that
 * ended it (a SystemExit for a process.exit() there, threads/worker.ts); undefined when the thread
 * ended otherwise (its run() returned or threw).
 */
export function onThreadEnding(fn: (cause?: unknown) => void): void {
  endings.push(fn);
}

/** Runs every onThreadEnding() function; one that throws does not stop the others. */
export function threadEnding(cause?: unknown): void {
  for (const fn of endings) {
    try {
      fn(cause);
    } catch {
      // nothing of the thread may be lost to it; the others still run
    }
  }
}
