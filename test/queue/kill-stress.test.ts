// Producers that run out of memory at an allocation in their loop of puts (their own, or one the put makes)
// while consumers live on: nobody hangs, and every item is accounted for exactly: each put that returned is
// got once, the put a producer was in when it died is got once or never, nothing else ever (fifo.ts,
// core.ts "Death"). Two rounds for each queue kind. (In runs so far no producer died with its last put's
// words written: the kill windows inside a put are made to happen by hooks in lock-windows and
// dead-holder; this is the load around them: deaths beside live traffic on every kind.)
// Node only: kills threads by running them out of memory under resourceLimits, which Bun and Deno refuse (README, Runtimes and flags); scripts/run-tests-on.mjs does not run this file there.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LifoQueue, PriorityQueue, Queue, SimpleQueue, Thread } from "threading";

const T = { timeout: 120_000 };
const PRODUCERS = 4;
const CONSUMERS = 2;
/** Items a producer can put before it dies (far above what a 32 MB heap lets it). */
const MAX_ITEMS = 1 << 17;
/** An item is [p * MAX_ITEMS + i, "item"] (producer p's i-th); a consumer stops at [END] (last in priority order). */
const END = Number.MAX_SAFE_INTEGER;

type Item = [number, string?];
type AnyQueue = Queue<Item> | SimpleQueue<Item> | LifoQueue<Item> | PriorityQueue<Item>;

const KINDS: [string, () => AnyQueue][] = [
  ["Queue()", () => new Queue<Item>()],
  ["Queue(16)", () => new Queue<Item>(16)],
  ["SimpleQueue", () => new SimpleQueue<Item>()],
  ["LifoQueue(16)", () => new LifoQueue<Item>(16)],
  ["PriorityQueue()", () => new PriorityQueue<Item>()],
];

for (const [kind, make] of KINDS) {
  test(`${kind}: producers dying out of memory mid-loop lose no returned put and repeat none; nobody hangs`, T, () => {
    for (let round = 0; round < 2; round++) {
      const q = make();
      const done = new Int32Array(new SharedArrayBuffer(4 * PRODUCERS));
      // seen[p * MAX_ITEMS + i]: how many times producer p's i-th item was got
      const seen = new Int32Array(new SharedArrayBuffer(4 * PRODUCERS * MAX_ITEMS));
      const consumers = Array.from(
        { length: CONSUMERS },
        () =>
          new Thread({
            target: (q: Queue<[number]>, seen: Int32Array, end: number) => {
              for (;;) {
                const [x] = q.get();
                if (x === end) return;
                Atomics.add(seen, x, 1);
              }
            },
            args: [q, seen, END],
            daemon: true,
          }),
      );
      for (const c of consumers) c.start();
      const producers = Array.from(
        { length: PRODUCERS },
        (_, p) =>
          new Thread({
            target: { module: "../fixtures/queue-hooks.ts", export: "putUntilOutOfMemory" },
            args: [q, p * MAX_ITEMS, p, done],
            resourceLimits: { maxOldGenerationSizeMb: 32 },
          }),
      );
      for (const t of producers) t.start();
      for (const t of producers) {
        t.join(60);
        assert.equal(t.isAlive(), false, `${kind}: a producer still runs after 60 s`);
      }
      // (every item got first: a LifoQueue would hand out the last END before what is left under it)
      const until = performance.now() + 30_000;
      while (q.qsize() > 0 && performance.now() < until) Atomics.wait(done, 0, Atomics.load(done, 0), 5);
      assert.equal(q.qsize(), 0, `${kind}: items left 30 s after the producers died`);
      for (let c = 0; c < CONSUMERS; c++) q.put([END]);
      for (const c of consumers) {
        c.join(30);
        assert.equal(c.isAlive(), false, `${kind}: a consumer still waits 30 s after the producers died`);
      }
      assert.equal(q.qsize(), 0);
      for (let p = 0; p < PRODUCERS; p++) {
        const returned = Atomics.load(done, p);
        assert.ok(returned > 0 && returned < MAX_ITEMS - 1, `${kind}: producer ${p} put ${returned} items`);
        const base = p * MAX_ITEMS;
        for (let i = 0; i < returned; i++) {
          if (seen[base + i] !== 1)
            assert.fail(`${kind}: producer ${p}'s item ${i} (returned) was got ${seen[base + i]} times`);
        }
        // (the put it died in: its words all written, or not)
        assert.ok((seen[base + returned] as number) <= 1, `${kind}: producer ${p}'s last item got twice`);
        for (let i = returned + 1; i < MAX_ITEMS; i++) {
          if (seen[base + i] !== 0) assert.fail(`${kind}: producer ${p}'s item ${i}, never put, was got`);
        }
      }
    }
  });
}
