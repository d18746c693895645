// A thread killed (out of memory under resourceLimits) while it holds the internal lock of a
// primitive: the Barrier's (in its action, or at a hook inside wait()/reset()). The other parties,
// blocking and async, with and without timeouts, must not hang: the barrier breaks for all of them
// with a BrokenBarrierError that says a thread died, and reset() repairs it. The Semaphore's (in a
// release's notify, or in a slow-path acquire): the waiters get the units, and the waiters count is
// repaired.
// Node only: kills threads by running them out of memory under resourceLimits, which Bun and Deno refuse (README, Runtimes and flags); scripts/run-tests-on.mjs does not run this file there.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Barrier, BrokenBarrierError, Event, Semaphore, Thread, sleep, sleepAsync } from "threading";
import { readWaits } from "../../dist/internal.js";

const T = { timeout: 60_000 };
const hooks = "../fixtures/sync-hooks.ts";
const cells = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

/** Waits (bounded) until `b` counts `n` waiting. */
function untilWaiting(b: Barrier, n: number): void {
  const end = performance.now() + 20_000;
  while (b.nWaiting < n && performance.now() < end) sleep(0.005);
  assert.equal(b.nWaiting, n, `${n} waiting`);
}

/**
 * untilWaiting() for a test whose main thread has a waitAsync() pending: it polls with the event
 * loop turning, as that waitAsync may still need it to arrive (it takes the barrier's lock
 * synchronously only when free; a thread arriving, or re-taking the lock between its sleep slices,
 * makes it take the lock async).
 */
async function untilWaitingAsync(b: Barrier, n: number): Promise<void> {
  const end = performance.now() + 20_000;
  while (b.nWaiting < n && performance.now() < end) await sleepAsync(0.005);
  assert.equal(b.nWaiting, n, `${n} waiting`);
}

/** A thread that waits on `b` (with `timeout`, seconds, or none) and records how: out[i] = 1 broken, 2 passed, 3 other. */
function waiter(b: Barrier, out: Int32Array, i: number, timeout?: number): Thread {
  const t = new Thread({
    target: (bar: Barrier, o: Int32Array, k: number, t: number | undefined, m: Int32Array) => {
      try {
        bar.wait(t);
        Atomics.store(o, k, 2);
      } catch (e) {
        Atomics.store(o, k, (e as Error).name === "BrokenBarrierError" ? 1 : 3);
        if ((e as Error).message.includes("died")) Atomics.store(m, k, 1);
      }
    },
    args: [b, out, i, timeout, messages],
  });
  t.start();
  return t;
}
/** messages[i] = 1 when waiter i's error said a thread died. */
const messages = cells(8);

/**
 * A repaired barrier passes a round (main and parties - 1 threads). Main waits async: it may
 * complete the round, and a module action may still be loading in main (a blocking wait() there
 * would be a RuntimeError, action.ts).
 */
async function passesAgain(b: Barrier): Promise<void> {
  assert.equal(b.nWaiting, 0);
  const us = Array.from(
    { length: b.parties - 1 },
    () => new Thread({ target: (bar: Barrier) => bar.wait(10), args: [b] }),
  );
  for (const u of us) u.start();
  const idx = await b.waitAsync(10);
  for (const u of us) u.join();
  assert.ok(idx >= 0 && idx < b.parties);
  assert.equal(b.broken, false);
  assert.equal(b.nWaiting, 0);
}

