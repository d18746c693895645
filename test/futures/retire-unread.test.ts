// Pool threads whose last outcome cannot be read yet, once they have ended. It cannot be read when
// it was taken off the port for a "message" event that has not run (Deno does that before the event
// runs; on Node a done callback run for an earlier outcome of the same message can submit): it comes
// with that event only. A test hook (executorTestHooks.unread) makes the executor see it so, in every
// run.
// - A thread that retired (idleTimeout) so: the executor keeps it listed until the outcome comes
//   (#check), but it runs no task any more and must not take a place of maxWorkers.
// - A thread that ended so at a shutdownAsync(): it waits for that event, which runs.
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
      // A second thread was started for it; a third only when that one, just booted, went idle past
      // its 1 ms idleTimeout and retired before it was handed the task (executor.ts #enqueue: the
      // task is assigned again; seen once in a loaded CI run).
      assert.ok(threads.length >= 2, "a second thread was started for it");
      assert.equal(await first, 2);
    } finally {
      executorTestHooks.launched = undefined;
      executorTestHooks.unread = undefined;
    }
  },
);

test(
  "shutdownAsync() once a thread has ended whose last outcome cannot be read yet: the outcome's event runs, and its task succeeds",
  T,
  async () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const threads: Thread<unknown[]>[] = [];
    executorTestHooks.launched = (thread) => threads.push(thread);
    try {
      const f = ex.submit((x: number) => x + 1, 1);
      const thread = threads[0] as Thread<unknown[]>;
      const name = thread.name;
      executorTestHooks.unread = (n) => n === name;
      ex.shutdown(false);
      // Blocking, so that no event of this thread runs: the pool thread runs the task, posts its
      // outcome, takes its stop and ends; the outcome waits on the port for its event.
      thread.join(30);
      assert.equal(thread.isAlive(), false, "the pool thread has ended");
      // Before: the thread, joined at once, stayed listed until its outcome came, and shutdownAsync()
      // looped in microtasks, so that the event never ran before the grace (2 s) ran out: the task
      // failed "pool thread ThreadPoolExecutor-N_0 ended abruptly" (Deno, test_cancel_futures).
      await ex.shutdownAsync();
      assert.equal(f.done(), true);
      assert.equal(await f, 2);
      assert.equal(threads.length, 1);
    } finally {
      executorTestHooks.launched = undefined;
      executorTestHooks.unread = undefined;
    }
  },
);
