// A thread killed at an Atomics call inside a queue's internal lock (a killed thread stops at the
// entry of an Atomics call too, before it acts: fifo.ts "Death"), or as it frees the lock. The
// fixture (fixtures/queue-hooks.ts dieInside) stops the operation at that exact point with a test hook
// (fifo.ts fifoHooks, core.ts lockedHooks) and fills the heap until the thread is killed there. The
// queue's later calls must end (a daemon thread makes them, joined with a bound) with exact counts:
// what the dead thread had finished happened, once. (A Queue/SimpleQueue release killed at its
// compare-exchange is the README's known gap: its tests are on branch qlock-ring, with the design
// that closes it.)
// Node only: kills threads by running them out of memory under resourceLimits, which Bun and Deno refuse (README, Runtimes and flags); scripts/run-tests-on.mjs does not run this file there.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LifoQueue, PriorityQueue, Queue, ShutDown, SimpleQueue, Thread } from "threading";
import { done, drain, killInside } from "./helpers.js";

const T = { timeout: 90_000 };
const hooks = "../fixtures/queue-hooks.ts";
/** How long (s) the queue's later calls may take: a take-over needs CHECK_MS (50 ms) of a dead holder. */
const BOUND = 20;

type AnyQueue = Queue<number> | SimpleQueue<number>;

/**
 * Runs `target(q, out)` in a daemon thread and waits BOUND seconds at most for it: `out` (16 Int32
 * words) is what it recorded. A thread that never ends fails the test (and dies with the process).
 */
function finishes(what: string, q: object, target: (q: never, out: Int32Array) => void): Int32Array {
  const out = new Int32Array(new SharedArrayBuffer(64));
  const t = new Thread({ target, args: [q, out], daemon: true });
  t.start();
  t.join(BOUND);
  assert.equal(t.isAlive(), false, `${what}: still waiting after ${BOUND} s (the lock was never taken over)`);
  return out;
}

const RINGS: [string, () => AnyQueue][] = [
  ["Queue", () => new Queue<number>()],
  ["SimpleQueue", () => new SimpleQueue<number>()],
];

for (const [kind, make] of RINGS) {
  test(`${kind}: a get killed as it publishes the bytes it freed took its item; nothing lost or repeated`, T, () => {
    const q = make();
    const n = 3000;
    for (let i = 0; i < n; i++) q.put(i);
    const s = new Int32Array(new SharedArrayBuffer(4));
    const log = new Int32Array(new SharedArrayBuffer(4 * (n + 1)));
    const t = new Thread({
      target: { module: hooks, export: "getUntilKilled" },
      args: [q, "C:publish", s, log],
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    t.start();
    t.join();
    assert.equal(Atomics.load(s, 0), 1, "a get reached C:publish");
    const got = Array.from(log.subarray(1, 1 + (log[0] as number)));
    // (the killed get took the item after the last one it logged)
    const out = finishes("get", q, (q: Queue<number>, out: Int32Array) => {
      out[0] = q.get();
      out[1] = q.qsize();
    });
    assert.equal(out[0], got.length + 1);
    assert.equal(out[1], n - got.length - 2);
    const rest = drain(q);
    assert.deepEqual(
      [...got, got.length, out[0], ...rest],
      Array.from({ length: n }, (_, i) => i),
    );
    if (q instanceof Queue) done(q, n);
  });
}

/**
 * Two items put, one got and not yet done (its task stays unfinished past the discard of the
 * other), then a shutdown(true) killed once it has counted the discarded task: the discard counts
 * once. Returns the item got.
 */
function shutdownKilledAfterCounting(q: Queue<number>): number {
  q.put(1);
  q.put(2);
  const got = q.get();
  killInside(q, "shutdown", "counted");
  const out = finishes("qsize", q, (q: Queue<number>, out: Int32Array) => {
    out[0] = q.qsize();
    out[1] = q.unfinishedTasks;
  });
  assert.deepEqual([out[0], out[1]], [0, 1]);
  assert.throws(() => q.put(3), ShutDown);
  done(q, 1);
  return got;
}

test("Queue: shutdown(true) killed after counting its discarded tasks counts them once", T, () => {
  assert.equal(shutdownKilledAfterCounting(new Queue<number>()), 1);
});

const LOCKED: [string, () => LifoQueue<number> | PriorityQueue<number>, number[]][] = [
  ["LifoQueue", () => new LifoQueue<number>(), [3, 2, 1]],
  ["PriorityQueue", () => new PriorityQueue<number>(), [1, 2, 3]],
];

for (const [kind, make, order] of LOCKED) {
  test(`${kind}: a put killed as its release frees the lock happened; later puts and gets go on`, T, () => {
    const q = make();
    q.put(1);
    killInside(q, "put", "release", 2);
    finishes("put", q, (q: Queue<number>) => q.put(3));
    assert.equal(q.qsize(), 3);
    assert.deepEqual(drain(q), order);
    done(q, 3);
  });

  test(`${kind}: a put killed as it counts its stored item counts it and its task`, T, () => {
    const q = make();
    q.put(1);
    killInside(q, "put", "put:task", 2);
    finishes("put", q, (q: Queue<number>) => q.put(3));
    assert.equal(q.qsize(), 3);
    assert.equal(q.unfinishedTasks, 3);
    assert.deepEqual(drain(q), order);
    done(q, 3);
  });

  test(`${kind}: a get killed as its release frees the lock took its item; later gets go on`, T, () => {
    const q = make();
    for (const x of [1, 2, 3]) q.put(x);
    killInside(q, "get", "release");
    const out = finishes("get", q, (q: Queue<number>, out: Int32Array) => {
      out[0] = q.get();
    });
    assert.equal(out[0], order[1]);
    assert.deepEqual(drain(q), [order[2]]);
    done(q, 3);
  });

  test(`${kind}: a getter killed as it frees the lock to sleep (empty queue) leaves it to the next getter`, T, () => {
    const q = make();
    killInside(q, "get", "release");
    q.put(7);
    const out = finishes("get", q, (q: Queue<number>, out: Int32Array) => {
      out[0] = q.get();
    });
    assert.equal(out[0], 7);
    assert.equal(q.qsize(), 0);
    done(q, 1);
  });

  test(`${kind}: shutdown(true) killed after counting its discarded tasks counts them once`, T, () => {
    shutdownKilledAfterCounting(make());
  });
}
