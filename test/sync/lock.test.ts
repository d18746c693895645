// Lock and Event, after CPython's lock_tests (BaseLockTests, LockTests, EventTests), plus a
// multi-thread stress test with exact counts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Condition, dumpThreads, Event, Lock, RLock, RuntimeError, sleep, Thread, TimeoutError } from "threading";

const T = { timeout: 30_000 };

test("Lock: acquire/release, non-blocking acquire fails while held, locked()", T, () => {
  const lock = new Lock();
  assert.equal(lock.locked(), false);
  assert.equal(lock.acquire(), true);
  assert.equal(lock.locked(), true);
  assert.equal(lock.acquire(false), false);
  lock.release();
  assert.equal(lock.locked(), false);
  assert.throws(() => lock.release(), { name: "RuntimeError", message: "release unlocked lock" });
  assert.ok(new RuntimeError("x") instanceof Error);
});

test("Lock: argument checks as Python's", T, async () => {
  const lock = new Lock();
  assert.throws(() => lock.acquire(false, 1), RangeError);
  assert.throws(() => lock.acquire(true, -2), RangeError);
  assert.throws(() => lock.acquire(true, Number.NaN), RangeError);
  assert.equal(lock.acquire(true, -1), true);
  lock.release();
  await assert.rejects(lock.acquireAsync(-5), RangeError);
  // -1 is "forever" only for acquire() (API.md), as only Python's acquire() has it.
  const cond = new Condition(lock);
  await assert.rejects(lock.acquireAsync(-1), {
    name: "RangeError",
    message: "Lock.acquireAsync(): 'timeout' must be a non-negative number of seconds, not -1",
  });
  await assert.rejects(cond.acquireAsync(-1), RangeError);
  assert.throws(() => lock.hold(-1), { name: "RangeError", message: /^Lock\.hold\(\): 'timeout' must be/ });
  assert.throws(() => cond.hold({ timeout: -1 }), { name: "RangeError", message: /^Condition\.hold\(\)/ });
  await assert.rejects(lock.holdAsync(-1), { name: "RangeError", message: /^Lock\.holdAsync\(\)/ });
  assert.equal(lock.locked(), false);
  assert.equal(cond.acquire(true, -1), true);
  cond.release();
});

test("Lock: acquire with timeout waits at least the timeout, then fails", T, () => {
  const lock = new Lock();
  lock.acquire();
  const t0 = performance.now();
  assert.equal(lock.acquire(true, 0.1), false);
  assert.ok(performance.now() - t0 >= 95);
  lock.release();
});

test("Lock: another thread may release it; a waiter in another thread gets it", T, () => {
  const lock = new Lock();
  lock.acquire();
  const t = new Thread({ target: (l: Lock) => l.release(), args: [lock] });
  t.start();
  t.join();
  assert.equal(lock.locked(), false);
  lock.acquire();
  const got = new Int32Array(new SharedArrayBuffer(4));
  const waiter = new Thread({
    target: (l: Lock, g: Int32Array) => {
      l.acquire();
      g[0] = 1;
      l.release();
    },
    args: [lock, got],
  });
  waiter.start();
  waiter.join(0.1);
  assert.equal(got[0], 0, "the waiter is blocked while main holds the lock");
  lock.release();
  waiter.join();
  assert.equal(got[0], 1);
});

test("Lock: the same lock is the same object when it comes back (===)", T, () => {
  const lock = new Lock();
  const ok = new Int32Array(new SharedArrayBuffer(4));
  const t = new Thread({
    target: (a: Lock, b: Lock, o: Int32Array) => {
      o[0] = a === b ? 1 : 2;
    },
    args: [lock, lock, ok],
  });
  t.start();
  t.join();
  assert.equal(ok[0], 1);
});

test("Lock: hold() for `using`, holdAsync(), TimeoutError when not acquired", T, async () => {
  const lock = new Lock();
  {
    using _held = lock.hold();
    assert.equal(lock.locked(), true);
    assert.throws(() => lock.hold(0.05), {
      name: "TimeoutError",
      message: "Lock.hold(): not acquired within 0.05 s",
    });
    await assert.rejects(lock.holdAsync(0.05), (e) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.message, "Lock.holdAsync(): not acquired within 0.05 s");
      return true;
    });
  }
  assert.equal(lock.locked(), false);
  {
    await using _a = await lock.holdAsync();
    assert.equal(lock.locked(), true);
  }
  assert.equal(lock.locked(), false);
});

test("Lock: a blocking waiter in a thread and an async waiter on main contend for one lock", T, async () => {
  const lock = new Lock();
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const N = 2000;
  const t = new Thread({
    target: (l: Lock, c: Int32Array, n: number) => {
      for (let i = 0; i < n; i++) {
        l.acquire();
        c[0] = (c[0] as number) + 1;
        l.release();
      }
    },
    args: [lock, counter, N],
  });
  t.start();
  for (let i = 0; i < N; i++) {
    await lock.acquireAsync();
    counter[0] = (counter[0] as number) + 1;
    lock.release();
  }
  await t.joinAsync();
  assert.equal(counter[0], 2 * N);
});

