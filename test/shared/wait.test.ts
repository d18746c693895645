// Long timeouts (issue 9, item 10): a delay longer than one setTimeout takes (2^31-1 ms, 24.8 days)
// must not fire early, and sleepAsync(Infinity) never resolves. The setTimeout limit is lowered
// through a hook so that the chaining is seen in milliseconds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { sleepAsync } from "threading";
import { afterMs, timerHooks } from "../../dist/internal.js";
import { runChild } from "../child.js";

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
