// RLock, after CPython's lock_tests.RLockTests (and the BaseLockTests it inherits), plus
// cross-thread ownership, mixed blocking/async waiters, a stress test and a model-based property test.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Event, RLock, RuntimeError, Thread, TimeoutError } from "threading";

const T = { timeout: 30_000 };
const cells = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

test("RLock: re-acquire by the owner, free after as many releases", T, () => {
  const lock = new RLock();
  assert.equal(lock.acquire(), true);
  assert.equal(lock.acquire(), true);
  lock.release();
  assert.equal(lock.locked(), true);
  assert.equal(lock.acquire(false), true);
  lock.release();
  lock.release();
  assert.equal(lock.locked(), false);
});

test("RLock: owner and count cross threads with it (one word for the owner, the count in shared memory)", T, () => {
  const lock = new RLock();
  const held = new Event();
  const go = new Event();
  const t = new Thread({
    // The same RLock twice: whatever objects the thread holds for it, they count the same levels.
    target: (a: RLock, b: RLock, h: Event, g: Event) => {
      a.acquire();
      b.acquire();
      a.acquire();
      h.set();
      g.wait();
      b.release();
      a.release();
      a.release();
    },
    args: [lock, lock, held, go],
  });
  t.start();
  assert.equal(held.wait(10), true);
  assert.equal(lock.locked(), true);
  assert.equal(Object.prototype.toString.call(lock), `[object RLock locked owner=${t.ident} count=3]`);
  assert.equal(lock.acquire(false), false);
  assert.throws(() => lock.release(), RuntimeError);
  go.set();
  assert.equal(lock.acquire(true, 10), true);
  assert.equal(Object.prototype.toString.call(lock), `[object RLock locked owner=1 count=1]`);
  lock.release();
  assert.equal(Object.prototype.toString.call(lock), "[object RLock unlocked]");
  t.join();
});

test("RLock: releasing an un-acquired lock is a RuntimeError", T, () => {
  const lock = new RLock();
  const unacquired = { name: "RuntimeError", message: "cannot release un-acquired lock" };
  assert.throws(() => lock.release(), unacquired);
  lock.acquire();
  lock.acquire();
  lock.release();
  lock.release();
  assert.throws(() => lock.release(), unacquired);
  assert.throws(() => lock.release(), RuntimeError);
});

test("RLock: argument checks as Lock's; async methods reject instead of throwing", T, async () => {
  const lock = new RLock();
  assert.throws(() => lock.acquire(false, 1), RangeError);
  assert.throws(() => lock.acquire(true, -2), RangeError);
  assert.throws(() => lock.acquire(true, Number.NaN), RangeError);
  assert.equal(lock.acquire(true, -1), true);
  lock.release();
  let p: Promise<boolean> | undefined;
  assert.doesNotThrow(() => {
    p = lock.acquireAsync(-5);
  });
  await assert.rejects(p as Promise<boolean>, RangeError);
  // -1 is "forever" only for acquire() (API.md): acquireAsync() and hold() take null or Infinity.
  await assert.rejects(lock.acquireAsync(-1), {
    name: "RangeError",
    message: "RLock.acquireAsync(): 'timeout' must be a non-negative number of seconds, not -1",
  });
  assert.throws(() => lock.hold(-1), { name: "RangeError", message: /^RLock\.hold\(\): 'timeout' must be/ });
  await assert.rejects(lock.holdAsync(-1), RangeError);
  assert.equal(lock.locked(), false);
});

test("RLock: another thread cannot release it, and blocks until every level is released", T, () => {
  const lock = new RLock();
  const state = cells(2);
  const done = new Event();
  const t = new Thread({
    target: (l: RLock, s: Int32Array, d: Event) => {
      try {
        l.release();
      } catch (e) {
        s[0] = (e as Error).message === "cannot release un-acquired lock" ? 1 : 2;
      }
      l.acquire();
      s[1] = 1;
      l.release();
      d.set();
    },
    args: [lock, state, done],
  });
  lock.acquire();
  lock.acquire();
  t.start();
  assert.equal(done.wait(0.15), false, "blocked while main holds two levels");
  lock.release();
  assert.equal(done.wait(0.1), false, "still blocked while main holds one level");
  assert.equal(state[0], 1);
  lock.release();
  t.join();
  assert.equal(state[1], 1);
  assert.equal(lock.locked(), false);
});

