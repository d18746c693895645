// Timer (src/threads/timer.ts), after CPython's threading.Timer and test_threading.TimerTests: it
// fires after its interval unless cancelled, from any thread; a subclass may override run() (the
// RepeatTimer idiom); in its own thread currentThread() is the Timer itself.
import assert from "node:assert/strict";
import { test } from "node:test";
import { currentThread, Event, getIdent, Thread, Timer } from "threading";

const T = { timeout: 30_000 };

test("Timer fires after its interval; cancel() before it fires stops it", T, () => {
  const cell = new Int32Array(new SharedArrayBuffer(8));
  const fired = new Timer(0.1, (c: Int32Array) => Atomics.add(c, 0, 1), [cell]);
  const cancelled = new Timer(0.3, (c: Int32Array) => Atomics.add(c, 1, 1), [cell]);
  const started = performance.now();
  fired.start();
  cancelled.start();
  cancelled.cancel();
  fired.join();
  cancelled.join();
  assert.ok(performance.now() - started >= 95);
  assert.deepEqual([...cell], [1, 0]);
  fired.cancel(); // harmless after it fired
  assert.equal(fired.finished.isSet(), true);
});

test(
  "a Timer passed to another thread can be cancelled there (its handle has cancel(), finished, interval, args)",
  T,
  () => {
    // Python code cancels a Timer from whichever thread decides to; the handle had only Thread's members.
    const cell = new Int32Array(new SharedArrayBuffer(8));
    const timer = new Timer(30, (c: Int32Array) => Atomics.add(c, 0, 1), [cell]);
    timer.start();
    const t = new Thread({
      target: (tm: Timer, c: Int32Array) => {
        c[1] = tm.interval === 30 && (tm.args as unknown[]).length === 1 && !tm.finished.isSet() ? 1 : 2;
        tm.cancel();
      },
      args: [timer, cell],
    });
    t.start();
    t.join();
    timer.join(20);
    assert.equal(timer.isAlive(), false, "cancelled by the other thread, it ended at once");
    assert.deepEqual([...cell], [0, 1]);
    assert.equal(timer.finished.isSet(), true);
  },
);

test("Timer: default args are not shared between timers (CPython's test_init_immutable_default_args)", T, () => {
  const a = new Timer(1, () => {});
  const b = new Timer(1, () => {});
  assert.deepEqual(a.args, []);
  assert.notEqual(a.args, b.args);
  // args=None is Python's default: null means no arguments (it was "args must be an array").
  const c = new Timer(1, () => {}, null as never);
  assert.deepEqual(c.args, []);
  assert.notEqual(c.args, a.args);
  assert.throws(() => new Timer(1, () => {}, 5 as never), {
    name: "TypeError",
    message: "Timer(interval, fn, args): args must be an array",
  });
});

test("Timer: interval and function are required, as Python's; errors name the interval", T, () => {
  const Untyped = Timer as unknown as new (...a: unknown[]) => Timer;
  assert.throws(() => new Untyped(), {
    name: "TypeError",
    message: "Timer() missing 2 required arguments: 'interval' and 'function'",
  });
  assert.throws(() => new Untyped(1), {
    name: "TypeError",
    message: "Timer() missing 1 required argument: 'function'",
  });
  // (they said "timeout", which a Timer does not take)
  assert.throws(() => new Untyped("1", () => {}), {
    name: "TypeError",
    message: "Timer(interval): interval must be a number of seconds, not string",
  });
  assert.throws(() => new Timer(Number.NaN, () => {}), {
    name: "RangeError",
    message: "Timer(interval): Invalid value NaN (not a number) for the interval",
  });
  assert.throws(() => new Timer(-1, () => {}), {
    name: "RangeError",
    message: "Timer(interval): 'interval' must be a non-negative number of seconds, not -1",
  });
});

test("Timer subclass overriding run(): this.finished, interval, function and args work in the thread", T, () => {
  // Python's RepeatTimer: `while not self.finished.wait(self.interval): self.function(*self.args)`.
  // The thread rebuilt the Timer without its constructor, and its state was private fields it lacked.
  class RepeatTimer extends Timer<[Int32Array, Event]> {
    override run(): void {
      while (!this.finished.wait(this.interval)) (this.function as (...a: unknown[]) => void)(...this.args);
    }
  }
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const thrice = new Event();
  const timer = new RepeatTimer(
    0.01,
    (c: Int32Array, e: Event) => {
      if (Atomics.add(c, 0, 1) === 2) e.set();
    },
    [cell, thrice],
  );
  timer.start();
  assert.equal(thrice.wait(20), true, "the function ran three times");
  timer.cancel();
  timer.join(20);
  assert.equal(timer.isAlive(), false, "cancel() ended the loop");
  assert.ok(Atomics.load(cell, 0) >= 3);
});

test("Timer: in its own thread currentThread() is the Timer, and it can cancel itself", T, () => {
  const cell = new Int32Array(new SharedArrayBuffer(8));
  const timer = new Timer(
    0,
    (c: Int32Array) => {
      const self = currentThread();
      if (self instanceof Timer && self.interval === 0 && self.args[0] === c && !self.finished.isSet()) c[0] = 1;
      self.cancel();
      c[1] = self.finished.isSet() ? 1 : 2;
    },
    [cell],
  );
  timer.start();
  timer.join();
  assert.deepEqual([...cell], [1, 1]);
  assert.equal(timer.finished.isSet(), true);
});

test("Timer: a module target as its function fires in the thread", T, () => {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const timer = new Timer(0, { module: "../fixtures/work.ts", export: "double" }, [cell, 21]);
  timer.start();
  timer.join();
  assert.equal(cell[0], 42);
  assert.equal(timer.finished.isSet(), true);
});

test("Timer.run() called directly runs the function in the calling thread, as Python's", T, () => {
  const cell = new Int32Array(new SharedArrayBuffer(8));
  const timer = new Timer(0, (c: Int32Array) => Atomics.store(c, 0, getIdent()), [cell]);
  timer.run();
  assert.equal(cell[0], getIdent());
  assert.equal(timer.finished.isSet(), true);
  const cancelled = new Timer(0, (c: Int32Array) => Atomics.store(c, 1, 1), [cell]);
  cancelled.cancel();
  cancelled.run();
  assert.equal(cell[1], 0, "a cancelled Timer's run() calls nothing");
});
