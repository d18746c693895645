// Wake-one claims its sleeper before the notify (src/queue/engine.ts wakeOne): the sleepers count is
// lowered first and raised back when the notify woke nobody, and a waker that finds it at 0 meanwhile
// leaves its wake to the claimant. Here many hand-offs go to sleeping getters and putters from two
// producers and three consumers at once (a bound of 2 makes putters sleep too), so that claims,
// raised-back claims and wakers finding the count at 0 overlap: every item is got exactly once, each
// consumer sees each producer's items in their put order, and once all is done the sleepers and
// waiters words are back at 0 (a claim neither lost nor counted twice).
import assert from "node:assert/strict";
import { test } from "node:test";
import { LifoQueue, Queue, sleep, Thread } from "threading";
import {
  FIFO_GET_SLEEPERS,
  FIFO_GET_WAITERS,
  FIFO_PUT_SLEEPERS,
  FIFO_PUT_WAITERS,
  LOCKED_GET_SLEEPERS,
  LOCKED_PUT_SLEEPERS,
} from "../../dist/internal.js";

const T = { timeout: 120_000 };
const N = 4000;
const PRODUCERS = 2;
const CONSUMERS = 3;

function control(q: object): Int32Array {
  const f = (q as { [k: symbol]: () => { buffers: SharedArrayBuffer[] } })[Symbol.for("threading.share")];
  return new Int32Array(f.call(q).buffers[0] as SharedArrayBuffer);
}

/**
 * PRODUCERS threads put N items each (p * N + i), pausing now and then so that the consumers run
 * dry and sleep; CONSUMERS threads get until they see -1. Checks the count and sum of what they got
 * and, for a FIFO, that each consumer saw each producer's items in their put order.
 */
function run(q: Queue<number> | LifoQueue<number>, fifo: boolean): void {
  const out = new Float64Array(new SharedArrayBuffer(8 * 3 * CONSUMERS));
  const threads: Thread[] = [];
  for (let p = 0; p < PRODUCERS; p++) {
    threads.push(
      new Thread({
        target: (q: Queue<number>, p: number, n: number) => {
          const pause = new Int32Array(new SharedArrayBuffer(4));
          for (let i = 0; i < n; i++) {
            q.put(p * n + i);
            // (a pause of 50-200 µs every few items: the consumers find the queue empty and sleep)
            if (i % (3 + p) === 0) Atomics.wait(pause, 0, 0, 0.05 + ((i * 7) % 4) * 0.05);
          }
        },
        args: [q as Queue<number>, p, N],
      }),
    );
  }
  for (let c = 0; c < CONSUMERS; c++) {
    threads.push(
      new Thread({
        target: (q: Queue<number>, out: Float64Array, c: number, n: number, producers: number) => {
          const last = new Array<number>(producers).fill(-1);
          let count = 0;
          let sum = 0;
          let ordered = 1;
          for (;;) {
            const x = q.get(true, 60);
            if (x < 0) break;
            count++;
            sum += x;
            const p = Math.floor(x / n);
            if (x <= (last[p] as number)) ordered = 0;
            last[p] = x;
          }
          out[3 * c] = count;
          out[3 * c + 1] = sum;
          out[3 * c + 2] = ordered;
        },
        args: [q as Queue<number>, out, c, N, PRODUCERS],
      }),
    );
  }
  for (const t of threads) t.start();
  for (const t of threads.slice(0, PRODUCERS)) t.join();
  // (a LifoQueue would hand a sentinel out before the items under it: the sentinels once it is empty)
  while (q.qsize() > 0) sleep(0.001);
  for (let c = 0; c < CONSUMERS; c++) q.put(-1);
  for (const t of threads.slice(PRODUCERS)) t.join();
  let count = 0;
  let sum = 0;
  for (let c = 0; c < CONSUMERS; c++) {
    count += out[3 * c] as number;
    sum += out[3 * c + 1] as number;
    if (fifo) assert.equal(out[3 * c + 2], 1, `consumer ${c} got a producer's items out of their put order`);
  }
  const total = PRODUCERS * N;
  assert.equal(count, total, "every item got exactly once (count)");
  assert.equal(sum, (total * (total - 1)) / 2, "every item got exactly once (sum)");
}

test(
  `${PRODUCERS} producers x ${CONSUMERS} consumers hand items to sleeping getters and putters (Queue(2), Queue())`,
  T,
  () => {
    for (const maxsize of [2, 0]) {
      const q = new Queue<number>(maxsize);
      run(q, true);
      const h = control(q);
      assert.equal(Atomics.load(h, FIFO_GET_SLEEPERS), 0, `Queue(${maxsize}): GET_SLEEPERS back at 0`);
      assert.equal(Atomics.load(h, FIFO_GET_WAITERS), 0, `Queue(${maxsize}): GET_WAITERS back at 0`);
      assert.equal(Atomics.load(h, FIFO_PUT_SLEEPERS), 0, `Queue(${maxsize}): PUT_SLEEPERS back at 0`);
      assert.equal(Atomics.load(h, FIFO_PUT_WAITERS), 0, `Queue(${maxsize}): PUT_WAITERS back at 0`);
      assert.equal(q.qsize(), 0);
    }
  },
);

test(`${PRODUCERS} producers x ${CONSUMERS} consumers through a LifoQueue(2) (the one-lock engine's wakes)`, T, () => {
  const q = new LifoQueue<number>(2);
  run(q, false);
  const h = control(q);
  assert.equal(Atomics.load(h, LOCKED_GET_SLEEPERS), 0, "GET_SLEEPERS back at 0");
  assert.equal(Atomics.load(h, LOCKED_PUT_SLEEPERS), 0, "PUT_SLEEPERS back at 0");
  assert.equal(q.qsize(), 0);
});
