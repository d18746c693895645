// An async call of a primitive followed, in the same thread and the same turn, by a blocking call
// of the same primitive: `sem.acquireAsync(); sem.release();`, `b.waitAsync(); b.abort();`.
// Semaphore and Barrier take their internal lock (a Condition's) in the async call; when the lock
// freed up between the call's non-blocking try and its acquireAsync(), that acquireAsync() took it
// synchronously but answered with a promise, so the call went on only after a microtask turn, and
// the thread's own blocking call waited for ever for the lock its own pending continuation held
// (before the fix, each test hung within its first few hundred rounds, 3 runs of 3 on Node 20).
// Other threads keep the internal lock busy, so that it is often freed just then. The loop runs
// in a daemon thread, so that a hang fails the join below with the hang report, not the file (the
// threads that keep the lock busy are daemons too: after a hang they wait for it for ever).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Barrier, dumpThreads, Event, Semaphore, Thread } from "threading";

const T = { timeout: 240_000 };
const ROUNDS = 5000;
/** A loop that completes no round for this long has hung (seconds). */
const STALL_S = 20;

/**
 * Runs the loop `target` in a daemon thread (its last argument counts the rounds done); fails with
 * the hang report once STALL_S seconds pass without a round done. By progress, not by a total
 * time: on Bun every thread is a new worker, and the 200 rounds of three threads of the last test
 * took 18 s there on an idle machine, more than 30 s under load.
 */
function runOwnThread(target: (...args: never[]) => unknown, args: unknown[]): number {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const t = new Thread({ target, args: [...args, done], daemon: true });
  t.start();
  let seen = -1;
  while (t.isAlive() && Atomics.load(done, 0) !== seen) {
    seen = Atomics.load(done, 0);
    t.join(STALL_S);
  }
  assert.equal(t.isAlive(), false, `the loop hung after ${Atomics.load(done, 0)} rounds:\n${dumpThreads()}`);
  return Atomics.load(done, 0);
}

test("Semaphore: acquireAsync() then release() in one turn never waits for the thread's own pending call", T, () => {
  const sem = new Semaphore(0);
  const stop = new Event();
  // Slow-path acquires with a tiny timeout: each takes the internal lock and frees it again.
  const busy = [0, 1].map(
    () =>
      new Thread({
        target: (sem: Semaphore, stop: Event) => {
          while (!stop.isSet()) if (sem.acquire(true, 0.00001)) sem.release();
        },
        args: [sem, stop],
        daemon: true,
      }),
  );
  for (const t of busy) t.start();
  try {
    const rounds = runOwnThread(
      async (sem: Semaphore, rounds: number, done: Int32Array) => {
        for (let i = 0; i < rounds; i++) {
          const got = sem.acquireAsync();
          sem.release();
          await got;
          Atomics.add(done, 0, 1);
        }
      },
      [sem, ROUNDS],
    );
    assert.equal(rounds, ROUNDS);
  } finally {
    stop.set();
    for (const t of busy) t.join(5);
  }
  assert.equal(sem.acquire(false), false, "every unit released was taken once");
});

test("Barrier: waitAsync() then abort() in one turn never waits for the thread's own pending call", T, () => {
  const b = new Barrier(2);
  const stop = new Event();
  const busy = new Thread({
    target: (b: Barrier, stop: Event) => {
      while (!stop.isSet()) b.abort(); // takes the internal lock and frees it (a reset() could refill a round)
    },
    args: [b, stop],
    daemon: true,
  });
  busy.start();
  try {
    const rounds = runOwnThread(
      async (b: Barrier, rounds: number, done: Int32Array) => {
        for (let i = 0; i < rounds; i++) {
          const waited = b.waitAsync().then(
            () => "passed",
            (e: Error) => e.name,
          );
          b.abort();
          // Broken before any other party came, and never repaired: the wait is broken.
          if ((await waited) !== "BrokenBarrierError") throw new Error(`round ${i}: ${await waited}`);
          Atomics.add(done, 0, 1);
        }
      },
      [b, ROUNDS],
    );
    assert.equal(rounds, ROUNDS);
  } finally {
    stop.set();
    busy.join(5);
  }
});

test("Barrier: a waitAsync() whose round completes before it sleeps, then abort() in the same turn", T, () => {
  // The last party's blocking wait() can complete the round between this waitAsync()'s release of
  // the lock and its sleep. The nested Condition.waitForAsync() then took the lock back at once but
  // answered with a promise (and so did its Lock's async re-acquire): waitAsync() returned with the
  // lock held for its continuation, and the abort() right after waited for ever (hung within ~20
  // rounds on Node 24). Now the Condition's steps are driven by the barrier's own driver.
  const rounds = runOwnThread(
    async (rounds: number, done: Int32Array) => {
      for (let r = 0; r < rounds; r++) {
        const b = new Barrier(4);
        const waiters = [0, 1, 2].map(
          () =>
            new Thread({
              target: (b: Barrier) => {
                try {
                  b.wait();
                } catch {}
              },
              args: [b],
            }),
        );
        for (const t of waiters) t.start();
        const waited = b.waitAsync().then(
          (i: number) => i,
          () => -1,
        );
        b.abort();
        await waited;
        for (const t of waiters) t.join();
        Atomics.add(done, 0, 1);
      }
    },
    [200],
  );
  assert.equal(rounds, 200);
});
