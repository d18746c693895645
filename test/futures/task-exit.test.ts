// process.exit() in a pool task, by the contract (API.md, "Details users rely on"): it "fails that
// task's Future, and the pool replaces the thread", and, as in any thread, it ends that thread only,
// like SystemExit: the task's stack unwinds (its `finally` blocks run). The future fails with that
// SystemExit (its `code` the exit code), as CPython's future.result() raises the SystemExit a task
// raised (test_concurrent_futures/test_deadlock.py, test_exit_during_func_exec_on_worker). A
// `throw new SystemExit(n)` is Python's `raise SystemExit(n)`, which is all that sys.exit(n) does:
// the same. Tasks queued behind run on the replacement (a new Thread: new ident, the pool's next
// name), each once; the initializer runs there; maxWorkers is never exceeded.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runChild as runChildOf } from "../child.js";
import { currentThread, enumerate, RuntimeError, SystemExit, sleepAsync, Thread, ThreadPoolExecutor } from "threading";

const T = { timeout: 60_000 };
const runChild = (code: string) => runChildOf(code, 45_000, { tsx: false });

/** The pool threads alive now (by the prefix the test gave the pool), by name. */
function poolThreads(prefix: string): string[] {
  return enumerate()
    .filter((t) => t.name.startsWith(`${prefix}_`) && t.isAlive())
    .map((t) => t.name)
    .sort();
}

/** Asserts that `e` is the SystemExit of process.exit(`code`) (undefined: no code given). */
function assertExit(e: unknown, code: number | undefined): void {
  assert.ok(e instanceof SystemExit, `expected SystemExit, got ${String(e)}`);
  assert.equal(e.code, code);
}

test(
  "process.exit(3) in a task: its future fails with SystemExit(3), its finally ran, the pool replaces the thread",
  T,
  () => {
    // cell[0]: initializer runs; cell[1]: the exiting task's finally; cell[2 + i]: runs of task i behind it
    const cell = new Int32Array(new SharedArrayBuffer(4 * 12));
    using ex = new ThreadPoolExecutor({
      maxWorkers: 1,
      threadNamePrefix: "px",
      initializer: (c: Int32Array) => void Atomics.add(c, 0, 1),
      initargs: [cell],
    });
    const who = () => [currentThread().name, currentThread().ident] as [string, number];
    const [firstName, firstIdent] = ex.submit(who).result(30);
    assert.equal(firstName, "px_0");
    const dying = ex.submit((c: Int32Array) => {
      try {
        process.exit(3);
      } finally {
        Atomics.store(c, 1, 1);
      }
    }, cell);
    const behind = [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
      ex.submit(
        (c: Int32Array, k: number) => {
          Atomics.add(c, 2 + k, 1);
          return [currentThread().name, currentThread().ident] as [string, number];
        },
        cell,
        i,
      ),
    );
    assertExit(dying.exception(30), 3);
    assert.throws(() => dying.result(30), SystemExit);
    const ran = behind.map((f) => f.result(30));
    for (const [name, ident] of ran) {
      assert.equal(name, "px_1", "the tasks behind run on the replacement, the pool's next thread");
      assert.notEqual(ident, firstIdent);
    }
    assert.equal(Atomics.load(cell, 1), 1, "the task's finally ran");
    assert.deepEqual([...cell.slice(2, 10)], [1, 1, 1, 1, 1, 1, 1, 1], "each task behind ran once");
    assert.equal(Atomics.load(cell, 0), 2, "the initializer ran on the replacement");
    assert.deepEqual(poolThreads("px"), ["px_1"], "the thread that exited has ended");
  },
);

