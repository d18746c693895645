// Issue 9, item 5: an async waiter of a thread that is blocked must not absorb the one wake-up a
// free resource gives. In each test main has a pending async wait queued first, a thread then
// blocks on the same primitive, main frees the resource and blocks in join(): the thread must get
// it (before the fix the wake went to main's async waiter, which cannot run while main is blocked).
import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeOnly } from "../child.js";
import { BoundedSemaphore, Condition, Lock, RLock, Semaphore, setExcepthook, sleep, Thread } from "threading";

const T = { timeout: 60_000 };
/** Kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse: Node only. */
const OOM = {
  ...T,
  ...nodeOnly("kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse"),
};

/** Waits until the thread said it is about to block (s[0] = 1), then lets it fall asleep. */
function untilAboutToBlock(s: Int32Array): void {
  while (Atomics.load(s, 0) === 0) Atomics.wait(s, 0, 0, 1000);
  sleep(0.1); // generous: the thread is asleep by then (if not, it finds the resource free: no false failure)
}

// (RLock shares Lock's mutex code, mutex.ts; main cannot queue an async acquire of an RLock it owns.)
for (const Kind of [Lock]) {
  test(`${Kind.name}: a release while main's acquireAsync() is queued first wakes the blocked thread`, T, async () => {
    const lock = new Kind();
    const s = new Int32Array(new SharedArrayBuffer(8));
    lock.acquire();
    const mine = lock.acquireAsync();
    const t = new Thread({
      target: (l: Lock, c: Int32Array) => {
        Atomics.store(c, 0, 1);
        Atomics.notify(c, 0);
        l.acquire();
        c[1] = 1;
        l.release();
      },
      args: [lock, s],
    });
    t.start();
    untilAboutToBlock(s);
    lock.release();
    t.join(10);
    assert.equal(t.isAlive(), false, "the thread got the free lock while main was blocked in join()");
    assert.equal(s[1], 1);
    assert.equal(await mine, true);
    lock.release();
  });
}

test(
  "Semaphore: acquireAsync() that must wait returns with the Condition's lock free (no await holding it)",
  T,
  async () => {
    const sem = new Semaphore(0);
    const mine = sem.acquireAsync();
    // Synchronously after the call: a thread can get through the Semaphore at once.
    const t = new Thread({ target: (m: Semaphore) => m.release(), args: [sem] });
    t.start();
    t.join(10);
    assert.equal(t.isAlive(), false);
    assert.equal(await mine, true);
  },
);

test("Semaphore: a release while main's acquireAsync() is queued first wakes the blocked thread", T, async () => {
  const sem = new Semaphore(0);
  const s = new Int32Array(new SharedArrayBuffer(8));
  const mine = sem.acquireAsync();
  const t = new Thread({
    target: (m: Semaphore, c: Int32Array) => {
      Atomics.store(c, 0, 1);
      Atomics.notify(c, 0);
      if (m.acquire(true, 30)) c[1] = 1;
    },
    args: [sem, s],
  });
  t.start();
  untilAboutToBlock(s);
  sem.release();
  t.join(10);
  assert.equal(t.isAlive(), false, "the thread took the free unit while main was blocked in join()");
  assert.equal(s[1], 1);
  sem.release();
  assert.equal(await mine, true);
});

test("Semaphore: release(n) with async waiters first still gives every blocked thread its unit", T, async () => {
  const sem = new Semaphore(0);
  const s = new Int32Array(new SharedArrayBuffer(8));
  const mine = [sem.acquireAsync(), sem.acquireAsync(), sem.acquireAsync()];
  const threads = [0, 1].map(
    () =>
      new Thread({
        target: (m: Semaphore, c: Int32Array) => {
          Atomics.add(c, 0, 1);
          if (m.acquire(true, 30)) Atomics.add(c, 1, 1);
        },
        args: [sem, s],
      }),
  );
  for (const t of threads) t.start();
  while (Atomics.load(s, 0) < 2) Atomics.wait(s, 0, Atomics.load(s, 0), 1000);
  sleep(0.1);
  sem.release(2);
  for (const t of threads) t.join(10);
  assert.equal(s[1], 2, "both blocked threads took a unit while main was blocked");
  sem.release(3);
  assert.deepEqual(await Promise.all(mine), [true, true, true]);
});

