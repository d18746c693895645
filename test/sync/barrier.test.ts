// Barrier, after CPython's lock_tests.BarrierTests, plus actions that travel to threads (as source,
// with actionArgs, or a module), async waiters on main mixed with blocking waiters in threads,
// and argument checks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeOnly } from "../child.js";
import {
  Barrier,
  BrokenBarrierError,
  Event,
  RuntimeError,
  setExcepthook,
  Thread,
  getIdent,
  sleep,
  sleepAsync,
  dumpThreads,
} from "threading";

const T = { timeout: 30_000 };
/** Kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse: Node only. */
const OOM = {
  ...T,
  ...nodeOnly("kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse"),
};
const cells = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

function run(n: number, target: (...args: never[]) => unknown, args: unknown[]): void {
  const threads = Array.from({ length: n }, () => new Thread({ target, args }));
  for (const t of threads) t.start();
  for (const t of threads) t.join();
}

test("Barrier: one party passes at once; argument checks", T, () => {
  const b = new Barrier(1);
  assert.equal(b.wait(), 0);
  assert.equal(b.wait(), 0);
  assert.equal(b.parties, 1);
  assert.throws(() => new Barrier(0), RangeError);
  // (it said "Barrier: parties must be a number, not undefined")
  assert.throws(() => new (Barrier as unknown as new () => Barrier)(), {
    name: "TypeError",
    message: "Barrier() missing 1 required argument: 'parties'",
  });
  assert.throws(() => new Barrier(1.5), RangeError);
  assert.throws(() => new Barrier(2, undefined, -1), RangeError);
  assert.throws(() => new Barrier(2, 42 as never), TypeError);
  assert.throws(() => new Barrier(2, () => {}, undefined, [() => {}]), {
    name: "TypeError",
    message: /^Barrier\(\): actionArgs\[0\] cannot be sent to another thread/,
  });
  assert.throws(
    () => new Barrier(2, () => {}, undefined, [{ ok: 1, bad: Symbol("s") }]),
    /actionArgs\[1\]|actionArgs\[0\]\.bad/,
  );
});

test("Barrier: Python's keywords as one options object: new Barrier(2, { timeout, action, actionArgs })", T, () => {
  // Before: { timeout: 0.1 } was taken as the action ("must be a function or { module, export }").
  const b = new Barrier(2, { timeout: 0.1 });
  const t0 = performance.now();
  assert.throws(() => b.wait(), BrokenBarrierError);
  assert.ok(performance.now() - t0 >= 95, "the default timeout applied");
  const ran = new Int32Array(new SharedArrayBuffer(4));
  const c = new Barrier(1, { action: (r: Int32Array, n: number) => Atomics.add(r, 0, n), actionArgs: [ran, 5] });
  assert.equal(c.wait(), 0);
  assert.equal(Atomics.load(ran, 0), 5);
  // @ts-expect-error
  assert.throws(() => new Barrier(2, { timout: 1 }), { name: "TypeError", message: /unexpected option 'timout'/ });
  // @ts-expect-error
  assert.throws(() => new Barrier(2, { timeout: 1 }, 2), TypeError);
  assert.throws(() => new Barrier(2, { timeout: -1 }), RangeError);
});

test("Barrier: 4 threads pass 5 rounds in lockstep; indices are 0..3 in each round", T, () => {
  const N = 4;
  const PASSES = 5;
  const b = new Barrier(N, undefined, 10);
  // r: [arrived, left, bad, indexSum]
  const r = cells(4);
  run(
    N,
    (bar: Barrier, res: Int32Array, m: number, passes: number) => {
      for (let i = 0; i < passes; i++) {
        Atomics.add(res, 0, 1);
        if (Atomics.load(res, 1) !== i * m) Atomics.store(res, 2, 1);
        Atomics.add(res, 3, bar.wait());
        Atomics.add(res, 1, 1);
        if (Atomics.load(res, 0) !== (i + 1) * m) Atomics.store(res, 2, 2);
        bar.wait();
      }
    },
    [b, r, N, PASSES],
  );
  assert.equal(r[2], 0, "lockstep held");
  assert.equal(r[3], PASSES * (0 + 1 + 2 + 3));
  assert.equal(b.nWaiting, 0);
  assert.equal(b.broken, false);
});

