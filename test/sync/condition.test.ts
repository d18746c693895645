// Condition, after CPython's lock_tests.ConditionTests, plus exact notify counts, arrival order,
// dead waiters, mixed blocking/async waiters, no capacity limit short of memory, a producer/consumer stress test
// and a model-based property test of notify(n) against a FIFO of waiters.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Condition, Lock, RLock, RuntimeError, Semaphore, Thread, TimeoutError, sleep, sleepAsync } from "threading";

const T = { timeout: 30_000 };
const cells = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

/** Polls `pred` (every 5 ms, blocking) until true; fails after 10 s. */
function until(pred: () => boolean, what: string): void {
  const end = performance.now() + 10_000;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    sleep(0.005);
  }
}

/** Waiters of `cond` in threads: each counts itself in r[0] under the lock, waits, records the result. */
function startWaiters(cond: Condition, r: Int32Array, n: number, rounds = 1): Thread[] {
  const threads: Thread[] = [];
  for (let i = 0; i < n; i++) {
    const t = new Thread({
      target: (c: Condition, res: Int32Array, k: number) => {
        // res: [ready, phase, nResults, results...] each result = 10 * phase + (true ? 1 : 0)
        for (let round = 0; round < k; round++) {
          c.acquire();
          Atomics.add(res, 0, 1);
          const ok = c.wait();
          const phase = Atomics.load(res, 1);
          c.release();
          const at = Atomics.add(res, 2, 1);
          Atomics.store(res, 3 + at, 10 * phase + (ok ? 1 : 0));
        }
      },
      args: [cond, r, rounds],
    });
    t.start();
    threads.push(t);
  }
  return threads;
}

test("Condition: acquire/release go to its lock (RLock by default, or the Lock given)", T, () => {
  let cond = new Condition();
  cond.acquire();
  cond.acquire();
  cond.release();
  cond.release();
  const lock = new Lock();
  cond = new Condition(lock);
  cond.acquire();
  assert.equal(lock.acquire(false), false);
  cond.release();
  assert.equal(lock.acquire(false), true);
  assert.equal(cond.acquire(false), false);
  lock.release();
  {
    using _ = cond.hold();
    assert.equal(lock.acquire(false), false);
  }
  assert.equal(lock.locked(), false);
  assert.equal(cond.acquire(true, -1), true);
  cond.release();
  assert.throws(() => new Condition({} as Lock), TypeError);
});

test("Condition: acquire's argument errors name the Condition, not its lock", T, async () => {
  for (const cond of [new Condition(), new Condition(new Lock())]) {
    assert.throws(() => cond.acquire(false, 1), {
      name: "RangeError",
      message: /^Condition\.acquire\(\): can't specify/,
    });
    assert.throws(() => cond.acquire(true, -2), { name: "RangeError", message: /^Condition\.acquire\(\): / });
    assert.throws(() => cond.acquire({ blocking: false, timeout: 1 }), { message: /^Condition\.acquire\(\): / });
    assert.throws(() => cond.acquire(1 as unknown as boolean), {
      name: "TypeError",
      message: /^Condition\.acquire\(\): /,
    });
    let p: Promise<boolean> | undefined;
    assert.doesNotThrow(() => {
      p = cond.acquireAsync(-1);
    });
    await assert.rejects(p as Promise<boolean>, { name: "RangeError", message: /^Condition\.acquireAsync\(\): / });
    assert.equal(cond.acquire(false, null), true, "valid arguments still reach the lock");
    cond.release();
    assert.equal(await cond.acquireAsync(1), true);
    cond.release();
  }
});

test("Condition: wait/notify without the lock is a RuntimeError; waitAsync rejects", T, async () => {
  const cond = new Condition();
  assert.throws(() => cond.wait(), { name: "RuntimeError", message: "cannot wait on un-acquired lock" });
  assert.throws(() => cond.notify(), { name: "RuntimeError", message: "cannot notify on un-acquired lock" });
  assert.throws(() => cond.notifyAll(), RuntimeError);
  let p: Promise<boolean> | undefined;
  assert.doesNotThrow(() => {
    p = cond.waitAsync();
  });
  await assert.rejects(p as Promise<boolean>, RuntimeError);
  cond.acquire();
  assert.throws(() => cond.wait(-1), RangeError);
  await assert.rejects(cond.waitAsync(Number.NaN), RangeError);
  cond.release();
  // Another thread holding the RLock does not make it ours.
  const rl = new RLock();
  const c2 = new Condition(rl);
  const held = cells(1);
  const t = new Thread({
    target: (l: RLock, h: Int32Array) => {
      l.acquire();
      Atomics.store(h, 0, 1);
      Atomics.notify(h, 0);
      Atomics.wait(h, 0, 1);
      l.release();
    },
    args: [rl, held],
  });
  t.start();
  until(() => Atomics.load(held, 0) === 1, "the thread to hold the lock");
  assert.throws(() => c2.notify(), RuntimeError);
  Atomics.store(held, 0, 2);
  Atomics.notify(held, 0);
  t.join();
});

