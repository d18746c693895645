// Helpers for the queue tests: CPython's _TriggerThread / do_blocking_test in threads.
import assert from "node:assert/strict";
import { Event, LifoQueue, PriorityQueue, Queue, SimpleQueue, sleep, Thread } from "threading";
import {
  FIFO_GET_DISORDER,
  FIFO_GET_SLEEPERS,
  FIFO_PUT_DISORDER,
  FIFO_PUT_SLEEPERS,
  LOCKED_GET_DISORDER,
  LOCKED_GET_SLEEPERS,
  LOCKED_PUT_DISORDER,
  LOCKED_PUT_SLEEPERS,
} from "../../dist/internal.js";

export type Op =
  | { op: "get" }
  | { op: "put"; item: unknown }
  | { op: "shutdown"; immediate?: boolean }
  | { op: "taskDone" };

/** Starts a thread that sleeps 0.1 s, sets `started`, then performs `op` on `q` (as CPython's _TriggerThread). */
export function trigger(q: unknown, op: Op): { thread: Thread; started: Event } {
  const started = new Event();
  const thread = new Thread({
    target: (q: Queue<unknown>, started: Event, op: Op) => {
      sleep(0.1);
      started.set();
      if (op.op === "get") q.get();
      else if (op.op === "put") q.put(op.item);
      else if (op.op === "shutdown") q.shutdown(op.immediate);
      else q.taskDone();
    },
    args: [q, started, op],
  });
  thread.start();
  return { thread, started };
}

/** block() must block until the trigger thread acts; returns its result (CPython's do_blocking_test). */
export function doBlockingTest<R>(block: () => R, q: unknown, op: Op): R {
  const { thread, started } = trigger(q, op);
  try {
    const r = block();
    assert.ok(started.isSet(), "blocking function appeared not to block");
    return r;
  } finally {
    thread.join();
  }
}

/** block() must throw `cls` after the trigger acted (CPython's do_exceptional_blocking_test). */
export function doExceptionalBlockingTest(
  block: () => unknown,
  q: unknown,
  op: Op,
  cls: new (...a: never[]) => Error,
): void {
  const { thread, started } = trigger(q, op);
  try {
    assert.throws(block, cls);
  } finally {
    thread.join();
    assert.ok(started.isSet(), "trigger thread ended but event never set");
  }
}

export async function doBlockingTestAsync<R>(block: () => Promise<R>, q: unknown, op: Op): Promise<R> {
  const { thread, started } = trigger(q, op);
  try {
    const r = await block();
    assert.ok(started.isSet(), "blocking function appeared not to block");
    return r;
  } finally {
    await thread.joinAsync();
  }
}

/** `n` shared Int32 cells, zeroed: counters and flags that threads write and a test reads. */
export const cells = (n: number): Int32Array => new Int32Array(new SharedArrayBuffer(4 * n));

/** The control words of queue `q` (its first shared buffer), where its waiter counters live. */
export function control(q: object): Int32Array {
  const share = (q as { [k: symbol]: () => { buffers: SharedArrayBuffer[] } })[Symbol.for("threading.share")];
  return new Int32Array(share.call(q).buffers[0] as SharedArrayBuffer);
}

/** The queue kinds whose waiters take turns (engine.ts, "Turns"). */
export type Kind = "Queue" | "SimpleQueue" | "LifoQueue" | "PriorityQueue";

/** A queue of `kind` (SimpleQueue has no maxsize), typed as a Queue for the tests' calls. */
export const make = (kind: Kind, maxsize = 0): Queue<number> =>
  kind === "Queue"
    ? new Queue<number>(maxsize)
    : kind === "SimpleQueue"
      ? (new SimpleQueue<number>() as unknown as Queue<number>)
      : kind === "LifoQueue"
        ? new LifoQueue<number>(maxsize)
        : new PriorityQueue<number>(maxsize);

/** Polls `pred` (every 2 ms) until true; fails after 30 s. */
export function until(pred: () => boolean, what: string): void {
  const end = performance.now() + 30_000;
  while (!pred()) {
    assert.ok(performance.now() < end, `timed out waiting for ${what}`);
    sleep(0.002);
  }
}

/**
 * Where a queue of `kind` counts its sleeping getters / putters (gs / ps) and its waiters out of
 * their place (gd / pd): the FIFO ring's words (Queue, SimpleQueue) or the locked engine's.
 */
export const turnWords = (kind: Kind) =>
  kind === "Queue" || kind === "SimpleQueue"
    ? { gs: FIFO_GET_SLEEPERS, ps: FIFO_PUT_SLEEPERS, gd: FIFO_GET_DISORDER, pd: FIFO_PUT_DISORDER }
    : { gs: LOCKED_GET_SLEEPERS, ps: LOCKED_PUT_SLEEPERS, gd: LOCKED_GET_DISORDER, pd: LOCKED_PUT_DISORDER };

/**
 * After a stress run on `q` (a queue of `kind`) whose getters counted each item in `counts[0]`,
 * each timed-out get in `counts[1]` and summed the items in `sums`: the `total` items 0..total-1
 * were each got once, none timed out, the queue is empty and no waiter is counted out of its place
 * or asleep.
 */
export function assertDrained(
  q: Queue<number>,
  kind: Parameters<typeof turnWords>[0],
  counts: Int32Array,
  sums: Int32Array,
  total: number,
): void {
  assert.equal(Atomics.load(counts, 0), total, "every item got once");
  assert.equal(Atomics.load(counts, 1), 0, "no get timed out");
  assert.equal(
    Array.from(sums).reduce((a, b) => a + b, 0),
    (total * (total - 1)) / 2,
    "the items got are the items put",
  );
  assert.equal(q.qsize(), 0);
  const h = control(q);
  const { gs, ps, gd, pd } = turnWords(kind);
  assert.deepEqual(
    [Atomics.load(h, gd), Atomics.load(h, pd), Atomics.load(h, gs), Atomics.load(h, ps)],
    [0, 0, 0, 0],
    "no waiter counted out of its place, no sleeper counted",
  );
}

/**
 * Runs `op` of queue `q` in a thread that the fixture (fixtures/queue-hooks.ts dieInside) stops at
 * test hook `point` and kills there (out of memory under its resourceLimits); returns once it is dead.
 */
export function killInside(q: object, op: string, point: string, arg: unknown = null): Thread {
  const s = new Int32Array(new SharedArrayBuffer(4));
  const t = new Thread({
    target: { module: "../fixtures/queue-hooks.ts", export: "dieInside" },
    args: [q, op, point, arg, s],
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  });
  t.start();
  t.join();
  assert.equal(t.isAlive(), false);
  assert.equal(Atomics.load(s, 0), 1, `the thread reached ${point}`);
  return t;
}

/** Gets everything left in `q` without blocking. */
export function drain<T>(q: { qsize(): number; get(block: boolean): T }): T[] {
  const out: T[] = [];
  while (q.qsize() > 0) out.push(q.get(false));
  return out;
}

/** `n` task_done() calls end every task of `q`: join() returns, and one more raises. */
export function done(q: Queue<unknown>, n: number): void {
  for (let i = 0; i < n; i++) q.taskDone();
  q.join();
  assert.throws(() => q.taskDone(), RangeError);
}
