// Async code awaiting futures and queues: the main thread never blocks its event loop. Producer
// threads put into a Queue that main drains with `for await`; pool tasks are awaited directly
// (a Future is awaitable), as they complete (asCompletedAsync), or until the first one is done
// (waitAsync); a thread is joined with joinAsync while a timer keeps ticking, which shows the loop
// is free. (TypeScript types `for await` over asCompletedAsync as results, while it yields the
// Futures: it is read here with next().)
import assert from "node:assert/strict";
import {
  asCompletedAsync,
  Event,
  FIRST_COMPLETED,
  Queue,
  sleep,
  Thread,
  ThreadPoolExecutor,
  waitAsync,
} from "threading";

// 1. A queue fed by threads, drained with for await (ends when the queue is shut down and empty).
const q = new Queue<{ from: number; value: number }>(16);
const producers = [0, 1, 2].map(
  (id) =>
    new Thread({
      target: (queue: Queue<{ from: number; value: number }>, me: number) => {
        for (let i = 0; i < 5; i++) queue.put({ from: me, value: me * 100 + i });
      },
      args: [q, id],
    }),
);
for (const p of producers) await p.startAsync();
void Promise.all(producers.map((p) => p.joinAsync())).then(() => q.shutdown());
let received = 0;
for await (const item of q) {
  assert.equal(Math.floor(item.value / 100), item.from);
  received++;
}
console.log(`received ${received} items from 3 producer threads`);
assert.equal(received, 15);

// 2. Futures: awaited one by one, as they complete, and together.
await using pool = new ThreadPoolExecutor({ maxWorkers: 3 });
const square = await pool.submit((x: number) => x * x, 12);
console.log(`await pool.submit(...) = ${square}`);

// Each task waits for its own Event; main releases them one at a time, in the order 1, 2, 0, and
// asCompletedAsync yields each future as it finishes.
const gates = [new Event(), new Event(), new Event()];
const futures = gates.map((gate, i) =>
  pool.submit(
    (g: Event, value: number) => {
      g.wait();
      return value;
    },
    gate,
    i,
  ),
);
const releaseOrder = [1, 2, 0];
const order: number[] = [];
gates[releaseOrder[0] as number]?.set();
const completions = asCompletedAsync(futures);
for (let r = await completions.next(); !r.done; r = await completions.next()) {
  order.push(r.value.result());
  gates[releaseOrder[order.length] as number]?.set();
}
console.log(`as completed: ${order.join(", ")}`);
assert.deepEqual(order, releaseOrder);

const gate = new Event();
const slow = pool.submit((g: Event) => (g.wait(), "slow"), gate);
const quick = pool.submit(async () => "quick");
const { done, notDone } = await waitAsync([slow, quick], { returnWhen: FIRST_COMPLETED });
console.log(`first completed: ${[...done].map((f) => f.result()).join(", ")}`);
assert.ok(done.has(quick) && notDone.has(slow));
gate.set();
assert.equal(await slow, "slow");

// 3. joinAsync leaves the event loop free: a timer ticks while a thread works.
let ticks = 0;
const timer = setInterval(() => ticks++, 20);
const worker = new Thread({ target: () => sleep(0.3) });
worker.start();
await worker.joinAsync();
clearInterval(timer);
console.log(`the event loop ticked ${ticks} times while main awaited joinAsync()`);
assert.ok(ticks > 0);
