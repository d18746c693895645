// A thread killed while it holds a queue's internal lock (its worker terminated, or out of memory):
// the test fixture (fixtures/queue-hooks.ts) stops a put, get, growth, shutdown(true) or maxsize
// change at one exact point inside the lock and fills the heap until the thread is killed there.
// Other threads' put/get/join then complete (a waiter takes the lock over from the dead holder and
// repairs the queue, fifo.ts "Death"), with exact item counts: a put or get killed after writing
// all its words happened, one killed before did not; nothing published is lost or duplicated.
// Node only: kills threads by running them out of memory under resourceLimits, which Bun and Deno refuse (README, Runtimes and flags); scripts/run-tests-on.mjs does not run this file there.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Empty, Full, Queue, ShutDown, SimpleQueue, Thread } from "threading";
import { control, drain, killInside } from "./helpers.js";
import { DIRECTORY_KIB, FIFO_C_LOCK, FIFO_P_LOCK, G } from "../../dist/internal.js";

const T = { timeout: 60_000 };
const hooks = "../fixtures/queue-hooks.ts";

function held(q: object, word: number): boolean {
  return (Atomics.load(control(q), word) & 1) !== 0;
}

test(
  "a put killed after writing its words (P_LOCK held) is published; blocking and async putters go on",
  T,
  async () => {
    const q = new Queue<number>();
    q.put(1);
    killInside(q, "put", "P", 2);
    assert.ok(held(q, FIFO_P_LOCK), "P_LOCK is left held");
    const putter = new Thread({ target: (q: Queue<number>) => q.put(3), args: [q] });
    putter.start();
    await q.putAsync(4);
    putter.join();
    assert.equal(q.qsize(), 4);
    const got = drain(q);
    assert.deepEqual(got.slice(0, 2), [1, 2]);
    assert.deepEqual(got.slice(2).sort(), [3, 4]);
    for (let i = 0; i < 4; i++) q.taskDone();
    q.join();
    assert.throws(() => q.taskDone(), RangeError);
  },
);

test("a put killed after writing its words is seen by get_nowait, short gets, qsize() and empty() at once", T, () => {
  // Nobody takes P_LOCK over (no producer, no getter asleep past IDLE_CHECK_MS): the calls that
  // find the queue empty publish the dead holder's complete put themselves.
  for (const look of ["getNowait", "get(true, 0.05)", "qsize", "empty"]) {
    const q = new Queue<number>();
    q.put(1);
    killInside(q, "put", "P", 2);
    assert.ok(held(q, FIFO_P_LOCK), "P_LOCK is left held");
    assert.equal(q.get(false), 1);
    if (look === "getNowait") assert.equal(q.getNowait(), 2, look);
    else if (look === "get(true, 0.05)") assert.equal(q.get(true, 0.05), 2, look);
    else if (look === "qsize") assert.equal(q.qsize(), 1, look);
    else assert.equal(q.empty(), false, look);
    assert.ok(!held(q, FIFO_P_LOCK), `${look}: P_LOCK recovered`);
    if (look === "qsize" || look === "empty") assert.equal(q.getNowait(), 2, look);
    assert.throws(() => q.getNowait(), Empty);
    q.taskDone();
    q.taskDone();
    q.join();
  }
});

test("a get killed after writing its words makes room for put_nowait, qsize() and full() at once", T, () => {
  for (const look of ["putNowait", "put(x, true, 0.05)", "qsize", "full"]) {
    const q = new Queue<number>(2);
    q.put(1);
    q.put(2);
    killInside(q, "get", "C");
    assert.ok(held(q, FIFO_C_LOCK), "C_LOCK is left held");
    if (look === "putNowait") q.putNowait(3);
    else if (look === "put(x, true, 0.05)") q.put(3, true, 0.05);
    else if (look === "qsize") assert.equal(q.qsize(), 1, look);
    else assert.equal(q.full(), false, look);
    assert.ok(!held(q, FIFO_C_LOCK), `${look}: C_LOCK recovered`);
    if (look === "qsize" || look === "full") q.putNowait(3);
    assert.throws(() => q.putNowait(4), Full);
    assert.deepEqual(drain(q), [2, 3]);
  }
});

test("a put killed before writing its words (P_LOCK held) never happened", T, () => {
  const q = new Queue<number>();
  q.put(1);
  killInside(q, "put", "P:record", 2);
  assert.ok(held(q, FIFO_P_LOCK));
  q.put(3);
  assert.equal(q.qsize(), 2);
  assert.deepEqual(drain(q), [1, 3]);
  q.taskDone();
  q.taskDone();
  q.join();
});