test("process.exit() after an await, and with no code: SystemExit (code undefined), thread replaced", T, async () => {
  await using ex = new ThreadPoolExecutor({ maxWorkers: 1, threadNamePrefix: "pa" });
  const first = await ex.submit(() => currentThread().ident);
  const dying = ex.submit(async () => {
    await sleepAsync(0.01);
    process.exit();
  });
  const behind = ex.submit(() => currentThread().ident);
  await assert.rejects(dying, (e: unknown) => {
    assertExit(e, undefined);
    return true;
  });
  assertExit(await dying.exceptionAsync(), undefined);
  const next = await behind;
  assert.notEqual(next, first);
  const dying4 = ex.submit(async () => {
    await Promise.resolve();
    process.exit(4);
  });
  assertExit(await dying4.exceptionAsync(30), 4);
  assert.notEqual(await ex.submit(() => currentThread().ident), next);
  assert.deepEqual(poolThreads("pa"), ["pa_2"]);
});

test("process.exit() inside a finally, and throw new SystemExit(n): the same as process.exit()", T, () => {
  using ex = new ThreadPoolExecutor({ maxWorkers: 1, threadNamePrefix: "pf" });
  const ident = () => currentThread().ident;
  const a = ex.submit(ident).result(30);
  const inFinally = ex.submit(() => {
    try {
      throw new Error("replaced by the exit in finally");
    } finally {
      process.exit(5);
    }
  });
  assertExit(inFinally.exception(30), 5);
  const b = ex.submit(ident).result(30);
  assert.notEqual(b, a);
  const raised = ex.submit(() => {
    throw new SystemExit(6);
  });
  assertExit(raised.exception(30), 6);
  const c = ex.submit(ident).result(30);
  assert.notEqual(c, b);
  assert.deepEqual(poolThreads("pf"), ["pf_2"]);
});

test(
  "a task that catches its own process.exit() goes on, and so does its thread (a catch-all, as in Python)",
  T,
  () => {
    using ex = new ThreadPoolExecutor({ maxWorkers: 1, threadNamePrefix: "pc" });
    const a = ex.submit(() => currentThread().ident).result(30);
    const caught = ex.submit(() => {
      try {
        process.exit(3);
      } catch (e) {
        return [(e as SystemExit).code, currentThread().ident];
      }
    });
    assert.deepEqual(caught.result(30), [3, a]);
    assert.equal(ex.submit(() => currentThread().ident).result(30), a);
  },
);

test(
  "map(): a call that exits raises its SystemExit at its place, after the results before it; the pool goes on",
  T,
  () => {
    using ex = new ThreadPoolExecutor({ maxWorkers: 1, threadNamePrefix: "pm" });
    for (const chunksize of [1, 2]) {
      const it = ex.map(
        (x: number) => {
          if (x === 2) process.exit(9);
          return x * 10;
        },
        [1, 2, 3, 4],
        { chunksize },
      );
      assert.deepEqual(it.next(), { value: 10, done: false });
      assert.throws(
        () => it.next(),
        (e: unknown) => {
          assertExit(e, 9);
          return true;
        },
      );
      assert.deepEqual(it.next(), { value: undefined, done: true });
    }
    assert.deepEqual([...ex.map((x: number) => x + 1, [1, 2, 3])], [2, 3, 4]);
    assert.deepEqual(poolThreads("pm"), ["pm_2"]);
  },
);

test(
  "many tasks, some exiting, on 2 threads: every other task runs once, never more than 2 pool threads alive",
  T,
  () => {
    // cell[0]: most pool threads seen alive at once (by each task, in the thread table); cell[1 + i]: runs of task i
    const cell = new Int32Array(new SharedArrayBuffer(4 * 41));
    using ex = new ThreadPoolExecutor({ maxWorkers: 2, threadNamePrefix: "pn" });
    const fs = Array.from({ length: 40 }, (_, i) =>
      ex.submit(
        (c: Int32Array, k: number) => {
          const alive = enumerate().filter((t) => t.name.startsWith("pn_") && t.isAlive()).length;
          for (let m = Atomics.load(c, 0); alive > m; m = Atomics.load(c, 0)) Atomics.compareExchange(c, 0, m, alive);
          Atomics.add(c, 1 + k, 1);
          if (k % 7 === 3) process.exit(k);
          return k;
        },
        cell,
        i,
      ),
    );
    for (const [i, f] of fs.entries()) {
      if (i % 7 === 3) assertExit(f.exception(30), i);
      else assert.equal(f.result(30), i);
    }
    assert.deepEqual([...cell.slice(1)], new Array(40).fill(1), "every task ran exactly once");
    assert.ok(Atomics.load(cell, 0) <= 2, `${Atomics.load(cell, 0)} pool threads alive at once (maxWorkers 2)`);
    assert.ok(poolThreads("pn").length <= 2, poolThreads("pn").join());
  },
);

