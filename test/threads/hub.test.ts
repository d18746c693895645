// The hub (src/threads/hub.ts): what a thread posts to it right before it ends is served, a worker
// that cannot be made fails only its start(), a dead hub is a RuntimeError rather than a hang.
// Races are made deterministic with the hub's test hooks (hubTestHook in dist/internal.js); each
// case runs in a child process, so that a hang is a failed assertion (the child is killed), not a
// blocked test runner.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { nodeOnly, runChild as runChildOf, skipOn } from "../child.js";

// The children are plain JavaScript, run by plain Node (Bun and Deno run them as before): what
// they check is the library in a fresh process, not tsx, which under tsx would load in each child
// (a second or more a child on a loaded machine).
const runChild = (code: string, timeoutMs?: number) => runChildOf(code, timeoutMs, { tsx: false });

const T = { timeout: 60_000 };
/** Starts threads with resourceLimits, which Bun and Deno refuse: Node only. */
const LIMITS = { ...T, ...nodeOnly("starts threads with resourceLimits, which Bun and Deno refuse") };
const internal = new URL("../../dist/internal.js", import.meta.url).href;

test("a thread's last directory registrations reach the taker while the hub is busy", T, () => {
  const r = runChild(
    `
    import { Lock, Queue, Thread } from "threading";
    import { hubTestHook } from "${internal}";
    // Thread ports are not served from now on: their messages stay queued until the worker exits.
    hubTestHook({ type: "test:hold", hold: true });
    const q = new Queue();
    const t = new Thread({
      target: (q) => {
        const lock = new Lock();
        lock.acquire();
        const arr = new Int32Array(new SharedArrayBuffer(8));
        arr[1] = 42;
        q.put({ lock, arr, big: new Uint8Array(100_000).fill(7) });
      },
      args: [q],
    });
    t.start();
    t.join();
    const got = q.get();
    console.log(got.lock.locked(), got.arr[1], got.big.length, got.big[99_999]);
  `,
    20_000,
  );
  assert.equal(r.status, 0, `the consumer's get() hung or failed: ${r.stderr}`);
  assert.equal(r.stdout, "true 42 100000 7\n");
});

test("a startAsync() left pending by a thread that ends still starts the child", T, () => {
  const r = runChild(
    `
    import { Thread } from "threading";
    import { hubTestHook } from "${internal}";
    hubTestHook({ type: "test:hold", hold: true });
    const t = new Thread({
      target: () => {
        const child = new Thread({ name: "child", target: () => console.log("child ran") });
        void child.startAsync();
      },
    });
    t.start();
    t.join();
  `,
    20_000,
  );
  assert.equal(r.status, 0, `the child stayed STARTING (exit hung): ${r.stderr}`);
  assert.equal(r.stdout, "child ran\n");
});

test("a worker let go as it comes back still ends its thread: no join or exit hangs (retire, not terminate)", T, () => {
  // Every returned worker is let go at once (no idle workers kept), and each pauses between telling
  // the hub it is idle and ending its thread: a terminate() there killed it before the thread ended.
  const r = runChild(
    `
    process.env.THREADING_IDLE_WORKERS = "0";
    const { Thread } = await import("threading");
    const { hubTestHook } = await import("${internal}");
    hubTestHook({ type: "test:pauseAfterIdle", ms: 30 });
    const ts = [];
    for (let i = 0; i < 6; i++) {
      const t = new Thread({ target: () => {} });
      t.start();
      ts.push(t);
    }
    for (const t of ts) t.join(10);
    console.log("alive", ts.filter((t) => t.isAlive()).length);
  `,
    30_000,
  );
  assert.equal(r.status, 0, `exit hung or failed: ${r.stderr}`);
  assert.equal(r.stdout, "alive 0\n");
});

/**
 * Child code (Thread and hubTestHook imported): from here on the hub can make no Worker, and it has
 * let go of its idle workers, those parked in docks too (the stats request is answered after that;
 * a plain start goes straight to a parked worker, and needs no new Worker).
 */