test(
  "Condition: a notified waiter re-takes the lock while main's acquireAsync() of it is queued first",
  T,
  async () => {
    const lock = new Lock();
    const cond = new Condition(lock);
    const s = new Int32Array(new SharedArrayBuffer(8));
    const t = new Thread({
      target: (c: Condition, st: Int32Array) => {
        c.acquire();
        Atomics.store(st, 0, 1);
        Atomics.notify(st, 0);
        if (c.wait(30)) st[1] = 1;
        c.release();
      },
      args: [cond, s],
    });
    t.start();
    while (Atomics.load(s, 0) === 0) Atomics.wait(s, 0, 0, 1000);
    cond.acquire(); // the thread is now inside wait() (it released the lock there)
    const mine = lock.acquireAsync();
    cond.notify();
    sleep(0.1); // delivers the deferred wake: the thread wakes and blocks on the lock main holds
    cond.release();
    t.join(10);
    assert.equal(t.isAlive(), false, "the notified thread re-took the free lock while main was blocked");
    assert.equal(s[1], 1);
    assert.equal(await mine, true);
    lock.release();
  },
);

test("Condition: notify() and notify(n) check n as Python (TypeError, RangeError)", T, () => {
  const cond = new Condition();
  cond.acquire();
  assert.throws(() => cond.notify(-1), RangeError);
  assert.throws(() => cond.notify(0.5), RangeError);
  assert.throws(() => cond.notify(Number.NaN), RangeError);
  assert.throws(() => cond.notify("1" as unknown as number), TypeError);
  cond.notify(0);
  cond.notify(3);
  cond.notifyAll();
  cond.release();
  assert.throws(() => cond.notify(1), { name: "RuntimeError" });
});

// The same wake, when the async waiter queued first belongs to a thread that dies before it runs
// (its event loop was blocked, so its continuation never ran): the free lock or unit still reaches
// the blocking waiter queued behind it, and later callers find the lock free or the unit there.
type Acquirable = Lock | RLock | Semaphore;
const kinds: [string, () => Acquirable][] = [
  ["Lock", () => new Lock()],
  ["RLock", () => new RLock()],
  ["Semaphore", () => new Semaphore(0)],
  ["BoundedSemaphore", () => new BoundedSemaphore(1)],
];
for (const [name, make] of kinds) {
  for (const death of ["process.exit()", "an uncaught exception", "out of memory"]) {
    test(
      `${name}: freed while the first waiter is an async one of a thread about to die (${death}): the blocking waiter gets it`,
      death === "out of memory" ? OOM : T,
      () => {
        const prim = make();
        if (!(prim instanceof Semaphore) || prim instanceof BoundedSemaphore) prim.acquire();
        // s[0]: the dying thread queued its wait; s[1]: it may die; s[2]: the blocking waiter's result
        const s = new Int32Array(new SharedArrayBuffer(12));
        const dying = new Thread({
          target: (p: Acquirable, c: Int32Array, how: string) => {
            void p.acquireAsync();
            Atomics.store(c, 0, 1);
            Atomics.notify(c, 0);
            while (Atomics.load(c, 1) === 0) Atomics.wait(c, 1, 0, 100);
            if (how === "process.exit()") process.exit(0);
            if (how === "an uncaught exception") throw new Error("dies");
            const junk: number[][] = [];
            for (;;) junk.push(new Array(100_000).fill(Math.random()));
          },
          args: [prim, s, death],
          resourceLimits:
            death === "out of memory" ? { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } : undefined,
        });
        const before = excepthookSilenced();
        try {
          dying.start();
          while (Atomics.load(s, 0) === 0) Atomics.wait(s, 0, 0, 1000);
          const blocked = new Thread({
            target: (p: Acquirable, c: Int32Array) => {
              c[2] = p.acquire(true, 20) ? 1 : 2;
              if (c[2] === 1) p.release();
            },
            args: [prim, s],
          });
          blocked.start();
          sleep(0.1); // generous: it is asleep behind the async waiter by then (if not, it finds the lock free)
          prim.release();
          Atomics.store(s, 1, 1);
          Atomics.notify(s, 1);
          dying.join(30);
          blocked.join(30);
          assert.equal(dying.isAlive(), false);
          assert.equal(s[2], 1, "the blocking waiter got what was freed");
          assert.equal(prim.acquire(true, 5), true, "and gave it back for the next caller");
          if (prim instanceof BoundedSemaphore) {
            prim.release();
            assert.throws(() => prim.release(), RangeError, "the bound still holds");
          }
        } finally {
          setExcepthook(before);
        }
      },
    );
  }
}

/** Silences the excepthook for a thread that dies on purpose; returns null (the default) to restore. */
function excepthookSilenced(): null {
  setExcepthook(() => {});
  return null;
}
