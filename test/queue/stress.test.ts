// Stress: P producers x C consumers x many items across threads, every item consumed exactly once
// (count, sum, and sum of squares mod 2^32 so the check stays exact at any N), for each queue kind; and fast-check runs of random
// put/get/timeout/taskDone sequences against a sequential model.
// QUEUE_STRESS_N=1000000 (items per producer) runs a bigger stress.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Empty, Full, LifoQueue, PriorityQueue, Queue, ShutDown, SimpleQueue, Thread } from "threading";

const N = Number(process.env.QUEUE_STRESS_N ?? 100_000);

function stress(q: Queue<number> | SimpleQueue<number>, producers: number, consumers: number, n: number): void {
  const totals = new Float64Array(new SharedArrayBuffer(8 * 3 * consumers));
  const threads: Thread[] = [];
  for (let p = 0; p < producers; p++) {
    threads.push(
      new Thread({
        target: (q: Queue<number>, p: number, n: number) => {
          for (let i = 0; i < n; i++) q.put(p * n + i);
        },
        args: [q as Queue<number>, p, n],
      }),
    );
  }
  for (let c = 0; c < consumers; c++) {
    threads.push(
      new Thread({
        target: (q: Queue<number>, totals: Float64Array, c: number) => {
          let count = 0;
          let sum = 0;
          let squares = 0;
          for (;;) {
            let x: number;
            try {
              x = q.get();
            } catch (e) {
              if (e instanceof ShutDown) break;
              throw e;
            }
            if (x < 0) break;
            count++;
            sum += x;
            squares = (squares + Math.imul(x, x)) >>> 0;
          }
          totals[3 * c] = count;
          totals[3 * c + 1] = sum;
          totals[3 * c + 2] = squares;
        },
        args: [q as Queue<number>, totals, c],
      }),
    );
  }
  for (const t of threads) t.start();
  for (const t of threads.slice(0, producers)) t.join();
  // Queues end with shutdown() (consumers drain, then get ShutDown); SimpleQueue with FIFO sentinels.
  if (q instanceof SimpleQueue) for (let c = 0; c < consumers; c++) q.put(-1);
  else q.shutdown();
  for (const t of threads.slice(producers)) t.join();
  const total = producers * n;
  let count = 0;
  let sum = 0;
  let squares = 0;
  for (let c = 0; c < consumers; c++) {
    count += totals[3 * c] as number;
    sum += totals[3 * c + 1] as number;
    squares = (squares + (totals[3 * c + 2] as number)) >>> 0;
  }
  assert.equal(count, total, "items consumed");
  assert.equal(sum, (total * (total - 1)) / 2, "sum");
  const t = BigInt(total);
  assert.equal(squares, Number((((t - 1n) * t * (2n * t - 1n)) / 6n) % 2n ** 32n), "sum of squares mod 2^32");
  assert.ok(q.empty());
}

test(`2 producers x 2 consumers x ${N} items through a bounded Queue`, { timeout: 120_000 }, () => {
  stress(new Queue<number>(1000), 2, 2, N);
});

test("2 x 2 through an unbounded Queue, a LifoQueue, a PriorityQueue and a SimpleQueue", { timeout: 120_000 }, () => {
  stress(new Queue<number>(), 2, 2, N / 4);
  stress(new LifoQueue<number>(100), 2, 2, N / 10);
  stress(new PriorityQueue<number>(100), 2, 2, N / 10);
  stress(new SimpleQueue<number>(), 2, 2, N / 10);
});

test("3 producers x 1 consumer with async consumers in the main thread", { timeout: 60_000 }, async () => {
  const q = new Queue<number>(50);
  const n = N / 10;
  const producers = [0, 1, 2].map(
    (p) =>
      new Thread({
        target: (q: Queue<number>, p: number, n: number) => {
          for (let i = 0; i < n; i++) q.put(p * n + i);
        },
        args: [q, p, n],
      }),
  );
  for (const t of producers) t.start();
  let sum = 0;
  for (let i = 0; i < 3 * n; i++) sum += await q.getAsync();
  for (const t of producers) await t.joinAsync();
  assert.equal(sum, (3 * n * (3 * n - 1)) / 2);
});

type Cmd =
  | { op: "put"; x: number; block: boolean }
  | { op: "get"; block: boolean }
  | { op: "taskDone" }
  | { op: "qsize" }
  | { op: "putAsync"; x: number }
  | { op: "getAsync" };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ op: fc.constant("put" as const), x: fc.integer({ min: -50, max: 50 }), block: fc.boolean() }),
  fc.record({ op: fc.constant("get" as const), block: fc.boolean() }),
  fc.constant({ op: "taskDone" as const }),
  fc.constant({ op: "qsize" as const }),
  fc.record({ op: fc.constant("putAsync" as const), x: fc.integer({ min: -50, max: 50 }) }),
  fc.constant({ op: "getAsync" as const }),
);

for (const [name, Q, pick] of [
  ["Queue", Queue, (m: number[]) => m.shift()],
  ["LifoQueue", LifoQueue, (m: number[]) => m.pop()],
  [
    "PriorityQueue",
    PriorityQueue,
    (m: number[]) => {
      const i = m.indexOf(Math.min(...m));
      return m.splice(i, 1)[0];
    },
  ],
] as const) {
  test(`${name} against a sequential model: random put/get/timeouts/taskDone`, { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 4 }), fc.array(cmd, { maxLength: 40 }), async (maxsize, cmds) => {
        const q = new Q<number>(maxsize);
        const model: number[] = [];
        let unfinished = 0;
        const isFull = () => maxsize > 0 && model.length >= maxsize;
        for (const c of cmds) {
          switch (c.op) {
            case "put":
              if (isFull()) {
                // a blocking put on a full queue times out
                assert.throws(() => (c.block ? q.put(c.x, true, 0.001) : q.put(c.x, false)), Full);
              } else {
                q.put(c.x, c.block);
                model.push(c.x);
                unfinished++;
              }
              break;
            case "putAsync":
              if (isFull()) await assert.rejects(q.putAsync(c.x, 0.001), Full);
              else {
                await q.putAsync(c.x);
                model.push(c.x);
                unfinished++;
              }
              break;
            case "get":
              if (model.length === 0) assert.throws(() => (c.block ? q.get(true, 0.001) : q.get(false)), Empty);
              else assert.equal(q.get(c.block), pick(model));
              break;
            case "getAsync":
              if (model.length === 0) await assert.rejects(q.getAsync(0.001), Empty);
              else assert.equal(await q.getAsync(), pick(model));
              break;
            case "taskDone":
              if (unfinished === 0) assert.throws(() => q.taskDone(), RangeError);
              else {
                q.taskDone();
                unfinished--;
              }
              break;
            case "qsize":
              assert.equal(q.qsize(), model.length);
              assert.equal(q.empty(), model.length === 0);
              assert.equal(q.full(), isFull());
              break;
          }
        }
        assert.equal(q.qsize(), model.length);
      }),
      { numRuns: 60 },
    );
  });
}
