// Queue, LifoQueue, PriorityQueue after CPython's test_queue.py (BaseQueueTestMixin,
// QueueTest/LifoQueueTest/PriorityQueueTest, the failing-queue idea as "items that cannot cross"),
// plus the async twins and what crosses between threads.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Empty, Full, LifoQueue, Lock, PriorityQueue, Queue, Thread } from "threading";
import { doBlockingTest, doBlockingTestAsync, trigger } from "./helpers.js";

const T = { timeout: 30_000 };
const QUEUE_SIZE = 5;
type AnyQueue = Queue<number | string>;
const kinds = [
  ["Queue", Queue, [111, 333, 222]],
  ["LifoQueue", LifoQueue, [222, 333, 111]],
  ["PriorityQueue", PriorityQueue, [111, 222, 333]],
] as const;

const qfull = (q: AnyQueue) => q.maxsize > 0 && q.qsize() === q.maxsize;

function basicQueueTest(q: AnyQueue, order: readonly number[]): void {
  assert.equal(q.qsize(), 0, "call with an empty queue");
  assert.ok(q.empty());
  assert.ok(!q.full());
  q.put(111);
  q.put(333);
  q.put(222);
  assert.deepEqual([q.get(), q.get(), q.get()], order, "Didn't seem to queue the correct data!");
  for (let i = 0; i < QUEUE_SIZE - 1; i++) {
    q.put(i);
    assert.ok(q.qsize(), "Queue should not be empty");
  }
  assert.ok(!qfull(q), "Queue should not be full");
  const last = 2 * QUEUE_SIZE;
  const full = 3 * 2 * QUEUE_SIZE;
  q.put(last);
  assert.ok(qfull(q), "Queue should be full");
  assert.ok(!q.empty());
  assert.ok(q.full());
  assert.throws(() => q.put(full, false), Full);
  assert.throws(() => q.put(full, true, 0.01), Full);
  // blocking puts, released by a get in another thread
  doBlockingTest(() => q.put(full), q, { op: "get" });
  doBlockingTest(() => q.put(full, true, 10), q, { op: "get" });
  for (let i = 0; i < QUEUE_SIZE; i++) q.get();
  assert.ok(!q.qsize(), "Queue should be empty");
  assert.throws(() => q.get(false), Empty);
  assert.throws(() => q.get(true, 0.01), Empty);
  assert.equal(
    doBlockingTest(() => q.get(), q, { op: "put", item: "empty" }),
    "empty",
  );
  assert.equal(
    doBlockingTest(() => q.get(true, 10), q, { op: "put", item: "empty" }),
    "empty",
  );
}

function queueJoinTest(q: Queue<number>): void {
  const cum = new Float64Array(new SharedArrayBuffer(8));
  const lock = new Lock();
  const threads = [0, 1].map(
    () =>
      new Thread({
        target: (q: Queue<number>, cum: Float64Array, lock: Lock) => {
          for (;;) {
            const x = q.get();
            if (x < 0) {
              q.taskDone();
              return;
            }
            lock.acquire();
            cum[0] = (cum[0] as number) + x;
            lock.release();
            q.taskDone();
          }
        },
        args: [q, cum, lock],
      }),
  );
  for (const t of threads) t.start();
  for (let i = 0; i < 100; i++) q.put(i);
  q.join();
  assert.equal(cum[0], (99 * 100) / 2, "q.join() did not block until all tasks were done");
  for (const _ of threads) q.put(-1);
  q.join(); // join twice
  for (const t of threads) t.join();
}