test("Condition: notify(n) wakes exactly n waiters, in phases (CPython's _check_notify, twice)", T, () => {
  const cond = new Condition();
  for (let rep = 0; rep < 2; rep++) {
    const N = 5;
    const r = cells(3 + 2 * N);
    const threads = startWaiters(cond, r, N, 2);
    until(() => {
      using _ = cond.hold();
      return Atomics.load(r, 0) >= N;
    }, "5 waiters");
    Atomics.store(r, 0, 0);
    cond.acquire();
    cond.notify(3);
    Atomics.store(r, 1, 1);
    cond.release();
    until(() => Atomics.load(r, 2) >= 3, "3 results");
    sleep(0.05);
    assert.equal(Atomics.load(r, 2), 3, "exactly 3 woke");
    assert.deepEqual([...r.slice(3, 6)], [11, 11, 11]);
    // The 3 woken ones wait again; notify 5: the 2 first-round waiters (oldest) and 3 second-round ones.
    until(() => {
      using _ = cond.hold();
      return Atomics.load(r, 0) >= 3;
    }, "3 back in wait");
    cond.acquire();
    cond.notify(5);
    Atomics.store(r, 1, 2);
    cond.release();
    until(() => Atomics.load(r, 2) >= 8, "8 results");
    sleep(0.05);
    assert.equal(Atomics.load(r, 2), 8);
    until(() => {
      using _ = cond.hold();
      return Atomics.load(r, 0) >= 5;
    }, "all in second wait");
    cond.acquire();
    cond.notifyAll();
    Atomics.store(r, 1, 3);
    cond.release();
    for (const t of threads) t.join();
    const results = [...r.slice(3, 3 + 2 * N)];
    assert.deepEqual(results.slice(0, 3), [11, 11, 11]);
    assert.deepEqual(results.slice(3, 8).sort(), [21, 21, 21, 21, 21]);
    assert.deepEqual(results.slice(8), [31, 31]);
  }
});

test("Condition: wait(timeout) returns false after the timeout when nobody notifies", T, async () => {
  const cond = new Condition();
  const out = cells(6);
  const threads = [0, 1, 2].map((i) => {
    const t = new Thread({
      target: (c: Condition, o: Int32Array, k: number) => {
        c.acquire();
        const t0 = performance.now();
        const ok = c.wait(0.2);
        o[2 * k] = ok ? 1 : 2;
        o[2 * k + 1] = Math.round(performance.now() - t0);
        c.release();
      },
      args: [cond, out, i],
    });
    t.start();
    return t;
  });
  await cond.acquireAsync();
  const t0 = performance.now();
  assert.equal(await cond.waitAsync(0.2), false);
  assert.ok(performance.now() - t0 >= 190);
  cond.release();
  for (const t of threads) await t.joinAsync();
  for (let k = 0; k < 3; k++) {
    assert.equal(out[2 * k], 2);
    assert.ok((out[2 * k + 1] as number) >= 190, `waited ${out[2 * k + 1]} ms`);
  }
});

test("Condition: waitFor returns once the predicate holds; false after its timeout otherwise", T, async () => {
  const cond = new Condition();
  const state = cells(2);
  const t = new Thread({
    target: (c: Condition, s: Int32Array) => {
      using _ = c.hold();
      const r = c.waitFor(() => s[0] === 4);
      s[1] = r && s[0] === 4 ? 1 : 2;
    },
    args: [cond, state],
  });
  t.start();
  for (let i = 0; i < 4; i++) {
    sleep(0.01);
    using _ = cond.hold();
    state[0] = (state[0] as number) + 1;
    cond.notify();
  }
  t.join();
  assert.equal(state[1], 1);

  using _ = cond.hold();
  const t0 = performance.now();
  assert.equal(
    cond.waitFor(() => false, 0.1),
    false,
  );
  assert.ok(performance.now() - t0 >= 95);
  assert.equal(
    cond.waitFor(() => 7, 0.1),
    7,
  );
  // A predicate that is not a function: a TypeError naming the call (a rejection for the async form).
  assert.throws(() => cond.waitFor(5 as never), {
    name: "TypeError",
    message: "Condition.waitFor(): predicate must be a function, not number",
  });
  await assert.rejects(cond.waitForAsync(null as never), {
    name: "TypeError",
    message: "Condition.waitForAsync(): predicate must be a function, not null",
  });
});