test(
  "a get killed after writing its words (C_LOCK held) took its item; blocking and async getters go on",
  T,
  async () => {
    const q = new Queue<number>();
    for (let i = 1; i <= 4; i++) q.put(i);
    killInside(q, "get", "C");
    assert.ok(held(q, FIFO_C_LOCK), "C_LOCK is left held");
    const got = new Int32Array(new SharedArrayBuffer(4));
    const getter = new Thread({
      target: (q: Queue<number>, got: Int32Array) => {
        got[0] = q.get();
      },
      args: [q, got],
    });
    getter.start();
    const mine = await q.getAsync();
    getter.join();
    assert.deepEqual([mine, got[0]].sort(), [2, 3]);
    assert.deepEqual(drain(q), [4]);
    assert.equal(q.qsize(), 0);
    // the three gets of this thread's queue, and the killed one: tasks are counted by puts
    for (let i = 0; i < 4; i++) q.taskDone();
    q.join();
  },
);

test("a get killed before writing its words (C_LOCK held) left its item", T, () => {
  const q = new SimpleQueue<string>();
  for (const x of ["a", "b", "c"]) q.put(x);
  killInside(q as unknown as Queue<unknown>, "get", "C:record");
  assert.ok(held(q, FIFO_C_LOCK));
  assert.equal(q.get(), "a");
  assert.equal(q.get(), "b");
  assert.equal(q.get(), "c");
  assert.equal(q.qsize(), 0);
});

test("getters asleep on an empty queue get the item of a put killed after writing its words", T, () => {
  const q = new Queue<number>();
  const got = new Int32Array(new SharedArrayBuffer(4));
  const getter = new Thread({
    target: (q: Queue<number>, got: Int32Array) => {
      got[0] = q.get();
    },
    args: [q, got],
  });
  getter.start();
  while (getter.isAlive() && Atomics.load(control(q), 49 /* GET_WAITERS */) === 0) Atomics.wait(got, 0, 0, 2);
  killInside(q, "put", "P", 7);
  // nobody else touches the queue: the sleeping getter itself finds the dead holder (Side.idleCheck)
  getter.join(30);
  assert.equal(getter.isAlive(), false, "the getter was given the item");
  assert.equal(got[0], 7);
  q.taskDone();
  q.join();
});

test("a growth killed after the buffer grew (both locks held) is finished; every item comes out in order", T, () => {
  const q = new Queue<string>();
  // Move the ring round so that it wraps: items in [head, end) and [0, tail).
  const item = (i: number) => `${i}`.padEnd(200, "x");
  let next = 0;
  let want = 0;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 200; i++) q.put(item(next++));
    for (let i = 0; i < 200; i++) assert.equal(q.get(), item(want++));
  }
  for (let i = 0; i < 250; i++) q.put(item(next++));
  // A put of a larger item than the free room: the ring grows.
  killInside(q as Queue<unknown>, "put", "grow", "big".padEnd(30_000, "!"));
  assert.ok(held(q, FIFO_P_LOCK) && held(q, FIFO_C_LOCK), "both locks are left held");
  for (let i = 0; i < 300; i++) q.put(item(next++));
  while (want < next) assert.equal(q.get(false), item(want++));
  assert.equal(q.qsize(), 0);
  // and the ring keeps working past its (grown) end
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 400; i++) q.put(item(next++));
    for (let i = 0; i < 400; i++) assert.equal(q.get(), item(want++));
  }
});

test("the large items a killed get or shutdown(true) had taken out go back to the directory", T, () => {
  // (items over 64 KiB live in buffers of their own, held by the hub's directory until taken:
  // G[DIRECTORY_KIB] counts them, and a put over its bound fails)
  const kib = () => Atomics.load(G, DIRECTORY_KIB);
  const big = (i: number) => new Uint8Array(200 * 1024).fill(i);
  const base = kib();
  const q = new Queue<Uint8Array>();
  for (let i = 1; i <= 3; i++) q.put(big(i));
  assert.ok(kib() >= base + 600, "three items held");
  killInside(q as Queue<unknown>, "get", "C");
  // (C_LOCK held by the dead get: this get takes it over after CHECK_MS and repairs)
  assert.equal(q.get(false)[0], 2);
  assert.equal(q.get(false)[0], 3);
  assert.equal(kib(), base, "the killed get's item was given back");
  for (const point of ["discard", "discarded"]) {
    const q = new Queue<Uint8Array>();
    for (let i = 1; i <= 3; i++) q.put(big(i));
    q.get();
    killInside(q as Queue<unknown>, "shutdown", point);
    // (a put takes P_LOCK over from the dead discarder after CHECK_MS and finishes the discard)
    assert.throws(() => q.put(new Uint8Array(1)), ShutDown);
    assert.throws(() => q.get(false), ShutDown);
    assert.equal(q.qsize(), 0);
    assert.equal(kib(), base, `${point}: the discarded items were given back`);
  }
});