test("Lock stress: 4 threads x 20000 non-atomic increments under the lock, exact count", T, () => {
  const lock = new Lock();
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const threads = [0, 1, 2, 3].map(
    () =>
      new Thread({
        target: (l: Lock, c: Int32Array, n: number) => {
          for (let i = 0; i < n; i++) {
            l.acquire();
            const v = c[0] as number; // read, then write: lost updates if exclusion failed
            c[0] = v + 1;
            l.release();
          }
        },
        args: [lock, cell, 20_000],
      }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join();
  assert.equal(cell[0], 80_000);
  assert.equal(lock.locked(), false);
});

test("Event: set/clear/isSet, wait returns true when set, false on timeout", T, () => {
  const e = new Event();
  assert.equal(e.isSet(), false);
  const t0 = performance.now();
  assert.equal(e.wait(0.1), false);
  assert.ok(performance.now() - t0 >= 95);
  e.set();
  assert.equal(e.isSet(), true);
  assert.equal(e.wait(), true);
  assert.equal(e.wait(0), true);
  e.clear();
  assert.equal(e.isSet(), false);
  assert.throws(() => e.wait(-1), RangeError);
});

test("Event: set() wakes every waiter, in threads and async on main", T, async () => {
  const e = new Event();
  const woke = new Int32Array(new SharedArrayBuffer(4));
  const threads = [0, 1, 2].map(
    () =>
      new Thread({
        target: (ev: Event, w: Int32Array) => {
          if (ev.wait(10)) Atomics.add(w, 0, 1);
        },
        args: [e, woke],
      }),
  );
  for (const t of threads) t.start();
  const mine = e.waitAsync(10);
  setTimeout(() => e.set(), 50);
  assert.equal(await mine, true);
  for (const t of threads) await t.joinAsync();
  assert.equal(woke[0], 3);
});

test("Event: a pending waitAsync keeps the process alive; bad timeouts reject, never throw", T, async () => {
  const e = new Event();
  const p = e.waitAsync(Number.NaN);
  await assert.rejects(p, RangeError);
  setTimeout(() => e.set(), 20);
  assert.equal(await e.waitAsync(), true);
});

test(
  "many acquireAsync() in one thread: a line of their own; timeouts leave it, the rest get the lock in turn",
  T,
  async () => {
    const lock = new Lock();
    lock.acquire();
    const order: number[] = [];
    const patient = Array.from({ length: 1000 }, (_, k) =>
      lock.acquireAsync().then((ok) => {
        assert.equal(ok, true);
        order.push(k);
        lock.release();
      }),
    );
    // Waiters behind the first 1000 whose timeout passes while they wait in the line.
    const hasty = Array.from({ length: 500 }, () => lock.acquireAsync({ timeout: 0.05 }));
    assert.deepEqual(new Set(await Promise.all(hasty)), new Set([false]));
    // A blocked thread's waiter is woken too, among the async ones.
    const fromThread = new Thread({
      target: (l: Lock) => l.acquire({ timeout: 60 }) && (l.release(), true),
      args: [lock],
    });
    fromThread.start();
    lock.release();
    await Promise.all(patient);
    await fromThread.joinAsync();
    assert.equal(order.length, 1000);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      "one thread's async waiters get the lock in arrival order",
    );
    assert.equal(lock.locked(), false);
  },
);

test("Lock and RLock: blocked waiters get the lock in arrival order, also after sleeping over a second", T, () => {
  for (const make of [() => new Lock(), () => new RLock()]) {
    const lock = make();
    const kind = lock instanceof RLock ? "RLock" : "Lock";
    lock.acquire();
    const order = new Int32Array(new SharedArrayBuffer(4 * 4));
    const threads: Thread[] = [];
    for (let k = 0; k < 3; k++) {
      const t = new Thread({
        target: (l: Lock | RLock, res: Int32Array, id: number) => {
          l.acquire();
          res[1 + Atomics.add(res, 0, 1)] = id;
          l.release();
        },
        args: [lock, order, k],
      });
      t.start();
      threads.push(t);
      // Queued before the next one starts: the hang report lists it as blocked on the lock.
      const deadline = Date.now() + 30_000;
      const blocked = () => (dumpThreads().match(new RegExp(`blocking: waits on ${kind}#`, "g")) ?? []).length;
      while (blocked() < k + 1) {
        assert.ok(Date.now() < deadline, `waiter ${k} never blocked on the ${kind}`);
        sleep(0.005);
      }
    }
    // The first waiter has slept over a second (it used to wake every second to re-read the
    // owner for the hang report, and went to the back of the line each time).
    sleep(1.2);
    lock.release();
    for (const t of threads) t.join(30);
    assert.deepEqual([...order], [3, 0, 1, 2], `${kind}: the order the waiters got it in`);
  }
});
