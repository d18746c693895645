// The count of lone outcomes a pool thread has posted and its executor has taken (protocol.ts:
// OUTCOMES_TAKEN, a 32-bit word) past 2^31 and 2^32: every outcome of a task awaited alone keeps
// going as a lone message (its value alone, its other fields in the ring), and every result is
// right. A test hook starts the executor's count (and so the thread's) just below the wrap.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ThreadPoolExecutor } from "threading";
import { laneTestHooks, OUTCOMES_TAKEN } from "../../dist/internal.js";

const T = { timeout: 60_000 };
const N = 40;

for (const start of [2 ** 31 - 5, 2 ** 32 - 5]) {
  test(
    `lone outcomes counted from ${start}: all ${N} go alone across the wrap, each with its own result`,
    T,
    async () => {
      const states: Int32Array[] = [];
      laneTestHooks.loneStart = start;
      laneTestHooks.made = (state) => states.push(state);
      const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
      try {
        for (let i = 0; i < N; i++) assert.equal(await ex.submit((x: number) => x * 2, i), i * 2);
        for (let i = 0; i < N; i++) assert.equal(ex.submit((x: number) => x + 1, i).result(), i + 1);
      } finally {
        laneTestHooks.loneStart = undefined;
        laneTestHooks.made = undefined;
        ex.shutdown();
      }
      assert.equal(states.length, 1, "one pool thread");
      // Before: past 2^31 the word read negative, the thread saw 2^32 outcomes not taken and posted
      // every later outcome as a list: the count stopped at 2^31 (read as -2^31).
      assert.equal(Atomics.load(states[0] as Int32Array, OUTCOMES_TAKEN), (start + 2 * N) | 0);
    },
  );
}
