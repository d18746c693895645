// The timed-wait contract, one suite run against every kind of wait (issue 12, item 6): Event.wait,
// Condition.waitFor, Semaphore(0).acquire, Barrier(2).wait and Thread.join, each in its blocking
// and its async form (the queues' get/put: test/queue/engines.test.ts). A wait with a timeout
// ends after at least the timeout with "not done"; timeout 0 answers at once; a wait is ended by
// another thread's signal; a negative or NaN timeout is a RangeError (a rejection for the async
// form).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Barrier, BrokenBarrierError, Condition, Event, Semaphore, Thread } from "threading";

const T = { timeout: 60_000 };

type Mode = "blocking" | "async";

interface Waitable {
  /** Waits in the form of `mode` for `timeout` seconds; true when it was signalled. */
  wait(mode: Mode, timeout?: number): boolean | Promise<boolean>;
  /** A target and its args that signal this wait from another thread. */
  signal: [(...args: never[]) => void, unknown[]];
}

const kinds: [string, () => Waitable][] = [
  [
    "Event.wait",
    () => {
      const e = new Event();
      return {
        wait: (mode, t) => (mode === "blocking" ? e.wait(t) : e.waitAsync(t)),
        signal: [(ev: Event) => ev.set(), [e]],
      };
    },
  ],
  [
    "Condition.waitFor",
    () => {
      const c = new Condition();
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const ready = () => Atomics.load(flag, 0) === 1;
      return {
        wait: async (mode, t) => {
          if (mode === "blocking") {
            c.acquire();
            try {
              return c.waitFor(ready, t);
            } finally {
              c.release();
            }
          }
          await c.acquireAsync();
          try {
            return await c.waitForAsync(ready, t);
          } finally {
            c.release();
          }
        },
        signal: [
          (cond: Condition, f: Int32Array) => {
            cond.acquire();
            Atomics.store(f, 0, 1);
            cond.notifyAll();
            cond.release();
          },
          [c, flag],
        ],
      };
    },
  ],
  [
    "Semaphore(0).acquire",
    () => {
      const s = new Semaphore(0);
      return {
        wait: (mode, t) => (mode === "blocking" ? s.acquire(true, t) : s.acquireAsync(t)),
        signal: [(sem: Semaphore) => sem.release(), [s]],
      };
    },
  ],
  [
    "Barrier(2).wait",
    () => {
      const b = new Barrier(2);
      const ok = (run: () => unknown) => {
        try {
          run();
          return true;
        } catch (e) {
          if (e instanceof BrokenBarrierError) return false;
          throw e;
        }
      };
      return {
        wait: async (mode, t) =>
          mode === "blocking"
            ? ok(() => b.wait(t))
            : b.waitAsync(t).then(
                () => true,
                (e) => {
                  if (e instanceof BrokenBarrierError) return false;
                  throw e;
                },
              ),
        signal: [(bar: Barrier) => void bar.wait(30), [b]],
      };
    },
  ],
  [
    "Thread.join",
    () => {
      const go = new Event();
      const t = new Thread({ target: (g: Event) => void g.wait(60), args: [go] });
      t.start();
      return {
        wait: async (mode, timeout) => {
          if (mode === "blocking") t.join(timeout);
          else await t.joinAsync(timeout);
          return !t.isAlive();
        },
        signal: [(g: Event) => g.set(), [go]],
      };
    },
  ],
];

/** Lets the thread of a Thread.join waitable end (the other kinds leave nothing running). */
function end(name: string, w: Waitable): void {
  if (name !== "Thread.join") return;
  const [target, args] = w.signal;
  const t = new Thread({ target, args });
  t.start();
  t.join();
}

for (const [name, make] of kinds) {
  for (const mode of ["blocking", "async"] as Mode[]) {
    const title = `${name}, ${mode}`;

    test(`${title}: a timeout passes with "not done", after at least the timeout; 0 answers at once`, T, async () => {
      const w = make();
      const t0 = performance.now();
      assert.equal(await w.wait(mode, 0.05), false);
      assert.ok(performance.now() - t0 >= 45, "it waited the timeout");
      if (name !== "Barrier(2).wait") assert.equal(await w.wait(mode, 0), false); // (a timed-out barrier is broken)
      end(name, w);
    });

    test(`${title}: another thread's signal ends the wait`, T, async () => {
      const w = make();
      const [target, args] = w.signal;
      const signaller = new Thread({
        target: (fn: string, a: unknown[]) => {
          sleep(0.05);
          // (the signal, compiled here from its source)
          new Function(`return (${fn})`)()(...a);
        },
        args: [target.toString(), args],
      });
      const t0 = performance.now();
      signaller.start();
      assert.equal(await w.wait(mode, 30), true);
      assert.ok(performance.now() - t0 < 29_000);
      signaller.join();
    });

    test(`${title}: a negative or NaN timeout is a RangeError`, T, async () => {
      const w = make();
      for (const bad of [-5, Number.NaN]) {
        await assert.rejects(async () => w.wait(mode, bad), RangeError);
      }
      end(name, w);
    });
  }
}