const refuseSpawns = `
    const warm = new Thread({ target: () => {} });
    warm.start();
    warm.join();
    hubTestHook({ type: "test:failSpawns", fail: true });
    const into = new SharedArrayBuffer(24);
    hubTestHook({ type: "test:stats", into });
    Atomics.wait(new Int32Array(into), 5, 0, 10_000);`;

test("a Worker that cannot be made fails only that start(); the Thread can be started again", LIMITS, () => {
  const r = runChild(
    `
    import { Thread } from "threading";
    import { hubTestHook } from "${internal}";
    ${refuseSpawns}
    const t = new Thread({ name: "t", target: () => console.log("t ran") });
    const limited = new Thread({ resourceLimits: { maxOldGenerationSizeMb: 64 }, target: () => console.log("limited ran") });
    for (const x of [t, limited]) {
      try {
        x.start();
        console.log("started?!");
      } catch (e) {
        console.log(e.name, e.message.startsWith("can't start new thread: test: spawn refused (EAGAIN)"), x.ident, x.isAlive());
      }
    }
    hubTestHook({ type: "test:failSpawns", fail: false });
    t.start();
    t.join();
    limited.start();
    limited.join();
    console.log("alive after", t.isAlive(), limited.isAlive());
  `,
    30_000,
  );
  assert.equal(r.status, 0, `exit hung or failed: ${r.stderr}`);
  assert.equal(
    r.stdout,
    "RuntimeError true null false\nRuntimeError true null false\nt ran\nlimited ran\nalive after false false\n",
  );
});

test("a start failed as its worker begins to run it: the worker does not run it, every wait ends", {
  ...T,
  ...skipOn(["bun"], "arms a worker that the next start must reuse; no worker is reused there"),
}, () => {
  // The worker's test hook failAtRun (armed by a thread on its own worker, which then parks again
  // as the warmest: the next start, through its dock or the hub, goes to it) fails the start between
  // markRunning()'s reads and its CAS, as the hub, or a starter whose hub never came up, would at
  // that instant. One of RUNNING and FAILED wins (table.ts): before, the worker's native id
  // overwrote the failure and start() returned for a thread that never ran (through a dock), or
  // the target ran anyway (through the hub).
  const r = runChild(
    `
    import { Thread } from "threading";
    const arm = () => {
      const t = new Thread({ target: () => { globalThis[Symbol.for("threading.test.worker")] = { failAtRun: true }; } });
      t.start();
      t.join();
    };
    const warm = new Thread({ target: () => {} });
    warm.start();
    warm.join();
    const outcome = (e, x) =>
      [e ? e.name : "started?!", e?.message.startsWith("can't start new thread:"), String(x.ident), x.isAlive()].join(" ");
    // A plain start (handed to the parked worker): start().
    arm();
    const t = new Thread({ name: "t", target: () => console.log("t ran") });
    let err;
    try { t.start(); } catch (e) { err = e; }
    console.log("start", outcome(err, t));
    // startAsync(), with a join() blocking meanwhile.
    arm();
    const a = new Thread({ name: "a", target: () => console.log("a ran") });
    const started = a.startAsync();
    // (Unless startAsync() saw the failure before its first await: the Thread is unstarted then.)
    if (a.ident !== null) a.join();
    err = undefined;
    try { await started; } catch (e) { err = e; }
    console.log("startAsync", outcome(err, a));
    // Through the hub: a subclass (its fields come back on a port).
    class S extends Thread {
      constructor() { super({ name: "s" }); this.x = 1; }
      run() { console.log("s ran"); }
    }
    arm();
    const s = new S();
    err = undefined;
    try { s.start(); } catch (e) { err = e; }
    console.log("hub", outcome(err, s));
    // Each starts again (the workers that lost them went back to their dock or to the hub).
    for (const x of [t, a, s]) { x.start(); x.join(); }
  `,
    30_000,
  );
  assert.equal(r.status, 0, `exit hung or failed: ${r.stderr}`);
  assert.equal(
    r.stdout,
    "start RuntimeError true null false\nstartAsync RuntimeError true null false\nhub RuntimeError true null false\nt ran\na ran\ns ran\n",
  );
  assert.equal(r.stderr.match(/test hook failAtRun: failed true/g)?.length, 3, r.stderr);
});

