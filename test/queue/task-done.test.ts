// taskDone() on the ring (fifo.ts): DONE on the consumers' line, and each thread's cached count of
// puts, trusted while it says 2 or more tasks are unfinished. A stale cache must never let a
// call too many pass nor skip the wake of the joiners: threads whose caches are made stale by
// other threads' taskDone() calls, by new puts, by shutdown(true)'s discard and by a dead
// holder's recovery.
import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeOnly } from "../child.js";
import { Event, Queue, Thread } from "threading";
import { FIFO_P_LOCK } from "../../dist/internal.js";

const T = { timeout: 60_000 };
/** Kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse: Node only. */
const OOM = {
  ...T,
  ...nodeOnly("kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse"),
};
const hooks = "../fixtures/queue-hooks.ts";

/**
 * A thread that calls taskDone() `counts[k]` times at step k (after `go[k]` is set), recording in
 * `out[k]` the calls that returned and in `out[8 + k]` 1 when the next one threw RangeError
 * ("called too many times"); it sets `went[k]` after each step.
 */
function doneThread(q: Queue<unknown>, counts: number[], go: Event[], went: Event[], out: Int32Array): Thread {
  return new Thread({
    target: (q: Queue<unknown>, counts: number[], go: Event[], went: Event[], out: Int32Array) => {
      for (let k = 0; k < counts.length; k++) {
        go[k]?.wait();
        for (let i = 0; i < (counts[k] as number); i++) {
          try {
            q.taskDone();
            out[k] = (out[k] as number) + 1;
          } catch (e) {
            if ((e as Error).name === "RangeError" && (e as Error).message === "task_done() called too many times")
              out[8 + k] = 1;
            break;
          }
        }
        went[k]?.set();
      }
    },
    args: [q, counts, go, went, out],
  });
}

/**
 * Checks that join() waits while a task is unfinished and returns once `finish` (which finishes
 * the last task) has run: a thread blocked in q.join() and a q.joinAsync() of this thread are both
 * still waiting after a pause, then both return after finish().
 */
async function joinersWaitFor(q: Queue<number>, finish: () => void): Promise<void> {
  let joined = false;
  const joinedAsync = q.joinAsync().then(() => {
    joined = true;
  });
  const joiner = new Thread({ target: (q: Queue<number>) => q.join(), args: [q] });
  joiner.start();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(joined, false, "joinAsync() returned with a task unfinished");
  assert.equal(joiner.isAlive(), true, "join() returned with a task unfinished");
  finish();
  joiner.join(30);
  assert.equal(joiner.isAlive(), false, "join() returned");
  await joinedAsync;
}

function steps(n: number): Event[] {
  return Array.from({ length: n }, () => new Event());
}

test(
  "taskDone() across threads: a stale cache of the puts neither passes a call too many nor skips join()",
  T,
  async () => {
    const q = new Queue<number>();
    for (let i = 0; i < 10; i++) q.put(i);
    const go = steps(4);
    const went = steps(4);
    const out = new Int32Array(new SharedArrayBuffer(64));
    // step 0: 3 calls (caches 10 puts); step 1: 2 calls (cached 10 - 9 done says 1: reloads, wakes
    // the joiners, then the next is too many); step 2: after 5 more puts, 6 calls (the 6th too
    // many); step 3: after shutdown(true) discarded 4 of 4 unfinished, 1 call (too many)
    const t = doneThread(q, [3, 2, 6, 1], go, went, out);
    t.start();
    go[0]?.set();
    went[0]?.wait();
    assert.equal(out[0], 3);
    for (let i = 0; i < 6; i++) q.taskDone(); // 9 done: 1 unfinished
    await joinersWaitFor(q, () => {
      go[1]?.set();
      went[1]?.wait();
      assert.equal(out[1], 1);
      assert.equal(out[9], 1, "the call too many threw RangeError");
    });
    assert.throws(() => q.taskDone(), { name: "RangeError", message: "task_done() called too many times" });
    for (let i = 0; i < 5; i++) q.put(i);
    go[2]?.set();
    went[2]?.wait();
    assert.equal(out[2], 5);
    assert.equal(out[10], 1);
    q.join();
    for (let i = 0; i < 6; i++) q.put(i);
    q.taskDone();
    q.taskDone(); // 4 unfinished, discarded: DONE jumps past the thread's cache
    q.shutdown(true);
    q.join();
    go[3]?.set();
    went[3]?.wait();
    assert.equal(out[3], 0);
    assert.equal(out[11], 1);
    t.join(30);
    assert.equal(t.isAlive(), false);
  },
);

test(
  "many producers and consumers with get() + taskDone(): join() waits for the last task, then every extra call throws",
  T,
  async () => {
    const q = new Queue<number>(64);
    const n = 20_000;
    const threads: Thread[] = [];
    for (let p = 0; p < 2; p++)
      threads.push(
        new Thread({
          target: (q: Queue<number>, n: number) => {
            for (let i = 0; i < n; i++) q.put(i);
          },
          args: [q, n],
        }),
        new Thread({
          target: (q: Queue<number>, n: number) => {
            for (let i = 0; i < n; i++) {
              q.get();
              q.taskDone();
            }
          },
          args: [q, n],
        }),
      );
    for (const t of threads) t.start();
    q.join();
    for (const t of threads) {
      t.join(30);
      assert.equal(t.isAlive(), false);
    }
    const out = new Int32Array(new SharedArrayBuffer(64));
    const t = doneThread(q as Queue<unknown>, [1], [], [], out);
    t.start();
    t.join(30);
    assert.equal(out[0], 0);
    assert.equal(out[8], 1, "a call too many in a thread throws RangeError");
    assert.throws(() => q.taskDone(), RangeError);
  },
);

test("taskDone() and join() after a dead holder's recovery: its complete put counts as a task", OOM, async () => {
  const q = new Queue<number>();
  q.put(1);
  // a put killed after writing its words, P_LOCK left held
  const s = new Int32Array(new SharedArrayBuffer(4));
  const killed = new Thread({
    target: { module: hooks, export: "dieInside" },
    args: [q, "put", "P", 2, s],
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  });
  killed.start();
  killed.join();
  assert.equal(Atomics.load(s, 0), 1);
  const h = new Int32Array(
    (q as unknown as { [k: symbol]: () => { buffers: SharedArrayBuffer[] } })[Symbol.for("threading.share")].call(q)
      .buffers[0] as SharedArrayBuffer,
  );
  assert.equal(Atomics.load(h, FIFO_P_LOCK) & 1, 1, "P_LOCK is left held");
  const go = steps(2);
  const went = steps(2);
  const out = new Int32Array(new SharedArrayBuffer(64));
  // step 0: 1 call (1 put published so far, or 2 once recovered); step 1: 2 calls, the second too many
  const t = doneThread(q as Queue<unknown>, [1, 2], go, went, out);
  t.start();
  go[0]?.set();
  went[0]?.wait();
  assert.equal(out[0], 1);
  // the get recovers the dead put (published: 2 items, 2 tasks; before, join() would return at
  // once: the one published put is done)
  assert.equal(q.get(), 1);
  assert.equal(q.get(), 2);
  assert.equal(Atomics.load(h, FIFO_P_LOCK) & 1, 0, "P_LOCK recovered");
  await joinersWaitFor(q, () => {
    go[1]?.set();
    went[1]?.wait();
    assert.equal(out[1], 1);
    assert.equal(out[9], 1, "the call too many threw RangeError");
  });
  q.join();
  assert.throws(() => q.taskDone(), RangeError);
  t.join(30);
});
