// SharedList: Python list semantics that exist here, exact totals from many threads, recovery from
// a thread that dies mid-write, and random operation sequences against a JS Array model.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Event, SharedList, Thread } from "threading";

const T = { timeout: 60_000 };

test("SharedList: append/extend/at/set/pop/clear/length, negative indexes, errors", T, () => {
  const l = new SharedList<unknown>([1, "two"]);
  assert.equal(l.length, 2);
  l.append({ x: [3n] });
  l.extend([4, 5]);
  assert.deepEqual(l.toArray(), [1, "two", { x: [3n] }, 4, 5]);
  assert.equal(l.at(-1), 5);
  assert.equal(l.at(0), 1);
  l.set(-2, "four");
  assert.equal(l.at(3), "four");
  assert.equal(l.pop(), 5);
  assert.equal(l.pop(0), 1);
  assert.deepEqual(l.pop(1), { x: [3n] });
  assert.deepEqual([...l], ["two", "four"]);
  assert.throws(() => l.at(2), RangeError);
  assert.throws(() => l.at(-3), RangeError);
  assert.throws(() => l.set(5, 1), RangeError);
  assert.throws(() => l.pop(7), RangeError);
  assert.throws(() => l.at(0.5), TypeError);
  assert.throws(() => l.append(() => 1), TypeError);
  assert.throws(() => l.extend([1, Symbol("s")] as never), TypeError);
  assert.deepEqual(l.toArray(), ["two", "four"], "a refused extend appends nothing");
  l.clear();
  assert.equal(l.length, 0);
  assert.throws(() => l.pop(), { name: "RangeError", message: /empty/ });
  const m = new SharedList<number>();
  for (let i = 0; i < 10_000; i++) m.append(i);
  for (let i = 0; i < 9_990; i++) m.pop(0);
  assert.deepEqual(m.toArray(), [9990, 9991, 9992, 9993, 9994, 9995, 9996, 9997, 9998, 9999]);
});

test("SharedList: 4 threads x (2000 appends + 100 extends of 10) give every item exactly once", T, () => {
  const results = new SharedList<number>();
  const threads = [0, 1, 2, 3].map(
    (k) =>
      new Thread({
        target: (l: SharedList<number>, k: number) => {
          for (let i = 0; i < 2000; i++) l.append(k * 10_000 + i);
          for (let i = 0; i < 100; i++) l.extend(Array.from({ length: 10 }, (_, j) => k * 10_000 + 2000 + i * 10 + j));
        },
        args: [results, k],
      }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join();
  assert.equal(results.length, 12_000);
  const all = results.toArray();
  assert.equal(new Set(all).size, 12_000);
  // an extend's items are adjacent (all at once)
  for (let i = 0; i < all.length; i++) {
    const x = all[i] as number;
    if (x % 10_000 >= 2000 && (x % 10_000) % 10 === 0) {
      for (let j = 1; j < 10; j++) assert.equal(all[i + j], x + j);
    }
  }
});

test("SharedList: exact appends from 4 threads, each thread's own items in its order", T, () => {
  const l = new SharedList<[number, number]>();
  const threads = [0, 1, 2, 3].map(
    (k) =>
      new Thread({
        target: (l: SharedList<[number, number]>, k: number) => {
          for (let i = 0; i < 2500; i++) l.append([k, i]);
        },
        args: [l, k],
      }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join();
  const all = l.toArray();
  assert.equal(all.length, 10_000);
  for (let k = 0; k < 4; k++) {
    const mine = all.filter((p) => p[0] === k).map((p) => p[1]);
    assert.deepEqual(
      mine,
      Array.from({ length: 2500 }, (_, i) => i),
    );
  }
});

test("SharedList: a lock left by a dead thread is recovered", T, () => {
  const l = new SharedList<number>([1, 2]);
  const t = new Thread({ target: (l: SharedList<number>) => l._holdForTest(), args: [l], isolated: true });
  t.start();
  t.join();
  assert.equal(l.length, 2);
  l.append(3);
  assert.deepEqual(l.toArray(), [1, 2, 3]);
  assert.equal(l.at(-1), 3);
});

test("SharedList: readers in another thread see whole appends while a writer runs", T, () => {
  const l = new SharedList<{ n: number; s: string }>();
  const done = new Event();
  const bad = new SharedList<string>();
  const reader = new Thread({
    target: (l: SharedList<{ n: number; s: string }>, done: Event, bad: SharedList<string>) => {
      while (!done.isSet()) {
        const n = l.length;
        if (n === 0) continue;
        const v = l.at(n - 1);
        if (v.s !== "x".repeat(v.n % 50)) bad.append(JSON.stringify(v));
      }
    },
    args: [l, done, bad],
  });
  reader.start();
  for (let i = 0; i < 20_000; i++) l.append({ n: i, s: "x".repeat(i % 50) });
  done.set();
  reader.join();
  assert.deepEqual(bad.toArray(), []);
});

test("SharedList: random operation sequences behave as a JS Array", T, () => {
  const valArb = fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
  const opArb = fc.oneof(
    fc.tuple(fc.constant("append"), fc.integer({ min: -6, max: 6 }), valArb),
    fc.tuple(fc.constant("extend"), fc.integer({ min: 0, max: 3 }), valArb),
    fc.tuple(fc.constant("pop"), fc.integer({ min: -6, max: 6 }), valArb),
    fc.tuple(fc.constant("popLast"), fc.integer(), valArb),
    fc.tuple(fc.constant("set"), fc.integer({ min: -6, max: 6 }), valArb),
    fc.tuple(fc.constant("at"), fc.integer({ min: -6, max: 6 }), valArb),
    fc.tuple(fc.constant("clear"), fc.integer(), valArb),
  );
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const l = new SharedList<unknown>();
      const a: unknown[] = [];
      for (const [op, i, v] of ops) {
        const j = i < 0 ? i + a.length : i;
        const inRange = j >= 0 && j < a.length;
        switch (op) {
          case "append":
            l.append(v);
            a.push(v);
            break;
          case "extend": {
            const vs = Array.from({ length: i }, () => v);
            l.extend(vs);
            a.push(...vs);
            break;
          }
          case "pop":
            if (inRange) assert.deepEqual(l.pop(i), a.splice(j, 1)[0]);
            else assert.throws(() => l.pop(i), RangeError);
            break;
          case "popLast":
            if (a.length > 0) assert.deepEqual(l.pop(), a.pop());
            else assert.throws(() => l.pop(), RangeError);
            break;
          case "set":
            if (inRange) {
              l.set(i, v);
              a[j] = v;
            } else assert.throws(() => l.set(i, v), RangeError);
            break;
          case "at":
            if (inRange) assert.deepEqual(l.at(i), a[j]);
            else assert.throws(() => l.at(i), RangeError);
            break;
          case "clear":
            l.clear();
            a.length = 0;
            break;
        }
        assert.equal(l.length, a.length);
      }
      assert.deepEqual(l.toArray(), a);
    }),
    { numRuns: 300 },
  );
});
