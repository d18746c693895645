// SimpleQueue after CPython's BaseSimpleQueueTest, and PriorityQueue's Python ordering.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Empty, PriorityQueue, type Queue, SimpleQueue, Thread } from "threading";

const T = { timeout: 30_000 };

describe("SimpleQueue", () => {
  test("basic", T, () => {
    const q = new SimpleQueue<number>();
    assert.ok(q.empty());
    assert.equal(q.qsize(), 0);
    q.put(1);
    assert.ok(!q.empty());
    assert.equal(q.qsize(), 1);
    q.put(2);
    q.putNowait(3);
    q.put(4);
    assert.equal(q.qsize(), 4);
    assert.equal(q.get(), 1);
    assert.equal(q.qsize(), 3);
    assert.equal(q.getNowait(), 2);
    assert.equal(q.get(false), 3);
    assert.equal(q.qsize(), 1);
    assert.equal(q.get(true, 0.1), 4);
    assert.ok(q.empty());
    assert.throws(() => q.get(false), Empty);
    assert.throws(() => q.get(true, 1e-3), Empty);
    assert.throws(() => q.getNowait(), Empty);
    assert.equal(q.qsize(), 0);
  });

  test("negative timeout is RangeError; getAsync rejects", T, async () => {
    const q = new SimpleQueue<number>();
    q.put(1);
    assert.throws(() => q.get(true, -1), RangeError);
    await assert.rejects(q.getAsync(-1), RangeError);
    assert.equal(await q.getAsync(), 1);
    await assert.rejects(q.getAsync(0.01), Empty);
  });

  // run_threads: n feeders and n consumers, sentinel null, with the three consumer styles
  function runThreads(n: number, inputs: number[], style: "block" | "nonblock" | "timeout"): number[] {
    const q = new SimpleQueue<number | null>();
    const results = new SimpleQueue<number>();
    const per = Math.ceil(inputs.length / n);
    const threads: Thread[] = [];
    for (let i = 0; i < n; i++) {
      threads.push(
        new Thread({
          target: (q: SimpleQueue<number | null>, seq: number[]) => {
            for (const x of seq) {
              q.put(x);
              if (Math.random() > 0.5) sleep(Math.random() * 1e-3);
            }
            q.put(null);
          },
          args: [q, inputs.slice(i * per, (i + 1) * per)],
        }),
        new Thread({
          target: (q: SimpleQueue<number | null>, results: SimpleQueue<number>, style: string) => {
            for (;;) {
              let v: number | null;
              for (;;) {
                try {
                  v = style === "block" ? q.get() : style === "nonblock" ? q.get(false) : q.get(true, 1e-5);
                  break;
                } catch (e) {
                  if (!(e instanceof Empty)) throw e;
                  if (style === "nonblock") sleep(1e-5);
                }
              }
              if (v === null) return;
              results.put(v);
            }
          },
          args: [q, results, style],
        }),
      );
    }
    for (const t of threads) t.start();
    for (const t of threads) t.join();
    assert.ok(q.empty());
    const out: number[] = [];
    while (!results.empty()) out.push(results.get());
    return out;
  }

  test("order: one feeder, one consumer", T, () => {
    const inputs = Array.from({ length: 100 }, (_, i) => i);
    assert.deepEqual(runThreads(1, inputs, "block"), inputs);
  });

  test("many threads: blocking, non-blocking and timeout consumers", T, () => {
    const inputs = Array.from({ length: 4000 }, (_, i) => i);
    for (const style of ["block", "nonblock", "timeout"] as const) {
      assert.deepEqual(
        runThreads(4, inputs, style).sort((a, b) => a - b),
        inputs,
        style,
      );
    }
  });

  test("crosses threads as the same queue", T, () => {
    const q = new SimpleQueue<SimpleQueue<string>>();
    const t = new Thread({ target: (q: SimpleQueue<SimpleQueue<string>>) => q.get().put("hi"), args: [q] });
    t.start();
    const inner = new SimpleQueue<string>();
    q.put(inner);
    t.join();
    assert.equal(inner.get(), "hi");
  });
});

