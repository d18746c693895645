// An idle pool thread takes tasks queued behind another thread's long task (balance.ts steal) when
// it runs out of tasks; but not while that thread has not started its oldest task and that one
// is recent (STEAL_IDLE_AFTER_MS: the thread may be about to start it). Nothing looked again
// afterwards (the idle thread posts nothing more), so the tasks waited behind the long one while
// a thread was idle: the executor now looks again once the oldest task is old enough.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Event, ThreadPoolExecutor } from "threading";
import { balanceTestHooks } from "../../dist/internal.js";

const T = { timeout: 60_000 };

/**
 * Makes the pool thread that takes the next task spin `ms` in a callback that task leaves, so it
 * takes no message and runs no task meanwhile; returns once the spin has begun.
 */
async function holdNextThread(ex: ThreadPoolExecutor, ms: number): Promise<void> {
  const spinning = new Int32Array(new SharedArrayBuffer(4));
  await ex.submit(
    (s: Int32Array, ms: number) => {
      setTimeout(() => {
        Atomics.store(s, 0, 1);
        const until = performance.now() + ms;
        while (performance.now() < until) {}
      }, 0);
    },
    spinning,
    ms,
  );
  while (Atomics.load(spinning, 0) === 0) Atomics.wait(spinning, 0, 0, 5);
}

test(
  "tasks queued behind a long one on a thread that has not started it yet are taken by the idle thread",
  T,
  async () => {
    // (a window wide enough that the idle thread's tasks end well inside it, on a loaded machine too)
    balanceTestHooks.idleAfterMs = 2000;
    const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
    try {
      const id = (x: number) => x;
      await Promise.all([ex.submit(id, 0), ex.submit(id, 0)]);
      // Thread 0 spins 4 s in a callback its task left: it takes no message and runs no task
      // meanwhile (not busy: it has not started its oldest task).
      await holdNextThread(ex, 4000);
      const ev = new Event();
      const blocked = ex.submit((e: Event) => e.wait(20), ev); // thread 0 (both have none)
      // 1, 3, 5 to thread 1, which runs them at once; 2, 4, 6 to thread 0, behind `blocked`.
      const fs = Array.from({ length: 6 }, (_, i) => ex.submit(id, i + 1));
      assert.deepEqual(await Promise.all(fs), [1, 2, 3, 4, 5, 6]);
      // Before, 2, 4 and 6 came only once `blocked` had waited its 20 s out.
      assert.equal(blocked.done(), false, "the tasks did not wait for the long one");
      ev.set();
      assert.equal(await blocked, true);
    } finally {
      balanceTestHooks.idleAfterMs = undefined;
      ex.shutdown();
    }
  },
);

// A thread whose last task was cancelled (or moved) before it started skips it and posts nothing:
// the executor, which looks for tasks to move to a thread when that thread's outcomes come in,
// never saw it go idle, and a task queued meanwhile behind another thread's long one waited for it.
test("a thread whose last task was cancelled before it started takes a task queued behind a long one", T, async () => {
  const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
  try {
    const id = (x: number) => x;
    await Promise.all([ex.submit(id, 0), ex.submit(id, 0)]);
    const started = new Event();
    const ev = new Event();
    // Thread 0 (both have none), running.
    const blocked = ex.submit((s: Event, e: Event) => (s.set(), e.wait(20)), started, ev);
    assert.equal(await started.waitAsync(10), true);
    // Thread 1 spins 1 s in a callback its task left: it takes no message meanwhile.
    await holdNextThread(ex, 1000);
    const x = ex.submit(id, 1); // thread 1 (1 task against thread 0's 1 running)
    assert.equal(x.cancel(), true);
    const y = ex.submit(id, 2); // thread 0 (both count 1 until thread 1 skips x), behind `blocked`
    assert.equal(await y, 2);
    // Before, y came only once `blocked` had waited its 20 s out.
    assert.equal(blocked.done(), false, "the task did not wait for the long one");
    ev.set();
    assert.equal(await blocked, true);
  } finally {
    ex.shutdown();
  }
});