test("Condition: waitForAsync on main while a thread changes the state", T, async () => {
  const cond = new Condition(new Lock());
  const state = cells(1);
  const t = new Thread({
    target: (c: Condition, s: Int32Array) => {
      for (let i = 0; i < 3; i++) {
        sleep(0.01);
        c.acquire();
        s[0] = (s[0] as number) + 1;
        c.notifyAll();
        c.release();
      }
    },
    args: [cond, state],
  });
  await cond.acquireAsync();
  t.start();
  assert.equal(await cond.waitForAsync(() => state[0] === 3, 10), true);
  assert.equal(await cond.waitForAsync(() => state[0] === 4, 0.05), false);
  cond.release();
  await t.joinAsync();
  await assert.rejects(
    (async () => {
      await using _ = await cond.holdAsync();
      throw new TimeoutError("inside");
    })(),
    TimeoutError,
  );
  assert.equal(cond.acquire(false), true);
  cond.release();
});

test(
  "Condition: mixed waiters are woken oldest first (a thread's blocking wait, then main's waitAsync)",
  T,
  async () => {
    const cond = new Condition();
    const r = cells(5);
    const [t] = startWaiters(cond, r, 1);
    until(() => {
      using _ = cond.hold();
      return Atomics.load(r, 0) === 1;
    }, "the thread waiter");
    cond.acquire();
    let mainWoke = false;
    const p = cond.waitAsync().then((ok) => {
      mainWoke = ok;
      cond.release();
      return ok;
    });
    // waitAsync released the lock synchronously: notify one, which must be the thread (older).
    cond.acquire();
    cond.notify(1);
    Atomics.store(r, 1, 1);
    cond.release();
    await (t as Thread).joinAsync();
    assert.equal(r[3], 11);
    await sleepAsync(0.02);
    assert.equal(mainWoke, false);
    cond.acquire();
    cond.notify(1);
    cond.release();
    assert.equal(await p, true);
  },
);

test("Condition: a waiter whose thread ended does not swallow a notify", T, () => {
  const cond = new Condition();
  // This thread starts an async wait (which enqueues it and releases the lock) and then ends.
  const dead = new Thread({
    target: (c: Condition) => {
      c.acquire();
      void c.waitAsync();
    },
    args: [cond],
  });
  dead.start();
  dead.join();
  const r = cells(5);
  const [live] = startWaiters(cond, r, 1);
  until(() => {
    using _ = cond.hold();
    return Atomics.load(r, 0) === 1;
  }, "the live waiter");
  cond.acquire();
  cond.notify(1);
  Atomics.store(r, 1, 1);
  cond.release();
  (live as Thread).join(5);
  assert.equal((live as Thread).isAlive(), false, "the live waiter got the notification");
  assert.equal(r[3], 11);
});

test("Condition: 1100 pending waits (past the old 1024 limit) all wait and are all notified", T, async () => {
  const cond = new Condition(new Lock());
  const waits: Promise<boolean>[] = [];
  for (let i = 0; i < 1100; i++) {
    cond.acquire();
    // Each woken waiter holds the lock again: let the next one have it.
    waits.push(
      cond.waitAsync().then((ok) => {
        cond.release();
        return ok;
      }),
    );
  }
  cond.acquire();
  cond.notifyAll();
  cond.release();
  const results = await Promise.all(waits);
  assert.equal(results.filter((x) => x === true).length, 1100);
});

test("Semaphore(0): 1100 pending acquireAsync() all get a unit (no Condition limit leaks)", T, async () => {
  const sem = new Semaphore(0);
  const waits = Array.from({ length: 1100 }, () => sem.acquireAsync());
  sem.release(1100);
  const results = await Promise.all(waits);
  assert.equal(results.filter((x) => x === true).length, 1100);
});

test("Condition stress: 2 producers x 2 consumers x 3000 items through a bounded buffer", T, () => {
  const cond = new Condition();
  // buf: [count, head, tail, sum, taken, ...ring(16)]
  const buf = cells(5 + 16);
  const ITEMS = 3000;
  const producer = (c: Condition, b: Int32Array, n: number, base: number) => {
    for (let i = 1; i <= n; i++) {
      using _ = c.hold();
      c.waitFor(() => (b[0] as number) < 16);
      b[5 + (b[2] as number)] = base + i;
      b[2] = ((b[2] as number) + 1) % 16;
      b[0] = (b[0] as number) + 1;
      c.notifyAll();
    }
  };
  const consumer = (c: Condition, b: Int32Array, n: number) => {
    for (let i = 0; i < n; i++) {
      using _ = c.hold();
      while ((b[0] as number) === 0) c.wait(0.001 + Math.random() * 0.002);
      b[3] = (b[3] as number) + (b[5 + (b[1] as number)] as number);
      b[1] = ((b[1] as number) + 1) % 16;
      b[0] = (b[0] as number) - 1;
      b[4] = (b[4] as number) + 1;
      c.notify(1);
    }
  };
  const threads = [
    new Thread({ target: producer, args: [cond, buf, ITEMS, 0] }),
    new Thread({ target: producer, args: [cond, buf, ITEMS, 100_000] }),
    new Thread({ target: consumer, args: [cond, buf, ITEMS] }),
    new Thread({ target: consumer, args: [cond, buf, ITEMS] }),
  ];
  for (const t of threads) t.start();
  for (const t of threads) t.join();
  const expected = 2 * ((ITEMS * (ITEMS + 1)) / 2) + ITEMS * 100_000;
  assert.equal(buf[4], 2 * ITEMS);
  assert.equal(buf[3], expected);
  assert.equal(buf[0], 0);
});