test("Barrier: a function action runs once per round in a thread, before anyone is released", T, async () => {
  const N = 3;
  const rounds = cells(2);
  const b = new Barrier(
    N,
    (c: Int32Array) => {
      c[0] = (c[0] as number) + 1;
    },
    undefined,
    [rounds],
  );
  const t = new Thread({
    target: (bar: Barrier, c: Int32Array) => {
      for (let i = 1; i <= 3; i++) {
        bar.wait();
        if (c[0] !== i) Atomics.store(c, 1, i);
      }
    },
    args: [b, rounds],
  });
  const u = new Thread({
    target: async (bar: Barrier, c: Int32Array) => {
      for (let i = 1; i <= 3; i++) {
        await bar.waitAsync();
        if (c[0] !== i) Atomics.store(c, 1, 10 + i);
      }
    },
    args: [b, rounds],
  });
  t.start();
  u.start();
  for (let i = 1; i <= 3; i++) {
    await b.waitAsync();
    assert.equal(rounds[0], i);
  }
  await t.joinAsync();
  await u.joinAsync();
  assert.equal(rounds[0], 3);
  assert.equal(rounds[1], 0, "every waiter saw the action done");
});

test("Barrier: the action runs in the thread that completes the round (in the creator too)", T, () => {
  const who = cells(2);
  const b = new Barrier(
    2,
    (w: Int32Array) => {
      w[Atomics.add(w, 1, 1) & 1] = getIdent();
    },
    undefined,
    [who],
  );
  const t = new Thread({
    target: (bar: Barrier) => {
      bar.wait();
      bar.wait();
    },
    args: [b],
  });
  t.start();
  // The thread arrives first (by the barrier's count, not a sleep: a start can take longer than
  // any fixed sleep on a loaded machine), so main completes round 1.
  const end = performance.now() + 20_000;
  while (b.nWaiting < 1 && performance.now() < end) sleep(0.005);
  assert.equal(b.nWaiting, 1, "the thread waits in round 1");
  b.wait();
  b.wait(); // round 2: whoever comes last
  t.join();
  assert.equal(who[0], 1, "main (ident 1) completed the first round");
  assert.ok((who[1] as number) > 0);
});

test("Barrier: a module action receives actionArgs (waitAsync on main)", T, async () => {
  const cell = cells(1);
  const b = new Barrier(1, { module: "../fixtures/work.ts", export: "double" }, undefined, [cell, 21]);
  assert.equal(await b.waitAsync(), 0);
  assert.equal(cell[0], 42);
});

test("Barrier: an action that throws breaks the barrier; its thread gets the error", T, async () => {
  const b = new Barrier(1, () => {
    throw new RuntimeError("action failed");
  });
  assert.throws(() => b.wait(), { name: "RuntimeError", message: "action failed" });
  assert.equal(b.broken, true);
  assert.throws(() => b.wait(), BrokenBarrierError);
  await assert.rejects(b.waitAsync(), BrokenBarrierError);
  b.reset();
  assert.equal(b.broken, false);
});

test("Barrier: abort() breaks it for the waiting threads and later ones (CPython's test_abort)", T, () => {
  const N = 4;
  const b = new Barrier(N, undefined, 10);
  // r: [passed, broken]
  const r = cells(2);
  run(
    N,
    (bar: Barrier, res: Int32Array, n: number) => {
      try {
        const i = bar.wait();
        if (i === n >> 1) throw new RangeError("this one aborts");
        bar.wait();
        Atomics.add(res, 0, 1);
      } catch (e) {
        if (e instanceof BrokenBarrierError) Atomics.add(res, 1, 1);
        else bar.abort();
      }
    },
    [b, r, N],
  );
  assert.deepEqual([...r], [0, N - 1]);
  assert.equal(b.broken, true);
});

