// A blocking wait for a standalone Future (one no executor runs) with no timeout: only this thread
// could settle it (a pending standalone Future crosses to no other thread, where in Python another
// thread could), and the wait blocks this thread, so it would never end. It is a RuntimeError
// saying so. Before, new Future().result() (or wait(), asCompleted()) hung for ever.
import assert from "node:assert/strict";
import { test } from "node:test";
import { asCompleted, Future, RuntimeError, ThreadPoolExecutor, TimeoutError, wait } from "threading";

const T = { timeout: 30_000 };
const forever = { name: "RuntimeError", message: /would wait for ever: it waits for a Future that no executor runs/ };

test("a blocking wait for a pending standalone Future with no timeout is a RuntimeError, not a hang", T, () => {
  const f = new Future<number>();
  assert.throws(() => f.result(), forever);
  assert.throws(
    () => f.result(null),
    (e: unknown) => e instanceof RuntimeError && /^Future\.result\(\)/.test((e as Error).message),
  );
  assert.throws(() => f.exception(), forever);
  assert.throws(() => wait([f]), forever);
  assert.throws(() => wait([f], { returnWhen: "FIRST_COMPLETED" }), forever);
  assert.throws(() => [...asCompleted([f])], forever);
  // with a timeout it waits that long, as before
  assert.throws(() => f.result(0.01), TimeoutError);
  assert.deepEqual(wait([f], 0.01).notDone, new Set([f]));
  // settled first, or with an executor's future in the wait (whose done callback may settle it): as before
  f.setResult(1);
  assert.equal(f.result(), 1);
  assert.equal(wait([f]).done.size, 1);
  using ex = new ThreadPoolExecutor({ maxWorkers: 1 });
  const task = ex.submit(() => 2);
  const g = new Future<number>();
  task.addDoneCallback(() => g.setResult(3));
  assert.equal(wait([g, task]).done.size, 2);
  assert.equal(g.result(), 3);
});

test("the async twins of a standalone Future still wait for this thread's event loop to settle it", T, async () => {
  const f = new Future<number>();
  setTimeout(() => f.setResult(5), 10);
  assert.equal(await f.resultAsync(), 5);
});
