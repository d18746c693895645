// A pool thread that retired (idleTimeout) while its last outcome cannot be read yet: the executor
// keeps it listed until the outcome comes (#check), but it runs no task any more and must not take
// a place of maxWorkers. The outcome cannot be read when it was taken off the port for a "message"
// event that has not run (Deno does that before the event runs; on Node a done callback run for
// an earlier outcome of the same message can submit). A test hook (executorTestHooks.unread) makes
// the executor see it so, in every run.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Thread } from "threading";
import { ThreadPoolExecutor } from "threading";
import { executorTestHooks } from "../../dist/internal.js";

const T = { timeout: 60_000 };

test(
  "a retired thread whose last outcome cannot be read yet takes no place of maxWorkers: a task submitted then runs on a new thread",
  T,
  async () => {
    await using ex = new ThreadPoolExecutor({ maxWorkers: 1, idleTimeout: 0.001 });
    const threads: Thread<unknown[]>[] = [];
    executorTestHooks.launched = (thread) => threads.push(thread);
    try {
      const first = ex.submit((x: number) => x + 1, 1);
      // Blocking, so that no event of this thread runs: the pool thread runs the task, posts its
      // outcome, retires 1 ms later and ends; the outcome waits on the port, unread.
      (threads[0] as Thread<unknown[]>).join(30);
      assert.equal((threads[0] as Thread<unknown[]>).isAlive(), false, "the first pool thread has ended");
      const name = (threads[0] as Thread<unknown[]>).name;
      executorTestHooks.unread = (n) => n === name;
      // Before: the retired thread, its outcome unread, was left listed and counted: no thread, no
      // room, and the task failed "can't start new thread: " with no reason.
      const second = ex.submit((x: number) => x + 1, 2);
      executorTestHooks.unread = undefined;
      assert.equal(await second, 3);
      assert.equal(threads.length, 2, "a second thread was started for it");
      assert.equal(await first, 2);
    } finally {
      executorTestHooks.launched = undefined;
      executorTestHooks.unread = undefined;
    }
  },
);