describe("PriorityQueue ordering (as Python compares)", () => {
  function drain<T>(q: Queue<T>): T[] {
    const out: T[] = [];
    while (!q.empty()) out.push(q.get());
    return out;
  }

  test("numbers, booleans and bigints compare numerically with each other", T, () => {
    const q = new PriorityQueue<number | bigint | boolean>();
    for (const x of [3, 2n ** 70n, -(2n ** 70n), 0.5, true, 2n, -Infinity, 2 ** 70 * 1.5, 7n]) q.put(x);
    assert.deepEqual(drain(q), [-Infinity, -(2n ** 70n), 0.5, true, 2n, 3, 7n, 2n ** 70n, 2 ** 70 * 1.5]);
  });

  test("strings by code point", T, () => {
    const q = new PriorityQueue<string>();
    const xs = ["b", "a", "ab", "", "\u{1F600}", "\uFFFF", "Z", "é"];
    for (const x of xs) q.put(x);
    assert.deepEqual(drain(q), ["", "Z", "a", "ab", "b", "é", "\uFFFF", "\u{1F600}"]);
  });

  test("arrays as tuples: [priority, payload], prefixes first, equal payloads skipped", T, () => {
    const q = new PriorityQueue<unknown[]>();
    const items = [[2, "b"], [1, "z"], [1, "a"], [1], [0, { job: 1 }], [2, [1, 2]].slice(0, 1), [1, "a", 0]];
    for (const x of items) q.put(x);
    assert.deepEqual(drain(q), [[0, { job: 1 }], [1], [1, "a"], [1, "a", 0], [1, "z"], [2], [2, "b"]]);
    // equal objects inside tuples are skipped, as (1, {}) vs (1, {}) in Python
    q.put([1, { a: 1 }, 2]);
    q.put([1, { a: 1 }, 1]);
    assert.deepEqual(drain(q), [
      [1, { a: 1 }, 1],
      [1, { a: 1 }, 2],
    ]);
  });

  test("incomparable items: TypeError from put, nothing lost, queue unchanged", T, () => {
    const q = new PriorityQueue<unknown>();
    q.put(1);
    assert.throws(() => q.put("a"), TypeError);
    assert.throws(() => q.put([1]), TypeError);
    assert.equal(q.qsize(), 1);
    assert.equal(q.get(), 1);
    q.put([1, { a: 1 }]);
    assert.throws(() => q.put([1, { b: 2 }]), { name: "TypeError", message: /not supported/ });
    q.put([0, { b: 2 }]);
    assert.deepEqual(drain(q), [
      [0, { b: 2 }],
      [1, { a: 1 }],
    ]);
    const d = new PriorityQueue<object>();
    d.put({ x: 1 });
    assert.throws(() => d.put({ x: 1 }), TypeError, "objects have no < even when equal");
    assert.deepEqual(d.get(), { x: 1 });
  });

  test(
    "the TypeError names null, undefined, Date, Map, Set and RegExp as such (Python: 'NoneType'), not as 'object'",
    T,
    () => {
      const q = new PriorityQueue<unknown>();
      q.put(1);
      const between = (a: string, b: string) => ({
        name: "TypeError",
        message: `PriorityQueue.put(): '<' not supported between '${a}' and '${b}' (the item was not queued)`,
      });
      assert.throws(() => q.put(null), between("null", "number"));
      assert.throws(() => q.put(undefined), between("undefined", "number"));
      assert.throws(() => q.put([null]), between("array", "number"));
      const o = new PriorityQueue<unknown>();
      o.put([1, new Date(0)]);
      assert.throws(() => o.put([1, new Date(1)]), between("Date", "Date"));
      assert.throws(() => o.put([1, new Map()]), between("Map", "Date"));
      assert.throws(() => o.put([1, new Set()]), between("Set", "Date"));
      assert.throws(() => o.put([1, /x/]), between("RegExp", "Date"));
      assert.throws(() => o.put([1, { a: 1 }]), between("object", "Date"));
      assert.equal(q.qsize() + o.qsize(), 2);
    },
  );

  test("heap order matches Python's heapq for ties and many items", T, () => {
    const q = new PriorityQueue<[number, number]>();
    const n = 2000;
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed);
    const xs: [number, number][] = [];
    for (let i = 0; i < n; i++) xs.push([rnd() % 50, i]);
    for (const x of xs.slice(0, n / 2)) q.put(x);
    const out: [number, number][] = [];
    for (let i = 0; i < n / 4; i++) out.push(q.get());
    for (const x of xs.slice(n / 2)) q.put(x);
    out.push(...drain(q));
    const sorted = (a: [number, number][]) => [...a].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    assert.deepEqual(sorted(out), sorted(xs));
    assert.deepEqual(out.slice(0, n / 4), sorted(xs.slice(0, n / 2)).slice(0, n / 4));
    assert.deepEqual(out.slice(n / 4), sorted([...sorted(xs.slice(0, n / 2)).slice(n / 4), ...xs.slice(n / 2)]));
  });

  test("the arena compacts under steady traffic (never drains) and large items work", T, () => {
    const q = new PriorityQueue<[number, string]>();
    q.put([-1, "keep"]);
    for (let i = 0; i < 20_000; i++) {
      q.put([i, "x".repeat(i % 300)]);
      assert.deepEqual(q.get()[0], i === 0 ? -1 : i - 1);
    }
    q.put([0, "y".repeat(300_000)]);
    assert.equal(q.get()[1].length, 300_000);
    assert.equal(q.qsize(), 1);
  });
});
