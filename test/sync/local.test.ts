// local, after CPython's test_threading_local: per-thread namespaces, subclasses whose
// constructor runs again in each thread, and the argument rule.
import assert from "node:assert/strict";
import { test } from "node:test";
import { enumerate, Queue, Thread, local } from "threading";

const T = { timeout: 30_000 };
const cells = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

type Bag = local & Record<string, unknown>;

test("local: attributes are per thread; a thread starts with an empty namespace", T, () => {
  const data = new local() as Bag;
  data.x = 1;
  assert.equal(data.x, 1);
  assert.equal("x" in data, true);
  assert.deepEqual(Object.keys(data), ["x"]);
  const out = cells(3);
  const t = new Thread({
    target: (d: Bag, o: Int32Array) => {
      o[0] = "x" in d ? 1 : 2;
      d.x = 5;
      d.y = 6;
      o[1] = d.x as number;
      o[2] = Object.keys(d).length;
    },
    args: [data, out],
  });
  t.start();
  t.join();
  assert.deepEqual([...out], [2, 5, 2]);
  assert.equal(data.x, 1, "main's namespace is untouched");
  assert.equal("y" in data, false);
  delete data.x;
  assert.equal("x" in data, false);
});

test("local: two threads with the same local do not see each other's values", T, () => {
  const data = new local() as Bag;
  const out = cells(2);
  const threads = [0, 1].map((k) => {
    const t = new Thread({
      target: (d: Bag, o: Int32Array, id: number) => {
        d.n = 0;
        for (let i = 0; i < 1000; i++) d.n = (d.n as number) + 1 + id;
        o[id] = d.n as number;
      },
      args: [data, out, k],
    });
    t.start();
    return t;
  });
  for (const t of threads) t.join();
  assert.deepEqual([...out], [1000, 2000]);
  assert.equal("n" in data, false);
});

test("local: the same local arrives as the same object; it comes back to main keeping main's values", T, () => {
  const data = new local() as Bag;
  data.v = "main";
  const same = cells(1);
  const t = new Thread({
    target: (a: Bag, b: Bag, o: Int32Array) => {
      o[0] = a === b && !("v" in a) ? 1 : 2;
    },
    args: [data, data, same],
  });
  t.start();
  t.join();
  assert.equal(same[0], 1);
  assert.equal(data.v, "main");
});

test("local: arguments are refused by local itself (TypeError, as Python)", T, () => {
  assert.throws(() => new (local as unknown as new (x: number) => local)(1), {
    name: "TypeError",
    message: "Initialization arguments are not supported",
  });
});

class Counter extends local {
  count: number;
  label: string;
  constructor(label: string) {
    super(label);
    this.label = label;
    this.count = 0;
  }
  bump(): number {
    this.count += 1;
    return this.count;
  }
}

test("local subclass: constructor runs in the creating thread, methods see this thread's fields", T, () => {
  const c = new Counter("hits");
  assert.equal(c.label, "hits");
  assert.equal(c.bump(), 1);
  assert.equal(c.bump(), 2);
  assert.ok(c instanceof Counter);
  assert.ok(c instanceof local);
});

test("local subclass: in another thread its constructor runs again with the same arguments", T, () => {
  const c = new Counter("hits");
  c.bump();
  const out = cells(3);
  const t = new Thread({
    target: (k: { label: string; count: number; bump(): number }, o: Int32Array) => {
      o[0] = k.label === "hits" ? 1 : 2;
      o[1] = k.count;
      k.bump();
      o[2] = k.bump();
    },
    args: [c, out],
  });
  t.start();
  t.join();
  assert.deepEqual([...out], [1, 0, 2]);
  assert.equal(c.count, 1, "main's count is its own");
});

test(
  "local subclass with #private members: a TypeError at start() saying so, and nothing is started or queued",
  T,
  () => {
    class Secret extends local {
      #token = 1;
      get token(): number {
        return this.#token;
      }
    }
    const s = new Secret();
    assert.equal(s.token, 1); // usable in its own thread
    const before = enumerate().length;
    const t = new Thread({ target: (x: unknown) => x, args: [{ s }] });
    // It read "args[0].s cannot be sent to another thread: it is a Proxy" (a local is one).
    assert.throws(() => t.start(), {
      name: "TypeError",
      message: /args\[0\]\.s cannot be sent to another thread: local subclass Secret has #private members/,
    });
    assert.equal(t.ident, null);
    assert.equal(enumerate().length, before);
    const q = new Queue();
    assert.throws(() => q.put(s), { name: "TypeError", message: /^Queue\.put\(\): item cannot be sent .*#private/ });
    assert.equal(q.qsize(), 0);
    assert.equal(q.unfinishedTasks, 0);
  },
);
