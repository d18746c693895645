/**
 * What `await` treats as a promise: an object or function with a callable `then`. A task's return
 * value is awaited only when it is one (a plain value is an outcome at once), in a pool thread
 * (futures/pool-thread.ts) as on a distributed worker (distributed/run-task.ts).
 */
export function thenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === "object" || typeof v === "function") &&
    v !== null &&
    typeof (v as { then?: unknown }).then === "function"
  );
}
