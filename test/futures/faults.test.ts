// A pool thread ended under a later task by something an earlier task left on its event loop (a
// timer that calls process.exit(), or throws): the running task's future fails with an error that
// says so, the tasks behind it run on a replacement thread, and shutdown(true) ends. The callback
// fires only once the later task has said it is running (a flag it sets, polled by the timer), so
// the thread always dies inside that task.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RuntimeError, ThreadPoolExecutor } from "threading";
import { runChild as runChildOf } from "../child.js";

// The children are plain JavaScript, run by plain Node (Bun and Deno run them as before): what
// they check is the library in a fresh process, not tsx, which under tsx would load in each child
// (a second or more a child on a loaded machine).
const runChild = (code: string, timeoutMs?: number) => runChildOf(code, timeoutMs, { tsx: false });

const T = { timeout: 60_000 };

/** Task 1: leaves a 2 ms interval that, once flag[0] is 1, calls process.exit(3) (or throws, with `err`). */
function leaveTimer(flag: Int32Array, err: boolean): number {
  setInterval(() => {
    if (Atomics.load(flag, 0) !== 1) return;
    if (err) throw new Error("boom in a timer");
    process.exit(3);
  }, 2);
  return 1;
}

/** A later task: sets the flag, then awaits far longer than the interval takes to fire. */
async function later(flag: Int32Array): Promise<string> {
  Atomics.store(flag, 0, 1);
  await new Promise((r) => setTimeout(r, 30_000));
  return "not reached";
}

for (const err of [false, true]) {
  const what = err ? "an uncaught exception" : "process.exit(3)";
  test(`${what} in a timer left by an earlier task fails the later task that ran then; the pool goes on`, T, () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const flag = new Int32Array(new SharedArrayBuffer(4));
    assert.equal(ex.submit(leaveTimer, flag, err).result(), 1);
    const f = ex.submit(later, flag);
    const behind = [1, 2, 3].map((x) => ex.submit((y: number) => y * 10, x));
    const e = f.exception(20) as Error;
    assert.ok(e instanceof RuntimeError, `${e}`);
    if (err) assert.match(e.message, /was ended by an uncaught exception in a callback \(reported to the excepthook\)/);
    else assert.match(e.message, /called process\.exit\(3\) in a callback while running this task/);
    assert.match(e.message, /a timer or a listener left on that thread by this task or an earlier one/);
    assert.match(e.message, /the pool replaced it/);
    // The tasks queued behind it run on the replacement (which has no such timer).
    assert.deepEqual(
      behind.map((b) => b.result(20)),
      [10, 20, 30],
    );
    assert.equal(ex.submit(() => "fresh").result(20), "fresh");
    ex.shutdown(true);
  });
}

const internal = new URL("../../dist/internal.js", import.meta.url).href;

test("the hub worker dies: the running task fails saying so, a new task fails, shutdown(true) ends", T, () => {
  // (in a child process: the hub is the process's own.) Before: a task submitted after the hub's
  // death never settled for a blocking result(), and shutdown(true) hung, as the start's failure was
  // seen only from the event loop.
  const r = runChild(
    `
    import { Event, ThreadPoolExecutor, sleep } from "threading";
    import { hubWorker } from "${internal}";
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const started = new Event();
    const running = ex.submit((e) => { e.set(); new Event().wait(); }, started);
    started.wait();
    await hubWorker().terminate();
    const show = (f) => { try { return "ok " + f.result(); } catch (e) { return e.name + ": " + e.message; } };
    console.log(show(running));
    console.log(show(ex.submit(() => 2)));
    ex.shutdown(true);
    console.log("shutdown done");
  `,
    30_000,
  );
  assert.equal(r.status, 0, `exit hung or failed: ${r.stderr}`);
  const lines = r.stdout.split("\n");
  assert.match(
    lines[0] as string,
    /^RuntimeError: pool thread \S+ died with the threading hub worker .* while running this task/,
  );
  assert.match(lines[1] as string, /^RuntimeError: can't start new thread: the threading hub worker has died/);
  assert.equal(lines[2], "shutdown done");
});