test("an executor made in another thread: its result() sees the SystemExit, the replacement runs the rest", T, () => {
  const cell = new Int32Array(new SharedArrayBuffer(4 * 4));
  const t = new Thread({
    target: (c: Int32Array) => {
      using ex = new ThreadPoolExecutor({ maxWorkers: 1 });
      const a = ex.submit(() => currentThread().ident).result(30);
      const dying = ex.submit(() => process.exit(8));
      const behind = ex.submit(() => currentThread().ident);
      const e = dying.exception(30);
      c[0] = e instanceof SystemExit ? Number(e.code) : -1;
      const b = behind.result(30);
      c[1] = b !== a && b !== null ? 1 : 0;
      c[2] = 1;
    },
    args: [cell],
  });
  t.start();
  t.join(45);
  assert.deepEqual([...cell.slice(0, 3)], [8, 1, 1]);
});

test("shutdown(true) and the exit at the end of the program wait for the tasks behind an exiting one", T, () => {
  const r = runChild(`
    import { ThreadPoolExecutor, SystemExit, currentThread } from "threading";
    const count = new Int32Array(new SharedArrayBuffer(4));
    const work = (c) => { Atomics.add(c, 0, 1); return currentThread().name; };
    const a = new ThreadPoolExecutor({ maxWorkers: 1, threadNamePrefix: "a" });
    const dying = a.submit(() => process.exit(2));
    const behind = [1, 2, 3].map(() => a.submit(work, count));
    a.shutdown(true);
    console.log("shutdown", dying.exception() instanceof SystemExit, behind.map((f) => f.result()).join(), Atomics.load(count, 0));
    // Not shut down: the exit finishes its tasks, also those behind the exiting one.
    const b = new ThreadPoolExecutor({ maxWorkers: 1, threadNamePrefix: "b" });
    b.submit(() => process.exit(2));
    for (let i = 0; i < 3; i++) b.submit(work, count);
    process.on("exit", () => console.log("exit", Atomics.load(count, 0)));
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "shutdown true a_1,a_1,a_1 3\nexit 6\n");
});

test(
  "a task behind an exiting one whose transferList moved its arguments into that thread fails saying so; the pool goes on",
  T,
  async () => {
    // Transferred arguments stay with the thread they were moved to (README, submitWith): they end with it.
    await using ex = new ThreadPoolExecutor({ maxWorkers: 1, threadNamePrefix: "pt" });
    const dying = ex.submit(() => process.exit(3));
    const buf = new ArrayBuffer(8);
    const moved = ex.submitWith({ transferList: [buf] }, (b: ArrayBuffer) => b.byteLength, buf);
    const plain = ex.submit((x: number) => x + 1, 1);
    assertExit(await dying.exceptionAsync(30), 3);
    const e = await moved.exceptionAsync(30);
    assert.ok(e instanceof RuntimeError, String(e));
    assert.match(
      (e as Error).message,
      /^pool thread pt_0 called process\.exit\(3\) before this task started; its transferred arguments went with it$/,
    );
    assert.equal(await plain, 2);
    assert.deepEqual(poolThreads("pt"), ["pt_1"]);
  },
);
