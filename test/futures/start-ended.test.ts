// A pool thread that ends before the executor has handed it its first task: on a warm worker a
// thread can boot, idle past idleTimeout and retire (or die) while the submitting thread is
// descheduled between the start and the hand-over. A test hook (executorTestHooks.launched) holds
// the executor there, joining the thread, so that this happens in every run, not by luck.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ThreadPoolExecutor } from "threading";
import { executorTestHooks } from "../../dist/internal.js";

const T = { timeout: 60_000 };

/** Holds the first `n` starts until their threads have ended; each entry: that thread had ended. */
function holdStarts(n: number): boolean[] {
  const held: boolean[] = [];
  executorTestHooks.launched = (thread) => {
    if (held.length === n) return;
    thread.join(30); // (generous: the thread has nothing to do but end, within milliseconds)
    held.push(!thread.isAlive());
  };
  return held;
}

for (const maxWorkers of [1, 2]) {
  test(
    `maxWorkers ${maxWorkers}: threads that retire (idleTimeout) before their first task is handed over are forgotten; the task runs on a new thread, and the pool keeps its room`,
    T,
    async () => {
      await using ex = new ThreadPoolExecutor({ maxWorkers, idleTimeout: 0.001 });
      // The first maxWorkers starts: every place of the pool is taken by such a thread.
      const held = holdStarts(maxWorkers);
      try {
        // Before: the thread, found ended as the executor began to watch it, was forgotten before it
        // was listed, then listed dead for good; with every place so taken, this task (and every
        // later one) failed "can't start new thread: " with no reason.
        assert.equal(await ex.submit((x: number) => x + 1, 1), 2);
        assert.deepEqual(held, new Array(maxWorkers).fill(true), "each held start's thread had ended");
        const tasks = [];
        for (let i = 0; i < 20; i++) tasks.push(ex.submit((x: number) => x * 2, i));
        assert.deepEqual(
          await Promise.all(tasks),
          [...new Array(20).keys()].map((i) => i * 2),
        );
        assert.ok(ex.stats().threads <= maxWorkers, `${ex.stats().threads} threads`);
      } finally {
        executorTestHooks.launched = undefined;
      }
    },
  );
}

test("a thread that dies before its first task is handed over: the task runs on a new thread", T, async () => {
  // The first thread's initializer ends it natively (no SystemExit: the thread just ends).
  const first = new Int32Array(new SharedArrayBuffer(4));
  await using ex = new ThreadPoolExecutor({
    maxWorkers: 1,
    initializer: (f: Int32Array) => {
      if (Atomics.add(f, 0, 1) === 0) (process as unknown as { reallyExit(code: number): void }).reallyExit(0);
    },
    initargs: [first],
  });
  const held = holdStarts(1);
  try {
    // Before: it was listed dead and the task queued to it, never sent: its future never settled.
    assert.equal(await ex.submit((x: number) => x + 1, 1), 2);
  } finally {
    executorTestHooks.launched = undefined;
  }
  assert.deepEqual(held, [true]);
  assert.equal(Atomics.load(first, 0), 2, "the initializer ran in the dead thread and in the new one");
});
