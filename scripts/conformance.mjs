#!/usr/bin/env node
// A short pass over every class of the public API (docs/API.md), as a user of the runtime would
// write it: plain JavaScript importing the built package by its name, no test runner, so that it
// runs the same on Node, Bun and Deno. Each case prints `ok NAME` or `FAIL NAME: error`; the run
// ends with `conformance (RUNTIME): N passed, M failed` and exits non-zero if any failed. A case
// that hangs is caught by the caller's timeout (scripts/run-examples.mjs runs this file among the
// examples, with its own timeout), and the last `case NAME` line names it.
// Usage: node scripts/conformance.mjs | bun scripts/conformance.mjs | deno run -A scripts/conformance.mjs
//        (any of them with case names to run only those)
// This file is also the module target of its own threads (`{ module: import.meta.url, ... }`), so its
// main program is guarded as API.md says: `if (currentThread() === mainThread())`.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  activeCount,
  asCompleted,
  asCompletedAsync,
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  CancelledError,
  Condition,
  currentThread,
  dumpThreads,
  Empty,
  Event,
  enumerate,
  FIRST_COMPLETED,
  Full,
  getIdent,
  LifoQueue,
  Lock,
  local,
  mainThread,
  PriorityQueue,
  Queue,
  RLock,
  RuntimeError,
  Semaphore,
  SharedArray,
  SharedDict,
  SharedList,
  ShutDown,
  SimpleQueue,
  SystemExit,
  setExcepthook,
  sleep,
  sleepAsync,
  Thread,
  ThreadPoolExecutor,
  Timer,
  TimeoutError,
  Value,
  wait,
  waitAsync,
} from "threading";

// ---- module targets: exports that threads import from this very file ----

/** Adds its arguments into a shared Value under its lock. */
export function addInto(value, n) {
  using _ = value.getLock().hold();
  value.value += n;
}

/** A pool task from a module: squares its argument. */
export function square(x) {
  return x * x;
}

/** The default export, for `{ module }` without `export`. */
export default function defaultTarget(event) {
  event.set();
}

/** A subclass that threads import from this module (`static module`) instead of evaluating its source. */
export class ModuleWorker extends Thread {
  static module = import.meta.url;
  constructor(n) {
    super();
    this.n = n;
    this.out = 0;
  }
  run() {
    this.out = helperOfThisModule(this.n);
  }
}
function helperOfThisModule(n) {
  return n * 10;
}

// ---- the cases ----

const cases = [];
const runtime =
  typeof globalThis.Bun !== "undefined" ? "bun" : typeof globalThis.Deno !== "undefined" ? "deno" : "node";
function check(name, fn) {
  cases.push({ name, fn });
}

check("Thread: function target with args, name, ident, nativeId, join", () => {
  const flag = new Event();
  const t = new Thread({ target: (e, x) => e.set() ?? x, args: [flag, 1], name: "worker-1" });
  assert.equal(t.ident, null);
  t.start();
  assert.ok(typeof t.ident === "number");
  assert.ok(typeof t.nativeId === "number");
  t.join(30);
  assert.equal(t.isAlive(), false);
  assert.equal(flag.isSet(), true);
  assert.equal(t.name, "worker-1");
  assert.throws(() => t.start(), RuntimeError);
});

check("Thread: async function target, joinAsync, startAsync", async () => {
  const out = new SharedList();
  const t = new Thread({
    target: async (list) => {
      await sleepAsync(0.01);
      list.append(currentThread().name);
    },
    args: [out],
    name: "async-one",
  });
  await t.startAsync();
  await t.joinAsync(30);
  assert.deepEqual(out.toArray(), ["async-one"]);
});

