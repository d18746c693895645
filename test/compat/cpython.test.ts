// CPython semantics this suite had no test for, each after the CPython test named (Lib/test/lock_tests.py,
// test_threading.py, test_concurrent_futures): what Condition.wait_for returns, a Barrier aborted and then
// reset, a Timer cancelled before it starts, a lock after a timed-out acquire, wait(FIRST_EXCEPTION) with
// cancelled and already-failed futures, as_completed with duplicates and a zero timeout, set_result twice,
// Queue.shutdown()'s transitions (test_queue), Barrier's indices, map() without iterating, String() of
// the primitives (test_repr), a Barrier of 10 parties, threading.__all__ (test__all__). docs/cpython-audit.md
// maps every CPython test to the test here that checks the same semantics.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  asCompleted,
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  Condition,
  Event,
  FIRST_EXCEPTION,
  Future,
  InvalidStateError,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  RLock,
  Semaphore,
  SharedArray,
  SharedDict,
  SharedList,
  SimpleQueue,
  Thread,
  ThreadPoolExecutor,
  TimeoutError,
  Timer,
  Value,
  wait,
} from "threading";

const T = { timeout: 60_000 };
const cells = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

test(
  "Condition.waitFor returns the predicate's last value, also a falsy one at the timeout (test_waitfor_timeout)",
  T,
  async () => {
    const c = new Condition();
    // Python's wait_for never waits when the predicate holds at once, so it needs no lock then.
    let calls = 0;
    assert.equal(
      c.waitFor(() => ++calls, 0),
      1,
    );
    assert.equal(calls, 1);
    using _ = c.hold();
    assert.equal(
      c.waitFor(() => 0, 0.02),
      0,
    );
    assert.equal(
      c.waitFor(() => "", 0),
      "",
    );
    assert.equal(await c.waitForAsync(() => null, 0.02), null);
    // A thread makes it true: the value the predicate returned then comes back.
    const state = cells(1);
    const t = new Thread({
      target: (cond: Condition, s: Int32Array) => {
        using _h = cond.hold();
        s[0] = 7;
        cond.notifyAll();
      },
      args: [c, state],
    });
    t.start();
    assert.equal(
      c.waitFor(() => state[0], 30),
      7,
    );
    t.join();
  },
);

