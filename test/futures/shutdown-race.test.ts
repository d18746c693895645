// ThreadPoolExecutor.shutdown() racing a submission: with maxQueue, submit(), submitWith() and map()
// wait for room by taking outcomes (the executor's poll), which runs done callbacks; one that shuts
// the pool down then must make the waiting submission raise, as CPython's submit() checks under
// its shutdown lock. Deterministic: both submissions are in one synchronous run, so the first
// task's outcome (and its callback) can only be taken inside the second one's wait for room.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Future, RuntimeError, ThreadPoolExecutor } from "threading";

const T = { timeout: 30_000 };
const AFTER = (e: unknown) =>
  e instanceof RuntimeError && (e as Error).message === "cannot schedule new futures after shutdown";

/** A pool with room for one task, taken by one whose done callback shuts the pool down. */
function fullPool(cancelFutures = false): { ex: ThreadPoolExecutor; first: Future<number> } {
  const ex = new ThreadPoolExecutor({ maxWorkers: 1, maxQueue: 0 });
  const first = ex.submit(() => 1);
  first.addDoneCallback(() => ex.shutdown({ wait: false, cancelFutures }));
  return { ex, first };
}

for (const cancelFutures of [false, true]) {
  test(
    `submit() waiting for room raises once a done callback shut the pool down (cancelFutures ${cancelFutures})`,
    T,
    () => {
      const { ex, first } = fullPool(cancelFutures);
      assert.throws(() => ex.submit((x: number) => x, 2), AFTER);
      assert.equal(first.result(), 1);
      ex.shutdown(true);
    },
  );
}

test("submitWith() waiting for room raises once a done callback shut the pool down", T, () => {
  const { ex, first } = fullPool();
  assert.throws(() => ex.submitWith({}, (x: number) => x, 2), AFTER);
  assert.equal(first.result(), 1);
  ex.shutdown(true);
});

test("map() waiting for room raises once a done callback shut the pool down", T, () => {
  const { ex, first } = fullPool();
  assert.throws(() => ex.map((x: number) => x, [2, 3]), AFTER);
  assert.equal(first.result(), 1);
  ex.shutdown(true);
});
