// Blocking and async waiters on one queue (engine.ts, "Turns"): a blocked get()/put() takes a
// ticket and may give way to an older blocked one; an async getAsync()/putAsync() takes none and
// is never given way to, and while one sleeps every wake is a wake of every sleeper. Fairness
// between the two kinds is not promised (README: async waiters take no ticket); what is: no waiter
// of either kind waits on while an item (room) is there for it, with exact counts, also while
// blocked waiters keep going out of their place (idle checks every 1-3 ms: DISORDER > 0, gives way).
import assert from "node:assert/strict";
import { test } from "node:test";
import { LifoQueue, Queue, Thread } from "threading";
import { assertDrained, cells, control, turnWords } from "./helpers.js";

const T = { timeout: 120_000 };
const fixture = new URL("../fixtures/queue-turns.ts", import.meta.url);

for (const kind of ["Queue", "LifoQueue"] as const) {
  const w = turnWords(kind);

  test(
    `${kind} stress: blocking and async getters and putters on one bounded queue: every item once, none waits on`,
    T,
    async () => {
      // Consumers: 2 blocking threads, 1 async thread, main async; producers: 2 blocking threads,
      // 1 async thread, main async. Each get/put has 30 s (a timed-out get counts in counts[1]).
      const N = 150;
      const CONSUMERS = 4;
      const M = (N * CONSUMERS) / 4;
      const q = kind === "Queue" ? new Queue<number>(2) : new LifoQueue<number>(2);
      const sums = new Float64Array(new SharedArrayBuffer(8 * CONSUMERS));
      const counts = cells(2);
      const threads = [
        new Thread({ target: { module: fixture, export: "stressGetter" }, args: [q, 0, N, 1, 30, sums, counts] }),
        new Thread({ target: { module: fixture, export: "stressGetter" }, args: [q, 1, N, 3, 30, sums, counts] }),
        new Thread({ target: { module: fixture, export: "asyncGetter" }, args: [q, 2, N, 30, sums, counts] }),
        new Thread({ target: { module: fixture, export: "stressPutter" }, args: [q, 0, M, 2] }),
        new Thread({ target: { module: fixture, export: "stressPutter" }, args: [q, M, M, 1] }),
        new Thread({ target: { module: fixture, export: "asyncPutter" }, args: [q, 2 * M, M] }),
      ];
      for (const t of threads) t.start();
      const mainGets = (async () => {
        for (let i = 0; i < N; i++) {
          sums[3] = (sums[3] as number) + (await q.getAsync(30));
          Atomics.add(counts, 0, 1);
        }
      })();
      const mainPuts = (async () => {
        for (let i = 0; i < M; i++) await q.putAsync(3 * M + i);
      })();
      await Promise.all([mainGets, mainPuts]);
      for (const t of threads) await t.joinAsync(100);
      for (const t of threads) assert.equal(t.isAlive(), false, `${t.name} finished`);
      assertDrained(q, kind, counts, sums, 4 * M);
      const h = control(q);
      assert.deepEqual([Atomics.load(h, w.gs + 1), Atomics.load(h, w.ps + 1)], [0, 0], "no async sleeper counted");
    },
  );
}
