// A blocking wait for a standalone Future (one no executor runs) with no timeout: only this thread
// could settle it (a pending standalone Future crosses to no other thread, where in Python another
// thread could), and the wait blocks this thread, so it would never end. It is a RuntimeError
// saying so. Before, new Future().result() (or wait(), asCompleted()) hung for ever.
// Then CPython's FutureTests (test_concurrent_futures/test_future.py) on standalone futures.
import assert from "node:assert/strict";
import { test } from "node:test";
import { asCompleted, CancelledError, Future, RuntimeError, ThreadPoolExecutor, TimeoutError, wait } from "threading";
import { runChild as runChildOf } from "../child.js";

// The children are plain JavaScript, run by plain Node (Bun and Deno run them as before): what
// they check is the library in a fresh process, not tsx, which under tsx would load in each child
// (a second or more a child on a loaded machine).
const runChild = (code: string, timeoutMs?: number) => runChildOf(code, timeoutMs, { tsx: false });

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

// CPython's test_concurrent_futures FutureTests, on standalone futures in the states that
// create_future() makes: pending, running, cancelled, finished with an error, finished with 42.
function states() {
  const pending = new Future<number>();
  const running = new Future<number>();
  running.setRunningOrNotifyCancel();
  const cancelled = new Future<number>();
  cancelled.cancel();
  // CANCELLED_AND_NOTIFIED: cancelled, then seen by the executor (set_running_or_notify_cancel)
  const notified = new Future<number>();
  notified.cancel();
  notified.setRunningOrNotifyCancel();
  const failed = new Future<number>();
  failed.setException(new RangeError("os"));
  const ok = new Future<number>();
  ok.setResult(42);
  return { pending, running, cancelled, notified, failed, ok };
}

test("Future states: cancelled(), done(), running() (test_cancelled, test_done, test_running)", T, () => {
  const s = states();
  const table = Object.entries(s).map(([k, f]) => [k, f.cancelled(), f.done(), f.running()]);
  assert.deepEqual(table, [
    ["pending", false, false, false],
    ["running", false, false, true],
    ["cancelled", true, true, false],
    ["notified", true, true, false],
    ["failed", false, true, false],
    ["ok", false, true, false],
  ]);
});

test(
  "Future.cancel() in each state (test_cancel): true when pending or cancelled, false running or finished",
  T,
  () => {
    const s = states();
    const got = Object.entries(s).map(([k, f]) => [k, f.cancel(), f.cancelled(), f.running()]);
    assert.deepEqual(got, [
      ["pending", true, true, false],
      ["running", false, false, true],
      ["cancelled", true, true, false],
      ["notified", true, true, false],
      ["failed", false, false, false],
      ["ok", false, false, false],
    ]);
    assert.equal(s.ok.result(), 42);
  },
);

test("result(0) and exception(0) in each state (test_result_with_timeout, test_exception_with_timeout)", T, () => {
  const s = states();
  for (const f of [s.pending, s.running]) {
    assert.throws(() => f.result(0), TimeoutError);
    assert.throws(() => f.exception(0), TimeoutError);
  }
  for (const f of [s.cancelled, s.notified]) {
    assert.throws(() => f.result(0), CancelledError);
    assert.throws(() => f.exception(0), CancelledError);
  }
  assert.throws(() => s.failed.result(0), { name: "RangeError", message: "os" });
  assert.ok(s.failed.exception(0) instanceof RangeError);
  assert.equal(s.ok.result(0), 42);
  assert.equal(s.ok.exception(0), null); // Python's None
});

test("done callbacks see the result, the error, the cancellation; added when done they run at once", T, () => {
  // test_done_callback_with_result / _with_exception / _with_cancel / _already_successful /
  // _already_failed / _already_cancelled
  const seen: unknown[] = [];
  const a = new Future<number>();
  a.addDoneCallback((f) => seen.push(f.result()));
  a.setResult(5);
  const b = new Future<number>();
  b.addDoneCallback((f) => seen.push((f.exception() as Error).message));
  b.setException(new Error("test"));
  const c = new Future<number>();
  c.addDoneCallback((f) => seen.push(f.cancelled()));
  assert.equal(c.cancel(), true);
  assert.deepEqual(seen, [5, "test", true], "each ran when its future settled");
  a.addDoneCallback((f) => seen.push(f.result()));
  b.addDoneCallback((f) => seen.push((f.exception() as Error).message));
  c.addDoneCallback((f) => seen.push(f.cancelled()));
  assert.deepEqual(seen, [5, "test", true, 5, "test", true], "added when done: ran at once");
});

test(
  "a done callback that throws is reported on stderr and the next one still runs (test_done_callback_raises)",
  T,
  () => {
    const r = runChild(`
    import { Future } from "threading";
    const f = new Future();
    let next = false;
    f.addDoneCallback(() => { throw new Error("doh!"); });
    f.addDoneCallback(() => { next = true; });
    f.setResult(5);
    console.log("next ran:", next);
    // test_done_callback_raises_already_succeeded: added to a done future
    const g = new Future();
    g.setResult(5);
    g.addDoneCallback(() => { throw new Error("doh again!"); });
    console.log("after");
  `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "next ran: true\nafter\n");
    assert.match(r.stderr, /exception calling callback for <Future state=finished returned number>[\s\S]*Error: doh!/);
    assert.match(r.stderr, /Error: doh again!/);
  },
);
