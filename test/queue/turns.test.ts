// Waiters' turns (engine.ts, "Turns"): a blocked get() or put() wakes now and then for its idle
// check (a lock left by a dead thread: every IDLE_CHECK_MS, here set per thread by a test hook)
// and sleeps again; it used to sleep again at the back of the runtime's line of sleepers, so a
// waiter blocked longer than that was overtaken by the ones that came after it. Waiters are
// served in arrival order, with exact counts, whatever the idle checks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Event, Queue, setExcepthook, sleep, Thread } from "threading";
import { FIFO_GET_DISORDER, FIFO_GET_SLEEPERS } from "../../dist/internal.js";
import { assertDrained, cells, control, type Kind, make, turnWords, until } from "./helpers.js";

const T = { timeout: 120_000 };
const fixture = new URL("../fixtures/queue-turns.ts", import.meta.url);

/**
 * Starts `n` waiters of `op` on `q` one after the other, each once the one before sleeps in the
 * line (the side's sleepers word counts it). The first one looks for a dead holder every 20 ms,
 * the others never (60 s): once the last one sleeps, the first wakes for its look and sleeps
 * again twice, so the runtime's line is the second, ..., the last, the first (the old code served
 * them so). Returns [out, order, threads].
 */
function queueWaiters(q: Queue<number>, kind: Kind, op: "get" | "put", n: number): [Int32Array, Int32Array, Thread[]] {
  const h = control(q);
  const sleepers = op === "get" ? turnWords(kind).gs : turnWords(kind).ps;
  const idles = cells(n);
  const out = cells(n);
  const order = cells(n + 1);
  const threads: Thread[] = [];
  for (let k = 0; k < n; k++) {
    const t = new Thread({
      target: { module: fixture, export: "turnWaiter" },
      args: [q, op, k, k === 0 ? 20 : 60_000, idles, out, order],
      daemon: true,
    });
    t.start();
    threads.push(t);
    // (the first one is counted but for the instants of its looks)
    if (k === 0) until(() => Atomics.load(idles, 0) >= 1, "the first waiter asleep in the line");
    else until(() => Atomics.load(h, sleepers) === k + 1, `waiter ${k} asleep in the line`);
  }
  const seen = Atomics.load(idles, 0);
  until(() => Atomics.load(idles, 0) >= seen + 2, "the first waiter's looks");
  return [out, order, threads];
}

for (const kind of ["Queue", "SimpleQueue", "LifoQueue", "PriorityQueue"] as const) {
  test(`${kind}: blocked getters keep their turn across their idle checks`, T, () => {
    const q = make(kind);
    const [out, order, threads] = queueWaiters(q, kind, "get", 3);
    for (let i = 0; i < 3; i++) {
      q.put(i);
      until(() => Atomics.load(order, 0) === i + 1, `item ${i} taken`);
    }
    // (after the joins: a waiter counts itself in order[0] before it writes its place in order)
    for (const t of threads) t.join(30);
    assert.deepEqual([...order], [3, 0, 1, 2], "the getters were served in the order they came");
    assert.deepEqual([...out], [0, 1, 2], "each getter got the item put in its turn");
    const h = control(q);
    const { gs, gd } = turnWords(kind);
    assert.equal(Atomics.load(h, gd), 0, "no getter counted out of its place");
    assert.equal(Atomics.load(h, gs), 0, "no sleeper counted");
  });
}

for (const kind of ["Queue", "LifoQueue", "PriorityQueue"] as const) {
  test(`${kind}: blocked putters keep their turn across their idle checks`, T, () => {
    const q = make(kind, 1);
    q.put(-1);
    const [, order, threads] = queueWaiters(q, kind, "put", 3);
    const got: number[] = [];
    for (let i = 0; i < 3; i++) {
      got.push(q.get());
      until(() => Atomics.load(order, 0) === i + 1, `putter ${i} done`);
    }
    got.push(q.get());
    // (after the joins, as above)
    for (const t of threads) t.join(30);
    assert.deepEqual([...order], [3, 0, 1, 2], "the putters were let in in the order they came");
    assert.deepEqual(got, [-1, 100, 101, 102]);
    const h = control(q);
    const { ps, pd } = turnWords(kind);
    assert.equal(Atomics.load(h, pd), 0, "no putter counted out of its place");
    assert.equal(Atomics.load(h, ps), 0, "no sleeper counted");
  });
}

