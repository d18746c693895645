// Python's keyword arguments as options objects: `q.get({ timeout: 0.5 })`, `lock.acquire({ blocking: false })`,
// `event.wait({ timeout })`, ... everywhere Python has block/blocking/timeout keywords, in the blocking and
// the async forms; and a non-boolean `block` is a TypeError (it used to be taken as truthy: get({ timeout })
// blocked for ever).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  asCompleted,
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  Condition,
  Empty,
  Event,
  Full,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  RLock,
  Semaphore,
  SimpleQueue,
  sleep,
  sleepAsync,
  Thread,
  ThreadPoolExecutor,
  TimeoutError,
  wait,
  waitAsync,
} from "threading";

const T = { timeout: 30_000 };

/** Runs `fn` and returns the seconds it took. */
function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

/** A thread that holds `lock` until `release` is set; returns once it holds it. */
function holder(lock: Lock | RLock): { release: Event; thread: Thread } {
  const held = new Event();
  const release = new Event();
  const thread = new Thread({
    target: (lock: Lock | RLock, held: Event, release: Event) => {
      lock.acquire();
      held.set();
      release.wait();
      lock.release();
    },
    args: [lock, held, release],
  });
  thread.start();
  assert.equal(held.wait(10), true);
  return { release, thread };
}

describe("queues: put/get({ block, timeout })", () => {
  for (const Q of [Queue, LifoQueue, PriorityQueue]) {
    test(`${Q.name}: get({ timeout }) times out with Empty instead of blocking for ever`, T, async () => {
      const q = new Q<number>(1);
      const s = timed(() => assert.throws(() => q.get({ timeout: 0.05 }), Empty));
      assert.ok(s >= 0.04 && s < 10, `${s} s`);
      assert.throws(() => q.get({ block: false }), Empty);
      assert.throws(() => q.get({ block: false, timeout: 5 }), Empty); // the timeout is ignored, as in Python
      q.put(1, { timeout: 1 });
      assert.throws(() => q.put(2, { timeout: 0.05 }), Full);
      assert.throws(() => q.put(2, { block: false }), Full);
      assert.equal(q.get({ block: true, timeout: 1 }), 1);
      q.put(3, {});
      assert.equal(q.get({}), 3);
      await assert.rejects(q.getAsync({ timeout: 0.02 }), Empty);
      await q.putAsync(4, { timeout: 1 });
      await assert.rejects(q.putAsync(5, { timeout: 0.02 }), Full);
      assert.equal(await q.getAsync({ timeout: null }), 4);
      assert.equal(q.qsize(), 0);
    });
  }

  test("get({ timeout }) waits for an item another thread puts", T, () => {
    const q = new Queue<string>();
    const t = new Thread({
      target: (q: Queue<string>) => {
        sleep(0.1);
        q.put("late");
      },
      args: [q],
    });
    t.start();
    assert.equal(q.get({ timeout: 20 }), "late");
    t.join();
  });

  test("a non-boolean block is a TypeError, and nothing is put", T, async () => {
    const q = new Queue<number>();
    // @ts-expect-error a timeout where block goes
    assert.throws(() => q.get(0.5), {
      name: "TypeError",
      message: /block must be a boolean, not number 0\.5.*timeout/,
    });
    // @ts-expect-error
    assert.throws(() => q.get("yes"), { name: "TypeError", message: /block must be a boolean, not string "yes"/ });
    // @ts-expect-error
    assert.throws(() => q.put(1, 0.5), TypeError);
    // @ts-expect-error
    assert.throws(() => q.put(1, null), TypeError);
    assert.equal(q.qsize(), 0);
    // @ts-expect-error a misspelt keyword
    assert.throws(() => q.get({ timout: 1 }), { name: "TypeError", message: /unexpected option 'timout'/ });
    // @ts-expect-error both ways at once
    assert.throws(() => q.put(1, { timeout: 1 }, 2), /either as arguments or in one options object/);
    assert.equal(q.qsize(), 0);
    // @ts-expect-error the async twins take no block
    await assert.rejects(q.getAsync({ block: false }), { name: "TypeError", message: /unexpected option 'block'/ });
    assert.throws(() => q.get({ timeout: -1 }), RangeError);
    assert.throws(() => q.put(1, { timeout: Number.NaN }), RangeError);
    assert.equal(q.qsize(), 0);
  });

  test("SimpleQueue: put checks its ignored block; get({ timeout })", T, async () => {
    const q = new SimpleQueue<number>();
    // @ts-expect-error
    assert.throws(() => q.put(1, 0.5), TypeError);
    assert.equal(q.qsize(), 0);
    q.put(1, { block: false, timeout: 5 }); // accepted and ignored, as in Python
    q.put(2, false);
    assert.equal(q.get({ timeout: 1 }), 1);
    assert.equal(q.get({ block: false }), 2);
    assert.throws(() => q.get({ timeout: 0.02 }), Empty);
    // @ts-expect-error
    assert.throws(() => q.get(1), TypeError);
    await assert.rejects(q.getAsync({ timeout: 0.02 }), Empty);
  });
});

