// One suite for every queue kind and both engines (issue 12, item 6): Queue and SimpleQueue (the
// two-lock FIFO ring, fifo.ts) and LifoQueue and PriorityQueue (the one-lock engine over a store,
// core.ts), each through its blocking and its async paths. The contract is Python's queue module:
// order, Empty/Full (at once, or after the timeout), a waiter woken by the other side from another
// thread, shutdown, task tracking, and no item lost or taken twice, also when timeouts race puts.
// What only one kind or engine does is tested in the other files of test/queue/.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Empty, Full, LifoQueue, PriorityQueue, Queue, ShutDown, SimpleQueue, sleep, Thread } from "threading";

const T = { timeout: 60_000 };

type Mode = "blocking" | "async";
type AnyQueue = Queue<number> | SimpleQueue<number>;

interface Kind {
  name: string;
  engine: "fifo" | "locked";
  make: (maxsize?: number) => AnyQueue;
  /** The order of 3, 1, 2 put in that order. */
  order: number[];
  bounded: boolean;
  /** shutdown(), taskDone()/join() (Python 3.13's Queue; SimpleQueue has neither). */
  full: boolean;
}

const kinds: Kind[] = [
  { name: "Queue", engine: "fifo", make: (m) => new Queue<number>(m), order: [3, 1, 2], bounded: true, full: true },
  {
    name: "SimpleQueue",
    engine: "fifo",
    make: () => new SimpleQueue<number>(),
    order: [3, 1, 2],
    bounded: false,
    full: false,
  },
  {
    name: "LifoQueue",
    engine: "locked",
    make: (m) => new LifoQueue<number>(m),
    order: [2, 1, 3],
    bounded: true,
    full: true,
  },
  {
    name: "PriorityQueue",
    engine: "locked",
    make: (m) => new PriorityQueue<number>(m),
    order: [1, 2, 3],
    bounded: true,
    full: true,
  },
];

/** get in the form of `mode`, with a timeout in seconds (undefined = forever). */
function get(q: AnyQueue, mode: Mode, timeout?: number): number | Promise<number> {
  return mode === "blocking" ? q.get(true, timeout) : q.getAsync(timeout);
}

/** put in the form of `mode` (SimpleQueue has no putAsync: its put never blocks). */
function put(q: AnyQueue, mode: Mode, item: number, timeout?: number): void | Promise<void> {
  if (mode === "async" && q instanceof Queue) return q.putAsync(item, timeout);
  q.put(item, true, timeout);
}

/** Runs `fn` (sync or async) and returns what it threw or rejected with. */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  assert.fail("expected an error");
}