for (const kind of ["Queue", "LifoQueue"] as const) {
  test(
    `${kind} stress: producers and consumers blocked across frequent idle checks: every item once, exact counts`,
    T,
    () => {
      const PRODUCERS = 3;
      const CONSUMERS = 3;
      const N = 400;
      const q = make(kind, 2);
      const sums = new Float64Array(new SharedArrayBuffer(8 * CONSUMERS));
      const counts = cells(2);
      const threads: Thread[] = [];
      for (let k = 0; k < CONSUMERS; k++) {
        threads.push(
          new Thread({
            target: { module: fixture, export: "stressGetter" },
            args: [q, k, N, 1 + k, 30, sums, counts],
            daemon: true,
          }),
        );
      }
      for (let k = 0; k < PRODUCERS; k++) {
        threads.push(
          new Thread({
            target: { module: fixture, export: "stressPutter" },
            args: [q, k * N, N, 1 + k],
            daemon: true,
          }),
        );
      }
      for (const t of threads) t.start();
      for (const t of threads) t.join(100);
      for (const t of threads) assert.equal(t.isAlive(), false, `${t.name} finished`);
      assertDrained(q, kind, counts, sums, PRODUCERS * N);
    },
  );
}

/**
 * The setup of the hook-owner tests: a getter whose thread owns an excepthook (the hook, if `go` is
 * given, waits up to 20 s for it) asleep in its get(), and another getter asleep behind it.
 * out: [owner in its get, its item, the hook began, the hook's wait (1 set, 2 timed out), the other's item].
 */
function hookOwnerAndGetterBehind(q: Queue<number>, go?: Event): { out: Int32Array; hooked: Thread; other: Thread } {
  const h = control(q);
  const out = cells(5);
  const hooked = new Thread({
    target: (qq: Queue<number>, o: Int32Array, ev?: Event) => {
      setExcepthook(() => {
        Atomics.store(o, 2, 1);
        if (ev) Atomics.store(o, 3, ev.wait(20) ? 1 : 2);
      });
      Atomics.store(o, 0, 1);
      Atomics.store(o, 1, qq.get());
    },
    args: [q, out, go],
    daemon: true,
  });
  hooked.start();
  until(
    () => Atomics.load(out, 0) === 1 && Atomics.load(h, FIFO_GET_SLEEPERS) === 1,
    "the hook's owner asleep in its get",
  );
  const other = new Thread({
    target: (qq: Queue<number>, o: Int32Array) => {
      Atomics.store(o, 4, qq.get());
    },
    args: [q, out],
    daemon: true,
  });
  other.start();
  until(() => Atomics.load(h, FIFO_GET_SLEEPERS) === 2, "the other getter asleep behind it");
  return { out, hooked, other };
}

test("Queue: a getter whose thread owns an excepthook (50 ms slices to run it) keeps its turn", T, () => {
  const q = new Queue<number>();
  const { out, hooked, other } = hookOwnerAndGetterBehind(q);
  // The owner wakes every 50 ms to run its hook and sleeps again (before: at the back of the line).
  sleep(0.3);
  q.put(1);
  until(() => Atomics.load(out, 1) !== 0 || Atomics.load(out, 4) !== 0, "the first item taken");
  q.put(2);
  hooked.join(30);
  other.join(30);
  assert.deepEqual(
    [Atomics.load(out, 1), Atomics.load(out, 4)],
    [1, 2],
    "the hook's owner, first in line, got the first item",
  );
});

test("Queue: an older getter running its excepthook inside its wait is not given way to meanwhile", T, () => {
  const q = new Queue<number>();
  const h = control(q);
  const go = new Event();
  const { out, hooked, other } = hookOwnerAndGetterBehind(q, go);
  // A thread's uncaught error: the owner runs its hook inside its get, and the hook waits for `go`.
  const thrower = new Thread({
    target: () => {
      throw new Error("for the hook");
    },
  });
  thrower.start();
  thrower.join(30);
  until(() => Atomics.load(out, 2) === 1, "the hook running inside the owner's get");
  // Before: the other getter gave way to the older owner, busy in its hook, until the hook's 20 s passed.
  q.put(1);
  until(() => Atomics.load(out, 4) !== 0, "the other getter got the item while the hook ran");
  go.set();
  until(() => Atomics.load(out, 3) !== 0, "the hook done");
  q.put(2);
  hooked.join(30);
  other.join(30);
  assert.deepEqual(
    [...out],
    [1, 2, 1, 1, 1],
    "the other got the first item, the owner the second, the hook's wait was set",
  );
  assert.equal(Atomics.load(h, FIFO_GET_DISORDER), 0, "no getter counted out of its place");
});
