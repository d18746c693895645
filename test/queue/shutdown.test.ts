// Python 3.13 shutdown semantics (test_queue's shutdown tests, written from the documentation:
// 3.13 is not installed here), for all three queue kinds, plus the async iterator.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LifoQueue, PriorityQueue, Queue, ShutDown, Thread } from "threading";
import { doBlockingTest, doExceptionalBlockingTest, trigger } from "./helpers.js";

const T = { timeout: 30_000 };

for (const Q of [Queue, LifoQueue, PriorityQueue]) {
  describe(`${Q.name} shutdown`, () => {
    test("an empty queue: put and get throw ShutDown (also putNowait/getNowait and the async twins)", T, async () => {
      const q = new Q<number>();
      q.shutdown();
      assert.throws(() => q.put(1), ShutDown);
      assert.throws(() => q.putNowait(1), ShutDown);
      assert.throws(() => q.get(), ShutDown);
      assert.throws(() => q.getNowait(), ShutDown);
      assert.throws(() => q.get(true, 0.01), ShutDown);
      await assert.rejects(q.putAsync(1), ShutDown);
      await assert.rejects(q.getAsync(), ShutDown);
      q.join(); // nothing unfinished
      q.shutdown(); // twice is fine
    });

    test("isShutdown (Python 3.13's is_shutdown); shutdown({ immediate }) as Python's keyword", T, () => {
      const q = new Q<number>();
      assert.equal(q.isShutdown, false);
      q.shutdown();
      assert.equal(q.isShutdown, true);
      q.shutdown(true);
      assert.equal(q.isShutdown, true);
      q.shutdown(false);
      const q2 = new Q<number>();
      q2.put(1);
      q2.shutdown({ immediate: false }); // before: any object meant immediate, and the item was discarded
      assert.equal(q2.qsize(), 1);
      assert.equal(q2.get(), 1);
      const q3 = new Q<number>();
      q3.put(1);
      q3.shutdown({ immediate: true });
      assert.equal(q3.qsize(), 0);
      q3.join();
      // @ts-expect-error
      assert.throws(() => q3.shutdown({ immedate: true }), {
        name: "TypeError",
        message: /unexpected option 'immedate'/,
      });
    });

    test(
      "unfinishedTasks (Python's unfinished_tasks, test_shutdown_put_join): puts not yet matched by taskDone(), seen by every thread; shutdown(true) counts the discarded as done",
      T,
      () => {
        for (const maxsize of [0, 2]) {
          const q = new Q<number>(maxsize);
          assert.equal(q.unfinishedTasks, 0);
          q.put(1);
          q.put(2);
          assert.equal(q.unfinishedTasks, 2);
          q.get();
          assert.equal(q.unfinishedTasks, 2, "a get() is no taskDone()");
          q.taskDone();
          assert.equal(q.unfinishedTasks, 1);
          const seen = new Int32Array(new SharedArrayBuffer(4));
          const t = new Thread({
            target: (q: Queue<number>, seen: Int32Array) => {
              seen[0] = q.unfinishedTasks;
              q.get();
              q.taskDone();
            },
            args: [q, seen],
          });
          t.start();
          t.join();
          assert.equal(seen[0], 1);
          assert.equal(q.unfinishedTasks, 0);
          assert.throws(() => q.taskDone(), RangeError);
          assert.equal(q.unfinishedTasks, 0);
          q.put(3);
          q.put(4);
          q.shutdown(true);
          assert.equal(q.unfinishedTasks, 0);
          q.join();
        }
      },
    );

    test("get returns what is left, then throws; join still waits for taskDone", T, () => {
      const q = new Q<number>();
      for (const x of [3, 1, 2]) q.put(x);
      q.shutdown();
      assert.throws(() => q.put(4), ShutDown);
      const got = [q.get(), q.get(), q.get()].sort();
      assert.deepEqual(got, [1, 2, 3]);
      assert.throws(() => q.get(), ShutDown);
      const { thread } = trigger(q, { op: "taskDone" });
      q.taskDone();
      q.taskDone();
      q.join();
      thread.join();
    });

    test("getters already blocked get ShutDown (blocking and async)", T, async () => {
      const q = new Q<number>();
      doExceptionalBlockingTest(() => q.get(), q, { op: "shutdown" }, ShutDown);
      const q2 = new Q<number>();
      const pending = q2.getAsync();
      const { thread } = trigger(q2, { op: "shutdown" });
      await assert.rejects(pending, ShutDown);
      await thread.joinAsync();
      // many getters in threads
      const q3 = new Q<number>();
      const errors = new Int32Array(new SharedArrayBuffer(4));
      const getters = [0, 1, 2].map(
        () =>
          new Thread({
            target: (q: Queue<number>, errors: Int32Array) => {
              try {
                q.get();
              } catch (e) {
                if (e instanceof ShutDown) Atomics.add(errors, 0, 1);
              }
            },
            args: [q3, errors],
          }),
      );
      for (const t of getters) t.start();
      q3.shutdown();
      for (const t of getters) t.join();
      assert.equal(errors[0], 3);
    });

    test("putters already blocked on a full queue get ShutDown", T, async () => {
      const q = new Q<number>(1);
      q.put(1);
      doExceptionalBlockingTest(() => q.put(2), q, { op: "shutdown" }, ShutDown);
      const q2 = new Q<number>(1);
      q2.put(1);
      const pending = q2.putAsync(2);
      const { thread } = trigger(q2, { op: "shutdown" });
      await assert.rejects(pending, ShutDown);
      await thread.joinAsync();
      assert.equal(q2.get(), 1, "the item put before shutdown is still there");
    });

    test("shutdown(true) discards the items, counting each as a taskDone, so join returns", T, () => {
      const q = new Q<number>();
      for (let i = 0; i < 5; i++) q.put(i);
      q.get(); // taken, not done: one unfinished task remains after the discard
      q.shutdown(true);
      assert.equal(q.qsize(), 0);
      assert.ok(q.empty());
      assert.throws(() => q.get(), ShutDown);
      doBlockingTest(() => q.join(), q, { op: "taskDone" });
      assert.throws(() => q.taskDone(), RangeError);
    });

    test("shutdown(true) releases a thread blocked in join()", T, () => {
      const q = new Q<number>();
      q.put(1);
      q.put(2);
      doBlockingTest(() => q.join(), q, { op: "shutdown", immediate: true });
    });

    test("shutdown(true) gives back the shared memory of discarded items", T, () => {
      const q = new Q<unknown>();
      q.put([new Int32Array(new SharedArrayBuffer(8)), "x".repeat(200_000)]);
      q.shutdown(true);
      assert.equal(q.qsize(), 0);
    });

    test("for await gets until shut down and drained, then ends", T, async () => {
      const q = new Q<number>();
      const producer = new Thread({
        target: (q: Queue<number>) => {
          for (let i = 1; i <= 100; i++) q.put(i);
          q.shutdown();
        },
        args: [q],
      });
      producer.start();
      let sum = 0;
      let n = 0;
      for await (const x of q) {
        sum += x;
        n++;
      }
      await producer.joinAsync();
      assert.equal(n, 100);
      assert.equal(sum, 5050);
    });
  });
}
