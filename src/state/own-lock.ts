/**
 * The `lock` option of `Value` and `SharedArray`, as `multiprocessing.Value(lock=...)`: by default
 * each object gets a new `RLock` of its own; `lock: false` gives none; a given `Lock` or `RLock` is
 * used as is (several objects may share one).
 */
import { RuntimeError } from "../errors.js";
import { Lock } from "../sync/lock.js";
import { RLock } from "../sync/rlock.js";

/** What `options.lock` may be. */
export type LockOption = boolean | Lock | RLock;

/** The lock an object is made with (null for none); TypeError for anything else. */
export function lockFrom(option: unknown, what: string): Lock | RLock | null {
  if (option === undefined || option === true) return new RLock();
  if (option === false) return null;
  if (option instanceof Lock || option instanceof RLock) return option;
  throw new TypeError(`${what}: options.lock must be a boolean, a Lock or an RLock, not ${typeof option}`);
}

/** getLock() of an object made with `lock: false`. */
export function noLock(what: string): RuntimeError {
  return new RuntimeError(`${what} has no lock (it was made with lock: false)`);
}
