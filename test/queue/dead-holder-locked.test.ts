// LifoQueue and PriorityQueue (the one-lock engine, core.ts) with a thread killed while it holds the
// queue's lock: the fixture (fixtures/queue-hooks.ts) stops a put, a get (half-way through
// PriorityQueue's heap too), a compaction, shutdown(true) or a maxsize change at one exact point
// and fills the heap until the thread is killed there. Other threads' put/get/join then complete
// (a waiter takes the lock over from the dead holder and rebuilds the store, core.ts "Death"),
// with exact counts: a put whose item was stored happened, a get that took its item happened,
// anything half-way did not; nothing published is lost or duplicated.
// Node only: kills threads by running them out of memory under resourceLimits, which Bun and Deno refuse (README, Runtimes and flags); scripts/run-tests-on.mjs does not run this file there.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Empty, LifoQueue, PriorityQueue, type Queue, ShutDown, Thread } from "threading";
import { control, done, drain, killInside } from "./helpers.js";
import { DIRECTORY_KIB, G } from "../../dist/internal.js";

const T = { timeout: 60_000 };
const hooks = "../fixtures/queue-hooks.ts";
const LOCK = 0;
const PUT_WAITERS = 8;

/**
 * Runs `op` in a thread that is killed at `point` with the lock held; returns once it is dead.
 * `watched`: another thread already waits on the queue, and looks for a dead holder every
 * IDLE_CHECK_MS (1 s): it may recover the lock before this thread looks (on a loaded machine the
 * join() can return that much later), so the lock is not checked then.
 */
function killHolding(q: object, op: string, point: string, arg: unknown = null, watched = false): void {
  killInside(q, op, point, arg);
  if (!watched) assert.notEqual(Atomics.load(control(q), LOCK), 0, "the lock is left held");
}

test("LifoQueue: a put killed after storing its item happened; blocking and async putters go on", T, async () => {
  const q = new LifoQueue<number>();
  q.put(1);
  q.put(2);
  killHolding(q, "put", "put", 3);
  const putter = new Thread({ target: (q: LifoQueue<number>) => q.put(4), args: [q] });
  putter.start();
  await q.putAsync(5);
  putter.join();
  assert.equal(q.qsize(), 5);
  const got = drain(q);
  assert.deepEqual(got.slice(0, 2).sort(), [4, 5]);
  assert.deepEqual(got.slice(2), [3, 2, 1]);
  done(q, 5);
});

test("LifoQueue: a get killed after taking its item took it; blocking and async getters go on", T, async () => {
  const q = new LifoQueue<number>();
  for (let i = 1; i <= 4; i++) q.put(i);
  killHolding(q, "get", "get");
  const got = new Int32Array(new SharedArrayBuffer(4));
  const getter = new Thread({
    target: (q: LifoQueue<number>, got: Int32Array) => {
      got[0] = q.get();
    },
    args: [q, got],
  });
  getter.start();
  const mine = await q.getAsync();
  getter.join();
  assert.deepEqual([mine, got[0]].sort(), [2, 3]);
  assert.deepEqual(drain(q), [1]);
  done(q, 4);
});

test("LifoQueue: a shutdown(true) killed under the lock is finished; join() returns", T, () => {
  const q = new LifoQueue<string>();
  for (let i = 0; i < 5; i++) q.put(`${i}`);
  const joiner = new Thread({ target: (q: LifoQueue<string>) => q.join(), args: [q] });
  joiner.start();
  killHolding(q, "shutdown", "discard", null, true);
  joiner.join(30);
  assert.equal(joiner.isAlive(), false, "join() returned");
  assert.throws(() => q.get(), ShutDown);
  assert.throws(() => q.put("x"), ShutDown);
  assert.equal(q.qsize(), 0);
});

