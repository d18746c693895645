// Semaphore and BoundedSemaphore, after CPython's lock_tests.BaseSemaphoreTests, SemaphoreTests
// and BoundedSemaphoreTests, plus a bounded section under stress (exact counts, the bound never
// exceeded), mixed blocking/async waiters and a model-based property test.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Barrier, BoundedSemaphore, Semaphore, Thread, TimeoutError, sleep } from "threading";

const T = { timeout: 30_000 };
const cells = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

function until(pred: () => boolean, what: string): void {
  const end = performance.now() + 10_000;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    sleep(0.005);
  }
}

for (const Sem of [Semaphore, BoundedSemaphore]) {
  const name = Sem.name;

  test(`${name}: constructor checks the value`, T, () => {
    assert.throws(() => new Sem(-1), { name: "RangeError", message: "semaphore initial value must be >= 0" });
    assert.throws(() => new Sem(-(2 ** 53)), RangeError);
    assert.throws(() => new Sem("2" as unknown as number), TypeError);
    // null is named as such, not as "object"
    assert.throws(() => new Sem(null as never), { name: "TypeError", message: /value must be a number, not null$/ });
    assert.doesNotThrow(() => new Sem(0));
  });

  test(`${name}: acquire and release, non-blocking acquire, default value 1`, T, () => {
    let sem = new Sem(2);
    assert.equal(sem.acquire(false), true);
    assert.equal(sem.acquire(false), true);
    assert.equal(sem.acquire(false), false);
    sem.release();
    assert.equal(sem.acquire(false), true);
    sem.release();
    sem.release();
    sem = new Sem();
    assert.equal(sem.acquire(), true);
    assert.equal(sem.acquire(false), false);
    sem.release();
  });

  test(`${name}: acquire with a timeout; argument checks; async twins reject`, T, async () => {
    const sem = new Sem(2);
    assert.throws(() => sem.acquire(false, 1), RangeError);
    assert.throws(() => sem.acquire(true, -1), RangeError, "-1 is only for Lock/RLock/Condition");
    assert.throws(() => sem.release(0), { name: "RangeError", message: "n must be one or more" });
    assert.throws(() => sem.release(0.5), { name: "RangeError", message: "n must be one or more" });
    assert.throws(() => sem.release(1.5), {
      name: "RangeError",
      message: `${name}.release(): n must be an integer, not 1.5`,
    });
    assert.throws(() => sem.release(Number.NaN), { name: "RangeError", message: /must be an integer, not NaN/ });
    assert.equal(sem.acquire(true, 0.005), true);
    assert.equal(sem.acquire(true, 0.005), true);
    assert.equal(sem.acquire(true, 0.005), false);
    sem.release();
    assert.equal(sem.acquire(true, 0.005), true);
    const t0 = performance.now();
    assert.equal(sem.acquire(true, 0.1), false);
    assert.ok(performance.now() - t0 >= 95);
    let p: Promise<boolean> | undefined;
    assert.doesNotThrow(() => {
      p = sem.acquireAsync(-1);
    });
    await assert.rejects(p as Promise<boolean>, RangeError);
    assert.equal(await sem.acquireAsync(0.02), false);
    sem.release();
    assert.equal(await sem.acquireAsync(0.02), true);
  });

  test(`${name}: hold() for using, nested; TimeoutError when none is left`, T, async () => {
    const sem = new Sem(2);
    {
      using _a = sem.hold();
      assert.equal(sem.acquire(false), true);
      sem.release();
      {
        using _b = sem.hold();
        assert.equal(sem.acquire(false), false);
        assert.throws(() => sem.hold(0.01), TimeoutError);
        await assert.rejects(sem.holdAsync(0.01), TimeoutError);
      }
    }
    assert.equal(sem.acquire(false), true);
    assert.equal(sem.acquire(false), true);
    sem.release(2);
  });

  test(`${name}: contended acquire in phases (CPython's test_acquire_contended, test_multirelease)`, T, () => {
    {
      const multi = Sem === BoundedSemaphore; // one release(n) instead of n release() calls
      const value = 7;
      const sem = new Sem(value);
      sem.acquire();
      // r: [phase, nResults, results...]
      const r = cells(2 + 20);
      const threads = Array.from({ length: 10 }, () => {
        const t = new Thread({
          target: (s: Semaphore, res: Int32Array) => {
            for (let k = 0; k < 2; k++) {
              if (!s.acquire()) throw new Error("acquire returned false");
              res[2 + Atomics.add(res, 1, 1)] = Atomics.load(res, 0);
            }
          },
          args: [sem, r],
        });
        t.start();
        return t;
      });
      const count = () => Atomics.load(r, 1);
      const phases = () => [...r.slice(2, 2 + count())].sort();
      until(() => count() >= value - 1, "phase 0");
      sleep(0.03);
      assert.deepEqual(phases(), Array(6).fill(0));
      Atomics.store(r, 0, 1);
      if (multi) sem.release(value);
      else for (let i = 0; i < value; i++) sem.release();
      until(() => count() >= 13, "phase 1");
      sleep(0.03);
      assert.deepEqual(phases(), [...Array(6).fill(0), ...Array(7).fill(1)]);
      Atomics.store(r, 0, 2);
      if (multi) sem.release(value - 1);
      else for (let i = 0; i < value - 1; i++) sem.release();
      until(() => count() >= 19, "phase 2");
      sleep(0.03);
      assert.deepEqual(phases(), [...Array(6).fill(0), ...Array(7).fill(1), ...Array(6).fill(2)]);
      assert.equal(sem.acquire(false), false, "still locked");
      sem.release();
      for (const t of threads) t.join();
      assert.equal(count(), 20);
    }
  });

  test(`${name}: non-blocking acquires from 5 threads take exactly what is there`, T, () => {
    const sem = new Sem(4);
    sem.acquire();
    const r = cells(2);
    const threads = Array.from({ length: 5 }, () => {
      const t = new Thread({
        target: (s: Semaphore, res: Int32Array) => {
          for (let k = 0; k < 2; k++) Atomics.add(res, s.acquire(false) ? 0 : 1, 1);
        },
        args: [sem, r],
      });
      t.start();
      return t;
    });
    for (const t of threads) t.join();
    assert.deepEqual([...r], [3, 7]);
  });

  test(`${name} stress: 4 threads x 3000 entries into a section of width 2; bound never exceeded`, T, () => {
    const sem = new Sem(2);
    // s: [inside, maxInside, entries]
    const s = cells(3);
    const threads = Array.from({ length: 4 }, () => {
      const t = new Thread({
        target: (sm: Semaphore, st: Int32Array, n: number) => {
          for (let i = 0; i < n; i++) {
            sm.acquire();
            const inside = Atomics.add(st, 0, 1) + 1;
            for (let m = Atomics.load(st, 1); inside > m; m = Atomics.load(st, 1)) {
              Atomics.compareExchange(st, 1, m, inside);
            }
            Atomics.add(st, 2, 1);
            Atomics.sub(st, 0, 1);
            sm.release();
          }
        },
        args: [sem, s, 3000],
      });
      t.start();
      return t;
    });
    for (const t of threads) t.join();
    assert.equal(s[2], 12_000);
    assert.ok((s[1] as number) <= 2, `at most 2 inside, saw ${s[1]}`);
    assert.equal(s[0], 0);
    assert.equal(sem.acquire(false) && sem.acquire(false) && !sem.acquire(false), true);
  });

  test(`${name}: a blocking waiter in a thread and async waiters on main share the units`, T, async () => {
    const sem = new Sem(1);
    const counter = cells(1);
    const N = 1000;
    const t = new Thread({
      target: (s: Semaphore, c: Int32Array, n: number) => {
        for (let i = 0; i < n; i++) {
          s.acquire();
          c[0] = (c[0] as number) + 1;
          s.release();
        }
      },
      args: [sem, counter, N],
    });
    t.start();
    for (let i = 0; i < N; i++) {
      await sem.acquireAsync();
      counter[0] = (counter[0] as number) + 1;
      sem.release();
    }
    await t.joinAsync();
    assert.equal(counter[0], 2 * N);
    assert.equal(sem.acquire(false), true);
    assert.equal(sem.acquire(false), false);
  });
}