test("RLock: a thread's acquire with a timeout gives up while main owns it", T, () => {
  const lock = new RLock();
  const out = cells(2);
  lock.acquire();
  const t = new Thread({
    target: (l: RLock, o: Int32Array) => {
      const t0 = performance.now();
      o[0] = l.acquire(true, 0.1) ? 1 : 2;
      o[1] = Math.round(performance.now() - t0);
    },
    args: [lock, out],
  });
  t.start();
  t.join();
  lock.release();
  assert.equal(out[0], 2);
  assert.ok((out[1] as number) >= 95, `waited ${out[1]} ms`);
});

test("RLock: hold() nests with using; hold(timeout) throws TimeoutError when another thread owns it", T, async () => {
  const lock = new RLock();
  {
    using _a = lock.hold();
    using _b = lock.hold();
    assert.equal(lock.locked(), true);
  }
  assert.equal(lock.locked(), false);
  {
    await using _c = await lock.holdAsync();
    assert.equal(lock.locked(), true);
  }
  const held = new Event();
  const go = new Event();
  const t = new Thread({
    target: (l: RLock, h: Event, g: Event) => {
      l.acquire();
      h.set();
      g.wait();
      l.release();
    },
    args: [lock, held, go],
  });
  t.start();
  held.wait();
  assert.throws(() => lock.hold(0.05), TimeoutError);
  await assert.rejects(lock.holdAsync(0.05), TimeoutError);
  go.set();
  t.join();
  assert.equal(lock.locked(), false);
});

test("RLock: ownership is per thread, so two async functions of one thread share it", T, async () => {
  const lock = new RLock();
  assert.equal(await lock.acquireAsync(), true);
  assert.equal(await lock.acquireAsync(0), true);
  lock.release();
  lock.release();
  assert.equal(lock.locked(), false);
});

test("RLock: a blocking waiter in a thread and an async waiter on main contend fairly", T, async () => {
  const lock = new RLock();
  const counter = cells(1);
  const N = 1500;
  const t = new Thread({
    target: (l: RLock, c: Int32Array, n: number) => {
      for (let i = 0; i < n; i++) {
        l.acquire();
        l.acquire();
        c[0] = (c[0] as number) + 1;
        l.release();
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
  assert.equal(lock.locked(), false);
});

test("RLock stress: 3 threads x 10000 re-entrant sections, exact count", T, () => {
  const lock = new RLock();
  const cell = cells(1);
  const threads = [0, 1, 2].map(
    () =>
      new Thread({
        target: (l: RLock, c: Int32Array, n: number) => {
          for (let i = 0; i < n; i++) {
            l.acquire();
            const v = c[0] as number;
            l.acquire();
            c[0] = v + 1;
            l.release();
            l.release();
          }
        },
        args: [lock, cell, 10_000],
      }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join();
  assert.equal(cell[0], 30_000);
  assert.equal(lock.locked(), false);
});

test("RLock property: any sequence of acquire/release in one thread follows the counter model", T, () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom("acquire", "try", "release"), { maxLength: 40 }), (ops) => {
      const lock = new RLock();
      let level = 0;
      for (const op of ops) {
        if (op === "release") {
          if (level === 0) assert.throws(() => lock.release(), RuntimeError);
          else {
            lock.release();
            level--;
          }
        } else {
          assert.equal(op === "try" ? lock.acquire(false) : lock.acquire(), true);
          level++;
        }
        assert.equal(lock.locked(), level > 0);
      }
    }),
  );
});
