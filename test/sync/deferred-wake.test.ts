// Condition.notify() defers the futex wake of the waiters it notified to the notifier's next
// release of the lock (sync/mutex.ts, "Deferred wakes"). A Lock may be released by any thread:
// a notifier that holds the Lock and leaves its release to another thread must not hold the
// waiters' wake-up back (nor lose it) while it runs on.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Condition, Lock, sleep, Thread } from "threading";
import { conditionHooks } from "../../dist/internal.js";

const T = { timeout: 60_000 };
const cells = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

/** Polls `pred` (every 2 ms, blocking) until true; fails after 10 s. */
function until(pred: () => boolean, what: string): void {
  const end = performance.now() + 10_000;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    sleep(0.002);
  }
}

/** Spins (no wait of the library, no microtask checkpoint) until `pred` or 5 s; returns `pred()`. */
function spinUntil(pred: () => boolean): boolean {
  const end = performance.now() + 5000;
  while (!pred() && performance.now() < end) {}
  return pred();
}

test(
  "Condition(Lock): notify() by the holder, the release by another thread: the waiter wakes while the notifier runs on",
  T,
  () => {
    const lock = new Lock();
    const cond = new Condition(lock);
    // r: [waiter in wait, releaser: go, waiter's outcome (1 notified, 2 timed out)]
    const r = cells(3);
    const waiter = new Thread({
      target: (c: Condition, res: Int32Array) => {
        c.acquire();
        Atomics.store(res, 0, 1);
        const ok = c.wait(30);
        Atomics.store(res, 2, ok ? 1 : 2);
        c.release();
      },
      args: [cond, r],
    });
    waiter.start();
    const releaser = new Thread({
      target: (l: Lock, res: Int32Array) => {
        Atomics.wait(res, 1, 0);
        l.release();
      },
      args: [lock, r],
      daemon: true,
    });
    releaser.start();
    until(() => Atomics.load(r, 0) === 1 && !lock.locked(), "the waiter in its wait");
    lock.acquire();
    cond.notify();
    // The lock changes hands: another thread releases it (any thread may release a Lock).
    Atomics.store(r, 1, 1);
    Atomics.notify(r, 1);
    assert.equal(
      spinUntil(() => Atomics.load(r, 2) !== 0),
      true,
      "the waiter woke while the notifier ran on after another thread released the lock",
    );
    assert.equal(Atomics.load(r, 2), 1, "notified");
    waiter.join();
    releaser.join();
  },
);

test(
  "Condition(Lock) stress: the holder notifies, another thread releases (also between the mark and the wake): every notify wakes exactly one waiter, at once",
  T,
  () => {
    const lock = new Lock();
    const cond = new Condition(lock);
    const WAITERS = 3;
    const ROUNDS = 150;
    const total = WAITERS * ROUNDS;
    // c: [entered wait, woken notified, woken timed out, release requests, releases done, stop]
    const c = cells(6);
    const waiters = Array.from({ length: WAITERS }, () => {
      const t = new Thread({
        target: (cd: Condition, s: Int32Array, rounds: number) => {
          for (let r = 0; r < rounds; r++) {
            cd.acquire();
            Atomics.add(s, 0, 1);
            const ok = cd.wait(60);
            Atomics.add(s, ok ? 1 : 2, 1);
            cd.release();
          }
        },
        args: [cond, c, ROUNDS],
        daemon: true,
      });
      t.start();
      return t;
    });
    const releaser = new Thread({
      target: (l: Lock, s: Int32Array) => {
        for (let seen = 0; ; ) {
          Atomics.wait(s, 3, seen);
          if (Atomics.load(s, 5) === 1) return;
          for (const now = Atomics.load(s, 3); seen < now; seen++) {
            l.release();
            Atomics.add(s, 4, 1);
            Atomics.notify(s, 4);
          }
        }
      },
      args: [lock, c],
      daemon: true,
    });
    releaser.start();
    /** Has the releaser release the lock this thread holds; with `wait`, returns once it has (Atomics.wait: no wait of the library). */
    const handOff = (wait: boolean): void => {
      const n = Atomics.add(c, 3, 1) + 1;
      Atomics.notify(c, 3);
      if (!wait) return;
      for (let done = Atomics.load(c, 4); done < n; done = Atomics.load(c, 4)) Atomics.wait(c, 4, done, 10);
    };
    let late = 0;
    try {
      for (let i = 0; i < total; ) {
        lock.acquire();
        const done = Atomics.load(c, 1) + Atomics.load(c, 2);
        if (Atomics.load(c, 0) - done <= 0) {
          lock.release();
          sleep(0.0005);
          continue;
        }
        // Every other round the lock changes hands between the waiter's mark and its wake.
        conditionHooks.marked = i % 2 === 0 ? () => handOff(true) : undefined;
        cond.notify();
        conditionHooks.marked = undefined;
        if (i % 2 === 1) handOff(false);
        i++;
        // The notifier runs on (no wait of the library, no microtask checkpoint): the waiter wakes anyway.
        if (!spinUntil(() => Atomics.load(c, 1) + Atomics.load(c, 2) >= done + 1)) {
          late++;
          break;
        }
      }
    } finally {
      conditionHooks.marked = undefined;
      Atomics.store(c, 5, 1);
      Atomics.add(c, 3, 1);
      Atomics.notify(c, 3);
    }
    assert.equal(late, 0, "a notified waiter slept on while the notifier ran on");
    for (const t of waiters) t.join();
    releaser.join();
    assert.equal(Atomics.load(c, 1), total, "every wait ended notified");
    assert.equal(Atomics.load(c, 2), 0, "no wait timed out");
    assert.equal(Atomics.load(c, 4), total, "every hold was released by the other thread");
    assert.equal(lock.locked(), false);
  },
);