describe("locks and semaphores: acquire({ blocking, timeout })", () => {
  for (const L of [Lock, RLock]) {
    test(`${L.name}: held by another thread`, T, async () => {
      const lock = new L();
      const { release, thread } = holder(lock);
      const s = timed(() => assert.equal(lock.acquire({ timeout: 0.05 }), false));
      assert.ok(s >= 0.04 && s < 10, `${s} s`);
      assert.equal(lock.acquire({ blocking: false }), false);
      assert.equal(await lock.acquireAsync({ timeout: 0.02 }), false);
      assert.throws(() => lock.hold({ timeout: 0.02 }), { name: "TimeoutError", message: /within 0\.02 s/ });
      await assert.rejects(lock.holdAsync({ timeout: 0.02 }), TimeoutError);
      release.set();
      assert.equal(lock.acquire({ timeout: 20 }), true);
      lock.release();
      thread.join();
      {
        using _ = lock.hold({ timeout: 1 });
        assert.equal(lock.locked(), true);
      }
      assert.equal(lock.locked(), false);
    });

    test(`${L.name}: bad keywords are TypeError / RangeError, as Python's`, T, async () => {
      const lock = new L();
      // @ts-expect-error a timeout where blocking goes
      assert.throws(() => lock.acquire(0.5), { name: "TypeError", message: /blocking must be a boolean/ });
      assert.throws(() => lock.acquire({ blocking: false, timeout: 1 }), RangeError);
      // @ts-expect-error Python's queue keyword on a lock
      assert.throws(() => lock.acquire({ block: false }), { name: "TypeError", message: /unexpected option 'block'/ });
      // @ts-expect-error both ways at once
      assert.throws(() => lock.acquire({ timeout: 1 }, 2), TypeError);
      assert.equal(lock.locked(), false);
      assert.equal(lock.acquire({ timeout: -1 }), true); // -1 = forever, for locks
      lock.release();
      // @ts-expect-error
      await assert.rejects(lock.acquireAsync({ blocking: false }), TypeError);
    });
  }

  for (const S of [Semaphore, BoundedSemaphore]) {
    test(`${S.name}: acquire({ timeout }), acquire({ blocking: false }), async`, T, async () => {
      const s = new S(1);
      assert.equal(s.acquire({ blocking: false }), true);
      assert.equal(s.acquire({ blocking: false }), false);
      const took = timed(() => assert.equal(s.acquire({ timeout: 0.05 }), false));
      assert.ok(took >= 0.04 && took < 10, `${took} s`);
      assert.equal(await s.acquireAsync({ timeout: 0.02 }), false);
      assert.throws(() => s.hold({ timeout: 0.02 }), TimeoutError);
      assert.throws(() => s.acquire({ blocking: false, timeout: 1 }), RangeError);
      // @ts-expect-error
      assert.throws(() => s.acquire(1), TypeError);
      s.release();
      assert.equal(s.acquire({ timeout: 1 }), true);
      s.release();
    });
  }

  test("Condition: acquire, wait, waitFor with options", T, async () => {
    const c = new Condition(new Lock());
    assert.equal(c.acquire({ blocking: false }), true);
    assert.equal(c.wait({ timeout: 0.02 }), false);
    assert.equal(
      c.waitFor(() => false, { timeout: 0.02 }),
      false,
    );
    assert.equal(await c.waitAsync({ timeout: 0.02 }), false);
    assert.equal(await c.waitForAsync(() => 0, { timeout: 0.02 }), 0);
    assert.equal(c.acquire({ blocking: false }), false); // a Lock is not re-entrant
    c.release();
    // @ts-expect-error
    assert.throws(() => c.wait({ timeout: 1, block: true }), TypeError);
  });
});

