// One wait protocol, two drivers (issue 12): the same steps, driven blocking and async, give the
// same answers; a request's exception is thrown into the steps, whose `finally` runs; sleepers
// words are counted while asleep and uncounted after; a Call's plain value continues at once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Thread } from "threading";
import { call, driveAsync, driveBlocking, park, SpinBackoff, sleepHow, spinWhile, until } from "../../dist/internal.js";

const T = { timeout: 30_000 };

type Steps<R> = Generator<unknown, R, unknown>;
type Drive = <R>(steps: Steps<R>) => R | Promise<R>;
const drivers: [string, Drive][] = [
  ["blocking", (s) => driveBlocking(s as never)],
  ["async", (s) => driveAsync(s as never)],
];

for (const [name, drive] of drivers) {
  test(
    `${name} driver: park answers not-equal at once, timed-out after the deadline, and the steps' result`,
    T,
    async () => {
      const w = new Int32Array(new SharedArrayBuffer(8));
      const answers: unknown[] = [];
      function* steps(): Steps<string> {
        answers.push(yield* park(w, 0, 1, performance.now() + 10_000));
        const t0 = performance.now();
        answers.push(yield* park(w, 0, 0, performance.now() + 30));
        assert.ok(performance.now() - t0 >= 25);
        answers.push(yield* park(w, 0, 0, performance.now() - 1));
        return "done";
      }
      assert.equal(await drive(steps()), "done");
      assert.deepEqual(answers, ["not-equal", "timed-out", "timed-out"]);
    },
  );

  test(`${name} driver: a Call runs the driver's form; an exception is thrown into the steps`, T, async () => {
    const seen: string[] = [];
    function* steps(): Steps<number> {
      const a = yield* call(
        () => 1,
        () => 2,
      );
      const b = yield* call(
        () => 10,
        async () => 20,
      );
      try {
        yield* call(
          () => {
            throw new Error("blocking");
          },
          async () => {
            throw new Error("async");
          },
        );
      } catch (e) {
        seen.push((e as Error).message);
      } finally {
        seen.push("finally");
      }
      return a + b;
    }
    const r = await drive(steps());
    assert.equal(r, name === "blocking" ? 11 : 22);
    assert.deepEqual(seen, [name, "finally"]);
  });

  test(`${name} driver: a sleeper is counted while asleep; the waker that wakes it uncounts it`, T, async () => {
    const w = new Int32Array(new SharedArrayBuffer(16));
    const how = sleepHow({ sleepers: 1, asyncSleepers: 2 });
    const waker = new Thread({
      target: (w: Int32Array, isAsync: boolean) => {
        // Counted first, asleep a moment later: notify until one is woken (the word never changes,
        // so only a wake ends that sleep). An async sleeper counts itself in sleepers, then in
        // asyncSleepers: wait for both, or w[2] may be read between the two adds.
        while (Atomics.load(w, 1) === 0 || (isAsync && Atomics.load(w, 2) === 0));
        Atomics.store(w, 3, Atomics.load(w, 2));
        let woken = 0;
        while (woken === 0) woken = Atomics.notify(w, 0, 1);
        Atomics.sub(w, 1, woken);
      },
      args: [w, name === "async"],
    });
    waker.start();
    function* steps(): Steps<unknown> {
      return yield* park(w, 0, 0, Number.POSITIVE_INFINITY, how);
    }
    const r = await drive(steps());
    waker.join();
    assert.equal(r, "ok");
    assert.equal(w[1], 0, "uncounted once");
    assert.equal(w[2], 0, "async sleepers uncounted");
    assert.equal(w[3], name === "async" ? 1 : 0, "an async sleeper counts in asyncSleepers, a blocking one not");
  });

  test(`${name} driver: until() returns done() once the word changes, false at the deadline`, T, async () => {
    const w = new Int32Array(new SharedArrayBuffer(4));
    assert.equal(await drive(until(w, 0, () => false, performance.now() + 20)), false);
    const t = new Thread({
      target: (w: Int32Array) => {
        Atomics.store(w, 0, 5);
        Atomics.notify(w, 0);
      },
      args: [w],
    });
    t.start();
    assert.equal(await drive(until(w, 0, () => Atomics.load(w, 0) === 5, Number.POSITIVE_INFINITY)), true);
    t.join();
  });
}

test("spinWhile: sees a change, gives up after its tries or its time", T, () => {
  const w = new Int32Array(new SharedArrayBuffer(4));
  assert.equal(spinWhile(w, 0, 1, 1), true);
  assert.equal(spinWhile(w, 0, 0, Number.POSITIVE_INFINITY, 100), false);
  assert.equal(spinWhile(w, 0, 0, 0.05), false);
  assert.equal(spinWhile(w, 0, 0, 0), false);
});

test("SpinBackoff: a spin that saw nothing skips the next 1, 2, 4 ... 64 chances; one that saw its change resets it", () => {
  const b = new SpinBackoff();
  /** The chances until the next spin allowed (that spin included), then its outcome told. */
  const until = (caught: boolean): number => {
    let n = 1;
    while (!b.shouldSpin()) n++;
    b.spun(caught);
    return n;
  };
  assert.equal(until(false), 1, "a fresh one spins");
  assert.deepEqual(
    Array.from({ length: 8 }, () => until(false)),
    [2, 3, 5, 9, 17, 33, 65, 65],
    "each failure doubles the skips, up to 64",
  );
  assert.equal(until(true), 65, "still skips what the last failure said");
  assert.deepEqual([until(true), until(false), until(false), until(true)], [1, 1, 2, 3]);
});