test("Barrier: a thread killed in the action breaks the barrier for blocking and async waiters", T, async () => {
  messages.fill(0);
  const s = cells(1);
  const b = new Barrier(4, { module: hooks, export: "actionDiesInVictim" }, null, [s]);
  const out = cells(2);
  const mine = b.waitAsync();
  const w0 = waiter(b, out, 0);
  const w1 = waiter(b, out, 1, 60);
  untilWaiting(b, 3);
  const victim = new Thread({
    name: "victim",
    target: (bar: Barrier) => bar.wait(),
    args: [b],
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  });
  victim.start();
  victim.join();
  assert.equal(Atomics.load(s, 0), 1, "the action ran in the victim");
  const err = await mine.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof BrokenBarrierError, `main's waitAsync: ${err}`);
  assert.match((err as Error).message, /thread \d+ died running the barrier's action/);
  w0.join();
  w1.join();
  assert.deepEqual([...out], [1, 1], "both blocking waiters got BrokenBarrierError");
  assert.deepEqual([...messages.slice(0, 2)], [1, 1], "saying a thread died");
  assert.equal(b.broken, true);
  assert.throws(() => b.wait(5), /died running the barrier's action/);
  b.reset();
  assert.equal(b.broken, false);
  // (the action returns in threads other than the victim)
  await passesAgain(b);
});

test(
  "Barrier: a thread killed in the action wakes blocking waiters that sleep with no async one inside",
  T,
  async () => {
    messages.fill(0);
    const s = cells(1);
    const b = new Barrier(3, { module: hooks, export: "actionDiesInVictim" }, null, [s]);
    const out = cells(2);
    const w0 = waiter(b, out, 0);
    const w1 = waiter(b, out, 1);
    untilWaiting(b, 2);
    const victim = new Thread({
      name: "victim",
      target: (bar: Barrier) => bar.wait(),
      args: [b],
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    victim.start();
    victim.join();
    assert.equal(Atomics.load(s, 0), 1);
    w0.join();
    w1.join();
    assert.deepEqual([...out], [1, 1]);
    // A wait() arriving now does not hang on the lock either.
    assert.throws(() => b.wait(), BrokenBarrierError);
    b.reset();
    await passesAgain(b);
  },
);

/** Runs `op` on `b` in a thread killed at `point` with the barrier's lock held; returns once it is dead. */
function killInside(b: Barrier, op: string, point: string): void {
  const s = cells(1);
  const t = new Thread({
    target: { module: hooks, export: "dieInBarrier" },
    args: [b, op, point, s],
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  });
  t.start();
  t.join();
  assert.equal(t.isAlive(), false);
  assert.equal(Atomics.load(s, 0), 1, `the thread reached ${point}`);
}

test("Barrier: killed after counting its arrival, before recording it: the count is repaired", T, async () => {
  const b = new Barrier(3);
  const out = cells(1);
  const w = waiter(b, out, 0);
  untilWaiting(b, 1);
  killInside(b, "wait", "arrive");
  // The waiter inside and a wait arriving later both end, broken.
  w.join();
  assert.equal(out[0], 1);
  await assert.rejects(b.waitAsync(), /died inside a call of this barrier/);
  // reset() finds the right count (1 too many left it RESETTING for ever, hanging every wait).
  b.reset();
  await passesAgain(b);
});

test("Barrier: killed leaving a drained round: the next round's waiters do not hang", T, async () => {
  const b = new Barrier(2);
  const out = cells(2);
  const w = waiter(b, out, 0);
  untilWaiting(b, 1);
  killInside(b, "wait", "exit");
  w.join();
  // w left the round before or after the victim died in its exit: passed or broken, never hung.
  assert.ok(out[0] === 1 || out[0] === 2, `waiter: ${out[0]}`);
  assert.throws(() => b.wait(), BrokenBarrierError);
  b.reset();
  await passesAgain(b);
});

test("Barrier: killed inside reset(): waiters and later calls go on", T, async () => {
  const b = new Barrier(3);
  const out = cells(1);
  const w = waiter(b, out, 0, 60);
  const mine = b.waitAsync(60);
  // (a blocking untilWaiting here hung for its 20 s, '2 waiting', when `w` held the lock as `mine` came)
  await untilWaitingAsync(b, 2);
  killInside(b, "reset", "reset");
  await assert.rejects(mine, BrokenBarrierError);
  w.join();
  assert.equal(out[0], 1);
  b.abort();
  assert.throws(() => b.wait(), /the barrier is broken$/);
  b.reset();
  await passesAgain(b);
});

/** Runs `op` on `sem` in a thread killed at `point` with the semaphore's lock held; returns once it is dead. */
function killInSemaphore(sem: Semaphore, op: string, point: string): void {
  const s = cells(1);
  const t = new Thread({
    target: { module: hooks, export: "dieInSemaphore" },
    args: [sem, op, point, s],
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  });
  t.start();
  t.join();
  assert.equal(Atomics.load(s, 0), 1, `the thread reached ${point}`);
}

/** The semaphore's words: [VALUE (sign bit: WAITING), WAITERS, BOUND]. */
function words(sem: Semaphore): Int32Array {
  const f = (sem as unknown as { [k: symbol]: () => { buffers: SharedArrayBuffer[] } })[Symbol.for("threading.share")];
  return new Int32Array(f.call(sem).buffers[0] as SharedArrayBuffer);
}

function untilWaiters(sem: Semaphore, n: number): void {
  const end = performance.now() + 20_000;
  while (Atomics.load(words(sem), 1) < n && performance.now() < end) sleep(0.005);
  assert.equal(Atomics.load(words(sem), 1), n, `${n} waiters`);
}

/** untilWaiters() for a test whose main thread has an acquireAsync() pending (see untilWaitingAsync). */
async function untilWaitersAsync(sem: Semaphore, n: number): Promise<void> {
  const end = performance.now() + 20_000;
  while (Atomics.load(words(sem), 1) < n && performance.now() < end) await sleepAsync(0.005);
  assert.equal(Atomics.load(words(sem), 1), n, `${n} waiters`);
}

/** A thread that acquires `sem` (no timeout) and sets out[i] = 1 once it has. */
function acquirer(sem: Semaphore, out: Int32Array, i: number): Thread {
  const t = new Thread({
    target: (sm: Semaphore, o: Int32Array, k: number) => {
      sm.acquire();
      Atomics.store(o, k, 1);
    },
    args: [sem, out, i],
  });
  t.start();
  return t;
}

test("Semaphore: a release killed in its notify (lock held): its unit reaches the waiter asleep", T, () => {
  // Nobody else calls the semaphore: the waiter, asleep with no timeout, must notice the unit.
  const sem = new Semaphore(0);
  const out = cells(1);
  const w = acquirer(sem, out, 0);
  untilWaiters(sem, 1);
  killInSemaphore(sem, "release", "notify");
  w.join(20);
  assert.equal(w.isAlive(), false, "the waiter got the unit");
  assert.equal(out[0], 1);
  assert.deepEqual([...words(sem)], [0, 0, -1], "no unit left, no waiter counted, WAITING clear");
});

test("Semaphore: a release killed in its notify: blocking and async waiters and later releases go on", T, async () => {
  const sem = new Semaphore(0);
  const out = cells(1);
  const w = acquirer(sem, out, 0);
  const mine = sem.acquireAsync();
  await untilWaitersAsync(sem, 2);
  killInSemaphore(sem, "release", "notify");
  // A release now takes the lock over (it hung on it before), and both waiters get a unit.
  sem.release();
  assert.equal(await mine, true);
  w.join(20);
  assert.equal(w.isAlive(), false);
  assert.deepEqual([...words(sem)], [0, 0, -1]);
  sem.release();
  assert.equal(sem.acquire(false), true);
});

test("Semaphore: an acquire killed after registering (lock held): the count is repaired", T, async () => {
  const sem = new Semaphore(0);
  killInSemaphore(sem, "acquire", "registered");
  assert.equal(Atomics.load(words(sem), 1), 1, "the dead waiter is counted");
  // The release finds WAITING and takes the lock over; the dead waiter's registration goes.
  sem.release();
  assert.deepEqual([...words(sem)], [1, 0, -1], "the unit is free, WAITING clear");
  assert.equal(sem.acquire(false), true);
  const later = sem.acquireAsync(20);
  sem.release();
  assert.equal(await later, true);
});

test("Event: a set() killed between its store and its notify still ends the waits asleep then", T, async () => {
  const ev = new Event();
  const out = cells(1);
  const w = new Thread({
    target: (e: Event, o: Int32Array) => {
      if (e.wait()) Atomics.store(o, 0, 1);
    },
    args: [ev, out],
  });
  w.start();
  // Asleep: its wait record (published before it sleeps) names the Event.
  const slot = (w as unknown as { [k: symbol]: () => { meta: { slot: number } } })[Symbol.for("threading.share")]().meta
    .slot;
  const end = performance.now() + 20_000;
  while (readWaits(slot, w.ident as number).blocking?.kind !== "Event" && performance.now() < end)
    await sleepAsync(0.005);
  assert.equal(readWaits(slot, w.ident as number).blocking?.kind, "Event");
  const mine = ev.waitAsync();
  const s = cells(1);
  const victim = new Thread({
    target: { module: hooks, export: "setAndDie" },
    args: [ev, s],
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  });
  victim.start();
  victim.join();
  assert.equal(Atomics.load(s, 0), 1, "killed between the store and the notify");
  assert.equal(ev.isSet(), true);
  assert.equal(await mine, true);
  w.join(10);
  assert.equal(w.isAlive(), false, "the blocking waiter returned");
  assert.equal(out[0], 1);
});