test("Semaphore: release above the initial value is allowed (unbounded)", T, () => {
  const sem = new Semaphore(1);
  sem.release();
  sem.acquire();
  sem.acquire();
  sem.release(3);
  assert.match(Object.prototype.toString.call(sem), /value=3/);
});

test("Semaphore: the value stays within 2**30 - 1; a release above it is a RangeError that changes nothing", T, () => {
  const max = 2 ** 30 - 1;
  assert.throws(() => new Semaphore(max + 1), RangeError);
  const sem = new Semaphore(max);
  assert.throws(() => sem.release(), { name: "RangeError", message: /value would exceed 1073741823/ });
  assert.throws(() => sem.release(2), RangeError);
  assert.match(Object.prototype.toString.call(sem), /value=1073741823\]/);
  assert.equal(sem.acquire(false), true);
  sem.release();
  assert.throws(() => sem.release(), RangeError);
  const low = new Semaphore(5);
  assert.throws(() => low.release(max), RangeError);
  low.release(max - 5);
  assert.match(Object.prototype.toString.call(low), /value=1073741823\]/);
});

test(
  "Semaphore: a release while a thread waits wakes it, also after this thread's fast path guessed the value",
  T,
  () => {
    // The waiting bit lives in the value word: a release that finds it set takes the slow path.
    const sem = new Semaphore(2);
    sem.acquire();
    sem.release(); // this thread now guesses 2
    sem.acquire();
    sem.acquire(); // 0 left
    const done = cells(1);
    const t = new Thread({
      target: (s: Semaphore, d: Int32Array) => {
        s.acquire();
        s.acquire();
        Atomics.store(d, 0, 1);
      },
      args: [sem, done],
    });
    t.start();
    until(() => /value=0/.test(Object.prototype.toString.call(sem)), "the value 0");
    sleep(0.05);
    sem.release();
    sem.release();
    t.join(10);
    assert.equal(t.isAlive(), false);
    assert.equal(done[0], 1);
    assert.equal(sem.acquire(false), false);
    sem.release(3);
    assert.equal(sem.acquire(false), true); // the waiting bit is clear again: 3 -> 2
    assert.match(Object.prototype.toString.call(sem), /value=2\]/);
  },
);