test(
  "a worker made for one start (its own resourceLimits) that loses that start exits: it runs no other thread",
  LIMITS,
  () => {
    // Before, it said "idle" and the hub kept it: the next plain thread ran on it, under its limits.
    const r = runChild(
      `
    import { Thread } from "threading";
    import { hubTestHook } from "${internal}";
    const limits = () => console.log(JSON.stringify(process.getBuiltinModule?.("node:worker_threads").resourceLimits.maxOldGenerationSizeMb));
    const warm = new Thread({ target: () => {} });
    warm.start();
    warm.join();
    hubTestHook({ type: "test:failAtRun" });
    const limited = new Thread({ resourceLimits: { maxOldGenerationSizeMb: 48 }, target: () => console.log("limited ran") });
    try {
      limited.start();
      console.log("started?!");
    } catch (e) {
      console.log(e.name, limited.ident, limited.isAlive());
    }
    for (let i = 0; i < 3; i++) {
      const t = new Thread({ target: limits });
      t.start();
      t.join();
    }
    limited.start();
    limited.join();
  `,
      // (two Worker boots under tsx, each registering it: 4 s at load 3, 13-17 s at load 14 on Node 22;
      // 30 s ran out once in a whole run at load 20)
      50_000,
    );
    assert.equal(r.status, 0, `exit hung or failed: ${r.stderr}`);
    assert.match(r.stderr, /test hook failAtRun: failed true/);
    assert.doesNotMatch(r.stdout, /48\n/, "a plain thread ran on the limited worker");
    assert.match(r.stdout, /^RuntimeError null false\n/);
    assert.match(r.stdout, /limited ran\n$/);
  },
);

test("a failed start is reported even when another thread would take its slot before the starter looks", T, () => {
  // The slot of a failed start stays unclaimable until its starter has seen the failure: before,
  // a claim could take it first, and startAsync() resolved as if the thread had run and ended.
  const r = runChild(
    `
    import { Thread } from "threading";
    import { hubTestHook, isIdentAlive, tableTestHooks } from "${internal}";
    ${refuseSpawns}
    const S = 4000;
    tableTestHooks.claimFrom = S;
    const t = new Thread({ name: "t", target: () => console.log("t ran") });
    const started = t.startAsync();
    tableTestHooks.claimFrom = undefined;
    // The hub fails t's start (no Worker can be made); the main thread does not look yet.
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (isIdentAlive(S, t.ident)) Atomics.wait(nap, 0, 0, 5);
    hubTestHook({ type: "test:failSpawns", fail: false });
    tableTestHooks.claimFrom = S; // the next claim tries t's slot first
    const u = new Thread({ name: "u", target: () => console.log("u ran") });
    u.start();
    u.join();
    tableTestHooks.claimFrom = undefined;
    try {
      await started;
      console.log("t started?!", t.isAlive());
    } catch (e) {
      console.log(e.name, e.message.startsWith("can't start new thread: test: spawn refused (EAGAIN)"), t.ident, t.isAlive());
    }
    t.start();
    t.join();
  `,
    30_000,
  );
  assert.equal(r.status, 0, `exit hung or failed: ${r.stderr}`);
  assert.equal(r.stdout, "u ran\nRuntimeError true null false\nt ran\n");
});

test(
  "a hub killed from outside: its threads end, start/join/queue transfers raise RuntimeError, exit does not hang",
  T,
  () => {
    const r = runChild(
      `
    import { Event, Lock, Queue, Thread } from "threading";
    import { hubWorker } from "${internal}";
    const stop = new Event();
    const t = new Thread({ target: (e) => e.wait(), args: [stop] });
    t.start();
    const q = new Queue();
    q.put({ lock: new Lock() });
    await hubWorker().terminate();
    await new Promise((r) => setTimeout(r, 20));
    t.join();
    console.log("joined", t.isAlive());
    const tries = [
      () => new Thread({ target: () => {} }).start(),
      () => q.get(),
      () => q.put(new Lock()),
    ];
    for (const f of tries) {
      try { f(); console.log("no error?!"); } catch (e) { console.log(e.name, /hub worker/.test(e.message)); }
    }
  `,
      30_000,
    );
    assert.equal(r.status, 0, `exit hung or failed: ${r.stderr}`);
    assert.equal(r.stdout, "joined false\nRuntimeError true\nRuntimeError true\nRuntimeError true\n");
  },
);

