// The lock contract, one suite run against every kind that keeps it (issue 12, item 6), as
// CPython's lock_tests.BaseLockTests runs for Lock, RLock, Semaphore, ...: Lock, RLock, Semaphore(1),
// BoundedSemaphore(1), and Condition over a Lock and over an RLock (its acquire/release are its
// lock's), each through its blocking and its async form. What only one kind does (RLock's
// re-entrance and ownership, a Lock released by another thread, Semaphore's counts) is tested in
// that kind's own file.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  RLock,
  Semaphore,
  Thread,
  TIMEOUT_MAX,
  TimeoutError,
} from "threading";

const T = { timeout: 60_000 };

type Mode = "blocking" | "async";
interface LockLike {
  acquire(blocking?: boolean, timeout?: number | null): boolean;
  acquire(options: { blocking?: boolean; timeout?: number | null | undefined }): boolean;
  acquireAsync(timeout?: number | null): Promise<boolean>;
  release(): void;
  hold(timeout?: number): Disposable;
  holdAsync(timeout?: number): Promise<Disposable>;
}

const kinds: [string, () => LockLike][] = [
  ["Lock", () => new Lock()],
  ["RLock", () => new RLock()],
  ["Semaphore(1)", () => new Semaphore(1)],
  ["BoundedSemaphore(1)", () => new BoundedSemaphore(1)],
  ["Condition(Lock)", () => new Condition(new Lock())],
  ["Condition(RLock)", () => new Condition(new RLock())],
];

/** acquire in the form of `mode`, with a timeout in seconds (undefined = forever). */
function acquire(l: LockLike, mode: Mode, timeout?: number): boolean | Promise<boolean> {
  if (mode === "async") return l.acquireAsync(timeout);
  return timeout === undefined ? l.acquire() : l.acquire(true, timeout);
}

/** A thread that takes `l` and holds it until `done` is set; returns once it holds it. */
function holder(l: LockLike): { done: Event; thread: Thread } {
  const held = new Event();
  const done = new Event();
  const thread = new Thread({
    target: (lk: Lock, h: Event, d: Event) => {
      lk.acquire();
      h.set();
      d.wait();
      lk.release();
    },
    args: [l, held, done],
  });
  thread.start();
  assert.equal(held.wait(30), true);
  return { done, thread };
}