test("Barrier: aborted in a round, then reset, it works again for everyone (test_abort_and_reset)", T, () => {
  const N = 4;
  const barrier = new Barrier(N, undefined, 30);
  const barrier2 = new Barrier(N, undefined, 30);
  // r: [passed the broken round, BrokenBarrierError, passed after the reset]
  const r = cells(3);
  const threads = Array.from(
    { length: N },
    () =>
      new Thread({
        target: (b: Barrier, b2: Barrier, res: Int32Array, n: number) => {
          try {
            const i = b.wait();
            if (i === Math.floor(n / 2)) throw new RangeError("abort it");
            b.wait();
            Atomics.add(res, 0, 1);
          } catch (e) {
            if (e instanceof BrokenBarrierError) Atomics.add(res, 1, 1);
            else b.abort();
          }
          // Everyone has left it before the reset, and nobody enters it before.
          if (b2.wait() === Math.floor(n / 2)) b.reset();
          b2.wait();
          b.wait();
          Atomics.add(res, 2, 1);
        },
        args: [barrier, barrier2, r, N],
      }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join();
  assert.deepEqual([...r], [0, N - 1, N]);
  assert.equal(barrier.broken, false);
});

test("Timer cancelled before start(): finished is set and the function never runs", T, () => {
  const ran = cells(1);
  const timer = new Timer(0.01, (c: Int32Array) => Atomics.store(c, 0, 1), [ran]);
  timer.cancel();
  assert.equal(timer.finished.isSet(), true);
  timer.start();
  timer.join(30);
  assert.equal(timer.isAlive(), false);
  assert.equal(ran[0], 0);
});

test("Lock: after a timed-out acquire it is still held, then free once released (test_state_after_timeout)", T, () => {
  const lock = new Lock();
  lock.acquire();
  assert.equal(lock.acquire(true, 0.01), false);
  assert.equal(lock.locked(), true);
  lock.release();
  assert.equal(lock.locked(), false);
  assert.equal(lock.acquire(false), true);
  lock.release();
});

test("wait(FIRST_EXCEPTION): an already failed future returns at once; cancelled ones are not exceptions", T, () => {
  using ex = new ThreadPoolExecutor({ maxWorkers: 2 });
  const gate = new Event();
  const slow = ex.submit((e: Event) => e.wait(30), gate);
  const failed = ex.submit(() => {
    throw new RangeError("x");
  });
  failed.exception(30);
  let r = wait([slow, failed], { returnWhen: FIRST_EXCEPTION, timeout: 30 });
  assert.deepEqual([r.done.has(failed), r.notDone.has(slow)], [true, true]);
  // A cancelled future is done, but not an exception: FIRST_EXCEPTION goes on waiting for the rest.
  const cancelled = new Future<number>();
  cancelled.cancel();
  r = wait([cancelled, slow], { returnWhen: FIRST_EXCEPTION, timeout: 0.05 });
  assert.deepEqual([r.done.has(cancelled), r.notDone.has(slow)], [true, true]);
  // With no exception at all it is ALL_COMPLETED.
  gate.set();
  r = wait([cancelled, slow, ex.submit(() => 1)], { returnWhen: FIRST_EXCEPTION, timeout: 30 });
  assert.equal(r.done.size, 3);
  assert.equal(r.notDone.size, 0);
});

test("asCompleted: a future given twice is yielded once; timeout 0 yields the done ones, then TimeoutError", T, () => {
  using ex = new ThreadPoolExecutor({ maxWorkers: 1 });
  const a = ex.submit(() => 1);
  const b = ex.submit(() => 2);
  a.result(30);
  b.result(30);
  assert.deepEqual([...asCompleted([a, b, a, b, a])].length, 2);
  const pending = new Future<number>();
  const seen: Future<number>[] = [];
  assert.throws(
    () => {
      for (const f of asCompleted([a, pending, b], 0)) seen.push(f);
    },
    (e: unknown) => e instanceof TimeoutError && (e as Error).message === "1 (of 3) futures unfinished",
  );
  assert.deepEqual(new Set(seen), new Set([a, b]));
});

test("Future: setResult or setException on a done future is InvalidStateError (Python 3.8+)", T, () => {
  const f = new Future<number>();
  f.setResult(1);
  // Python's message: the state, then the future (test_multiple_set_result / _set_exception).
  assert.throws(() => f.setResult(2), {
    name: "InvalidStateError",
    message: "FINISHED: <Future state=finished returned number>",
  });
  assert.throws(() => f.setException(new Error("x")), InvalidStateError);
  assert.equal(f.result(), 1);
  const e = new Future<number>();
  e.setException(new RangeError("r"));
  assert.throws(() => e.setException(new Error("x")), {
    message: "FINISHED: <Future state=finished raised RangeError>",
  });
  const g = new Future<number>();
  g.cancel();
  assert.throws(() => g.setResult(2), { name: "InvalidStateError", message: "CANCELLED: <Future state=cancelled>" });
  // set_running_or_notify_cancel(): false once for a cancelled future, then 'Future in unexpected state'
  assert.equal(g.setRunningOrNotifyCancel(), false);
  assert.throws(() => g.setRunningOrNotifyCancel(), { name: "RuntimeError", message: /Future in unexpected state/ });
  assert.equal(g.cancel(), true);
  const h = new Future<number>();
  assert.equal(h.setRunningOrNotifyCancel(), true);
  assert.throws(() => h.setRunningOrNotifyCancel(), { name: "RuntimeError", message: /Future in unexpected state/ });
  assert.equal(h.cancel(), false);
});

test(
  "every exported class keeps its name (Lock.name is 'Lock', not the bundle's _Lock); repr of a Thread",
  T,
  async () => {
    const lib = (await import("threading")) as unknown as Record<string, unknown>;
    const queue = (await import("threading/queue")) as unknown as Record<string, unknown>;
    for (const [name, value] of [...Object.entries(lib), ...Object.entries(queue)]) {
      // ThreadError is RuntimeError itself, as Python's (threading.ThreadError.__name__ == 'RuntimeError')
      if (name === "ThreadError") assert.equal(value, lib.RuntimeError);
      else if (typeof value === "function" && /^[A-Z]/.test(name)) assert.equal(value.name, name);
    }
    assert.match(String(new Thread({ name: "w" })), /^<Thread\(w, initial\)>$/);
    class Worker extends Thread {}
    assert.match(String(new Worker({ name: "v" })), /^<Worker\(v, initial\)>$/);
  },
);

test(
  "an unknown option of Thread or ThreadPoolExecutor is a TypeError naming it (Python's unexpected keyword argument)",
  T,
  () => {
    assert.throws(
      () => new Thread({ target: () => {}, deamon: true } as unknown as ConstructorParameters<typeof Thread>[0]),
      (e: unknown) => e instanceof TypeError && /unexpected option 'deamon'/.test((e as Error).message),
    );
    assert.throws(
      () =>
        new ThreadPoolExecutor({ max_workers: 2 } as unknown as ConstructorParameters<typeof ThreadPoolExecutor>[0]),
      (e: unknown) => e instanceof TypeError && /unexpected option 'max_workers'/.test((e as Error).message),
    );
  },
);

test(
  "Queue.shutdown() then shutdown(true) is allowed, and discards what is left (test_shutdown_allowed_transitions)",
  T,
  () => {
    for (const Q of [Queue, LifoQueue, PriorityQueue]) {
      const q = new Q<number>();
      q.put(1);
      q.put(2);
      assert.equal(q.isShutdown, false);
      q.shutdown();
      assert.equal(q.isShutdown, true);
      assert.equal(q.qsize(), 2, "shutdown() keeps the items");
      q.shutdown(true);
      assert.equal(q.qsize(), 0, "shutdown(true) after it discards them");
      q.join(); // the discarded items count as done
      q.shutdown(); // and again
      assert.equal(q.isShutdown, true);
    }
  },
);

test("Barrier.wait() returns each index 0..parties-1 exactly once a round (test_wait_return)", T, () => {
  const N = 4;
  const ROUNDS = 3;
  const b = new Barrier(N);
  const seen = cells(N * ROUNDS);
  const body = (b: Barrier, seen: Int32Array, n: number) => {
    for (let r = 0; r < 3; r++) Atomics.add(seen, r * n + b.wait(), 1);
  };
  const ts = Array.from({ length: N - 1 }, () => new Thread({ target: body, args: [b, seen, N] }));
  for (const t of ts) t.start();
  body(b, seen, N);
  for (const t of ts) t.join();
  assert.deepEqual([...seen], new Array(N * ROUNDS).fill(1));
});

test(
  "ThreadPoolExecutor.map() submits every call without being iterated (test_map_submits_without_iteration)",
  T,
  () => {
    const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
    const done = cells(1);
    ex.map((c: Int32Array) => Atomics.add(c, 0, 1), [done, done, done, done]);
    ex.shutdown(true);
    assert.equal(Atomics.load(done, 0), 4);
  },
);

test("constructors given more arguments than Python's take are a TypeError, not dropped unseen", T, () => {
  // Python: threading.Lock(5) "takes no arguments (1 given)", Event(1), Semaphore(1, 2), Queue(1, 2), ...
  const calls: [string, (...a: any[]) => unknown, unknown[], RegExp][] = [
    ["Lock", (...a) => new (Lock as any)(...a), [5], /^Lock\(\) takes no arguments \(1 given\)$/],
    ["RLock", (...a) => new (RLock as any)(...a), [undefined], /^RLock\(\) takes no arguments \(1 given\)$/],
    ["Event", (...a) => new (Event as any)(...a), [1], /^Event\(\) takes no arguments/],
    [
      "Condition",
      (...a) => new (Condition as any)(...a),
      [new Lock(), 1],
      /^Condition\(\) takes at most 1 argument \(2 given\)$/,
    ],
    ["Semaphore", (...a) => new (Semaphore as any)(...a), [1, 2], /^Semaphore\(\) takes at most 1 argument/],
    [
      "BoundedSemaphore",
      (...a) => new (BoundedSemaphore as any)(...a),
      [1, 2],
      /^BoundedSemaphore\(\) takes at most 1/,
    ],
    [
      "Barrier",
      (...a) => new (Barrier as any)(...a),
      [1, null, 1, [], 5],
      /^Barrier\(\) takes at most 4 arguments \(5 given\)$/,
    ],
    ["Queue", (...a) => new (Queue as any)(...a), [1, 2], /^Queue\(\) takes at most 1 argument/],
    ["LifoQueue", (...a) => new (LifoQueue as any)(...a), [1, 2], /^LifoQueue\(\) takes at most 1 argument/],
    ["PriorityQueue", (...a) => new (PriorityQueue as any)(...a), [1, 2], /^PriorityQueue\(\) takes at most 1/],
    ["SimpleQueue", (...a) => new (SimpleQueue as any)(...a), [5], /^SimpleQueue\(\) takes no arguments/],
    ["Future", (...a) => new (Future as any)(...a), [1], /^Future\(\) takes no arguments/],
    ["Thread", (...a) => new (Thread as any)(...a), [{}, 1], /^Thread\(\) takes at most 1 argument \(2 given\)$/],
    ["Timer", (...a) => new (Timer as any)(...a), [1, () => {}, [], {}], /^Timer\(\) takes at most 3 arguments/],
    ["Value", (...a) => new (Value as any)(...a), ["i", 0, {}, 1], /^Value\(\) takes at most 3 arguments/],
    ["SharedArray", (...a) => new (SharedArray as any)(...a), ["i", 2, {}, 1], /^SharedArray\(\) takes at most 3/],
    ["SharedDict", (...a) => new (SharedDict as any)(...a), [[], 1], /^SharedDict\(\) takes at most 1 argument/],
    ["SharedList", (...a) => new (SharedList as any)(...a), [[], 1], /^SharedList\(\) takes at most 1 argument/],
  ];
  for (const [name, make, args, message] of calls) {
    assert.throws(() => make(...args), { name: "TypeError", message }, name);
    make(...args.slice(0, -1)); // one fewer: accepted
  }
  // A subclass that takes arguments of its own and passes none (or the allowed ones) on is fine.
  class Named extends Lock {
    constructor(readonly label: string) {
      super();
    }
  }
  assert.equal(new Named("x").label, "x");
  class Sized extends Queue<number> {
    constructor(_a: number, _b: number) {
      super(3);
    }
  }
  assert.equal(new Sized(1, 2).maxsize, 3);
  const t = new Thread();
  assert.equal(t.isAlive(), false);
});

test(
  "String() of each primitive: its state as Python's repr shows it, without an address (lock_tests' test_repr)",
  T,
  () => {
    const lock = new Lock();
    assert.equal(String(lock), "[object Lock unlocked]");
    lock.acquire();
    assert.equal(String(lock), "[object Lock locked]");
    const e = new Event();
    assert.equal(String(e), "[object Event unset]");
    e.set();
    assert.equal(String(e), "[object Event set]");
    const s = new Semaphore(3);
    assert.equal(String(s), "[object Semaphore value=3]");
    s.acquire();
    assert.equal(String(s), "[object Semaphore value=2]");
    const b = new BoundedSemaphore(3);
    assert.equal(String(b), "[object BoundedSemaphore value=3/3]");
    b.acquire();
    assert.equal(String(b), "[object BoundedSemaphore value=2/3]");
    const barrier = new Barrier(3);
    assert.equal(String(barrier), "[object Barrier waiters=0/3]");
    barrier.abort();
    assert.equal(String(barrier), "[object Barrier broken]");
    assert.equal(String(new Condition(new Lock())), "[object Condition(Lock unlocked)]");
  },
);

// The wait's timeout is generous: the first thread waits while the other nine start, one by one, on a
// loaded machine.
test("Barrier of 10 parties: 10 threads pass 3 rounds together (test_barrier_10)", { timeout: 300_000 }, () => {
  const N = 10;
  const b = new Barrier(N);
  // per round: how many arrived before the release, seen by each thread after it
  const log = cells(1 + 3 * N);
  const threads = Array.from(
    { length: N },
    (_, i) =>
      new Thread({
        target: (b: Barrier, log: Int32Array, i: number, n: number) => {
          for (let r = 0; r < 3; r++) {
            Atomics.add(log, 0, 1);
            b.wait(120);
            log[1 + r * n + i] = Atomics.load(log, 0); // everyone of this round had arrived
            b.wait(120);
          }
        },
        args: [b, log, i, N],
      }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join();
  for (let r = 0; r < 3; r++) {
    for (let i = 0; i < N; i++) assert.ok((log[1 + r * N + i] as number) >= (r + 1) * N, `round ${r}, thread ${i}`);
  }
  assert.equal(b.broken, false);
  assert.equal(b.nWaiting, 0);
});

test(
  "every name of threading.__all__, queue.__all__ and concurrent.futures.__all__ is exported, camelCased, or is deliberately absent (test__all__)",
  T,
  async () => {
    const lib = (await import("threading")) as unknown as Record<string, unknown>;
    const queue = (await import("threading/queue")) as unknown as Record<string, unknown>;
    // python3.11 -c "import threading, queue, concurrent.futures as f; print(threading.__all__, queue.__all__, f.__all__)"
    const threadingAll = [
      "get_ident",
      "active_count",
      "Condition",
      "current_thread",
      "enumerate",
      "main_thread",
      "TIMEOUT_MAX",
      "Event",
      "Lock",
      "RLock",
      "Semaphore",
      "BoundedSemaphore",
      "Thread",
      "Barrier",
      "BrokenBarrierError",
      "Timer",
      "ThreadError",
      "ExceptHookArgs",
      "setprofile",
      "settrace",
      "local",
      "stack_size",
      "excepthook",
      "get_native_id",
      "getprofile",
      "gettrace",
    ];
    const queueAll = ["Empty", "Full", "Queue", "PriorityQueue", "LifoQueue", "SimpleQueue", "ShutDown"]; // ShutDown: 3.13
    const futuresAll = [
      "FIRST_COMPLETED",
      "FIRST_EXCEPTION",
      "ALL_COMPLETED",
      "CancelledError",
      "TimeoutError",
      "BrokenExecutor",
      "Future",
      "Executor",
      "wait",
      "as_completed",
      "ProcessPoolExecutor",
      "ThreadPoolExecutor",
    ];
    const absent: Record<string, string> = {
      ExceptHookArgs: "a TypeScript type (the excepthook's argument), not a value",
      setprofile: "no profiling hooks in JavaScript",
      getprofile: "no profiling hooks in JavaScript",
      settrace: "no tracing hooks in JavaScript",
      gettrace: "no tracing hooks in JavaScript",
      stack_size: "a thread's stack is resourceLimits.stackSizeMb or --stack-size",
      Executor: "the abstract base is not exported (ThreadPoolExecutor and RedisExecutor share it)",
      ProcessPoolExecutor: "not part of the API: threads only",
    };
    const camel = (n: string) => n.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    const missing: string[] = [];
    for (const name of [...threadingAll, ...futuresAll]) {
      if (!(name in absent) && !(camel(name) in lib)) missing.push(name);
    }
    for (const name of queueAll) {
      if (!(name in queue) || !(name in lib)) missing.push(`queue.${name}`);
    }
    assert.deepEqual(missing, []);
    for (const name of Object.keys(absent))
      assert.equal(camel(name) in lib, false, `${name} is now exported: drop it from absent`);
    assert.equal(lib.ThreadError, lib.RuntimeError);
  },
);
