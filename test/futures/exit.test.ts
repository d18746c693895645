// ThreadPoolExecutor and the ends of threads and of the process (issue 9, items 4 and 7), each in a
// child process, since only a whole process shows how it exits:
// - process.exit() in a pool task fails that task's future with a clear error for every kind of
//   waiter (await, then, resultAsync, asCompletedAsync, waitAsync, result), keeps the event loop
//   alive until the future settles, and the pool goes on with a replacement thread;
// - at exit (process.exit() in main, an uncaught error, the end of the program) the running and
//   queued tasks of every executor not shut down are finished first, as CPython joins them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeOnly, runtime, runChild as runChildOf } from "../child.js";

// The children are plain JavaScript, run by plain Node (on Node): tsx loading in each of them (and,
// before threads registered it on demand on Node >= 22 too, in each of their threads' workers)
// took five times the time, which a loaded machine stretched past the 30 s bound.
const runChild = (code: string, timeoutMs?: number) => runChildOf(code, timeoutMs, { tsx: false });

const T = { timeout: 60_000 };
/** Kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse: Node only. */
const OOM = {
  ...T,
  ...nodeOnly("kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse"),
};

// What a task's process.exit(3) gives its future: the SystemExit that unwound the task (the pool
// then replaces the thread: task-exit.test.ts).
const SHOW = `
  import { SystemExit } from "threading";
  globalThis.show = (e) => (e instanceof SystemExit && e.code === 3 ? "exit-error" : "other " + String(e));
`;

test("process.exit() in a pool task fails its future for every kind of waiter; the pool goes on", T, () => {
  const r = runChild(`
    ${SHOW}
    import { ThreadPoolExecutor, asCompletedAsync, waitAsync } from "threading";
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const die = () => process.exit(3);
    try { await ex.submit(die); console.log("await resolved"); } catch (e) { console.log("await", show(e)); }
    await ex.submit(die).then(() => console.log("then resolved"), (e) => console.log("then", show(e)));
    try { await ex.submit(die).resultAsync(); } catch (e) { console.log("resultAsync", show(e)); }
    for await (const f of asCompletedAsync([ex.submit(die)])) console.log("asCompletedAsync", show(f.exception()));
    const w = ex.submit(die);
    const { done } = await waitAsync([w]);
    console.log("waitAsync", done.has(w), show(w.exception()));
    const dying = ex.submit(die);
    const behind = ex.submit((x) => x * 2, 21);
    try { dying.result(); } catch (e) { console.log("result", show(e)); }
    console.log("behind", behind.result());
    // Nothing awaits this one: the process must stay alive until it settles.
    ex.submit(die).catch((e) => console.log("last", show(e)));
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      "await exit-error",
      "then exit-error",
      "resultAsync exit-error",
      "asCompletedAsync exit-error",
      "waitAsync true exit-error",
      "result exit-error",
      "behind 42",
      "last exit-error",
      "",
    ].join("\n"),
  );
});

// Tasks count themselves in shared memory; a later exit listener of main prints the count.
const WORK = `
  import { ThreadPoolExecutor } from "threading";
  const count = new Int32Array(new SharedArrayBuffer(4));
  const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
  const work = (c, ms) => { const end = Date.now() + ms; while (Date.now() < end); return Atomics.add(c, 0, 1) + 1; };
  let callbacks = 0;
  for (let i = 0; i < 8; i++) ex.submit(work, count, 50).addDoneCallback(() => callbacks++);
  process.on("exit", (code) => console.log("done", Atomics.load(count, 0), "callbacks", callbacks, "code", code));
`;

test("process.exit() in main finishes the running and queued tasks of an executor not shut down", T, () => {
  const r = runChild(`${WORK}\n process.exit(5);`);
  assert.equal(r.status, 5, r.stderr);
  assert.equal(r.stdout, "done 8 callbacks 8 code 5\n");
});

test("an uncaught error in main finishes them too, and still exits 1 with the error", T, () => {
  // Each task also says it ran, from its thread: Deno emits no 'exit' event after an uncaught error
  // (README, Runtimes and flags), so there the exit listener's line is missing, not the tasks.
  const work = WORK.replace("return Atomics.add(c, 0, 1) + 1;", 'console.log("ran"); return Atomics.add(c, 0, 1) + 1;');
  const r = runChild(`${work}\n throw new Error("main failed");`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /main failed/);
  const lines = r.stdout.split("\n").filter(Boolean);
  assert.equal(lines.filter((l) => l === "ran").length, 8, r.stdout);
  assert.deepEqual(
    lines.filter((l) => l !== "ran"),
    runtime === "deno" ? [] : ["done 8 callbacks 8 code 1"],
  );
});

test(
  "a submission once the exit has begun (a later exit listener): RuntimeError, as CPython's after interpreter shutdown",
  T,
  () => {
    // Before, submit() there returned a future whose task never ran: the process exited under it.
    const r = runChild(`
    import { ThreadPoolExecutor } from "threading";
    const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
    const shut = new ThreadPoolExecutor({ maxWorkers: 1 });
    ex.submit((c) => { const end = Date.now() + 50; while (Date.now() < end); console.log("queued task ran"); });
    shut.shutdown();
    const tryIt = (what, fn) => {
      try {
        fn();
        console.log(what, "submitted");
      } catch (e) {
        console.log(what, e.name, e.message);
      }
    };
    process.on("exit", () => {
      tryIt("submit", () => ex.submit(() => console.log("ran at exit")));
      tryIt("map", () => ex.map((x) => x, [1]));
      tryIt("new executor", () => new ThreadPoolExecutor({ maxWorkers: 1 }).submit(() => 1));
      tryIt("shut down", () => shut.submit(() => 1));
    });
  `);
    assert.equal(r.status, 0, r.stderr);
    const refused = "RuntimeError cannot schedule new futures after interpreter shutdown";
    assert.equal(
      r.stdout,
      [
        "queued task ran",
        `submit ${refused}`,
        `map ${refused}`,
        `new executor ${refused}`,
        "shut down RuntimeError cannot schedule new futures after shutdown",
        "",
      ].join("\n"),
    );
  },
);

test("shutdown(false) then exit: the queued tasks still run (CPython joins the threads at exit)", T, () => {
  const r = runChild(`${WORK}\n ex.shutdown(false); process.exit(0);`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "done 8 callbacks 8 code 0\n");
});

test("shutdown(true, { cancelFutures }) then exit: only what was running finishes", T, () => {
  const r = runChild(`
    import { ThreadPoolExecutor, Event } from "threading";
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const started = new Event();
    const release = new Event();
    // The first task runs until the shutdown has cancelled the rest (not for a while: a main
    // thread held up longer by the load found them started).
    const first = ex.submit((e, r) => { e.set(); r.wait(); return 1; }, started, release);
    const rest = [1, 2, 3].map(() => ex.submit(() => 2));
    started.wait();
    ex.shutdown(false, { cancelFutures: true });
    release.set();
    process.on("exit", () => console.log(first.result(), rest.map((f) => f.cancelled()).join()));
    process.exit(0);
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "1 true,true,true\n");
});