check("Thread: module target (named and default export)", () => {
  const v = new Value("i", 0);
  const threads = [1, 2, 3].map(
    (n) => new Thread({ target: { module: import.meta.url, export: "addInto" }, args: [v, n] }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join(30);
  assert.equal(v.value, 6);
  const e = new Event();
  const d = new Thread({ target: { module: new URL(import.meta.url) }, args: [e] });
  d.start();
  d.join(30);
  assert.equal(e.isSet(), true);
});

class Counter extends Thread {
  constructor(lock, n) {
    super({ name: `counter-${n}` });
    this.lock = lock;
    this.n = n;
    this.result = 0;
  }
  run() {
    for (let i = 0; i < this.n; i++) {
      using _ = this.lock.hold();
      this.result += 1;
    }
    this.sameThread = currentThread() === this;
  }
}

check("Thread: subclass overriding run(), fields copied back, currentThread() === this", () => {
  const lock = new Lock();
  const t = new Counter(lock, 50);
  t.start();
  t.join(30);
  assert.equal(t.result, 50);
  assert.equal(t.sameThread, true);
  const m = new ModuleWorker(4);
  m.start();
  m.join(30);
  assert.equal(m.out, 40);
});

check("Thread: currentThread, mainThread, enumerate, activeCount, getIdent", () => {
  assert.equal(currentThread(), mainThread());
  assert.equal(mainThread().name, "MainThread");
  assert.equal(typeof getIdent(), "number");
  const stop = new Event();
  const t = new Thread({ target: (e) => e.wait(30), args: [stop], daemon: true });
  t.start();
  assert.ok(enumerate().includes(t));
  assert.ok(activeCount() >= 2);
  stop.set();
  t.join(30);
  assert.ok(!enumerate().includes(t));
});

check("Thread: a thread that throws ends alone and reaches excepthook", async () => {
  const seen = [];
  setExcepthook((args) =>
    seen.push([args.excType, String(args.excValue?.message ?? args.excValue), args.thread?.name]),
  );
  try {
    const t = new Thread({
      target: () => {
        throw new TypeError("boom in thread");
      },
      name: "thrower",
    });
    t.start();
    t.join(30); // join does not rethrow; the hook has run when it returns in the hook's thread
    assert.deepEqual(seen, [["TypeError", "boom in thread", "thrower"]]);
    const r = new Thread({ target: async () => Promise.reject(new RangeError("rejected")), name: "rejecter" });
    r.start();
    await r.joinAsync(30);
    assert.deepEqual(seen[1], ["RangeError", "rejected", "rejecter"]);
  } finally {
    setExcepthook(null);
  }
});

check("Thread: process.exit() in a thread ends that thread only, finally blocks run", () => {
  const lock = new Lock();
  const after = new Event();
  const t = new Thread({
    target: (l, e) => {
      l.acquire();
      try {
        process.exit(3);
      } finally {
        l.release();
        e.set();
      }
    },
    args: [lock, after],
  });
  t.start();
  t.join(30);
  assert.equal(t.isAlive(), false);
  assert.equal(after.isSet(), true);
  assert.equal(lock.locked(), false);
});

check("Timer: runs after its interval; a cancelled one never runs", () => {
  const fired = new Event();
  const t = new Timer(0.02, (e) => e.set(), [fired]);
  t.start();
  t.join(30);
  assert.equal(fired.isSet(), true);
  const never = new Event();
  const c = new Timer(30, (e) => e.set(), [never]);
  c.start();
  c.cancel();
  c.join(30);
  assert.equal(never.isSet(), false);
  assert.equal(c.finished.isSet(), true);
});

check("Lock: blocking across threads, timeout, async twin, release unlocked", async () => {
  const lock = new Lock();
  const total = new Value("i", 0, { lock: false });
  const threads = Array.from(
    { length: 3 },
    () =>
      new Thread({
        target: (l, v) => {
          for (let i = 0; i < 200; i++) {
            l.acquire();
            v.value += 1;
            l.release();
          }
        },
        args: [lock, total],
      }),
  );
  for (const t of threads) t.start();
  for (let i = 0; i < 200; i++) {
    await lock.acquireAsync();
    total.value += 1;
    lock.release();
  }
  for (const t of threads) t.join(30);
  assert.equal(total.value, 800);
  lock.acquire();
  assert.equal(lock.acquire(true, 0.01), false);
  assert.equal(await lock.acquireAsync(0.01), false);
  lock.release();
  assert.throws(() => lock.release(), RuntimeError);
});

check("RLock: re-entrant, owner only, held across threads", () => {
  const r = new RLock();
  r.acquire();
  r.acquire();
  const got = new Value("i", -1);
  const t = new Thread({ target: (rl, g) => (g.value = rl.acquire(true, 0.01) ? 1 : 0), args: [r, got] });
  t.start();
  t.join(30);
  assert.equal(got.value, 0);
  r.release();
  r.release();
  assert.throws(() => r.release(), RuntimeError);
  const t2 = new Thread({
    target: (rl, g) => {
      g.value = rl.acquire(true, 5) ? 1 : 0;
      rl.release();
    },
    args: [r, got],
  });
  t2.start();
  t2.join(30);
  assert.equal(got.value, 1);
});

check("Condition: wait/notify blocking in threads, waitForAsync on main, misuse", async () => {
  const cond = new Condition();
  const items = new SharedList();
  const consumers = [0, 1].map(
    () =>
      new Thread({
        target: (c, list) => {
          using _ = c.hold();
          c.waitFor(() => list.length > 0, 30);
          list.pop();
        },
        args: [cond, items],
      }),
  );
  for (const t of consumers) t.start();
  for (let i = 0; i < 2; i++) {
    using _ = await cond.holdAsync();
    items.append(i);
    cond.notify();
  }
  for (const t of consumers) t.join(30);
  assert.equal(items.length, 0);
  const producer = new Thread({
    target: (c, list) => {
      sleep(0.01);
      using _ = c.hold();
      list.append("x");
      c.notifyAll();
    },
    args: [cond, items],
  });
  await cond.acquireAsync();
  producer.start();
  assert.equal(await cond.waitForAsync(() => items.length === 1, 30), true);
  cond.release();
  producer.join(30);
  assert.throws(() => cond.notify(), RuntimeError);
  assert.throws(() => cond.wait(0), RuntimeError);
  cond.acquire();
  assert.equal(cond.wait(0.01), false);
  cond.release();
});

check("Semaphore and BoundedSemaphore: bounded concurrency, async, too many releases", async () => {
  const sem = new Semaphore(2);
  const inside = new Value("i", 0);
  const most = new Value("i", 0);
  const threads = Array.from(
    { length: 4 },
    () =>
      new Thread({
        target: (s, now, max) => {
          using _ = s.hold();
          {
            using __ = now.getLock().hold();
            now.value += 1;
            max.value = Math.max(max.value, now.value);
          }
          sleep(0.005);
          using __ = now.getLock().hold();
          now.value -= 1;
        },
        args: [sem, inside, most],
      }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join(30);
  assert.ok(most.value >= 1 && most.value <= 2, `at most 2 inside, saw ${most.value}`);
  assert.equal(await sem.acquireAsync(1), true);
  assert.equal(sem.acquire(false), true);
  assert.equal(sem.acquire(true, 0.01), false);
  sem.release(2);
  const b = new BoundedSemaphore(1);
  assert.throws(() => b.release(), RangeError);
  assert.throws(() => new Semaphore(-1), RangeError);
});

check("Event: set in a thread wakes blocking and async waiters", async () => {
  const e = new Event();
  const woke = new Value("i", 0);
  const waiter = new Thread({ target: (ev, w) => (w.value = ev.wait(30) ? 1 : 0), args: [e, woke] });
  waiter.start();
  const setter = new Thread({
    target: (ev) => {
      sleep(0.01);
      ev.set();
    },
    args: [e],
  });
  setter.start();
  assert.equal(await e.waitAsync(30), true);
  waiter.join(30);
  setter.join(30);
  assert.equal(woke.value, 1);
  e.clear();
  assert.equal(e.wait(0.01), false);
});

check("Barrier: parties across threads and main (async), action, abort", async () => {
  const ran = new Value("i", 0);
  const barrier = new Barrier(3, (r) => (r.value += 1), undefined, [ran]);
  const indices = new SharedList();
  const threads = [0, 1].map(
    () => new Thread({ target: (b, out) => out.append(b.wait(30)), args: [barrier, indices] }),
  );
  for (const t of threads) t.start();
  indices.append(await barrier.waitAsync(30));
  for (const t of threads) t.join(30);
  assert.deepEqual(indices.toArray().sort(), [0, 1, 2]);
  assert.equal(ran.value, 1);
  assert.equal(barrier.parties, 3);
  const lone = new Thread({
    target: (b) => {
      try {
        b.wait(30);
      } catch (e) {
        return e.name;
      }
    },
    args: [barrier],
  });
  lone.start();
  while (barrier.nWaiting < 1) sleep(0.001);
  barrier.abort();
  lone.join(30);
  assert.equal(barrier.broken, true);
  assert.throws(() => barrier.wait(1), BrokenBarrierError);
  barrier.reset();
  assert.equal(barrier.broken, false);
});

check("local: each thread its own namespace, a subclass re-initialised per thread", () => {
  class Conn extends local {
    constructor(tag) {
      super(tag);
      this.tag = tag;
      this.hits = 0;
    }
  }
  const mine = new Conn("db");
  mine.hits = 5;
  const seen = new SharedList();
  const t = new Thread({
    target: (l, out) => {
      l.hits += 1;
      out.append([l.tag, l.hits]);
    },
    args: [mine, seen],
  });
  t.start();
  t.join(30);
  assert.deepEqual(seen.toArray(), [["db", 1]]);
  assert.equal(mine.hits, 5);
  assert.throws(() => new local(1), TypeError);
});

check("Queue, LifoQueue, PriorityQueue, SimpleQueue: order, bounds, across threads", async () => {
  const q = new Queue(2);
  const producer = new Thread({
    target: (qq) => {
      for (let i = 0; i < 20; i++) qq.put({ i });
      qq.put(null);
    },
    args: [q],
  });
  producer.start();
  const got = [];
  for (;;) {
    const item = got.length % 2 ? q.get(true, 30) : await q.getAsync(30);
    if (item === null) break;
    got.push(item.i);
    q.taskDone();
  }
  q.taskDone();
  q.join();
  producer.join(30);
  assert.deepEqual(
    got,
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.throws(() => q.getNowait(), Empty);
  q.putNowait(1);
  q.putNowait(2);
  assert.equal(q.full(), true);
  assert.throws(() => q.putNowait(3), Full);
  assert.throws(() => q.put(3, true, 0.01), Full);

  const lifo = new LifoQueue();
  for (const x of [1, 2, 3]) lifo.put(x);
  assert.deepEqual([lifo.get(), lifo.get(), lifo.get()], [3, 2, 1]);

  const pq = new PriorityQueue();
  for (const x of [
    [3, "c"],
    [1, "a"],
    [2, "b"],
  ])
    pq.put(x);
  assert.deepEqual([pq.get()[1], pq.get()[1], pq.get()[1]], ["a", "b", "c"]);
  pq.put(1);
  assert.throws(() => pq.put("x"), TypeError);

  const sq = new SimpleQueue();
  // A function target cannot close over the creating scope: start() refuses it, naming the variable.
  const outside = 1;
  const t = new Thread({ target: (s) => s.put(outside), args: [sq] });
  assert.throws(() => t.start(), { name: "TypeError", message: /outside/ });
  assert.equal(sq.empty(), true);
  const feeder = new Thread({ target: (s) => s.put("hi"), args: [sq] });
  feeder.start();
  assert.equal(await sq.getAsync(30), "hi");
  feeder.join(30);
  assert.equal(sq.qsize(), 0);
});

check("Queue: shutdown wakes blocked getters with ShutDown; for await drains", async () => {
  const q = new Queue();
  const caught = new SharedList();
  const getter = new Thread({
    target: (qq, out) => {
      try {
        qq.get(true, 30);
      } catch (e) {
        out.append(e.name);
      }
    },
    args: [q, caught],
  });
  getter.start();
  while (!dumpThreads().includes("Queue")) sleep(0.001);
  q.shutdown();
  getter.join(30);
  assert.deepEqual(caught.toArray(), ["ShutDown"]);
  assert.throws(() => q.put(1), ShutDown);
  const q2 = new Queue();
  for (const x of [1, 2, 3]) q2.put(x);
  q2.shutdown();
  const drained = [];
  for await (const x of q2) drained.push(x);
  assert.deepEqual(drained, [1, 2, 3]);
});

check("ThreadPoolExecutor: submit, map, asCompleted, wait, errors, shutdown", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 2, threadNamePrefix: "conf" });
  try {
    const f = pool.submit((a, b) => a + b, 2, 3);
    assert.equal(f.result(30), 5);
    assert.equal(await pool.submit(async (x) => x * 2, 21), 42);
    assert.deepEqual([...pool.map((x) => x + 1, [1, 2, 3], { timeout: 30 })], [2, 3, 4]);
    const squares = [];
    for await (const x of pool.mapAsync({ module: import.meta.url, export: "square" }, [1, 2, 3])) squares.push(x);
    assert.deepEqual(squares, [1, 4, 9]);
    const fs = [1, 2, 3].map((x) => pool.submit((y) => y, x));
    assert.deepEqual([...asCompleted(fs, 30)].map((g) => g.result()).sort(), [1, 2, 3]);
    const seen = [];
    for (let it = asCompletedAsync(fs, 30), n = await it.next(); !n.done; n = await it.next())
      seen.push(n.value.result());
    assert.deepEqual(seen.sort(), [1, 2, 3]);
    const { done, notDone } = wait(fs, { timeout: 30 });
    assert.equal(done.size, 3);
    assert.equal(notDone.size, 0);
    const first = await waitAsync([pool.submit(() => sleep(0.01))], { returnWhen: FIRST_COMPLETED, timeout: 30 });
    assert.equal(first.done.size, 1);
    const bad = pool.submit(() => {
      throw new RangeError("task failed");
    });
    assert.ok(bad.exception(30) instanceof RangeError);
    await assert.rejects(bad.resultAsync(30), RangeError);
    assert.equal(
      pool
        .submit(() => currentThread().name)
        .result(30)
        .startsWith("conf"),
      true,
      "thread name prefix",
    );
    const gate = new Event();
    const blockers = [pool.submit((g) => g.wait(30), gate), pool.submit((g) => g.wait(30), gate)];
    const queued = pool.submit(() => 1);
    assert.equal(queued.cancel(), true);
    assert.equal(queued.cancelled(), true);
    assert.throws(() => queued.result(), CancelledError);
    gate.set();
    for (const b of blockers) b.result(30);
    const slow = pool.submit(() => sleep(0.3));
    assert.throws(() => slow.result(0.01), TimeoutError);
    assert.throws(
      () =>
        pool.submit(
          () => 1,
          () => 2,
        ),
      TypeError,
    );
  } finally {
    pool.shutdown(true, { cancelFutures: true });
  }
  assert.throws(() => pool.submit(() => 1), RuntimeError);
  await using pool2 = new ThreadPoolExecutor({
    maxWorkers: 1,
    initializer: (v) => (v.value = 7),
    initargs: [new Value("i")],
  });
  assert.equal(pool2.submit(() => 1).result(30), 1);
});

check("shared state: Value, SharedArray, SharedDict, SharedList from several threads", () => {
  const counts = new SharedDict();
  const arr = new SharedArray("d", 4);
  const big = new Value("q", 0n);
  const threads = [0, 1, 2].map(
    (i) =>
      new Thread({
        target: (d, a, b, k) => {
          for (const w of ["a", "b", "a"]) d.update(w, (n) => (n ?? 0) + 1);
          a.set(k, k + 0.5);
          using _ = b.getLock().hold();
          b.value += 10n;
        },
        args: [counts, arr, big, i],
      }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join(30);
  assert.deepEqual(counts.toObject(), { a: 6, b: 3 });
  assert.deepEqual([...arr], [0.5, 1.5, 2.5, 0]);
  assert.equal(big.value, 30n);
  assert.throws(() => counts.set("f", () => 1), TypeError);
  const list = new SharedList([1, 2]);
  list.extend([3]);
  assert.equal(list.pop(), 3);
  assert.throws(() => new SharedList().pop(), RangeError);
});

check("dumpThreads: names every thread and what it waits on", () => {
  const lock = new Lock();
  lock.acquire();
  const t = new Thread({ target: (l) => l.acquire(true, 30), args: [lock], name: "dump-waiter" });
  t.start();
  let dump = "";
  for (let i = 0; i < 3000 && !/dump-waiter[\s\S]*Lock/.test(dump); i++) {
    sleep(0.001);
    dump = dumpThreads();
  }
  assert.match(dump, /MainThread/);
  assert.match(dump, /dump-waiter[\s\S]*Lock/);
  lock.release();
  t.join(30);
});

check("a value that cannot cross is a TypeError at start(), nothing started", () => {
  const before = activeCount();
  const t = new Thread({ target: (f) => f, args: [() => 1] });
  assert.throws(() => t.start(), TypeError);
  assert.equal(activeCount(), before);
  assert.throws(() => new Lock().acquire(true, -2), RangeError);
});

check("Thread: isolated worker, threads starting threads, shared objects nested in a Map", () => {
  const box = new Map([
    ["lock", new Lock()],
    ["out", new SharedList()],
  ]);
  const outer = new Thread({
    target: (b) => {
      const inner = new Thread({ target: (m) => m.get("out").append(currentThread().name), args: [b], name: "inner" });
      inner.start();
      inner.join(30);
      b.get("out").append(b.get("lock").locked());
    },
    args: [box],
    isolated: true,
  });
  outer.start();
  outer.join(30);
  assert.deepEqual(box.get("out").toArray(), ["inner", false]);
});

check("Thread: a module target that does not exist fails in its thread, reported by excepthook", () => {
  const seen = [];
  setExcepthook((args) => seen.push(String(args.excValue?.message ?? args.excValue)));
  try {
    const t = new Thread({ target: { module: new URL("./no-such-module.mjs", import.meta.url).href } });
    t.start();
    t.join(30);
  } finally {
    setExcepthook(null);
  }
  assert.equal(seen.length, 1);
  assert.match(seen[0], /no-such-module/);
});

check("ThreadPoolExecutor: process.exit() in a task fails its future, the pool goes on", () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    // It unwinds the task like Python's SystemExit (or, where it cannot, ends the thread: RuntimeError).
    const e = pool.submit(() => process.exit(4)).exception(30);
    assert.ok(e instanceof SystemExit || e instanceof RuntimeError, String(e));
    if (e instanceof SystemExit) assert.equal(e.code, 4);
    assert.equal(pool.submit(() => 2).result(30), 2);
  } finally {
    pool.shutdown();
  }
});

check("logging: basicConfig in main applies in threads", () => {
  const t = new Thread({
    target: async () => {
      const { logging } = await import("threading");
      logging.getLogger("conformance").debug("not shown at WARNING");
    },
  });
  t.start();
  t.join(30);
});

check(
  "resourceLimits: a thread over them dies alone (Node); a RuntimeError at the call where the runtime cannot",
  () => {
    const options = { target: () => {}, resourceLimits: { maxOldGenerationSizeMb: 64 } };
    if (runtime !== "node") {
      assert.throws(() => new Thread(options), { name: "RuntimeError", message: /resourceLimits is not supported on/ });
      assert.throws(() => new ThreadPoolExecutor({ resourceLimits: {} }), RuntimeError);
      return;
    }
    const lock = new Lock();
    setExcepthook(() => {});
    try {
      const t = new Thread({
        ...options,
        target: (l) => {
          l.acquire();
          const a = [];
          for (;;) a.push(new Array(1e5).fill(a.length));
        },
        args: [lock],
      });
      t.start();
      t.join(60);
      assert.equal(t.isAlive(), false);
    } finally {
      setExcepthook(null);
    }
  },
);

/** Runs this file again on the same runtime in `mode` (see `child` below); resolves to its stdout. */
function again(mode) {
  const args =
    runtime === "deno" ? ["run", "-A", fileURLToPath(import.meta.url), mode] : [fileURLToPath(import.meta.url), mode];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error?.killed) reject(new Error(`${mode}: timed out\n${stdout}\n${stderr}`));
      else resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

check("exit: an uncaught error in main still waits for threads and finishes executor tasks", async () => {
  for (const mode of ["--child-throw", "--child-reject", "--child-exit"]) {
    const { code, stdout, stderr } = await again(mode);
    assert.ok(stdout.includes("thread finished"), `${mode}: ${stdout} ${stderr}`);
    assert.ok(stdout.includes("task finished"), `${mode}: ${stdout} ${stderr}`);
    assert.notEqual(code, 0, mode);
  }
});

// ---- the run ----

/** The child programs of the "exit" case: work in a thread and a pool, then main ends badly. */
async function child(mode) {
  const busy = (what) => {
    const s = Date.now();
    while (Date.now() - s < 200);
    console.log(what);
  };
  new Thread({ target: busy, args: ["thread finished"] }).start();
  new ThreadPoolExecutor({ maxWorkers: 1 }).submit(busy, "task finished");
  if (mode === "--child-throw") throw new Error("main dies");
  if (mode === "--child-reject") await Promise.reject(new Error("main rejects"));
  process.exit(3);
}

const mode = process.argv.find((a) => a.startsWith("--child-"));
if (currentThread() === mainThread() && mode) await child(mode);
else if (currentThread() === mainThread()) {
  const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  let passed = 0;
  let failed = 0;
  for (const c of cases) {
    if (only.length > 0 && !only.some((o) => c.name.includes(o))) continue;
    console.log(`case ${c.name}`);
    const started = Date.now();
    try {
      await c.fn();
      passed++;
      console.log(`ok ${c.name} (${Date.now() - started} ms)`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${c.name}: ${error?.stack ?? error}`);
    }
  }
  console.log(`conformance (${runtime}): ${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}