test("LifoQueue: a maxsize change killed under the lock wakes the putters it let in", T, () => {
  const q = new LifoQueue<number>(1);
  q.put(0);
  const putter = new Thread({ target: (q: LifoQueue<number>) => q.put(1), args: [q] });
  putter.start();
  while (Atomics.load(control(q), PUT_WAITERS) === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
  killHolding(q, "maxsize", "maxsize", 5, true);
  putter.join(30);
  assert.equal(putter.isAlive(), false, "the putter was let in");
  assert.deepEqual(drain(q), [1, 0]);
});

test("PriorityQueue: a put killed half-way up the heap never happened; the heap is whole", T, () => {
  const q = new PriorityQueue<number>();
  for (const x of [5, 9, 7, 12, 10, 8, 11, 15, 13]) q.put(x);
  // (1 goes up from slot 9 through 4 and 1 to 0: killed with slots 9 and 4 written, 4's old
  // record only in slot 9, past COUNT, and slot 1's in two)
  killHolding(q, "put", "sift#2", 1);
  q.put(6);
  assert.equal(q.qsize(), 10);
  assert.deepEqual(drain(q), [5, 6, 7, 8, 9, 10, 11, 12, 13, 15]);
  done(q, 10);
});

test("PriorityQueue: a put killed after storing its item happened", T, () => {
  const q = new PriorityQueue<number>();
  for (const x of [5, 9, 7]) q.put(x);
  killHolding(q, "put", "put", 1);
  q.put(8);
  assert.deepEqual(drain(q), [1, 5, 7, 8, 9]);
  done(q, 5);
});

test(
  "PriorityQueue: a get killed half-way down the heap took the lowest; blocking and async getters go on",
  T,
  async () => {
    const q = new PriorityQueue<[number, string]>();
    for (let i = 20; i > 0; i--) q.put([i, `item ${i}`]);
    killHolding(q, "get", "siftup");
    const got = new Int32Array(new SharedArrayBuffer(4));
    const getter = new Thread({
      target: (q: PriorityQueue<[number, string]>, got: Int32Array) => {
        got[0] = q.get()[0];
      },
      args: [q, got],
    });
    getter.start();
    const mine = (await q.getAsync())[0];
    getter.join();
    assert.deepEqual(
      [mine, got[0]].sort((x, y) => x - y),
      [2, 3],
    );
    assert.deepEqual(
      drain(q).map((x) => x[0]),
      Array.from({ length: 17 }, (_, i) => i + 4),
    );
    done(q as Queue<unknown>, 20);
  },
);

for (const point of ["recover#1", "recover#4", "recover#9"]) {
  test(`PriorityQueue: a thread killed half-way through its recovery (${point}): the next one finishes it`, T, () => {
    const q = new PriorityQueue<[number, string]>();
    const item = (i: number): [number, string] => [i, "x".repeat(10 + ((i * 37) % 300))];
    for (let i = 0; i < 40; i++) q.put(item(i));
    for (let i = 0; i < 10; i++) assert.equal(q.get()[0], i);
    // a get killed half-way down the heap (its item, 10, went with it) ...
    killHolding(q, "get", "siftup#2");
    // ... a put that takes the lock over is killed while it rebuilds the heap (its item is not put)
    killHolding(q, "put", point, [-1, "never put"]);
    // ... and the next recovery (this thread, after CHECK_MS) finishes it: every item once, in order
    assert.deepEqual(
      drain(q).map((x) => x[0]),
      Array.from({ length: 29 }, (_, i) => i + 11),
    );
    for (let i = 0; i < 5; i++) q.put(item(100 - i));
    assert.deepEqual(
      drain(q).map((x) => x[0]),
      [96, 97, 98, 99, 100],
    );
    done(q as Queue<unknown>, 45);
  });
}

for (const [name, make] of [
  ["LifoQueue", () => new LifoQueue<[number, Uint8Array]>()],
  ["PriorityQueue", () => new PriorityQueue<[number, Uint8Array]>()],
] as const) {
  test(`${name}: the large items a killed get or shutdown(true) had taken out go back to the directory`, T, () => {
    // (items over 64 KiB live in buffers of their own, held by the hub's directory until taken:
    // G[DIRECTORY_KIB] counts them)
    const kib = () => Atomics.load(G, DIRECTORY_KIB);
    const big = (i: number): [number, Uint8Array] => [i, new Uint8Array(200 * 1024).fill(i)];
    const base = kib();
    const q = make() as Queue<[number, Uint8Array]>;
    for (let i = 1; i <= 3; i++) q.put(big(i));
    assert.ok(kib() >= base + 600, "three items held");
    killHolding(q, "get", "get");
    const left = drain(q).map((x) => x[0]);
    assert.equal(left.length, 2);
    assert.equal(kib(), base, "the killed get's item was given back");
    const r = make() as Queue<[number, Uint8Array]>;
    for (let i = 1; i <= 3; i++) r.put(big(i));
    killHolding(r, "shutdown", "discard");
    assert.throws(() => r.get(false), ShutDown);
    assert.equal(kib(), base, "the discarded items were given back");
  });
}

test("PriorityQueue: a compaction killed half-way leaves every item, in order", T, () => {
  const q = new PriorityQueue<[number, string]>();
  const item = (i: number): [number, string] => [i, "x".repeat(i < 30 ? 1500 : 40 + i * 7)];
  // ~46 KiB of large records, then small ones of varied sizes; the large ones taken: the arena's
  // first half is dead
  for (let i = 0; i < 60; i++) q.put(item(i));
  for (let i = 0; i < 30; i++) assert.equal(q.get()[0], i);
  // a put with no room at TOP compacts first: killed once the first live record has moved over
  // the start of a dead one (the arena is not walkable from 0 until it is repaired)
  killHolding(q, "put", "compact", [1000, "y".repeat(20_000)]);
  // enough more to need room again (a compaction walks the arena)
  for (let i = 60; i < 100; i++) q.put([i, "z".repeat(1500)]);
  // (an arena walked from 0 unrepaired reads sizes out of a record's bytes: it grows to megabytes)
  const arena = (q as unknown as { [k: symbol]: () => { buffers: SharedArrayBuffer[] } })[
    Symbol.for("threading.share")
  ]().buffers[1] as SharedArrayBuffer;
  assert.ok(arena.byteLength <= 1 << 20, `the arena stays small (${arena.byteLength} bytes)`);
  assert.deepEqual(
    drain(q).map((x) => x[0]),
    Array.from({ length: 70 }, (_, i) => i + 30),
  );
});

for (const [name, make] of [
  ["LifoQueue", () => new LifoQueue<number>(50)],
  ["PriorityQueue", () => new PriorityQueue<number>(50)],
] as const) {
  test(
    `${name}: producers and consumers killed inside the lock among live ones: every item once, but the one a killed get took`,
    T,
    () => {
      const q = make() as Queue<number>;
      const N = 2000;
      const liveProducer = (base: number) =>
        new Thread({
          target: (q: Queue<number>, base: number, n: number) => {
            for (let i = 0; i < n; i++) q.put(base + i);
          },
          args: [q, base, N],
        });
      const victim = (module: string, args: unknown[]) =>
        new Thread({ target: { module: hooks, export: module }, args, resourceLimits: { maxOldGenerationSizeMb: 32 } });
      const sp = new Int32Array(new SharedArrayBuffer(8));
      const sc = new Int32Array(new SharedArrayBuffer(8));
      const log = new Int32Array(new SharedArrayBuffer(4 * 1000));
      // killed with its 500th put's item stored, not counted (the recovery counts it)
      const vp = victim("putUntilKilled", [q, 3_000_000, "put#500", sp]);
      // killed with its 600th get's item taken out, not counted: that item goes with it
      const vc = victim("getUntilKilled", [q, "get#600", sc, log]);
      const producers = [liveProducer(1_000_000), liveProducer(2_000_000)];
      for (const t of [...producers, vp, vc]) t.start();
      vc.join();
      assert.equal(Atomics.load(sc, 0), 1);
      const got: number[] = [];
      const deadline = Date.now() + 40_000;
      for (;;) {
        try {
          got.push(q.get(true, 0.05));
        } catch (e) {
          if (!(e instanceof Empty)) throw e;
        }
        if (!vp.isAlive() && producers.every((t) => !t.isAlive()) && q.qsize() === 0) break;
        assert.ok(Date.now() < deadline, "every thread ends and the queue drains");
      }
      const vpPuts = Atomics.load(sp, 1) + 1;
      assert.equal(vpPuts, 500, "the killed put happened");
      assert.equal(log[0], 599, "the killed get took the 600th item");
      const all = [...got, ...log.subarray(1, 1 + (log[0] as number))];
      assert.equal(new Set(all).size, all.length, "no item twice");
      const want = new Set<number>();
      for (let i = 0; i < N; i++) want.add(1_000_000 + i).add(2_000_000 + i);
      for (let i = 0; i < vpPuts; i++) want.add(3_000_000 + i);
      for (const x of all) assert.ok(want.delete(x), `${x} was put`);
      assert.equal(want.size, 1, "exactly one item missing: the one the killed get took");
      done(q, 2 * N + vpPuts);
    },
  );
}

for (const Q of [LifoQueue, PriorityQueue]) {
  test(
    `${Q.name}: qsize()/empty()/full() count a killed put's stored item and a killed get's taken one at once`,
    T,
    () => {
      // Nobody else touches the queue: before, qsize() read COUNT only, so the stored item stayed
      // uncounted (empty() true with an item in the store) until a put or get took the lock over.
      const q = new Q<number>(2);
      killHolding(q, "put", "put", 7);
      assert.equal(q.qsize(), 1, "the stored item is counted");
      assert.equal(q.empty(), false);
      assert.equal(Atomics.load(control(q), LOCK), 0, "qsize() took the lock over and released it");
      assert.equal(q.getNowait(), 7);
      q.put(1);
      q.put(2);
      killHolding(q, "get", "get");
      assert.equal(q.full(), false, "the taken item is not counted");
      assert.equal(q.qsize(), 1);
      assert.equal(q.getNowait(), Q === LifoQueue ? 1 : 2);
      assert.ok(q.empty());
      done(q, 3);
    },
  );
}