for (const [point, where] of [
  ["discard", "under both locks"],
  ["discarded", "after releasing C_LOCK, before counting its tasks"],
]) {
  test(`a shutdown(true) killed ${where} is finished: the items are discarded and join() returns`, T, () => {
    const q = new Queue<number>();
    for (let i = 0; i < 5; i++) q.put(i);
    q.get();
    q.taskDone();
    const joiner = new Thread({ target: (q: Queue<number>) => q.join(), args: [q] });
    joiner.start();
    killInside(q as Queue<unknown>, "shutdown", point);
    // (the locks are not checked here: the joiner, asleep on DONE, looks for a dead holder every
    // IDLE_CHECK_MS, 1 s, and may have recovered them before this thread's join() returned)
    // the joiner finds the dead holder itself
    joiner.join(30);
    assert.equal(joiner.isAlive(), false, "join() returned");
    assert.throws(() => q.get(), ShutDown);
    assert.throws(() => q.put(9), ShutDown);
    assert.equal(q.qsize(), 0);
    q.join();
  });
}

test("a maxsize change killed under P_LOCK wakes the putters it let in", T, () => {
  const q = new Queue<number>(1);
  q.put(0);
  const putter = new Thread({ target: (q: Queue<number>) => q.put(1), args: [q] });
  putter.start();
  while (Atomics.load(control(q), 65 /* PUT_WAITERS */) === 0)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
  killInside(q as Queue<unknown>, "maxsize", "maxsize", 5);
  putter.join(30);
  assert.equal(putter.isAlive(), false, "the putter was let in");
  assert.equal(q.maxsize, 5);
  assert.deepEqual(drain(q), [0, 1]);
});

test(
  "producers and consumers killed inside the locks among live ones: every item once, but the one a killed get took",
  T,
  () => {
    const q = new Queue<number>(50);
    const N = 3000;
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
    // killed with its 700th put written but not published (the recovery publishes it)
    const vp = victim("putUntilKilled", [q, 3_000_000, "P#700", sp]);
    // killed with its 900th get written but not published: that item goes with it
    const vc = victim("getUntilKilled", [q, "C#900", sc, log]);
    const producers = [liveProducer(1_000_000), liveProducer(2_000_000)];
    for (const t of [...producers, vp, vc]) t.start();
    // the killed consumer is the only one until it dies (so it surely reaches its 900th get)
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
      // (the killed producer's last put is published by whoever takes P_LOCK over from it: a
      // producer, or, when the live ones finished first, these gets or qsize(), which find the
      // queue empty with its dead holder marked: fifo.ts deadMarked)
      if (!vp.isAlive() && producers.every((t) => !t.isAlive()) && q.qsize() === 0) break;
      assert.ok(Date.now() < deadline, "every thread ends and the queue drains");
    }
    assert.equal(Atomics.load(sp, 0), 1);
    const vpPuts = Atomics.load(sp, 1) + 1;
    assert.equal(vpPuts, 700, "the killed put was published");
    const all = [...got, ...log.subarray(1, 1 + (log[0] as number))];
    assert.equal(log[0], 899, "the killed get took the 900th item");
    assert.equal(new Set(all).size, all.length, "no item twice");
    const want = new Set<number>();
    for (let i = 0; i < N; i++) want.add(1_000_000 + i).add(2_000_000 + i);
    for (let i = 0; i < vpPuts; i++) want.add(3_000_000 + i);
    for (const x of all) assert.ok(want.delete(x), `${x} was put`);
    assert.equal(want.size, 1, "exactly one item missing: the one the killed get took");
    for (let i = 0; i < 2 * N + vpPuts; i++) q.taskDone();
    q.join();
  },
);

for (const [point, where] of [
  ["repair", "before it released C_LOCK"],
  ["repair:C", "after it released C_LOCK, before counting the tasks"],
]) {
  test(`a thread killed recovering a shutdown(true) ${where}: the next recovery finishes the discard`, T, () => {
    const q = new Queue<number>();
    for (let i = 0; i < 5; i++) q.put(i);
    q.get();
    q.taskDone();
    killInside(q as Queue<unknown>, "shutdown", "discard");
    // a getter takes both locks over from the dead discarder and is killed in its repair
    killInside(q as Queue<unknown>, "get", point);
    assert.ok(held(q, FIFO_P_LOCK), "P_LOCK is left held");
    assert.throws(() => q.get(), ShutDown);
    assert.throws(() => q.put(9), ShutDown);
    assert.equal(q.qsize(), 0);
    q.join();
    assert.throws(() => q.taskDone(), RangeError);
  });
}