test(
  "Barrier: reset() releases the waiters with BrokenBarrierError, then it works again (CPython's test_reset)",
  T,
  () => {
    const N = 4;
    const b = new Barrier(N, undefined, 10);
    // r: [passed, broken, passedAgain]
    const r = cells(3);
    run(
      N,
      (bar: Barrier, res: Int32Array, n: number) => {
        const i = bar.wait();
        if (i === n >> 1) {
          const end = performance.now() + 5000;
          while (bar.nWaiting < n - 1 && performance.now() < end) sleep(0.005);
          bar.reset();
        } else {
          try {
            bar.wait();
            Atomics.add(res, 0, 1);
          } catch (e) {
            if (e instanceof BrokenBarrierError) Atomics.add(res, 1, 1);
          }
        }
        bar.wait();
        Atomics.add(res, 2, 1);
      },
      [b, r, N],
    );
    assert.deepEqual([...r], [0, N - 1, N]);
  },
);

test("Barrier: a wait that times out breaks the barrier; the default timeout applies", T, async () => {
  const b = new Barrier(2);
  const t0 = performance.now();
  assert.throws(() => b.wait(0.1), BrokenBarrierError);
  assert.ok(performance.now() - t0 >= 95);
  assert.equal(b.broken, true);
  b.reset();
  assert.equal(b.broken, false);
  assert.equal(b.nWaiting, 0);

  const d = new Barrier(2, undefined, 0.1);
  const t1 = performance.now();
  await assert.rejects(d.waitAsync(), BrokenBarrierError);
  assert.ok(performance.now() - t1 >= 95);
  let p: Promise<number> | undefined;
  assert.doesNotThrow(() => {
    p = d.waitAsync(-3);
  });
  await assert.rejects(p as Promise<number>, RangeError);
});

test("Barrier: nWaiting counts the threads waiting in the round", T, () => {
  const b = new Barrier(3);
  assert.match(Object.prototype.toString.call(b), /waiters=0\/3/);
  const threads = [0, 1].map(() => {
    const t = new Thread({ target: (bar: Barrier) => bar.wait(10), args: [b] });
    t.start();
    return t;
  });
  const end = performance.now() + 10_000;
  while (b.nWaiting < 2 && performance.now() < end) sleep(0.005);
  assert.equal(b.nWaiting, 2);
  assert.match(Object.prototype.toString.call(b), /waiters=2\/3/);
  b.wait(10);
  for (const t of threads) t.join();
  assert.equal(b.nWaiting, 0);
});