test("a hub that crashes ends its threads itself: a join blocking the main thread returns", T, () => {
  const r = runChild(
    `
    import { Event, Thread } from "threading";
    import { hubTestHook } from "${internal}";
    const stop = new Event();
    const t = new Thread({ target: (e) => e.wait(), args: [stop] });
    t.start();
    hubTestHook({ type: "test:crash" });
    t.join(); // blocks the main thread: only the dying hub can end t in the table
    console.log("joined", t.isAlive());
  `,
    30_000,
  );
  assert.equal(r.status, 0, `join or exit hung: ${r.stderr}`);
  assert.equal(r.stdout, "joined false\n");
  assert.match(r.stderr, /the hub worker failed: Error: test: the hub crashes/);
});

test("after the hub has died, the exit wait ends even with a non-daemon thread counted that never ran", T, () => {
  const r = runChild(
    `
    import { Thread } from "threading";
    import { ALIVE_NON_DAEMON, G, hubTestHook } from "${internal}";
    const t = new Thread({ target: () => {} });
    t.start();
    t.join();
    // As a thread killed in the middle of claiming its slot leaves it: counted, in no slot.
    Atomics.add(G, ALIVE_NON_DAEMON, 1);
    hubTestHook({ type: "test:crash" });
    await new Promise((resolve) => setTimeout(resolve, 500));
    console.log("exiting");
  `,
    30_000,
  );
  assert.equal(r.status, 0, `the exit wait hung: ${r.stderr}`);
  assert.equal(r.stdout, "exiting\n");
});

test(
  "a main thread that blocks in a wait right after the import still gets its hub (it answers the hang report)",
  T,
  () => {
    // The hub boots once the first thread worker has (its message reaches the main thread's event
    // loop), or at the first start(); a main thread blocked before either starts it from its wait.
    const r = runChild(
      `
    import { sleep } from "threading";
    import { hubWorker } from "${internal}";
    sleep(2);
    console.log("hub after a blocking wait", hubWorker() !== undefined);
  `,
      30_000,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "hub after a blocking wait true\n");
  },
);

test("a worker whose library fails to load fails the start waiting for it, saying why; the process goes on", T, () => {
  // A copy of the library whose index throws in every Worker (the main thread loads it): the hub's
  // workers load it as they boot. The start fails with that error; before, the workers blamed
  // "code left behind by a thread that has ended" and the start failed with no reason, and with the
  // error rethrown under the thread's process.exit() (which throws SystemExit) Node aborted.
  const dir = mkdtempSync(join(tmpdir(), "threading-broken-lib-"));
  try {
    const dist = fileURLToPath(new URL("../../dist", import.meta.url));
    cpSync(dist, join(dir, "dist"), { recursive: true });
    const index = join(dir, "dist", "index.js");
    writeFileSync(
      index,
      `import { isMainThread as brokenLibraryTestMain } from "node:worker_threads";\nif (!brokenLibraryTestMain) throw new Error("this library fails in workers");\n${readFileSync(index, "utf8")}`,
    );
    const r = runChild(
      `
      const { Thread } = await import(${JSON.stringify(pathToFileURL(index).href)});
      // (shared memory among the arguments: the start goes through the hub, to a worker it boots)
      const t = new Thread({ target: (a) => { a[0] = 1; }, args: [new Int32Array(new SharedArrayBuffer(4))] });
      try {
        t.start();
        console.log("started");
      } catch (e) {
        console.log(e.name + ": " + e.message);
      }
      console.log("main goes on");
      `,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /SystemExit|FATAL|left behind/, r.stderr);
    assert.match(
      r.stdout,
      /^RuntimeError: can't start new thread: its worker failed to boot: (Error: )?this library fails in workers \(Thread Thread-1\)\nmain goes on\n$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
