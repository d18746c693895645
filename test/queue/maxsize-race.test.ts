// Two threads setting `maxsize` at once: the value `maxsize` reports and the bound put() enforces
// must come from the same setter (the last to take the engine's lock), whatever the interleaving.
// The fixture pauses one setter after it checked its value and before it took the lock
// (queueTestHooks.beforeMaxsizeLock) while the main thread sets another value.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Full, LifoQueue, PriorityQueue, Queue, SimpleQueue, Thread } from "threading";

const T = { timeout: 60_000 };
const hooks = "../fixtures/queue-hooks.ts";

for (const Q of [Queue, LifoQueue, PriorityQueue]) {
  test(`${Q.name}: racing maxsize setters leave the reported maxsize and the enforced bound equal`, T, () => {
    const q = new Q<number>(1);
    const s = new Int32Array(new SharedArrayBuffer(8));
    const t = new Thread({ target: { module: hooks, export: "setMaxsizePaused" }, args: [q, 5, s] });
    t.start();
    while (Atomics.load(s, 0) === 0) Atomics.wait(s, 0, 0, 100);
    // the thread has checked 5 and not yet taken the lock: this setter runs whole meanwhile
    q.maxsize = 3;
    Atomics.store(s, 1, 1);
    Atomics.notify(s, 1);
    t.join();
    // The thread's setter took the lock last: 5 reported and enforced (before: 3 reported, 5 enforced).
    assert.equal(q.maxsize, 5);
    for (let i = 0; i < 5; i++) q.putNowait(i);
    assert.throws(() => q.putNowait(9), Full);
    assert.equal(q.full(), true);
  });
}

test("SimpleQueue has no maxsize", () => {
  assert.equal("maxsize" in new SimpleQueue(), false);
});
