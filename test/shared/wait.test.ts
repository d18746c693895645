// Long timeouts (issue 9, item 10): a delay longer than one setTimeout takes (2^31-1 ms, 24.8 days)
// must not fire early, and sleepAsync(Infinity) never resolves. The setTimeout limit is lowered
// through a hook so that the chaining is seen in milliseconds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Event, Lock, LifoQueue, PriorityQueue, Queue, SimpleQueue, sleep, sleepAsync, Timer } from "threading";
import { afterMs, timerHooks } from "../../dist/internal.js";
import { runChild as runChildOf } from "../child.js";

// The children are plain JavaScript, run by plain Node (Bun and Deno run them as before): what
// they check is the library in a fresh process, not tsx, which under tsx would load in each child
// (a second or more a child on a loaded machine).
const runChild = (code: string, timeoutMs?: number) => runChildOf(code, timeoutMs, { tsx: false });

const T = { timeout: 30_000 };

test("afterMs: a delay longer than one timer takes is chained, never early", T, async () => {
  const saved = timerHooks.maxTimerMs;
  timerHooks.maxTimerMs = 10;
  try {
    const t0 = performance.now();
    await new Promise<void>((resolve) => afterMs(120, resolve));
    assert.ok(performance.now() - t0 >= 115, "it waited the whole delay, not one timer's limit");
    const t1 = performance.now();
    await sleepAsync(0.1);
    assert.ok(performance.now() - t1 >= 95);
  } finally {
    timerHooks.maxTimerMs = saved;
  }
});

test(
  "sleepAsync(Infinity) and a sleep past one timer's limit stay pending; a cancelled afterMs never fires",
  T,
  async () => {
    // In a child process: a pending sleepAsync(Infinity) keeps its process alive, as a pending sleep does.
    const lib = new URL("../../dist/index.js", import.meta.url).href;
    const r = runChild(
      `import { sleepAsync } from ${JSON.stringify(lib)};
     let done = 0;
     sleepAsync(Infinity).then(() => done++);
     sleepAsync(2 ** 31 / 1000 + 1).then(() => done++);
     setTimeout(() => { console.log("pending", done); process.exit(0); }, 300);`,
    );
    assert.equal(r.stdout.trim(), "pending 0", r.stderr);
    let fired = false;
    const cancel = afterMs(20, () => {
      fired = true;
    });
    cancel();
    afterMs(Number.POSITIVE_INFINITY, () => {
      fired = true;
    })();
    await sleepAsync(0.1);
    assert.equal(fired, false);
  },
);

test("a negative timeout is a RangeError in Python's words (queue's ValueError, time.sleep's)", T, async () => {
  // CPython: queue.Queue().get(True, -1) -> ValueError("'timeout' must be a non-negative number"),
  // also with items queued; time.sleep(-1) -> ValueError("sleep length must be non-negative").
  for (const q of [new Queue<number>(1), new LifoQueue<number>(1), new PriorityQueue<number>(1)]) {
    q.put(1);
    assert.throws(() => q.get(true, -1), { name: "RangeError", message: /'timeout' must be a non-negative number/ });
    assert.throws(() => q.put(2, true, -1), { name: "RangeError", message: /'timeout' must be a non-negative number/ });
    await assert.rejects(q.getAsync(-1), { name: "RangeError", message: /'timeout' must be a non-negative number/ });
    assert.equal(q.qsize(), 1, "nothing taken");
  }
  assert.throws(() => new SimpleQueue().get(true, -0.5), {
    name: "RangeError",
    message: /'timeout' must be a non-negative number/,
  });
  assert.throws(() => new Lock().acquire(true, -2), {
    name: "RangeError",
    message: /'timeout' must be a non-negative number of seconds \(or -1 for no timeout\), not -2/,
  });
  assert.throws(() => sleep(-1), { name: "RangeError", message: "sleep(): sleep length must be non-negative, not -1" });
  await assert.rejects(sleepAsync(-0.1), { name: "RangeError", message: /sleep length must be non-negative/ });
});

test("NaN is a RangeError in Python's words; a negative interval names its argument", T, async () => {
  // CPython: Lock().acquire(timeout=nan), Event().wait(nan), time.sleep(nan) -> ValueError("Invalid value NaN (not a number)")
  assert.throws(() => new Lock().acquire(true, Number.NaN), {
    name: "RangeError",
    message: /Invalid value NaN \(not a number\)/,
  });
  assert.throws(() => new Event().wait(Number.NaN), {
    name: "RangeError",
    message: /Invalid value NaN \(not a number\)/,
  });
  assert.throws(() => sleep(Number.NaN), { name: "RangeError", message: /Invalid value NaN \(not a number\)/ });
  await assert.rejects(new Queue().getAsync(Number.NaN), { name: "RangeError", message: /Invalid value NaN/ });
  assert.throws(() => new Timer(-1, () => {}), {
    name: "RangeError",
    message: "Timer(interval): 'interval' must be a non-negative number of seconds, not -1",
  });
});
