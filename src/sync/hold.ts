/**
 * `hold()` / `holdAsync()`: Python's `with lock:` as TypeScript's `using _ = lock.hold();`.
 */
import { TimeoutError } from "../errors.js";

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
  acquire(blocking?: boolean, timeout?: number): boolean;
  acquireAsync(timeout?: number): Promise<boolean>;
  release(): void;
}

function timedOut(what: string, timeout: number | undefined): TimeoutError {
  return new TimeoutError(`${what}.hold(): not acquired within ${timeout} s`);
}

export function holdBlocking(target: Acquirable, what: string, timeout?: number): Held {
  const ok = timeout === undefined || timeout === null ? target.acquire(true) : target.acquire(true, timeout);
  if (!ok) throw timedOut(what, timeout);
  return held(() => target.release());
}

export async function holdAsync(target: Acquirable, what: string, timeout?: number): Promise<Held> {
  if (!(await target.acquireAsync(timeout))) throw timedOut(what, timeout);
  return held(() => target.release());
}