test(
  "Barrier: a thread that dies inside its blocking wait() (its worker runs out of memory) breaks the round",
  OOM,
  () => {
    // The owner of an excepthook runs it inside its waits; this hook fills the heap, so the thread's
    // worker is terminated inside the wait. Its arrival must not count for ever: the next arrival
    // finds it gone and breaks the barrier, instead of completing the round with a dead party.
    const b = new Barrier(3);
    const hooked = new Thread({
      target: (bar: Barrier) => {
        setExcepthook(() => {
          const heap: unknown[] = [];
          for (;;) heap.push(new Array(1e5).fill(heap.length));
        });
        bar.wait();
      },
      args: [b],
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    hooked.start();
    const end = performance.now() + 20_000;
    while (b.nWaiting < 1 && performance.now() < end) sleep(0.005);
    assert.equal(b.nWaiting, 1, "the hook's owner waits in the barrier");
    const thrower = new Thread({
      target: () => {
        throw new Error("for the hook");
      },
    });
    thrower.start();
    thrower.join(20);
    hooked.join(20);
    assert.equal(hooked.isAlive(), false, "the hook's owner died inside its wait");
    // Two live parties arrive: with the dead one counted the round would pass; it breaks instead.
    const seen = new Int32Array(new SharedArrayBuffer(4)); // 1: BrokenBarrierError, 2: passed
    const other = new Thread({
      target: (bar: Barrier, out: Int32Array) => {
        try {
          bar.wait(10);
          Atomics.store(out, 0, 2);
        } catch (e) {
          if (e instanceof BrokenBarrierError) Atomics.store(out, 0, 1);
        }
      },
      args: [b, seen],
    });
    other.start();
    assert.throws(() => b.wait(10), BrokenBarrierError);
    other.join(20);
    assert.equal(Atomics.load(seen, 0), 1, "the other live party got BrokenBarrierError");
    assert.equal(b.broken, true);
    b.reset();
    assert.equal(b.nWaiting, 0);
  },
);

test(
  "Barrier: a thread that ends with a waitAsync pending breaks the round, as an interrupted waiter in CPython",
  T,
  async () => {
    // The dead thread arrived first: the next arrival finds it gone and breaks the barrier.
    const b = new Barrier(2);
    const t = new Thread({
      target: (bar: Barrier) => {
        bar.waitAsync().catch(() => {});
      },
      args: [b],
    });
    t.start();
    t.join();
    // The error names the thread (it said only "the barrier is broken").
    assert.throws(() => b.wait(10), {
      name: "BrokenBarrierError",
      message: `Barrier: the barrier is broken: thread ${t.ident} ended while it waited at the barrier (a waitAsync() left pending when it ended, or killed), so the round cannot complete`,
    });
    assert.equal(b.broken, true);
    assert.throws(() => b.wait(10), new RegExp(`thread ${t.ident} ended while it waited`), "until reset()");
    // Repaired by reset(), it works again for live threads (no stale count keeps it draining).
    b.reset();
    assert.equal(b.nWaiting, 0);
    const u = new Thread({ target: (bar: Barrier) => bar.wait(10), args: [b] });
    u.start();
    const idx = b.wait(10);
    u.join();
    assert.ok(idx === 0 || idx === 1);
    assert.equal(b.broken, false);
    assert.equal(b.nWaiting, 0);

    // The dead thread arrived after a live waiter already sleeps: that waiter gets BrokenBarrierError
    // (it would otherwise wait for ever for a third party, or pass with the dead one counted).
    const c = new Barrier(3);
    const mine = c.waitAsync(30);
    const v = new Thread({
      target: (bar: Barrier) => {
        bar.waitAsync().catch(() => {});
        process.exit(0);
      },
      args: [c],
    });
    v.start();
    v.join();
    await assert.rejects(mine, { name: "BrokenBarrierError", message: new RegExp(`thread ${v.ident} ended while`) });
    c.reset();
    assert.equal(c.nWaiting, 0);
  },
);

test("Barrier: a round completed with a waitAsync of a thread that then ended does not keep it draining", T, () => {
  // The dead thread's wait is released with the round but never leaves: the next round must not
  // wait for it (wait(timeout) hung for ever there).
  // The round is completed once the waitAsync() call has returned (a party arriving while it runs
  // completes the round before the wait sleeps, and the wait then leaves within the call: see the
  // next test).
  const b = new Barrier(2);
  const ready = new Event();
  const called = new Int32Array(new SharedArrayBuffer(4));
  const t = new Thread({
    target: (bar: Barrier, e: Event, returned: Int32Array) => {
      bar.waitAsync().catch(() => {});
      Atomics.store(returned, 0, 1);
      Atomics.notify(returned, 0);
      e.wait();
      // Ends with the round released but before its loop turns to leave the barrier.
    },
    args: [b, ready, called],
  });
  t.start();
  Atomics.wait(called, 0, 0, 10_000);
  assert.equal(b.nWaiting, 1);
  assert.equal(b.wait(10), 1);
  ready.set();
  t.join();
  const u = new Thread({ target: (bar: Barrier) => bar.wait(10), args: [b] });
  u.start();
  const idx = b.wait(10);
  u.join();
  assert.ok(idx === 0 || idx === 1);
  assert.equal(b.broken, false);
  assert.equal(b.nWaiting, 0);
});

test("Barrier: a wait's timeout counts from its arrival, not from the wait for a draining round", T, () => {
  // CPython's wait(timeout) waits for the round's other parties `timeout` after it has entered
  // (time spent waiting for the previous round to drain, which has no bound, is not taken from it).
  // A round is kept draining by a waitAsync() whose thread then blocks for a while; a wait(0.3)
  // meanwhile enters only once that wait has left, and must then wait its 0.3 s (it broke the
  // barrier at once, with no time left).
  // The round is completed only once a's waitAsync() call has returned: a party that arrives while
  // that call still runs (between its release of the lock and its sleep) completes the round
  // before the wait sleeps, and the wait then leaves within the call (condition.ts: a wait notified
  // before it slept goes on in the same turn), so the round drains at once (seen on Deno under load,
  // when the main thread arrived as soon as nWaiting said 1).
  const b = new Barrier(2);
  // [0] a's stamp after its sleep, [1] c's break, [2] c's call of wait(), [3] a's wait settled
  // (negative: it threw); what c saw when it broke, for a failure to explain itself.
  const times = new Float64Array(new SharedArrayBuffer(32));
  const called = new Int32Array(new SharedArrayBuffer(4)); // 1 once a's waitAsync() call has returned
  const seen = new Int32Array(new SharedArrayBuffer(4 * 2049));
  const a = new Thread({
    target: async (bar: Barrier, at: Float64Array, returned: Int32Array) => {
      const left = bar.waitAsync();
      Atomics.store(returned, 0, 1);
      Atomics.notify(returned, 0);
      sleep(1.5);
      // The wait leaves (the round drains) only once this thread's event loop turns, after this
      // stamp: stamped after the await, the drain could be long before it on a loaded machine.
      at[0] = performance.timeOrigin + performance.now();
      try {
        await left;
        at[3] = performance.timeOrigin + performance.now();
      } catch (e) {
        at[3] = -(performance.timeOrigin + performance.now());
        throw e;
      }
    },
    args: [b, times, called],
  });
  a.start();
  Atomics.wait(called, 0, 0, 10_000);
  assert.equal(b.nWaiting, 1);
  assert.equal(b.wait(10), 1);
  const c = new Thread({
    target: (bar: Barrier, at: Float64Array, saw: Int32Array) => {
      at[2] = performance.timeOrigin + performance.now();
      try {
        bar.wait(0.3);
      } catch (e) {
        if (!(e instanceof BrokenBarrierError)) throw e;
        at[1] = performance.timeOrigin + performance.now();
        const text = `${e.message}\n${dumpThreads()}`.slice(0, 2048);
        for (let k = 0; k < text.length; k++) saw[k + 1] = text.charCodeAt(k);
        saw[0] = text.length;
      }
    },
    args: [b, times, seen],
  });
  c.start();
  a.join();
  const aJoined = performance.timeOrigin + performance.now();
  c.join();
  const [stamp = 0, broke = 0, entered = 0, settled = 0] = times;
  const story = () =>
    `a's stamp ${stamp.toFixed(1)}; c entered at +${(entered - stamp).toFixed(1)} ms, broke at +${(broke - stamp).toFixed(1)}; ` +
    `a's wait ${settled < 0 ? "threw" : "returned"} at +${(Math.abs(settled) - stamp).toFixed(1)}; a joined at ` +
    `+${(aJoined - stamp).toFixed(1)}; c saw: ${String.fromCharCode(...seen.subarray(1, 1 + (seen[0] as number)))}`;
  assert.ok(stamp > 0 && broke > 0, story());
  assert.ok(broke - stamp >= 250, `broken ${broke - stamp} ms after the round could drain: ${story()}`);
  b.reset();
  assert.equal(b.nWaiting, 0);
});

for (const holding of [false, true]) {
  test(
    `Barrier: a blocking waiter asleep before an async one arrives notices that one's thread end${holding ? " (the waiter still holds the lock as the async one calls)" : ""}`,
    T,
    () => {
      // The header's promise: while async waits are inside, waiters sleep in slices and sweep between
      // them. A blocking waiter that went to sleep while none was inside slept for its whole timeout
      // (here: for ever), so a dead party that arrived after it was never noticed.
      const b = new Barrier(3);
      const out = cells(1);
      const w = new Thread({
        target: holding
          ? { module: "../fixtures/sync-hooks.ts", export: "waitHoldingOnArrival" }
          : (bar: Barrier, o: Int32Array) => {
              try {
                bar.wait();
              } catch (e) {
                if (e instanceof BrokenBarrierError) Atomics.store(o, 0, 1);
              }
            },
        args: [b, out, 300],
      });
      w.start();
      const end = performance.now() + 10_000;
      while (b.nWaiting < 1 && performance.now() < end) sleep(0.005);
      // The async party's thread ends once its wait is inside (two waiting): a waitAsync() that finds
      // the barrier's lock held (the first waiter between counting itself and going to sleep; held
      // 300 ms by a hook in the second test) arrives only once it gets the lock, and a thread that
      // ended before that dropped the wait, never arriving (the first waiter then rightly waited on:
      // this test failed so once under load, 10 s join timed out).
      const v = new Thread({
        target: async (bar: Barrier) => {
          bar.waitAsync().catch(() => {});
          while (bar.nWaiting < 2) await sleepAsync(0.002);
        },
        args: [b],
      });
      v.start();
      v.join();
      w.join(10);
      const alive = w.isAlive();
      if (alive) b.abort();
      w.join();
      assert.equal(alive, false);
      assert.equal(out[0], 1);
      assert.equal(b.broken, true);
      b.reset();
      assert.equal(b.nWaiting, 0);
    },
  );
}

test(
  "Barrier: a party's timeout racing the last arrival: each round all pass or all break (CPython's wait_for re-check)",
  T,
  () => {
    // A waiter whose timeout expires re-checks the state before it breaks the barrier (CPython's
    // _wait: `wait_for(lambda: self._state != 0, timeout)`): a round the last party completed passes
    // for everyone even when a timeout expired meanwhile. Any interleaving must keep this.
    const result = cells(3); // 1 passed, 2 BrokenBarrierError, 3 anything else
    for (let round = 0; round < 25; round++) {
      const b = new Barrier(3);
      result.fill(0);
      const party = (i: number, timeout: number, delayMs: number) =>
        new Thread({
          target: (b: Barrier, r: Int32Array, i: number, timeout: number, delayMs: number) => {
            if (delayMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delayMs);
            try {
              b.wait(timeout);
              r[i] = 1;
            } catch (e) {
              r[i] = e instanceof BrokenBarrierError ? 2 : 3;
            }
          },
          args: [b, result, i, timeout, delayMs],
        });
      // The last one arrives around the first one's 20 ms timeout.
      const parties = [party(0, 0.02, 0), party(1, 10, 0), party(2, 10, 12 + (round % 12))];
      for (const t of parties) t.start();
      for (const t of parties) t.join();
      const outcome = [...result];
      assert.ok(!outcome.includes(3) && !outcome.includes(0), `round ${round}: ${outcome}`);
      assert.equal(new Set(outcome).size, 1, `round ${round}: all pass or all break, not ${outcome}`);
    }
  },
);

test(
  "Barrier: an async action is awaited by waitAsync() before the release; a blocking wait() cannot, and raises",
  T,
  async () => {
    // CPython's action is synchronous and over before anyone is released. A blocking wait() released
    // the round while an async action was still running, and its rejection was an unhandled one.
    const c = cells(1);
    const awaited = new Barrier(
      1,
      async (s: Int32Array) => {
        await sleepAsync(0.03);
        s[0] = 7;
      },
      undefined,
      [c],
    );
    assert.equal(await awaited.waitAsync(), 0);
    assert.equal(c[0], 7, "the action was over before waitAsync() returned");

    const rejecting = new Barrier(1, async () => {
      await null;
      throw new Error("async action fails");
    });
    assert.throws(() => rejecting.wait(), {
      name: "RuntimeError",
      message: /^Barrier action .* returned a promise: a blocking wait\(\) cannot wait for it/,
    });
    assert.equal(rejecting.broken, true, "as an action that raises");
    assert.throws(() => rejecting.wait(), BrokenBarrierError);
    await sleepAsync(0.05); // (its rejection, dropped, would have failed this file by now)

    // In a round of two, the blocking waiter that completes it gets the RuntimeError, the other one
    // BrokenBarrierError, as when an action raises.
    const shared = new Barrier(2, async () => {});
    const result = cells(1);
    const t = new Thread({
      target: (b: Barrier, r: Int32Array) => {
        try {
          b.wait();
          r[0] = 1;
        } catch (e) {
          r[0] = e instanceof BrokenBarrierError ? 2 : (e as Error).name === "RuntimeError" ? 3 : 4;
        }
      },
      args: [shared, result],
    });
    t.start();
    let mine = "passed";
    try {
      shared.wait(10);
    } catch (e) {
      mine = (e as Error).name;
    }
    t.join();
    const theirs = ["?", "passed", "BrokenBarrierError", "RuntimeError", "other"][result[0] as number];
    assert.deepEqual(
      [mine, theirs].sort(),
      ["BrokenBarrierError", "RuntimeError"],
      "a RuntimeError for the one that ran it (whichever came last), BrokenBarrierError for the other",
    );
  },
);

test(
  "Barrier: wait(), reset() and abort() by the thread running the action are a RuntimeError, not a wait for ever",
  T,
  async () => {
    // The action holds the barrier's lock. A timer of the thread whose async action awaits, or a
    // sync action itself, called abort(): it waited for ever for the lock its own thread held (CPython
    // deadlocks likewise when an action calls its barrier; here it says so).
    const box: string[] = [];
    const b = new Barrier(
      1,
      async (done: string[]) => {
        await sleepAsync(0.05);
        done.push("action done");
      },
      undefined,
      [box],
    );
    const waited = b.waitAsync();
    const calls: string[] = [];
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        for (const call of ["wait", "reset", "abort"] as const) {
          try {
            b[call]();
            calls.push(`${call} returned`);
          } catch (e) {
            assert.match((e as Error).message, /this thread is running the barrier's action/);
            calls.push(`${call}: ${(e as Error).name}`);
          }
        }
        resolve();
      }, 10),
    );
    assert.deepEqual(calls, ["wait: RuntimeError", "reset: RuntimeError", "abort: RuntimeError"]);
    assert.equal(await waited, 0, "the round completes");
    assert.deepEqual(box, ["action done"]);
    assert.equal(b.broken, false);
    b.abort(); // once the action is over, abort() works
    assert.equal(b.broken, true);

    // A sync action calling abort(): the action raises, so the barrier breaks and wait() rethrows.
    const holder: { b?: Barrier } = {};
    const c = new Barrier(1, (h: { b: Barrier }) => h.b.abort(), undefined, [holder]);
    holder.b = c;
    assert.throws(() => c.wait(), { name: "RuntimeError", message: /^Barrier\.abort\(\): this thread is running/ });
    assert.equal(c.broken, true);
  },
);