test("Condition property: notify(n) wakes the n oldest waiters, exactly (async model)", T, async () => {
  // After each step, wait (a generous bound) until as many waiters woke as the model says, then a
  // moment more, so a wake too many shows too: a fixed short pause failed under load.
  const settle = async (woke: number[], expected: number[]) => {
    const until = Date.now() + 10_000;
    while (woke.length < expected.length && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 2));
  };
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.constant("wait" as const), fc.constant("poll" as const), fc.integer({ min: 0, max: 3 })), {
        maxLength: 25,
      }),
      async (ops) => {
        const cond = new Condition(new Lock());
        const woke: number[] = [];
        const model: number[] = [];
        const expected: number[] = [];
        let next = 0;
        const pending: Promise<unknown>[] = [];
        for (const op of ops) {
          await cond.acquireAsync();
          if (op === "wait") {
            const id = next++;
            model.push(id);
            pending.push(
              cond.waitAsync().then((ok) => {
                assert.equal(ok, true);
                woke.push(id);
                cond.release();
              }),
            );
          } else if (op === "poll") {
            // A waiter that times out at once is never counted by notify().
            assert.equal(await cond.waitAsync(0), false);
            cond.release();
          } else {
            cond.notify(op);
            expected.push(...model.splice(0, op));
            cond.release();
          }
          await settle(woke, expected);
          assert.deepEqual(
            [...woke].sort((a, b) => a - b),
            [...expected].sort((a, b) => a - b),
          );
        }
        await cond.acquireAsync();
        cond.notifyAll();
        cond.release();
        await Promise.all(pending);
        assert.equal(woke.length, next);
      },
    ),
    { numRuns: 40 },
  );
});

test(
  "Condition: waitFor's timeout is one deadline for the whole call, however often it is notified (CPython's endtime)",
  T,
  async () => {
    // A notifier wakes the waiter every 5 ms with the predicate still false: waitFor must give up
    // when its 0.3 s are over, not restart its timeout at each wake.
    const cond = new Condition();
    const stop = cells(1);
    const notifier = new Thread({
      target: (c: Condition, s: Int32Array) => {
        while (Atomics.wait(s, 0, 0, 5) === "timed-out") {
          using _ = c.hold();
          c.notifyAll();
        }
      },
      args: [cond, stop],
    });
    notifier.start();
    try {
      for (const form of ["blocking", "async"]) {
        let evaluations = 0;
        const predicate = () => {
          evaluations++;
          return false;
        };
        const t0 = performance.now();
        let result: unknown;
        if (form === "blocking") {
          using _ = cond.hold();
          result = cond.waitFor(predicate, 0.3);
        } else {
          await using _ = await cond.holdAsync();
          result = await cond.waitForAsync(predicate, 0.3);
        }
        const ms = performance.now() - t0;
        assert.equal(result, false, form);
        assert.ok(ms >= 290 && ms < 10_000, `${form}: returned after ${ms} ms`);
        assert.ok(evaluations > 1, `${form}: the notifies woke it (${evaluations} evaluations)`);
      }
    } finally {
      Atomics.store(stop, 0, 1);
      Atomics.notify(stop, 0);
      notifier.join();
    }
  },
);

test(
  "Condition: an async predicate is a TypeError, not a truthy promise returned at once; the lock stays held",
  T,
  async () => {
    // CPython's predicate answers synchronously. A promise is always truthy: waitFor returned it
    // at once, whatever it resolved to.
    const cond = new Condition();
    const message = /the predicate returned a promise; it must return its answer synchronously/;
    {
      using _ = cond.hold();
      assert.throws(() => cond.waitFor(async () => false, 1), { name: "TypeError", message });
    } // (the hold's release here would throw had the lock not been held)
    await cond.acquireAsync();
    await assert.rejects(
      cond.waitForAsync(async () => false, 1),
      { name: "TypeError", message },
    );
    cond.release();
    assert.throws(() => cond.release(), RuntimeError, "released exactly as often as acquired");
  },
);
