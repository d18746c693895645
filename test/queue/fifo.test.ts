// The two-lock FIFO ring (src/queue/fifo.ts): producers and consumers on separate locks, records of
// every size (numbers, short strings, plain objects, long strings, v8-serialized values, items in
// their own buffer) wrapping round the ring, SKIP records, and growth (both locks) while other
// threads are putting and getting. Every item arrives exactly once, and each consumer sees each
// producer's items in the order they were put (FIFO).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Queue, SimpleQueue, Thread } from "threading";
import type { Item } from "./fifo-items.ts";

const items = new URL("./fifo-items.ts", import.meta.url).href;

function run(q: Queue<Item> | SimpleQueue<Item>, producers: number, consumers: number, n: number): void {
  const seen = new Int32Array(new SharedArrayBuffer(4 * producers * n));
  const errors = new Int32Array(new SharedArrayBuffer(4));
  const threads: Thread[] = [];
  for (let p = 0; p < producers; p++) {
    threads.push(
      new Thread({
        target: async (q: Queue<unknown>, p: number, n: number, module: string) => {
          const { make } = (await import(module)) as { make: (p: number, i: number) => unknown };
          for (let i = 0; i < n; i++) {
            if (i % 3 === 0 && "putAsync" in q)
              await q.putAsync(make(p, i)); // (SimpleQueue has none)
            else q.put(make(p, i));
          }
        },
        args: [q as Queue<unknown>, p, n, items],
      }),
    );
  }
  for (let c = 0; c < consumers; c++) {
    threads.push(
      new Thread({
        target: async (
          q: Queue<unknown>,
          seen: Int32Array,
          errors: Int32Array,
          producers: number,
          n: number,
          module: string,
        ) => {
          const { parse } = (await import(module)) as { parse: (x: unknown) => [number, number] };
          const last = new Array(producers).fill(-1);
          for (;;) {
            const x = Math.random() < 0.25 ? await q.getAsync() : q.get();
            if (x === null) break;
            const [p, i] = parse(x);
            if (i <= last[p]) Atomics.add(errors, 0, 1); // out of order for this consumer
            last[p] = i;
            Atomics.add(seen, p * n + i, 1);
          }
        },
        args: [q as Queue<unknown>, seen, errors, producers, n, items],
      }),
    );
  }
  for (const t of threads) t.start();
  for (const t of threads.slice(0, producers)) t.join();
  for (let c = 0; c < consumers; c++) q.put(null as unknown as Item);
  for (const t of threads.slice(producers)) t.join();
  assert.equal(errors[0], 0, "each consumer sees each producer's items in order");
  let missing = 0;
  let twice = 0;
  for (const s of seen) {
    if (s === 0) missing++;
    if (s > 1) twice++;
  }
  assert.equal(missing, 0, "items lost");
  assert.equal(twice, 0, "items got twice");
  assert.equal(q.qsize(), 0);
}

test("2 x 2 through an unbounded Queue: every size of record, wrap, SKIP and growth in flight", {
  timeout: 120_000,
}, () => {
  run(new Queue<Item>(), 2, 2, 6_000);
});

test("2 x 2 through a bounded Queue (the ring wraps many times at one size)", { timeout: 120_000 }, () => {
  run(new Queue<Item>(37), 2, 2, 6_000);
});

test("3 producers x 1 consumer, and 1 x 3, through SimpleQueue", { timeout: 120_000 }, () => {
  run(new SimpleQueue<Item>(), 3, 1, 3_000);
  run(new SimpleQueue<Item>(), 1, 3, 6_000);
});

test("qsize is exact from one thread and never negative or above maxsize while threads work", {
  timeout: 60_000,
}, () => {
  const q = new Queue<number>(5);
  for (let i = 0; i < 5; i++) q.put(i);
  assert.equal(q.qsize(), 5);
  assert.ok(q.full());
  const t = new Thread({
    target: (q: Queue<number>) => {
      for (let i = 0; i < 20_000; i++) q.put(i);
    },
    args: [q],
  });
  t.start();
  for (let i = 0; i < 20_005; i++) {
    const n = q.qsize();
    assert.ok(n >= 0 && n <= 5, `qsize ${n}`);
    q.get();
  }
  t.join();
  assert.equal(q.qsize(), 0);
  assert.ok(q.empty());
});
