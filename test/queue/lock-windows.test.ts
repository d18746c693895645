// A thread killed at an Atomics call inside a queue's internal lock (a killed thread stops at the
// entry of an Atomics call too, before it acts: fifo.ts "Death"), or as it frees the lock. The
// fixture (fixtures/queue-hooks.ts dieInside) stops the operation at that exact point with a test hook
// (fifo.ts fifoHooks, core.ts lockedHooks) and fills the heap until the thread is killed there. The
// queue's later calls must end (a daemon thread makes them, joined with a bound: a lock left held
// with no holder to take it over from made them wait for ever) with exact counts: what the dead
// thread had finished happened, once.
// Node only: kills threads by running them out of memory under resourceLimits, which Bun and Deno refuse (README, Runtimes and flags); scripts/run-tests-on.mjs does not run this file there.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LifoQueue, PriorityQueue, Queue, ShutDown, SimpleQueue, Thread } from "threading";
import {
  G,
  MAX_IDENT,
  MAX_THREADS,
  QREL_OWNER,
  releaseRecord,
  SLOT_IDENT,
  slotIndex,
  tableTestHooks,
} from "../../dist/internal.js";
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
  test(`${kind}: a put killed as its release frees P_LOCK happened; later puts and gets go on`, T, () => {
    const q = make();
    q.put(1);
    killInside(q, "put", "P:release", 2);
    finishes("put", q, (q: Queue<number>) => q.put(3));
    assert.equal(q.qsize(), 3);
    const out = finishes("get", q, (q: Queue<number>, out: Int32Array) => {
      out[0] = q.get();
    });
    assert.equal(out[0], 1);
    assert.deepEqual(drain(q), [2, 3]);
    if (q instanceof Queue) done(q, 3);
  });

  test(`${kind}: a get killed as its release frees C_LOCK took its item; later gets go on`, T, () => {
    const q = make();
    for (let i = 1; i <= 4; i++) q.put(i);
    killInside(q, "get", "C:release");
    const out = finishes("get", q, (q: Queue<number>, out: Int32Array) => {
      out[0] = q.get();
    });
    assert.equal(out[0], 2);
    assert.equal(q.qsize(), 2);
    assert.deepEqual(drain(q), [3, 4]);
    if (q instanceof Queue) done(q, 4);
  });

  test(`${kind}: a getter killed as it frees C_LOCK to sleep (empty queue) leaves it to the next getter`, T, () => {
    const q = make();
    killInside(q, "get", "C:release");
    q.put(7);
    const out = finishes("get", q, (q: Queue<number>, out: Int32Array) => {
      out[0] = q.get();
      out[1] = q.qsize();
    });
    assert.deepEqual([out[0], out[1]], [7, 0]);
    assert.equal(q.qsize(), 0);
    if (q instanceof Queue) done(q, 1);
  });

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

/** The release records set in the thread table (shared/runtime.ts QREL): [slot, the ident it names]. */
function releaseRecords(): [number, number][] {
  const out: [number, number][] = [];
  for (let slot = 0; slot < MAX_THREADS; slot++) {
    const own = Atomics.load(G, releaseRecord(slot) + QREL_OWNER);
    if (own !== 0) out.push([slot, own & MAX_IDENT]);
  }
  return out;
}

test(
  "Queue: a thread killed as it frees P_LOCK leaves its release record, and its slot unclaimed, until a waiter claims it",
  T,
  () => {
    const q = new Queue<number>();
    const dead = killInside(q, "put", "P:release", 1);
    const left = releaseRecords();
    assert.equal(left.length, 1);
    const [[slot, ident]] = left as [[number, number]];
    assert.equal(ident, dead.ident);
    // (a claim that starts at that slot passes it over)
    tableTestHooks.claimFrom = slot;
    let next: Thread;
    try {
      next = new Thread({ target: () => {} });
      next.start();
    } finally {
      tableTestHooks.claimFrom = undefined;
    }
    assert.notEqual(Atomics.load(G, slotIndex(slot, SLOT_IDENT)), next.ident);
    next.join();
    finishes("put", q, (q: Queue<number>) => q.put(2));
    assert.deepEqual(releaseRecords(), []);
    assert.deepEqual(drain(q), [1, 2]);
    done(q, 2);
  },
);

test("Queue: a putter killed as it frees P_LOCK to sleep (full queue) leaves it to the next putter", T, () => {
  const q = new Queue<number>(1);
  q.put(1);
  killInside(q, "put", "P:release", 2);
  const out = finishes("get, put", q, (q: Queue<number>, out: Int32Array) => {
    out[0] = q.get();
    q.put(3);
    out[1] = q.qsize();
  });
  assert.deepEqual([out[0], out[1]], [1, 1]);
  assert.deepEqual(drain(q), [3]);
  done(q, 2);
});

test("Queue: a maxsize change killed as it frees P_LOCK happened; putters go on", T, () => {
  const q = new Queue<number>(1);
  killInside(q, "maxsize", "P:release", 2);
  finishes("put", q, (q: Queue<number>) => {
    q.put(1);
    q.put(2, false);
  });
  assert.equal(q.maxsize, 2);
  assert.equal(q.qsize(), 2);
  assert.deepEqual(drain(q), [1, 2]);
  done(q, 2);
});
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