describe("timeouts of every other wait", () => {
  test("Event, Barrier, Thread.join", T, async () => {
    const e = new Event();
    assert.equal(e.wait({ timeout: 0.02 }), false);
    assert.equal(await e.waitAsync({ timeout: 0.02 }), false);
    e.set();
    assert.equal(e.wait({}), true);

    const b = new Barrier(2);
    assert.throws(() => b.wait({ timeout: 0.05 }), BrokenBarrierError);
    b.reset();
    const b2 = new Barrier(2, undefined, 0.05); // {} keeps the barrier's default timeout
    assert.throws(() => b2.wait({}), BrokenBarrierError);
    await assert.rejects(new Barrier(2).waitAsync({ timeout: 0.02 }), BrokenBarrierError);

    const stop = new Event();
    const t = new Thread({ target: (stop: Event) => void stop.wait(), args: [stop] });
    t.start();
    t.join({ timeout: 0.02 });
    assert.equal(t.isAlive(), true);
    await t.joinAsync({ timeout: 0.02 });
    assert.equal(t.isAlive(), true);
    stop.set();
    t.join({ timeout: 20 });
    assert.equal(t.isAlive(), false);
    // @ts-expect-error
    assert.throws(() => t.join({ timeOut: 1 }), /unexpected option 'timeOut'/);
  });

  test("Future.result/exception, asCompleted, wait(fs, timeout), shutdown({ ... })", T, async () => {
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const stop = new Event();
    const f = pool.submit((stop: Event) => stop.wait(), stop);
    assert.throws(() => f.result({ timeout: 0.02 }), { name: "TimeoutError", message: /after 0\.02 s/ });
    assert.throws(() => f.exception({ timeout: 0.02 }), TimeoutError);
    await assert.rejects(f.resultAsync({ timeout: 0.02 }), TimeoutError);
    await assert.rejects(f.exceptionAsync({ timeout: 0.02 }), TimeoutError);
    assert.throws(() => asCompleted([f], { timeout: 0.02 }).next(), TimeoutError);
    // Python's positional timeout: wait(fs, 0.02)
    assert.equal(wait([f], 0.02).notDone.size, 1);
    assert.equal((await waitAsync([f], { timeout: 0.02 })).notDone.size, 1);
    // @ts-expect-error
    assert.throws(() => wait([f], { timout: 1 }), /unexpected option 'timout'/);
    // cancelFutures cancels only what has not started: f must be running first (a thread boot
    // can take longer than the waits above under load).
    const until = Date.now() + 20_000;
    while (!f.running() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    assert.equal(f.running(), true);
    const queued = pool.submit((x: number) => x, 1);
    pool.shutdown({ wait: false, cancelFutures: true });
    assert.equal(queued.cancelled(), true);
    stop.set();
    assert.equal(f.result({ timeout: 20 }), true);
    pool.shutdown({ wait: true });
    // @ts-expect-error
    assert.throws(() => pool.shutdown({ cancel_futures: true }), TypeError);
  });

  test("sleep() takes seconds only", T, () => {
    // @ts-expect-error
    assert.throws(() => sleep({ timeout: 0.01 }), TypeError);
  });

  test(
    "sleep()/sleepAsync() without the seconds is a TypeError, as time.sleep() (before: slept for ever)",
    T,
    async () => {
      const message = /takes exactly one argument, the seconds \(0 given\)/;
      // @ts-expect-error
      assert.throws(() => sleep(), { name: "TypeError", message });
      // @ts-expect-error
      await assert.rejects(sleepAsync(), { name: "TypeError", message });
    },
  );

  test("sleep(null)/sleepAsync(null) is a TypeError, as time.sleep(None) (before: slept for ever)", T, async () => {
    const message = /the seconds must be a number, not null/;
    // @ts-expect-error
    assert.throws(() => sleep(null), { name: "TypeError", message });
    // @ts-expect-error
    await assert.rejects(sleepAsync(null), { name: "TypeError", message });
  });

  test("sleep('1') is a TypeError about the seconds (not a timeout), as time.sleep('1')", T, async () => {
    const message = /^sleep(Async)?\(\): the seconds must be a number, not string$/;
    assert.throws(() => sleep("1" as unknown as number), { name: "TypeError", message });
    await assert.rejects(sleepAsync("1" as unknown as number), { name: "TypeError", message });
  });
});
