// Event's stale wake-up (issue 9, item 1): a set()'s late notify must not end a wait that began
// after that set() was seen and cleared. The race is made deterministic with a hook that pauses
// set() between its store and its notify.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Event, Thread } from "threading";

const T = { timeout: 30_000 };
const hooks = "../fixtures/sync-hooks.ts";

/** Starts a thread that sets `ev` and stops before the notify; returns once the store is done. */
function pausedSetter(ev: Event, delayMs: number): { t: Thread; go: () => void } {
  const s = new Int32Array(new SharedArrayBuffer(12));
  const t = new Thread({ target: { module: hooks, export: "setWithPause" }, args: [ev, s, delayMs] });
  t.start();
  while (Atomics.load(s, 0) === 0) Atomics.wait(s, 0, 0, 1000);
  return {
    t,
    go: () => {
      Atomics.store(s, 1, 1);
      Atomics.notify(s, 1);
    },
  };
}

test("Event.waitAsync: a late notify of a set() already seen and cleared is not a set", T, async () => {
  const ev = new Event();
  const { t, go } = pausedSetter(ev, 0);
  assert.equal(ev.isSet(), true);
  assert.equal(ev.wait(0), true);
  ev.clear();
  // The async wait is registered synchronously, before the setter's notify is released.
  const waiting = ev.waitAsync(0.3);
  go();
  t.join(); // the setter's notify has now been delivered to `waiting`
  assert.equal(await waiting, false, "the flag was never set after this wait began");
  assert.equal(ev.isSet(), false);
});

test("Event.wait: a late notify of a set() already seen and cleared is not a set", T, () => {
  const ev = new Event();
  // The setter notifies 100 ms after "go", by when this thread is asleep in wait().
  const { t, go } = pausedSetter(ev, 100);
  assert.equal(ev.wait(0), true);
  ev.clear();
  go();
  const t0 = performance.now();
  assert.equal(ev.wait(0.6), false, "the flag was never set after this wait began");
  assert.ok(performance.now() - t0 >= 550, "the wait ran to its timeout");
  t.join();
});

test("Event: set() then clear() during a wait still wakes it with true (as Python)", T, async () => {
  const ev = new Event();
  const waiting = ev.waitAsync(10);
  ev.set();
  ev.clear();
  assert.equal(await waiting, true);
  const t = new Thread({
    target: (e: Event) => {
      e.set();
      e.clear();
    },
    args: [ev],
  });
  const again = ev.waitAsync(10);
  t.start();
  t.join();
  assert.equal(await again, true);
  assert.equal(ev.isSet(), false);
});

test("Event: set() and clear() are idempotent; isSet follows the last one", T, () => {
  const ev = new Event();
  ev.clear();
  assert.equal(ev.isSet(), false);
  ev.set();
  ev.set();
  assert.equal(ev.isSet(), true);
  ev.clear();
  ev.clear();
  assert.equal(ev.isSet(), false);
  assert.equal(ev.wait(0.01), false);
});

test("Event: 20,000-round set/wait/clear ping-pong between main and a thread stays in step", T, () => {
  const ROUNDS = 20_000;
  const ping = new Event();
  const pong = new Event();
  const seen = new Int32Array(new SharedArrayBuffer(8));
  const t = new Thread({
    target: (a: Event, b: Event, r: Int32Array, n: number) => {
      for (let i = 1; i <= n; i++) {
        if (!a.wait(20)) {
          r[1] = -i; // lost step
          return;
        }
        a.clear();
        r[0] = i;
        b.set();
      }
    },
    args: [ping, pong, seen, ROUNDS],
  });
  t.start();
  for (let i = 1; i <= ROUNDS; i++) {
    ping.set();
    assert.equal(pong.wait(20), true, `round ${i}: no answer`);
    pong.clear();
    assert.equal(seen[0], i, `round ${i}: the thread answered a different round`);
  }
  t.join();
  assert.equal(seen[1], 0);
});
