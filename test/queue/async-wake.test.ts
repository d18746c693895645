// Issue 9, item 5, for the queues' wake-one notifies: main has a pending getAsync() queued first,
// a thread blocks in get(), main puts one item and blocks in join(): the thread must get it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LifoQueue, Queue, sleep, Thread } from "threading";

const T = { timeout: 60_000 };

for (const Kind of [Queue, LifoQueue]) {
  test(`${Kind.name}: a put while main's getAsync() is queued first wakes the blocked getter`, T, async () => {
    const q = new Kind<number>();
    const s = new Int32Array(new SharedArrayBuffer(8));
    const mine = q.getAsync();
    const t = new Thread({
      target: (qq: Queue<number>, c: Int32Array) => {
        Atomics.store(c, 0, 1);
        Atomics.notify(c, 0);
        c[1] = qq.get(true, 30);
      },
      args: [q, s],
    });
    t.start();
    while (Atomics.load(s, 0) === 0) Atomics.wait(s, 0, 0, 1000);
    sleep(0.1); // the getter is asleep by then (if not, it finds the item: no false failure)
    q.put(7);
    t.join(10);
    assert.equal(t.isAlive(), false, "the blocked getter took the item while main was blocked in join()");
    assert.equal(s[1], 7);
    q.put(8);
    assert.equal(await mine, 8);
  });

  test(`${Kind.name}: a get while main's putAsync() is queued first wakes the blocked putter`, T, async () => {
    const q = new Kind<number>(1);
    q.put(1);
    const s = new Int32Array(new SharedArrayBuffer(8));
    const mine = q.putAsync(2);
    const t = new Thread({
      target: (qq: Queue<number>, c: Int32Array) => {
        Atomics.store(c, 0, 1);
        Atomics.notify(c, 0);
        qq.put(3, true, 30);
        c[1] = 1;
      },
      args: [q, s],
    });
    t.start();
    while (Atomics.load(s, 0) === 0) Atomics.wait(s, 0, 0, 1000);
    sleep(0.1);
    assert.equal(q.get(), 1);
    t.join(10);
    assert.equal(t.isAlive(), false, "the blocked putter stored its item while main was blocked in join()");
    assert.equal(q.get(), 3);
    await mine;
    assert.equal(q.get(), 2);
  });
}
