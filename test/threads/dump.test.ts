// The hang report (dumpThreads, SIGUSR2): threads, what each waits on, lock owners, deadlocks.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { evalArgs } from "../child.js";
import { dumpThreads, Event, LifoQueue, Lock, mainThread, Queue, RLock, Thread, sleep, sleepAsync } from "threading";

const T = { timeout: 60_000 };

/** Polls dumpThreads() until `ok(report)` (threads reach their waits on their own time); returns it. */
function reportWhen(ok: (report: string) => boolean, what: string): string {
  const until = Date.now() + 30_000;
  for (;;) {
    const report = dumpThreads();
    if (ok(report)) return report;
    if (Date.now() > until) assert.fail(`no report with ${what} within 30 s; last:\n${report}`);
    sleep(0.02);
  }
}

/** The lines of `report` from thread `name`'s header up to the next thread's header. */
function section(report: string, name: string): string {
  const lines = report.split("\n");
  const at = lines.findIndex((l) => l.startsWith(`  "${name}" `));
  if (at < 0) return "";
  const end = lines.findIndex((l, i) => i > at && /^ {2}\S/.test(l));
  return lines.slice(at, end < 0 ? undefined : end).join("\n");
}

test("dumpThreads: a deadlock between two threads names both threads, both locks, owners and modes", T, () => {
  const a = new Lock();
  const b = new Lock();
  const bothHold = new Event();
  // Each takes its first lock, waits until both have, then blocks on the other's (daemon: they never end).
  const body = (first: Lock, second: Lock, ready: Event, other: Lock): void => {
    first.acquire();
    while (!other.locked()) ready.wait(0.01);
    second.acquire();
  };
  const t1 = new Thread({ name: "dl-one", daemon: true, target: body, args: [a, b, bothHold, b] });
  const t2 = new Thread({ name: "dl-two", daemon: true, target: body, args: [b, a, bothHold, a] });
  t1.start();
  t2.start();
  const report = reportWhen((r) => r.includes("DEADLOCK"), "a DEADLOCK line");
  const one = section(report, "dl-one");
  const two = section(report, "dl-two");
  assert.match(one, new RegExp(`ident=${t1.ident} daemon=true RUNNING`));
  assert.match(
    one,
    new RegExp(`blocking: waits on Lock#\\d+, held by "dl-two" \\(ident ${t2.ident}\\) for \\d+\\.\\d{3} s`),
  );
  assert.match(two, new RegExp(`blocking: waits on Lock#\\d+, held by "dl-one" \\(ident ${t1.ident}\\)`));
  const lockOf = (s: string) => (s.match(/waits on (Lock#\d+)/) as RegExpMatchArray)[1];
  assert.notEqual(lockOf(one), lockOf(two));
  assert.match(report, new RegExp(`${lockOf(one)} held by "dl-two"`));
  assert.match(report, new RegExp(`${lockOf(two)} held by "dl-one"`));
  assert.match(
    report,
    /DEADLOCK: "dl-(one|two)" \(ident \d+\) waits for Lock#\d+ held by "dl-(two|one)" \(ident \d+\); "dl-\2" \(ident \d+\) waits for Lock#\d+ held by "dl-\1"/,
  );
});

test("dumpThreads: an async waiter shows as async, with the count of its pending waits and the oldest", T, async () => {
  const e1 = new Event();
  const e2 = new Event();
  const t = new Thread({
    name: "async-waiter",
    target: async (x: Event, y: Event) => {
      const first = x.waitAsync();
      await sleepAsync(0.05);
      await Promise.all([first, y.waitAsync(), y.waitAsync()]);
    },
    args: [e1, e2],
  });
  t.start();
  try {
    const report = reportWhen((r) => section(r, "async-waiter").includes("3 wait(s)"), "3 async waits");
    const s = section(report, "async-waiter");
    assert.match(s, /async: 3 wait\(s\) pending; the oldest on Event#\d+ for \d+\.\d{3} s/);
    assert.doesNotMatch(s, /blocking:/);
    const e1id = (s.match(/Event#(\d+)/) as RegExpMatchArray)[1];
    e1.set();
    const after = reportWhen((r) => section(r, "async-waiter").includes("2 wait(s)"), "2 async waits");
    const e2id = (section(after, "async-waiter").match(/Event#(\d+)/) as RegExpMatchArray)[1];
    assert.notEqual(e2id, e1id); // the oldest still pending is now one of the waits on e2
  } finally {
    e1.set();
    e2.set();
    await t.joinAsync();
  }
  assert.equal(section(dumpThreads(), "async-waiter"), ""); // ended threads are not listed
});

test("dumpThreads: a thread blocked in join() and one blocked on an RLock held twice by main", T, () => {
  const r = new RLock();
  r.acquire();
  r.acquire();
  const stuck = new Thread({
    name: "rlock-waiter",
    target: (l: RLock) => {
      l.acquire();
      l.release();
    },
    args: [r],
  });
  stuck.start();
  const joiner = new Thread({ name: "joiner", target: (t: Thread) => t.join(), args: [stuck] });
  joiner.start();
  const report = reportWhen(
    (x) => section(x, "joiner").includes("blocking") && section(x, "rlock-waiter").includes("blocking"),
    "both threads blocked",
  );
  assert.match(
    section(report, "rlock-waiter"),
    /blocking: waits on RLock#\d+, held by "MainThread" \(ident 1\) 2 times/,
  );
  assert.match(
    section(report, "joiner"),
    new RegExp(`blocking: waits on Thread "rlock-waiter" \\(ident ${stuck.ident}\\) to start or end`),
  );
  assert.match(report, /RLock#\d+ held by "MainThread" \(ident 1\), count 2/);
  assert.doesNotMatch(report, /DEADLOCK[^\n]*(rlock-waiter|joiner)/);
  r.release();
  r.release();
  joiner.join();
  // The records are cleared when the waits end: nothing of these threads is left.
  assert.doesNotMatch(dumpThreads(), /rlock-waiter|joiner|RLock#\d+ held/);
});

test("dumpThreads: a thread blocked in mainThread().join() waits on the main thread", T, () => {
  // Such a join sleeps on the word main's exit sets (lifetime.ts): it was reported as an internal word.
  // (It returns as this file's process reaches its exit, which stops the main thread.)
  const joiner = new Thread({
    name: "main-joiner",
    daemon: true,
    target: (m: Thread) => m.join(),
    args: [mainThread()],
  });
  joiner.start();
  const report = reportWhen((x) => section(x, "main-joiner").includes("blocking"), "the joiner blocked");
  assert.match(section(report, "main-joiner"), /blocking: waits on Thread "MainThread" \(ident 1\) to start or end/);
});

for (const [kind, point, word] of [
  ["Queue", "P", "its producers' lock"],
  ["LifoQueue", "put", "its lock"],
] as const) {
  test(`dumpThreads: a thread waiting for a ${kind}'s internal lock names the thread that holds it`, T, () => {
    const q = kind === "Queue" ? new Queue<number>() : new LifoQueue<number>();
    const s = new Int32Array(new SharedArrayBuffer(8));
    // a live thread stopped inside the queue's lock (a test hook), and one that waits for that lock
    const holder = new Thread({
      name: "q-holder",
      target: { module: "../fixtures/queue-hooks.ts", export: "holdInside" },
      args: [q, point, 1, s],
    });
    holder.start();
    while (Atomics.load(s, 0) === 0) Atomics.wait(s, 0, 0, 10);
    const waiter = new Thread({ name: "q-waiter", target: (q: Queue<number>) => q.put(2), args: [q] });
    waiter.start();
    const report = reportWhen((r) => /held by/.test(section(r, "q-waiter")), "the queue lock's holder");
    assert.match(
      section(report, "q-waiter"),
      new RegExp(`${kind}#\\d+, for ${word}, held by "q-holder" \\(ident ${holder.ident}\\) for`),
    );
    Atomics.store(s, 1, 1);
    Atomics.notify(s, 1);
    holder.join();
    waiter.join();
    assert.equal(q.qsize(), 2);
  });
}

test("dumpThreads: a lock held by a thread that ended is reported with its holder marked ended", T, () => {
  const lock = new Lock();
  const t = new Thread({ name: "leaver", target: (l: Lock) => void l.acquire(), args: [lock] });
  t.start();
  t.join();
  assert.match(dumpThreads(), new RegExp(`Lock#\\d+ held by "leaver" \\(ident ${t.ident}, ended\\)`));
  lock.release();
});

/** Runs `code` in a child process; asks for its report every 200 ms (SIGUSR2, and the request file when `env` names a report dir) until its stderr matches `done`, then kills it. */
function signalChild(code: string, done: RegExp, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // Plain JavaScript, run by plain Node (Bun and Deno as before): tsx would load in the child,
    // which is not what the report checks.
    const child = spawn(process.execPath, evalArgs(code, { tsx: false }), {
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    let timer: ReturnType<typeof setInterval> | undefined;
    const give = setTimeout(() => {
      clearInterval(timer);
      child.kill("SIGKILL");
      reject(new Error(`no report matching ${done} within 30 s; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, 30_000);
    child.stdout.on("data", (d) => {
      stdout += d;
      if (timer === undefined && stdout.includes("ready")) {
        timer = setInterval(() => {
          child.kill("SIGUSR2");
          // Where Node gives workers no signal handle (24+), the hub answers a request file instead.
          if (env.THREADING_HANG_REPORT_DIR)
            writeFileSync(join(env.THREADING_HANG_REPORT_DIR, `${child.pid}.request`), "");
        }, 200);
      }
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      if (done.test(stderr)) {
        clearInterval(timer);
        clearTimeout(give);
        child.kill("SIGKILL");
        resolve(stderr);
      }
    });
    child.on("exit", (status, signal) => {
      if (signal === "SIGKILL") return;
      clearInterval(timer);
      clearTimeout(give);
      reject(new Error(`child exited (${status ?? signal}) before its report; stderr:\n${stderr}`));
    });
  });
}

test(
  "SIGUSR2 (or, on Node 24+, a request file) prints the report while the main thread and every thread are blocked",
  T,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "threading-hang-"));
    try {
      const stderr = await signalChild(
        `import { Lock, Thread } from "threading";
       const lock = new Lock();
       lock.acquire();
       const t = new Thread({ name: "stuck", target: (l) => l.acquire(), args: [lock] });
       t.start();
       console.log("ready");
       t.join();`,
        /"stuck"[^\n]*\n\s+blocking: waits on Lock#\d+, held by "MainThread"/,
        { THREADING_HANG_REPORT_DIR: dir },
      );
      assert.match(stderr, /reported by the hub/);
      assert.match(
        stderr,
        /"MainThread" ident=1[^\n]*\n\s+blocking: waits on Thread "stuck" \(ident \d+\) to start or end/,
      );
      const files = readdirSync(dir).filter((f) => f.endsWith(".txt"));
      assert.equal(files.length, 1);
      assert.match(readFileSync(join(dir, files[0] as string), "utf8"), /"stuck"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("SIGUSR2 before any thread started is answered: by the hub (booted at import) or the main thread", T, async () => {
  const stderr = await signalChild(
    `import "threading";
     console.log("ready");
     setInterval(() => {}, 1000);`,
    /"MainThread" ident=1/,
  );
  // The hub answers once it is up; a signal that comes before, the main thread from its event loop.
  assert.match(stderr, /1 thread\(s\)[^\n]*reported by (the hub|"MainThread")/);
});