for (const [name, Q, order] of kinds) {
  describe(name, () => {
    test("basic, twice on the same instance", T, () => {
      const q = new Q<number | string>(QUEUE_SIZE);
      basicQueueTest(q, order);
      basicQueueTest(q, order);
    });

    test("taskDone too often is RangeError", T, () => {
      const q = new Q();
      assert.throws(() => q.taskDone(), { name: "RangeError", message: "task_done() called too many times" });
    });

    test("join waits for every taskDone, twice", T, () => {
      const q = new Q<number>();
      queueJoinTest(q);
      queueJoinTest(q);
      assert.throws(() => q.taskDone(), RangeError);
    });

    test("negative timeout is RangeError", T, () => {
      const q = new Q(QUEUE_SIZE);
      assert.throws(() => q.put(1, true, -1), RangeError);
      assert.throws(() => q.get(true, -1), RangeError);
      assert.throws(() => q.get(true, Number.NaN), RangeError);
      assert.equal(q.qsize(), 0);
    });

    test("nowait", T, () => {
      const q = new Q(QUEUE_SIZE);
      for (let i = 0; i < QUEUE_SIZE; i++) q.putNowait(1);
      assert.throws(() => q.putNowait(1), Full);
      for (let i = 0; i < QUEUE_SIZE; i++) q.getNowait();
      assert.throws(() => q.getNowait(), Empty);
    });

    test("shrinking queue (bpo-10110)", T, () => {
      const q = new Q(3);
      q.put(1);
      q.put(2);
      q.put(3);
      assert.throws(() => q.putNowait(4), Full);
      assert.equal(q.qsize(), 3);
      q.maxsize = 2;
      assert.throws(() => q.putNowait(4), Full);
    });

    test("maxsize is reported as given (1.5, -1, Infinity), as CPython keeps it; 1.5 holds 2 items", T, () => {
      // CPython: full() is `0 < maxsize <= qsize()`, put blocks while `qsize() >= maxsize`.
      const q = new Q<number>(1.5);
      assert.equal(q.maxsize, 1.5);
      q.putNowait(1);
      assert.ok(!q.full());
      q.putNowait(2);
      assert.ok(q.full());
      assert.throws(() => q.putNowait(3), Full);
      // in another thread too (the shared control block holds it)
      const seen = new Int32Array(new SharedArrayBuffer(8));
      const t = new Thread({
        target: (q: Queue<number>, seen: Int32Array) => {
          seen[0] = q.maxsize === 1.5 ? 1 : 2;
          q.maxsize = -1;
        },
        args: [q, seen],
      });
      t.start();
      t.join();
      assert.equal(seen[0], 1);
      assert.equal(q.maxsize, -1, "set in the thread, seen here");
      assert.ok(!q.full());
      q.putNowait(3);
      assert.equal(new Q(-3).maxsize, -3);
      assert.equal(new Q(Number.POSITIVE_INFINITY).maxsize, Number.POSITIVE_INFINITY);
      assert.equal(new Q().maxsize, 0);
      const u = new Q<number>(Number.POSITIVE_INFINITY);
      for (let i = 0; i < 100; i++) u.putNowait(i);
      assert.ok(!u.full());
    });

    test("async twins: putAsync/getAsync block and are released by another thread; joinAsync", T, async () => {
      const q = new Q<number | string>(1);
      await q.putAsync(7);
      await assert.rejects(q.putAsync(8, 0.01), Full);
      await doBlockingTestAsync(() => q.putAsync(9), q, { op: "get" });
      assert.equal(await q.getAsync(), 9);
      await assert.rejects(q.getAsync(0.01), Empty);
      assert.equal(await doBlockingTestAsync(() => q.getAsync(), q, { op: "put", item: "x" }), "x");
      await assert.rejects(q.getAsync(-1), RangeError); // rejected, not thrown
      // two puts so far were taken without taskDone, plus the one from the trigger thread
      const { thread } = trigger(q, { op: "taskDone" });
      q.taskDone();
      q.taskDone();
      await q.joinAsync();
      thread.join();
    });

    test("items keep their value; an item that cannot cross is a TypeError and the queue is unchanged", T, () => {
      const q = new Q<unknown>();
      if (name === "PriorityQueue") return; // ordering of mixed items is tested in priority.test.ts
      const items = [
        0,
        -0.5,
        Number.NaN,
        "",
        "héllo 😀",
        "x".repeat(40_000),
        null,
        undefined,
        true,
        false,
        12n,
        { a: [1, { b: new Map([[1, 2]]) }] },
        [1, "a"],
        new Date(0),
      ];
      for (const x of items) q.put(x);
      assert.throws(() => q.put({ f: () => 1 }), { name: "TypeError", message: /item\.f/ });
      assert.throws(() => q.put(Symbol("s")), TypeError);
      assert.equal(q.qsize(), items.length);
      const got = items.map(() => q.get());
      assert.deepEqual(name === "LifoQueue" ? got.reverse() : got, items);
    });
  });
}

