/**
 * `hold()` / `holdAsync()`: Python's `with lock:` as TypeScript's `using _ = lock.hold();`.
 */
import { TimeoutError } from "../errors.js";
import { type Timeout, timeoutMs, timeoutOf } from "../shared/wait.js";

/** What `hold()` returns: disposing it releases what was acquired, once. */
export interface Held extends Disposable {
  /** Releases now (the same as disposing). Calling it again does nothing. */
  release(): void;
}

function held(release: () => void): Held {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    release();
  };
  return { release: once, [Symbol.dispose]: once };
}

/** The lock-like things hold() works on. */
export interface Acquirable {
  acquire(blocking?: boolean, timeout?: number | null): boolean;
  acquireAsync(timeout?: Timeout): Promise<boolean>;
  release(): void;
}

/** `call`: "hold" or "holdAsync", named in the message. */
function timedOut(what: string, timeout: Timeout | undefined, call = "hold"): TimeoutError {
  return new TimeoutError(`${what}.${call}(): not acquired within ${timeoutOf(timeout, `${what}.${call}()`)} s`);
}

/**
 * `hold(timeout)`: acquires, blocking at most `timeout` seconds (a number or `{ timeout }`). The
 * timeout is checked here, not by `acquire()`: -1 means "forever" only to `acquire()` (API.md).
 */
export function holdBlocking(target: Acquirable, what: string, timeout?: Timeout): Held {
  const t = timeoutOf(timeout, `${what}.hold()`) as number | null | undefined;
  timeoutMs(t, `${what}.hold()`);
  const ok = t === undefined || t === null ? target.acquire(true) : target.acquire(true, t);
  if (!ok) throw timedOut(what, timeout);
  return held(() => target.release());
}

/** The async twin of holdBlocking(): resolves to a Held once acquired, rejects with TimeoutError. */
export async function holdAsync(target: Acquirable, what: string, timeout?: Timeout): Promise<Held> {
  timeoutMs(timeoutOf(timeout, `${what}.holdAsync()`), `${what}.holdAsync()`);
  if (!(await target.acquireAsync(timeout))) throw timedOut(what, timeout, "holdAsync");
  return held(() => target.release());
}
