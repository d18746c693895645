// Python 3.13 shutdown semantics, for all three queue kinds, plus the async iterator: first
// written from the documentation (3.13 is not installed here), then the ports of CPython's own
// shutdown tests (Lib/test/test_queue.py on main: test_shutdown_*), named after them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Barrier, Empty, Event, LifoQueue, PriorityQueue, Queue, ShutDown, Thread } from "threading";
import { cells, doBlockingTest, doExceptionalBlockingTest, trigger } from "./helpers.js";

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

    for (const immediate of [false, true]) {
      const kind = immediate ? "shutdown(true)" : "shutdown()";

      test(
        `${kind}: every method in one thread (test_shutdown${immediate ? "_immediate" : ""}_all_methods_in_one_thread)`,
        T,
        () => {
          const q = new Q<string>(2);
          q.put("L");
          q.putNowait("O");
          q.shutdown(immediate);
          assert.throws(() => q.put("E"), ShutDown);
          assert.throws(() => q.putNowait("W"), ShutDown);
          if (immediate) {
            assert.throws(() => q.get(), ShutDown);
            assert.throws(() => q.getNowait(), ShutDown);
            assert.throws(() => q.taskDone(), RangeError); // the discarded items counted as done
            q.join();
          } else {
            assert.ok("LO".includes(q.get()));
            q.taskDone();
            assert.ok("LO".includes(q.get()));
            q.taskDone();
            q.join();
            assert.throws(() => q.get(), ShutDown);
            assert.throws(() => q.getNowait(), ShutDown);
            assert.throws(() => q.get(true, 1.0), ShutDown);
          }
        },
      );

      test(`${kind}: getters let go after it (test_shutdown${immediate ? "_immediate" : ""}_get)`, T, () => {
        // A full queue of 2; getters that start once it is shut down: with shutdown() two of three
        // get an item and one ShutDown, with shutdown(true) both get ShutDown.
        const q = new Q<string>(2);
        q.put("Y");
        q.put("D");
        const go = new Event();
        const n = immediate ? 2 : 3;
        const results = cells(n); // 1: got an item, 2: ShutDown
        const threads = Array.from({ length: n }, (_, i) => {
          const t = new Thread({
            target: (q: Queue<string>, go: Event, r: Int32Array, i: number) => {
              go.wait();
              try {
                q.get();
                r[i] = 1;
              } catch (e) {
                r[i] = e instanceof ShutDown ? 2 : 3;
              }
            },
            args: [q, go, results, i],
          });
          t.start();
          return t;
        });
        q.shutdown(immediate);
        go.set();
        for (const t of threads) t.join();
        assert.deepEqual([...results].sort(), immediate ? [2, 2] : [1, 1, 2]);
      });

      test(
        `${kind}: joiners return once every task is done (test_shutdown${immediate ? "_immediate" : ""}_join)`,
        T,
        () => {
          const q = new Q<string>();
          q.put("Y");
          const go = new Event();
          const done = cells(4); // [joiner 0, joiner 1, getter got + taskDone, getter ShutDown]
          const threads: Thread[] = [];
          for (const i of [0, 1]) {
            threads.push(
              new Thread({
                target: (q: Queue<string>, d: Int32Array, i: number) => {
                  q.join();
                  d[i] = 1;
                },
                args: [q, done, i],
              }),
            );
          }
          if (!immediate) {
            threads.push(
              new Thread({
                target: (q: Queue<string>, go: Event, d: Int32Array) => {
                  go.wait();
                  try {
                    q.get();
                    q.taskDone();
                    d[2] = 1;
                  } catch {
                    d[3] = 1;
                  }
                },
                args: [q, go, done],
              }),
            );
          }
          for (const t of threads) t.start();
          q.shutdown(immediate);
          go.set();
          for (const t of threads) t.join();
          assert.deepEqual([...done], immediate ? [1, 1, 0, 0] : [1, 1, 1, 0]);
        },
      );

      test(`${kind}: a blocked putter and a joiner (test_shutdown${immediate ? "_immediate" : ""}_put_join)`, T, () => {
        const q = new Q<string>(2);
        q.put("Y");
        const go = new Event();
        const r = cells(2); // [putter: 2 = ShutDown, joiner returned]
        const putter = new Thread({
          target: (q: Queue<string>, go: Event, r: Int32Array) => {
            go.wait();
            try {
              q.put("E");
              r[0] = 1;
            } catch (e) {
              r[0] = e instanceof ShutDown ? 2 : 3;
            }
          },
          args: [q, go, r],
        });
        const joiner = new Thread({
          target: (q: Queue<string>, r: Int32Array) => {
            q.join();
            r[1] = 1;
          },
          args: [q, r],
        });
        putter.start();
        joiner.start();
        assert.equal(q.unfinishedTasks, 1);
        q.shutdown(immediate);
        go.set();
        if (immediate) assert.throws(() => q.getNowait(), ShutDown);
        else {
          assert.equal(q.get(), "Y");
          q.taskDone();
        }
        putter.join();
        joiner.join();
        assert.deepEqual([...r], [2, 1]);
      });

      test(`${kind} under load: 4 writers, 6 readers${immediate ? ", 2 joiners" : ""} (test_shutdown${immediate ? "_immediate" : ""}_all_methods_in_many_threads)`, {
        timeout: 120_000,
      }, () => {
        const q = new Q<[number, string]>();
        const writers = 4;
        const readers = 6;
        const joiners = immediate ? 2 : 0;
        const perWriter = 4096;
        const when = perWriter / 2;
        const barrier = new Barrier(writers + readers + joiners);
        const shutdownNow = new Event();
        // [writers that triggered the shutdown, writers stopped by ShutDown, readers that saw ShutDown,
        //  shutdown(): qsize() was 0 after it, joiners returned, unexpected errors]
        const r = cells(6);
        const threads: Thread[] = [];
        for (let w = 0; w < writers; w++) {
          threads.push(
            new Thread({
              target: (q: Queue<[number, string]>, n: number, when: number, ev: Event, b: Barrier, r: Int32Array) => {
                for (let i = 0; i < when / 2; i++) q.put([i, "LOYD"]);
                b.wait();
                for (let i = when / 2; i < n; i++) {
                  try {
                    q.put([i, "YDLO"]);
                  } catch (e) {
                    Atomics.add(r, e instanceof ShutDown ? 1 : 5, 1);
                    break;
                  }
                  // the first writer here triggers the shutdown (an Event is no test-and-set:
                  // one more may count itself, as in CPython's test)
                  if (i === when && !ev.isSet()) {
                    ev.set();
                    Atomics.add(r, 0, 1);
                  }
                }
              },
              args: [q, perWriter, when, shutdownNow, barrier, r],
            }),
          );
        }
        for (let k = 0; k < readers; k++) {
          threads.push(
            new Thread({
              target: (q: Queue<[number, string]>, b: Barrier, r: Int32Array) => {
                q.get(true);
                q.taskDone();
                b.wait();
                for (;;) {
                  try {
                    q.get(false);
                    q.taskDone();
                  } catch (e) {
                    if (e instanceof ShutDown) {
                      Atomics.add(r, 2, 1);
                      break;
                    }
                    if (!(e instanceof Empty)) {
                      Atomics.add(r, 5, 1);
                      break;
                    }
                  }
                }
              },
              args: [q, barrier, r],
            }),
          );
        }
        threads.push(
          new Thread({
            target: (q: Queue<[number, string]>, ev: Event, immediate: boolean, r: Int32Array) => {
              ev.wait();
              q.shutdown(immediate);
              if (q.qsize() === 0) Atomics.add(r, 3, 1);
            },
            args: [q, shutdownNow, immediate, r],
          }),
        );
        for (let j = 0; j < joiners; j++) {
          threads.push(
            new Thread({
              target: (q: Queue<[number, string]>, b: Barrier, r: Int32Array) => {
                b.wait();
                q.join();
                Atomics.add(r, 4, 1);
              },
              args: [q, barrier, r],
            }),
          );
        }
        for (const t of threads) t.start();
        for (const t of threads) t.join();
        assert.ok((r[0] as number) >= 1, "a writer triggered the shutdown");
        assert.equal(r[2], readers, "every reader saw ShutDown");
        assert.equal(r[5], 0, "no other error");
        if (immediate) {
          assert.equal(r[3], 1, "the queue was empty right after shutdown(true)");
          assert.equal(r[4], joiners);
          assert.equal(q.empty(), true);
        }
      });
    }

    test("getters and joiners across a shutdown() (test_shutdown_get_task_done_join)", T, () => {
      const q = new Q<string>(2);
      q.put("Y");
      q.put("D");
      assert.equal(q.unfinishedTasks, q.qsize());
      const go = new Event();
      const r = cells(4);
      const threads = [0, 1].map(
        (i) =>
          new Thread({
            target: (q: Queue<string>, go: Event, r: Int32Array, i: number) => {
              go.wait();
              try {
                q.get();
                q.taskDone();
                r[i] = 1;
              } catch {
                r[i] = 2;
              }
            },
            args: [q, go, r, i],
          }),
      );
      for (const i of [2, 3]) {
        threads.push(
          new Thread({
            target: (q: Queue<string>, r: Int32Array, i: number) => {
              q.join();
              r[i] = 1;
            },
            args: [q, r, i],
          }),
        );
      }
      for (const t of threads) t.start();
      go.set();
      q.shutdown(false);
      for (const t of threads) t.join();
      assert.deepEqual([...r], [1, 1, 1, 1]);
    });

    test("a getter blocked on an empty queue gets ShutDown from shutdown() (test_shutdown_pending_get)", T, () => {
      const q = new Q<string>();
      const r = cells(1);
      const t = new Thread({
        target: (q: Queue<string>, r: Int32Array) => {
          try {
            q.get();
            r[0] = 1;
          } catch (e) {
            r[0] = e instanceof ShutDown ? 2 : 3;
          }
        },
        args: [q, r],
      });
      t.start();
      q.shutdown(false);
      t.join(10);
      assert.equal(t.isAlive(), false);
      assert.equal(r[0], 2);
    });
  });
}