test("shared objects cross as themselves: Lock, a Queue, typed arrays over shared memory", T, () => {
  const q = new Queue<unknown>();
  const inner = new LifoQueue<string>();
  const lock = new Lock();
  const arr = new Int32Array(new SharedArrayBuffer(16));
  q.put({ lock, inner, arr });
  const t = new Thread({
    target: (q: Queue<{ lock: Lock; inner: LifoQueue<string>; arr: Int32Array }>) => {
      const { lock, inner, arr } = q.get();
      lock.acquire();
      inner.put("from thread");
      arr[1] = 42;
      q.put({ lock, inner, arr });
    },
    args: [q],
  });
  t.start();
  t.join();
  const back = q.get() as { lock: Lock; inner: LifoQueue<string>; arr: Int32Array };
  assert.equal(back.lock, lock);
  assert.equal(back.inner, inner);
  assert.ok(lock.locked());
  assert.equal(inner.get(), "from thread");
  assert.equal(arr[1], 42);
  assert.equal(back.arr[1], 42);
  back.arr[2] = 7;
  assert.equal(arr[2], 7, "the typed array is over the same memory");
});

test("a 10 MB item and a million small items", T, () => {
  const q = new Queue<unknown>();
  const big = new Uint8Array(10 * 1024 * 1024).map((_, i) => i & 255);
  q.put(big);
  q.put("tail");
  const got = q.get() as Uint8Array;
  assert.equal(got.length, big.length);
  assert.equal(got[123_457], 123_457 & 255);
  assert.equal(q.get(), "tail");
  const n = 1_000_000;
  for (let i = 0; i < n; i++) q.put(i);
  assert.equal(q.qsize(), n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += q.get() as number;
  assert.equal(sum, (n * (n - 1)) / 2);
  assert.ok(q.empty());
});

test("the FIFO ring wraps and grows while items are in flight, in order", T, () => {
  const q = new Queue<string>();
  let next = 0;
  let want = 0;
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < 50 + round * 3; i++) q.put(`${next++}`.padEnd((next * 37) % 900, "."));
    for (let i = 0; i < 40 + round * 2; i++) assert.equal(q.get(), `${want++}`.padEnd((want * 37) % 900, "."));
  }
  while (!q.empty()) assert.equal(q.get(), `${want++}`.padEnd((want * 37) % 900, "."));
  assert.equal(want, next);
});

test("a thread that dies while waiting in getAsync leaves the queue working", T, () => {
  const q = new Queue<number>();
  const t = new Thread({
    target: async (q: Queue<number>) => {
      setTimeout(() => process.exit(0), 100);
      await q.getAsync();
    },
    args: [q],
  });
  t.start();
  t.join();
  q.put(1);
  assert.equal(q.get(), 1);
  const getter = new Thread({ target: (q: Queue<number>) => q.put(q.get() + 1), args: [q] });
  getter.start();
  q.put(41);
  getter.join();
  assert.equal(q.get(), 42);
});

test(
  "Empty and Full say the timeout as given (0.00071 s, 1e-9 s), not as seconds -> ms -> seconds made it",
  T,
  async () => {
    // Before: "the queue is still empty after 0.0007099999999999999 s", "... after 1.0000000000000003e-9 s".
    const q = new Queue<number>(1);
    assert.throws(() => q.get(true, 0.00071), {
      name: "Empty",
      message: "Queue.get(): the queue is still empty after 0.00071 s",
    });
    assert.throws(() => q.get(true, 1e-9), { message: "Queue.get(): the queue is still empty after 1e-9 s" });
    await assert.rejects(q.getAsync(0.00142), {
      message: "Queue.getAsync(): the queue is still empty after 0.00142 s",
    });
    q.put(1);
    assert.throws(() => q.put(2, true, 0.00105), {
      name: "Full",
      message: "Queue.put(): the queue is still full after 0.00105 s",
    });
  },
);

test("a bad maxsize names the class (and the setter) that was given it", T, () => {
  for (const Q of [Queue, LifoQueue, PriorityQueue]) {
    // A subclass's error named Queue(), and null read "not object".
    assert.throws(() => new Q("2" as never), {
      name: "TypeError",
      message: `${Q.name}(): maxsize must be a number, not string`,
    });
    assert.throws(() => new Q(null as never), {
      name: "TypeError",
      message: `${Q.name}(): maxsize must be a number, not null`,
    });
    assert.throws(() => new Q(Number.NaN), {
      name: "RangeError",
      message: `${Q.name}(): maxsize must be a number, not NaN`,
    });
    const q = new Q(2);
    assert.throws(
      () => {
        q.maxsize = "3" as never;
      },
      { name: "TypeError", message: `${Q.name}.maxsize: maxsize must be a number, not string` },
    );
    assert.equal(q.maxsize, 2, "the bound is as before");
  }
});
