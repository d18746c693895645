// Condition wake-ups the notifier owes (sync/mutex.ts "Deferred wakes"), and the node of a wait
// that throws (shared/wait.ts: an exception thrown into the steps; their finally undoes what
// they registered).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Condition, Lock, sleep, Thread } from "threading";
import { addBlockingDuty, removeBlockingDuty } from "../../dist/internal.js";

const T = { timeout: 30_000 };
const cells = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));
const kShare = Symbol.for("threading.share");

/** Polls `pred` (every 5 ms, blocking) until true; fails after 10 s. */
function until(pred: () => boolean, what: string): void {
  const end = performance.now() + 10_000;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    sleep(0.005);
  }
}

test(
  "Condition over a Lock another thread holds: notify() from a thread that runs on wakes the waiter at that release",
  T,
  () => {
    const lock = new Lock();
    const cond = new Condition(lock);
    // r: [waiter in wait, holder has the lock, notified, waiter's outcome (1 notified, 2 timed out)]
    const r = cells(4);
    const waiter = new Thread({
      target: (c: Condition, res: Int32Array) => {
        c.acquire();
        Atomics.store(res, 0, 1);
        const ok = c.wait(20);
        Atomics.store(res, 3, ok ? 1 : 2);
        c.release();
      },
      args: [cond, r],
    });
    waiter.start();
    until(() => Atomics.load(r, 0) === 1 && !lock.locked(), "the waiter in its wait");
    const holder = new Thread({
      target: (l: Lock, res: Int32Array) => {
        l.acquire();
        Atomics.store(res, 1, 1);
        Atomics.wait(res, 2, 0);
        l.release();
      },
      args: [lock, r],
    });
    holder.start();
    until(() => Atomics.load(r, 1) === 1, "the holder");
    // A Lock's Condition may be notified by any thread while the lock is held (CPython's _is_owned
    // for a lock without one). The holder's release must wake the waiter, while this thread runs on
    // (no microtask checkpoint, no wait of the library).
    cond.notify();
    Atomics.store(r, 2, 1);
    Atomics.notify(r, 2);
    const end = performance.now() + 5000;
    while (Atomics.load(r, 3) === 0 && performance.now() < end) {}
    assert.equal(Atomics.load(r, 3), 1, "the waiter woke, notified, while the notifier ran on");
    waiter.join();
    holder.join();
  },
);

for (const kind of ["Lock", "RLock"] as const) {
  test(`Condition(${kind}): a wait that throws (a duty run while it sleeps) gives its node back`, T, () => {
    const cond = new Condition(kind === "Lock" ? new Lock() : undefined);
    const buffer = (cond as unknown as Record<symbol, () => { buffers: SharedArrayBuffer[] }>)[kShare]().buffers[0];
    const before = buffer?.byteLength;
    const boom = (): void => {
      throw new Error("duty failed");
    };
    addBlockingDuty(boom);
    try {
      for (let i = 0; i < 40; i++) {
        cond.acquire();
        try {
          assert.throws(() => cond.wait(5), /duty failed/);
          assert.equal(cond.acquire(false), kind === "RLock", "the lock is held again after the throw");
          if (kind === "RLock") cond.release();
        } finally {
          cond.release();
        }
      }
    } finally {
      removeBlockingDuty(boom);
    }
    // Each wait took a node and gave it back: the pool (8 nodes at first) never grew.
    assert.equal(buffer?.byteLength, before);
  });
}
