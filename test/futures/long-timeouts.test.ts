// Long timeouts of the futures API (issue 9, item 10): Future.resultAsync(), asCompletedAsync() and
// waitAsync() with a timeout longer than one setTimeout takes (2^31-1 ms, 24.8 days) neither fire
// early nor ask Node for an overlong timer (a TimeoutOverflowWarning, then 1 ms). The limit is lowered
// through timerHooks (dist/internal.js) so that the chaining shows in milliseconds: every timer
// armed stays within the limit, and each timeout ends after its whole delay.
import assert from "node:assert/strict";
import { test } from "node:test";
import { asCompletedAsync, Future, TimeoutError, waitAsync } from "threading";
import { timerHooks } from "../../dist/internal.js";

const T = { timeout: 30_000 };

/** Runs `body` with the timer limit at 10 ms; returns the longest delay given to setTimeout meanwhile. */
async function withShortTimers(body: () => Promise<void>): Promise<number> {
  const saved = timerHooks.maxTimerMs;
  const real = globalThis.setTimeout;
  let longest = 0;
  timerHooks.maxTimerMs = 10;
  globalThis.setTimeout = ((fn: () => void, ms?: number, ...rest: unknown[]) => {
    longest = Math.max(longest, ms ?? 0);
    return real(fn, ms, ...rest);
  }) as typeof setTimeout;
  try {
    await body();
  } finally {
    globalThis.setTimeout = real;
    timerHooks.maxTimerMs = saved;
  }
  return longest;
}

test("Future.resultAsync({ timeout }) past one timer's limit: chained, not early", T, async () => {
  const f = new Future<number>();
  const longest = await withShortTimers(async () => {
    const t0 = performance.now();
    await assert.rejects(f.resultAsync({ timeout: 0.12 }), TimeoutError);
    assert.ok(performance.now() - t0 >= 115, "the whole timeout passed");
  });
  assert.ok(longest <= 10, `a timer of ${longest} ms was armed`);
});

test("asCompletedAsync(fs, timeout) past one timer's limit: chained, not early", T, async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  a.setResult(1);
  const longest = await withShortTimers(async () => {
    const t0 = performance.now();
    const seen: Future<number>[] = [];
    await assert.rejects(async () => {
      for await (const f of asCompletedAsync([a, b], 0.12)) seen.push(f);
    }, TimeoutError);
    assert.deepEqual(seen, [a]);
    assert.ok(performance.now() - t0 >= 115, "the whole timeout passed");
  });
  assert.ok(longest <= 10, `a timer of ${longest} ms was armed`);
});

test(
  "waitAsync(fs, { timeout }) past one timer's limit: chained, not early; a result before it ends the wait",
  T,
  async () => {
    const a = new Future<number>();
    const b = new Future<number>();
    const longest = await withShortTimers(async () => {
      const t0 = performance.now();
      const r = await waitAsync([a, b], { timeout: 0.12 });
      assert.ok(performance.now() - t0 >= 115, "the whole timeout passed");
      assert.equal(r.done.size, 0);
      assert.equal(r.notDone.size, 2);
      setTimeout(() => a.setResult(1), 20);
      const r2 = await waitAsync([a, b], { timeout: 1e6, returnWhen: "FIRST_COMPLETED" });
      assert.deepEqual([...r2.done], [a]);
    });
    assert.ok(longest <= 20, `a timer of ${longest} ms was armed`);
  },
);