test("BoundedSemaphore: release above the initial value is a RangeError", T, () => {
  const sem = new BoundedSemaphore();
  assert.throws(() => sem.release(), { name: "RangeError", message: "Semaphore released too many times" });
  sem.acquire();
  sem.release();
  assert.throws(() => sem.release(), RangeError);
  const three = new BoundedSemaphore(3);
  three.acquire();
  three.acquire();
  assert.throws(() => three.release(3), RangeError);
  three.release(2);
  assert.match(Object.prototype.toString.call(three), /value=3\/3/);
});

test("Semaphore: waiters are woken in arrival order", T, () => {
  const sem = new Semaphore(0);
  // [VALUE, WAITERS, BOUND] (semaphore.ts)
  const share = (sem as unknown as { [k: symbol]: () => { buffers: SharedArrayBuffer[] } })[
    Symbol.for("threading.share")
  ];
  const words = new Int32Array(share.call(sem).buffers[0] as SharedArrayBuffer);
  const r = cells(1 + 4);
  const threads: Thread[] = [];
  for (let k = 0; k < 4; k++) {
    const t = new Thread({
      target: (s: Semaphore, res: Int32Array, id: number) => {
        s.acquire();
        res[1 + Atomics.add(res, 0, 1)] = id;
      },
      args: [sem, r, k],
    });
    t.start();
    threads.push(t);
    // It blocks before the next arrives: ordered by the semaphore's WAITERS word (bumped under the
    // Condition's lock, which the waiter keeps until it is queued in the Condition), not by a sleep:
    // a thread's start can take longer than any fixed sleep on a loaded machine.
    until(() => Atomics.load(words, 1) === k + 1, `waiter ${k} queued`);
  }
  for (let k = 0; k < 4; k++) {
    sem.release();
    until(() => Atomics.load(r, 0) > k, `waiter ${k}`);
  }
  for (const t of threads) t.join();
  assert.deepEqual([...r.slice(1)], [0, 1, 2, 3]);
});

test("BoundedSemaphore property: random acquire/release sequences follow the counter model", T, () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 5 }),
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })), { maxLength: 40 }),
      (initial, ops) => {
        const sem = new BoundedSemaphore(initial);
        let value = initial;
        for (const op of ops) {
          if (op === 0) {
            assert.equal(sem.acquire(false), value > 0);
            if (value > 0) value--;
          } else if (value + op > initial) {
            assert.throws(() => sem.release(op), RangeError);
          } else {
            sem.release(op);
            value += op;
          }
          assert.equal(Object.prototype.toString.call(sem), `[object BoundedSemaphore value=${value}/${initial}]`);
        }
      },
    ),
  );
});

test(
  "BoundedSemaphore: two threads releasing at once with one unit out: exactly one succeeds, never above the bound",
  T,
  () => {
    // The bound check and the add are one step (a CAS): of two concurrent releases of the one unit
    // taken, one is the RangeError, whatever the interleaving.
    const rounds = 200;
    const sems = Array.from({ length: rounds }, () => {
      const s = new BoundedSemaphore(1);
      s.acquire();
      return s;
    });
    const counts = cells(4); // [ok of thread 0, ok of thread 1, RangeError of 0, RangeError of 1]
    const go = new Barrier(2);
    const threads = [0, 1].map(
      (k) =>
        new Thread({
          target: (sems: BoundedSemaphore[], go: Barrier, c: Int32Array, k: number) => {
            for (const s of sems) {
              go.wait(); // both release the same semaphore at once
              try {
                s.release();
                c[k] = (c[k] as number) + 1;
              } catch (e) {
                if (e instanceof RangeError) c[2 + k] = (c[2 + k] as number) + 1;
              }
            }
          },
          args: [sems, go, counts, k],
        }),
    );
    for (const t of threads) t.start();
    for (const t of threads) t.join();
    assert.equal((counts[0] as number) + (counts[1] as number), rounds, "one release per round succeeded");
    assert.equal((counts[2] as number) + (counts[3] as number), rounds, "the other was a RangeError");
    for (const s of sems) {
      assert.equal(s.acquire(false), true);
      assert.equal(s.acquire(false), false, "one unit, never two");
    }
  },
);
