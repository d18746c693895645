// Value and SharedArray: Python's multiprocessing.Value / Array semantics, typecodes, locks, and
// exact totals from several threads.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Lock, RLock, RuntimeError, SharedArray, Thread, Value } from "threading";

const T = { timeout: 60_000 };

test("Value: typecodes, defaults, range and type checks", T, () => {
  assert.equal(new Value("i").value, 0);
  assert.equal(new Value<bigint>("q").value, 0n);
  const b = new Value("b", -5);
  assert.equal(b.value, -5);
  assert.throws(() => (b.value = 128), RangeError);
  assert.throws(() => (b.value = 1.5), TypeError);
  assert.equal(b.value, -5, "a refused write changes nothing");
  assert.throws(() => new Value("B", -1), RangeError);
  assert.throws(() => new Value("H", 65536), RangeError);
  assert.equal(new Value("I", 2 ** 32 - 1).value, 2 ** 32 - 1);
  assert.equal(new Value("L", 2 ** 32 - 1).value, 2 ** 32 - 1);
  const d = new Value("d", 0.1);
  d.value += 0.2;
  assert.equal(d.value, 0.1 + 0.2);
  const f = new Value("f", 1.5);
  assert.equal(f.value, 1.5);
  f.value = 0.1;
  assert.equal(f.value, Math.fround(0.1));
  const q = new Value<bigint>("q", -(2n ** 63n));
  assert.equal(q.value, -(2n ** 63n));
  assert.throws(() => (q.value = 2n ** 63n), RangeError);
  assert.throws(() => new Value("q", 1 as never), TypeError);
  const Q = new Value<bigint>("Q", 2n ** 64n - 1n);
  assert.equal(Q.value, 2n ** 64n - 1n);
  assert.throws(() => new Value("x" as never), TypeError);
  assert.throws(() => new Value("i", "1" as never), TypeError);
  assert.throws(() => new Value("i", 0, { lock: 3 as never }), TypeError);
  // A misspelt option is Python's "unexpected keyword argument" (it was ignored: a default RLock).
  assert.throws(() => new Value("i", 0, { lok: false } as never), {
    name: "TypeError",
    message: "Value(): unexpected option 'lok' (the options are 'lock')",
  });
  assert.equal(String(new Value("h", 7)), "Value('h', 7)");
  assert.equal(new Value("h").typecode, "h");
});

test("Value: getObj, getLock (own RLock by default, none, or a given lock)", T, () => {
  const v = new Value("i", 3);
  const obj = v.getObj();
  assert.ok(obj instanceof Int32Array && obj.length === 1 && obj[0] === 3);
  assert.ok(v.getLock() instanceof RLock);
  assert.notEqual(v.getLock(), new Value("i").getLock());
  const plain = new Value("i", 0, { lock: false });
  assert.throws(() => plain.getLock(), RuntimeError);
  const l = new Lock();
  const a = new Value("i", 0, { lock: l });
  const b = new Value("d", 0, { lock: l });
  assert.equal(a.getLock(), l);
  assert.equal(b.getLock(), l);
  // with the default RLock, .value may be used while holding it (re-entrant, as Python's synchronized wrapper)
  {
    using _ = v.getLock().hold();
    v.value += 1;
  }
  assert.equal(v.value, 4);
});

test("Value: 4 threads x 20000 increments under its lock count exactly; it crosses as itself", T, () => {
  const counter = new Value("i", 0);
  const big = new Value<bigint>("q", 0n);
  const threads = [1, 2, 3, 4].map(
    () =>
      new Thread({
        target: (c: Value, b: Value<bigint>, n: number) => {
          for (let i = 0; i < n; i++) {
            using _ = c.getLock().hold();
            c.value += 1;
            b.value += 2n;
          }
        },
        args: [counter, big, 20_000],
      }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join();
  assert.equal(counter.value, 80_000);
  assert.equal(big.value, 160_000n);
  // it comes home as the same object
  const back = new Int32Array(new SharedArrayBuffer(4));
  const t = new Thread({
    target: (c: Value, out: Int32Array) => {
      out[0] = c instanceof Value && c.typecode === "i" && c.getLock() instanceof RLock ? 1 : 2;
    },
    args: [counter, back],
  });
  t.start();
  t.join();
  assert.equal(back[0], 1);
});

test("SharedArray: from a size or items, at/set with negative indexes, iteration, errors", T, () => {
  const a = new SharedArray("i", 4);
  assert.equal(a.length, 4);
  assert.deepEqual([...a], [0, 0, 0, 0]);
  a.set(0, 5);
  a.set(-1, 7);
  assert.equal(a.at(0), 5);
  assert.equal(a.at(-1), 7);
  assert.deepEqual(a.toArray(), [5, 0, 0, 7]);
  assert.throws(() => a.at(4), RangeError);
  assert.throws(() => a.at(-5), RangeError);
  assert.throws(() => a.set(4, 1), RangeError);
  assert.throws(() => a.at(0.5), TypeError);
  assert.throws(() => a.set(0, 2 ** 31), RangeError);
  assert.equal(a.at(0), 5);
  const d = new SharedArray("d", [0.5, 1.5, 2.5]);
  assert.deepEqual([...d], [0.5, 1.5, 2.5]);
  assert.ok(d.getObj() instanceof Float64Array);
  const q = new SharedArray<bigint>("Q", [1n, 2n]);
  assert.deepEqual([...q], [1n, 2n]);
  assert.throws(() => new SharedArray("b", [1, 2, 300]), RangeError, "items are all checked first");
  assert.throws(() => new SharedArray("b", -1), RangeError);
  assert.throws(() => new SharedArray("b", {} as never), TypeError);
  assert.throws(() => new SharedArray("b", 2, { lok: false } as never), {
    name: "TypeError",
    message: "SharedArray(): unexpected option 'lok' (the options are 'lock')",
  });
  assert.equal(new SharedArray("b", 0).length, 0);
  assert.throws(() => new SharedArray("i", 1, { lock: false }).getLock(), RuntimeError);
  assert.ok(a.getLock() instanceof RLock);
});

test("SharedArray: threads fill and sum it; exact totals under its lock", T, () => {
  const arr = new SharedArray("i", 8);
  const threads = [0, 1, 2, 3].map(
    (k) =>
      new Thread({
        target: (a: SharedArray, k: number) => {
          for (let r = 0; r < 5000; r++) {
            using _ = a.getLock().hold();
            a.set(k, a.at(k) + 1);
            a.set(7, a.at(7) + 1);
          }
        },
        args: [arr, k],
      }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join();
  assert.deepEqual(arr.toArray(), [5000, 5000, 5000, 5000, 0, 0, 0, 20000]);
});