test(
  "an executor made in a thread that ends without shutting it down: its queued tasks still run before the process exits",
  T,
  () => {
    // CPython joins every executor's threads at exit, whichever thread made the executor. The
    // thread's end let the process exit (and kill the thread's worker) with the tasks queued.
    const r = runChild(`
    import { Thread } from "threading";
    const count = new Int32Array(new SharedArrayBuffer(4));
    for (const daemon of [false, true]) {
      const t = new Thread({
        daemon,
        target: (c) => {
          const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
          for (let i = 0; i < 4; i++)
            ex.submit((c) => {
              const end = Date.now() + 50;
              while (Date.now() < end);
              Atomics.add(c, 0, 1);
            }, c);
        },
        args: [count],
      });
      t.start();
      t.join();
    }
    process.on("exit", () => console.log("done", Atomics.load(count, 0)));
  `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "done 8\n");
  },
);

test(
  "a daemon thread's worker that dies as it exits to finish its executor's tasks: the process still exits",
  OOM,
  () => {
    // The thread ended with an executor not shut down: it held the process (one more live
    // non-daemon thread) until its worker's exit had finished the tasks. A worker that died first
    // (out of memory in an 'exit' listener that runs before the executor's) never gave it back:
    // the process's exit wait hung for ever. Now the hold is the thread's, counted out as the hub
    // ends it once its worker has exited.
    const r = runChild(
      `
    import { Thread } from "threading";
    const t = new Thread({
      daemon: true,
      resourceLimits: { maxOldGenerationSizeMb: 32 },
      target: () => {
        const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
        ex.submit(() => {
          const end = Date.now() + 100;
          while (Date.now() < end);
        });
        process.prependListener("exit", () => {
          const hog = [];
          for (;;) hog.push(new Array(100_000).fill(1));
        });
      },
    });
    t.start();
    t.join();
    console.log("joined", t.isAlive());
  `,
      50_000,
    );
    assert.equal(r.status, 0, `exit ${r.status} (null: the exit wait hung)\n${r.stderr.slice(-1500)}`);
    assert.equal(r.stdout, "joined false\n");
  },
);

test(
  "pool threads are not daemon, as CPython's (3.9+), yet an idle pool does not keep the process alive; a thread a task starts is not daemon and does",
  T,
  () => {
    // CPython: ThreadPoolExecutor workers have daemon=False (enumerate() shows it), a thread
    // started inside a task inherits that, and the interpreter's exit hook lets an idle pool go.
    const r = runChild(`
    import { ThreadPoolExecutor, Thread, currentThread, enumerate, dumpThreads } from "threading";
    const ex = new ThreadPoolExecutor({ maxWorkers: 1, threadNamePrefix: "P" });
    console.log("in task", ex.submit(() => currentThread().daemon).result());
    const pool = enumerate().filter((t) => t.name.startsWith("P_"));
    console.log("enumerate", pool.length, pool[0]?.daemon);
    console.log("dump", /"P_0" ident=\\d+ daemon=false/.test(dumpThreads()));
    ex.submit(() => {
      const t = new Thread({
        name: "child",
        target: () => {
          const end = Date.now() + 300;
          while (Date.now() < end);
          console.log("child ran to its end, daemon", currentThread().daemon);
        },
      });
      t.start();
    }).result();
    // no shutdown: the idle pool lets the process exit once the non-daemon child has ended
  `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "in task false\nenumerate 1 false\ndump true\nchild ran to its end, daemon false\n");
  },
);