for (const [name, make] of kinds) {
  for (const mode of ["blocking", "async"] as Mode[]) {
    const title = `${name}, ${mode}`;

    test(`${title}: acquire, then release; acquire again`, T, async () => {
      const l = make();
      assert.equal(await acquire(l, mode), true);
      l.release();
      assert.equal(await acquire(l, mode, 1), true);
      l.release();
    });

    test(
      `${title}: while another thread holds it, non-blocking acquire fails and a timed one fails after the timeout`,
      T,
      async () => {
        const l = make();
        const { done, thread } = holder(l);
        try {
          assert.equal(l.acquire(false), false);
          assert.equal(await (mode === "async" ? l.acquireAsync(0) : l.acquire(true, 0)), false);
          const t0 = performance.now();
          assert.equal(await acquire(l, mode, 0.05), false);
          assert.ok(performance.now() - t0 >= 45, "it waited the timeout");
        } finally {
          done.set();
          thread.join();
        }
        assert.equal(await acquire(l, mode, 5), true, "free again once the holder released it");
        l.release();
      },
    );

    test(`${title}: a waiter here gets it when the holding thread releases it`, T, async () => {
      const l = make();
      const { done, thread } = holder(l);
      const releaser = new Thread({
        target: (d: Event) => {
          sleep(0.05);
          d.set();
        },
        args: [done],
      });
      const t0 = performance.now();
      releaser.start();
      assert.equal(await acquire(l, mode, 30), true);
      assert.ok(performance.now() - t0 >= 40, "it waited for the release");
      releaser.join();
      l.release();
      thread.join();
    });

    test(`${title}: hold() / holdAsync() is TimeoutError while held elsewhere, and released by using`, T, async () => {
      const l = make();
      const { done, thread } = holder(l);
      try {
        await assert.rejects(async () => (mode === "async" ? l.holdAsync(0.02) : l.hold(0.02)), TimeoutError);
      } finally {
        done.set();
        thread.join();
      }
      {
        using _ = mode === "async" ? await l.holdAsync(5) : l.hold(5);
        const again = l.acquire(false);
        if (again) l.release();
        assert.equal(again, name.includes("RLock"), "held inside using (only an RLock re-enters)");
      }
      assert.equal(l.acquire(false), true, "using released it");
      l.release();
    });

    test(`${title}: argument checks as Python's`, T, async () => {
      const l = make();
      assert.throws(() => l.acquire(false, 1), RangeError);
      assert.throws(() => l.acquire(true, -2), RangeError);
      assert.throws(() => l.acquire(true, Number.NaN), RangeError);
      await assert.rejects(l.acquireAsync(-5), RangeError);
      assert.throws(() => l.acquire("yes" as unknown as boolean), TypeError);
      // CPython's test_timeout: a timeout past TIMEOUT_MAX is its OverflowError (here a RangeError);
      // TIMEOUT_MAX itself is accepted.
      for (const t of [1e100, TIMEOUT_MAX + 1]) assert.throws(() => l.acquire(true, t), RangeError, `timeout ${t}`);
      assert.equal(l.acquire(true, TIMEOUT_MAX), true);
      l.release();
    });

    test(`${title}: an error thrown inside \`using\` releases it (CPython's test_with)`, T, async () => {
      const l = make();
      const boom = async () => {
        using _ = mode === "async" ? await l.holdAsync() : l.hold();
        throw new TypeError("inside with");
      };
      await assert.rejects(boom, { name: "TypeError", message: "inside with" });
      // Free for another thread, not merely re-enterable by this one.
      const took = new Int32Array(new SharedArrayBuffer(4));
      const t = new Thread({
        target: (lk: Lock, c: Int32Array) => {
          if (lk.acquire(false)) {
            c[0] = 1;
            lk.release();
          }
        },
        args: [l, took],
      });
      t.start();
      t.join();
      assert.equal(took[0], 1);
    });

    if (mode === "blocking") {
      test(
        `${name}: a non-blocking acquire takes every spelling of "forever" (null, Infinity; -1 for locks) and no other timeout`,
        T,
        () => {
          // API.md: `null` or `Infinity` as a timeout means forever; -1 only for acquire of Lock, RLock, Condition.
          const l = make();
          const forever: (number | null | undefined)[] = [undefined, null, Number.POSITIVE_INFINITY];
          const minusOne = !name.includes("Semaphore");
          if (minusOne) forever.push(-1);
          else assert.throws(() => l.acquire(false, -1), RangeError);
          for (const t of forever) {
            assert.equal(l.acquire(false, t), true, `free: acquire(false, ${t}) takes it`);
            l.release();
            assert.equal(
              l.acquire({ blocking: false, timeout: t }),
              true,
              `free: acquire({ blocking: false, timeout: ${t} })`,
            );
            l.release();
          }
          for (const t of [0, 1, 1e-9]) {
            assert.throws(() => l.acquire(false, t), { name: "RangeError", message: /can't specify/ });
          }
          assert.throws(() => l.acquire(false, "1" as unknown as number), TypeError);
          const { done, thread } = holder(l);
          try {
            for (const t of forever)
              assert.equal(l.acquire(false, t), false, `held: acquire(false, ${t}) fails at once`);
          } finally {
            done.set();
            thread.join();
          }
        },
      );
    }

    test(`${title}: mutual exclusion across 4 threads (exact count)`, T, () => {
      const l = make();
      const counter = new Int32Array(new SharedArrayBuffer(4));
      const n = 300;
      const threads = [0, 1, 2, 3].map(
        () =>
          new Thread({
            target: async (lk: Lock, c: Int32Array, m: Mode, count: number) => {
              for (let i = 0; i < count; i++) {
                if (m === "blocking") lk.acquire();
                else await lk.acquireAsync();
                const v = c[0] as number;
                for (let k = 0; k < 50; k++) Atomics.load(c, 0);
                c[0] = v + 1;
                lk.release();
              }
            },
            args: [l, counter, mode, n],
          }),
      );
      for (const t of threads) t.start();
      for (const t of threads) t.join();
      assert.equal(counter[0], 4 * n);
    });
  }
}
