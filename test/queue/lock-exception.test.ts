// An exception at a call inside a queue's lock — in practice a stack overflow (RangeError), which
// can come at any call, the lock's own release included — used to leave the lock held by a thread
// that lives on (nobody took it over: its holder is alive) or, where a catch released it, the queue
// half-way through a growth, a sift or a discard. The holder now gives the lock up (fifo.ts,
// core.ts "Exceptions") and the next thread takes it over and repairs as from a dead holder. The
// test hook throws the RangeError at one point, in a thread that stays alive afterwards; other
// threads go on (daemons, joined with a bound: before the fix they waited for ever).
import assert from "node:assert/strict";
import { test } from "node:test";
import { LifoQueue, PriorityQueue, Queue, ShutDown, Thread } from "threading";

const T = { timeout: 60_000 };
const hooks = "../fixtures/queue-hooks.ts";

/** Runs `op` in a thread whose hook throws at `point`; returns once it caught the error (it stays alive). */
function throwInside(q: Queue<unknown>, op: string, point: string, arg: unknown = null): () => void {
  const s = new Int32Array(new SharedArrayBuffer(8));
  const t = new Thread({
    target: { module: hooks, export: "throwInside" },
    args: [q, op, point, arg, s],
    daemon: true,
  });
  t.start();
  while (Atomics.load(s, 0) === 0 && t.isAlive()) Atomics.wait(s, 0, 0, 20);
  assert.equal(Atomics.load(s, 0), 1, `the op threw at ${point}`);
  assert.ok(t.isAlive(), "the thread lives on");
  return () => {
    Atomics.store(s, 1, 1);
    Atomics.notify(s, 1);
    t.join();
  };
}

/** Runs `target(q, out)` in a daemon thread, at most 30 s; returns `out` (out[0] = count, then values). */
function inThread(target: (q: Queue<number>, out: Int32Array) => void, q: object): number[] {
  const out = new Int32Array(new SharedArrayBuffer(4 * 256));
  const t = new Thread({ target, args: [q, out], daemon: true });
  t.start();
  t.join(30);
  assert.equal(t.isAlive(), false, "another thread used the queue");
  return Array.from(out.subarray(1, 1 + (out[0] as number)));
}

const drain = (q: Queue<number>, out: Int32Array) => {
  let n = 0;
  while (q.qsize() > 0) out[1 + n++] = q.get(false);
  out[0] = n;
};

for (const [point, where] of [
  ["P", "after writing its words (at its release)"],
  ["P:release", "at the compare-exchange that frees P_LOCK (its owner word cleared)"],
] as const) {
  test(`Queue: a put that throws ${where} is published; others go on`, T, () => {
    const q = new Queue<number>();
    q.put(1);
    const done = throwInside(q as Queue<unknown>, "put", point, 5);
    const got = inThread((q, out) => {
      q.put(2);
      let n = 0;
      while (q.qsize() > 0) out[1 + n++] = q.get(false);
      out[0] = n;
    }, q);
    assert.deepEqual(got, [1, 5, 2]);
    done();
  });
}

test("Queue: a get that throws at the compare-exchange that frees C_LOCK took its item; others go on", T, () => {
  const q = new Queue<number>();
  for (let i = 1; i <= 3; i++) q.put(i);
  const done = throwInside(q as Queue<unknown>, "get", "C:release");
  const got = inThread(drain, q);
  assert.deepEqual(got, [2, 3]);
  done();
});

test("Queue: a growth that throws after the buffer grew is laid out; items in order", T, () => {
  const q = new Queue<string>();
  const item = (i: number) => `${i}`.padEnd(200, "x");
  let next = 0;
  let want = 0;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 200; i++) q.put(item(next++));
    for (let i = 0; i < 200; i++) assert.equal(q.get(), item(want++));
  }
  for (let i = 0; i < 250; i++) q.put(item(next++));
  const done = throwInside(q as Queue<unknown>, "put", "grow", "big".padEnd(30_000, "!"));
  const bad = inThread((q, out) => {
    const qs = q as unknown as Queue<string>;
    let n = 0;
    for (let i = 0; i < 100; i++) qs.put(`${1000 + i}`.padEnd(200, "x"));
    for (let i = 600; i < 850; i++) if (qs.get(false) !== `${i}`.padEnd(200, "x") && n < 200) out[1 + n++] = i;
    for (let i = 1000; i < 1100; i++) if (qs.get(false) !== `${i}`.padEnd(200, "x") && n < 200) out[1 + n++] = i;
    out[0] = n;
  }, q);
  assert.deepEqual(bad, [], "every item in order");
  done();
});

test("Queue: a maxsize change that throws before its wake lets the blocked putter in", T, () => {
  const q = new Queue<number>(1);
  q.put(0);
  const putter = new Thread({ target: (q: Queue<number>) => q.put(1), args: [q], daemon: true });
  putter.start();
  while (q.qsize() === 1 && putter.isAlive() && Atomics.load(control(q), 65 /* PUT_WAITERS */) === 0)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
  const done = throwInside(q as Queue<unknown>, "maxsize", "maxsize", 5);
  putter.join(30);
  assert.equal(putter.isAlive(), false, "the putter was let in");
  assert.deepEqual(inThread(drain, q), [0, 1]);
  done();
});

for (const Q of [Queue, LifoQueue]) {
  test(`${Q.name}: a shutdown(true) that throws in its discard is finished; join() returns`, T, () => {
    const q = new Q<number>();
    for (let i = 0; i < 5; i++) q.put(i);
    const done = throwInside(q as Queue<unknown>, "shutdown", "discard");
    const r = inThread((q, out) => {
      q.join();
      try {
        q.get(false);
      } catch (e) {
        out[1] = (e as Error).name === "ShutDown" ? 1 : 0;
      }
      out[2] = q.qsize();
      out[0] = 2;
    }, q);
    assert.deepEqual(r, [1, 0]);
    assert.throws(() => q.put(9), ShutDown);
    done();
  });
}

test("PriorityQueue: a get that throws half-way down the heap leaves every other item once, in order", T, () => {
  const q = new PriorityQueue<number>();
  for (const x of [5, 3, 8, 1, 9, 2, 7, 4, 6]) q.put(x);
  const done = throwInside(q as Queue<unknown>, "get", "siftup");
  // the item the get took went with it (as with a get killed there); the rest once each, in order
  assert.deepEqual(inThread(drain, q), [2, 3, 4, 5, 6, 7, 8, 9]);
  done();
});

for (const Q of [LifoQueue, PriorityQueue]) {
  test(`${Q.name}: a maxsize change that throws before its wake lets the blocked putter in`, T, () => {
    const q = new Q<number>(1);
    q.put(0);
    const putter = new Thread({ target: (q: Queue<number>) => q.put(1), args: [q], daemon: true });
    putter.start();
    while (putter.isAlive() && Atomics.load(control(q), 8 /* PUT_WAITERS */) === 0)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    const done = throwInside(q as Queue<unknown>, "maxsize", "maxsize", 5);
    putter.join(30);
    assert.equal(putter.isAlive(), false, "the putter was let in");
    assert.deepEqual(inThread(drain, q).sort(), [0, 1]);
    done();
  });
}

function control(q: object): Int32Array {
  const f = (q as { [k: symbol]: () => { buffers: SharedArrayBuffer[] } })[Symbol.for("threading.share")];
  return new Int32Array(f.call(q).buffers[0] as SharedArrayBuffer);
}