for (const kind of kinds) {
  for (const mode of ["blocking", "async"] as Mode[]) {
    const name = `${kind.name} (${kind.engine} engine), ${mode}`;

    test(`${name}: items come out in the kind's order; qsize/empty follow`, T, async () => {
      const q = kind.make();
      assert.equal(q.empty(), true);
      for (const item of [3, 1, 2]) await put(q, mode, item);
      assert.equal(q.qsize(), 3);
      const out = [];
      for (let i = 0; i < 3; i++) out.push(await get(q, mode));
      assert.deepEqual(out, kind.order);
      assert.equal(q.empty(), true);
    });

    test(
      `${name}: get on an empty queue is Empty at once without blocking, after the timeout with one`,
      T,
      async () => {
        const q = kind.make();
        assert.throws(() => q.get(false), Empty);
        assert.throws(() => q.getNowait(), Empty);
        const t0 = performance.now();
        const e = await failure(() => get(q, mode, 0.05));
        assert.ok(e instanceof Empty, String(e));
        assert.ok(performance.now() - t0 >= 45, "it waited the timeout");
      },
    );

    if (kind.bounded) {
      test(`${name}: put on a full queue is Full at once without blocking, after the timeout with one`, T, async () => {
        const q = kind.make(1) as Queue<number>;
        await put(q, mode, 1);
        assert.equal(q.full(), true);
        assert.throws(() => q.put(2, false), Full);
        assert.throws(() => q.putNowait(2), Full);
        const t0 = performance.now();
        const e = await failure(() => put(q, mode, 2, 0.05));
        assert.ok(e instanceof Full, String(e));
        assert.ok(performance.now() - t0 >= 45, "it waited the timeout");
        assert.equal(q.qsize(), 1, "nothing was stored");
      });

      test(`${name}: a putter waiting on a full queue is woken by a get in another thread`, T, async () => {
        const q = kind.make(1) as Queue<number>;
        q.put(1);
        const t = new Thread({
          target: (qq: Queue<number>) => {
            sleep(0.05);
            qq.get();
          },
          args: [q],
        });
        t.start();
        await put(q, mode, 2, 30);
        t.join();
        assert.equal(q.get(false), 2);
      });
    }

    test(`${name}: a getter waiting here is woken by a put in another thread`, T, async () => {
      const q = kind.make();
      const t = new Thread({
        target: (qq: Queue<number>) => {
          sleep(0.05);
          qq.put(7);
        },
        args: [q],
      });
      t.start();
      assert.equal(await get(q, mode, 30), 7);
      t.join();
    });

    test(`${name}: a getter waiting in another thread is woken by a put here`, T, async () => {
      const q = kind.make();
      const got = new Int32Array(new SharedArrayBuffer(4));
      const t = new Thread({
        target: async (qq: Queue<number>, m: Mode, g: Int32Array) => {
          g[0] = m === "blocking" ? qq.get(true, 30) : await qq.getAsync(30);
        },
        args: [q, mode, got],
      });
      t.start();
      sleep(0.05);
      q.put(9);
      await t.joinAsync();
      assert.equal(got[0], 9);
    });

    test(`${name}: producers and consumers in threads move every item exactly once`, T, async () => {
      const n = 2000;
      const q = kind.make(kind.bounded ? 4 : undefined);
      const sums = new Float64Array(new SharedArrayBuffer(16));
      const producers = [0, 1].map(
        (p) =>
          new Thread({
            target: async (qq: Queue<number>, m: Mode, from: number, count: number) => {
              for (let i = from; i < from + count; i++) {
                if (m === "async" && typeof qq.putAsync === "function") await qq.putAsync(i);
                else qq.put(i);
              }
            },
            args: [q, mode, 1 + p * n, n],
          }),
      );
      const consumers = [0, 1].map(
        (c) =>
          new Thread({
            target: async (qq: Queue<number>, m: Mode, count: number, out: Float64Array, at: number) => {
              let sum = 0;
              for (let i = 0; i < count; i++) sum += m === "blocking" ? qq.get() : await qq.getAsync();
              out[at] = sum;
            },
            args: [q, mode, n, sums, c],
          }),
      );
      for (const t of [...consumers, ...producers]) t.start();
      for (const t of [...producers, ...consumers]) t.join();
      const total = 2 * n;
      assert.equal((sums[0] as number) + (sums[1] as number), (total * (total + 1)) / 2);
      assert.equal(q.qsize(), 0);
    });

    test(`${name}: gets whose timeouts race puts lose no item`, T, async () => {
      const q = kind.make();
      const rounds = 100;
      const t = new Thread({
        target: (qq: Queue<number>, r: number) => {
          for (let i = 0; i < r; i++) {
            const until = performance.now() + Math.random() * 2;
            while (performance.now() < until);
            qq.put(i);
          }
        },
        args: [q, rounds],
      });
      t.start();
      let got = 0;
      let timedOut = 0;
      while (got < rounds) {
        try {
          await get(q, mode, 0.001);
          got++;
        } catch (e) {
          assert.ok(e instanceof Empty, String(e));
          timedOut++;
        }
      }
      t.join();
      assert.equal(got, rounds);
      assert.equal(q.qsize(), 0, `no item left behind (${timedOut} gets timed out)`);
    });

    if (kind.full) {
      test(`${name}: shutdown wakes a waiting getter with ShutDown; later puts are ShutDown`, T, async () => {
        const q = kind.make() as Queue<number>;
        const t = new Thread({
          target: (qq: Queue<number>) => {
            sleep(0.05);
            qq.shutdown();
          },
          args: [q],
        });
        t.start();
        const e = await failure(() => get(q, mode, 30));
        t.join();
        assert.ok(e instanceof ShutDown, String(e));
        assert.ok((await failure(() => put(q, mode, 1))) instanceof ShutDown);
      });

      test(`${name}: shutdown wakes a putter waiting on a full queue with ShutDown`, T, async () => {
        const q = kind.make(1) as Queue<number>;
        q.put(1);
        const t = new Thread({
          target: (qq: Queue<number>) => {
            sleep(0.05);
            qq.shutdown();
          },
          args: [q],
        });
        t.start();
        const e = await failure(() => put(q, mode, 2, 30));
        t.join();
        assert.ok(e instanceof ShutDown, String(e));
        assert.equal(q.get(false), 1, "shutdown (not immediate) keeps the items for getters");
      });

      test(`${name}: join waits until every item is done (taskDone in another thread)`, T, async () => {
        const q = kind.make() as Queue<number>;
        for (const i of [1, 2, 3]) q.put(i);
        const t = new Thread({
          target: (qq: Queue<number>) => {
            for (let i = 0; i < 3; i++) {
              qq.get();
              sleep(0.01);
              qq.taskDone();
            }
          },
          args: [q],
        });
        t.start();
        if (mode === "blocking") q.join();
        else await q.joinAsync();
        assert.equal(q.qsize(), 0);
        assert.throws(() => q.taskDone(), RangeError);
        t.join();
      });
    }
  }
}
