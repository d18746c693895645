// RedisExecutor's faults, with real processes: a worker SIGKILL'd mid-task (BullMQ's stalled-job
// recovery runs its jobs again: at least once; a job lost more than --max-stalled times fails), Redis restarting under load
// and while a client's main thread is blocked in result() / wait / asCompleted / map, Redis gone for good under a blocked
// result() (BrokenExecutor after connectTimeout), a client that dies
// with jobs in flight, and a worker stopped gracefully by SIGTERM. Workers run with a short lock
// (--lock-duration) and stalled-job check (--stalled-interval) so that recovery takes ~1-2 s.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { RedisExecutor as RedisExecutorType } from "threading/distributed";
import { missingRedis, type Redis, root, startRedis, startWorker, teardown, type Worker } from "./cluster.js";

const skip = missingRedis();
// Imported only where it can load (the entry throws without bullmq installed).
const { RedisExecutor } = (skip ? {} : await import("threading/distributed")) as {
  RedisExecutor: typeof RedisExecutorType;
};
if (skip) console.log(`# distributed fault tests skipped: ${skip}`);
const T = { timeout: 60_000 };
const work = (name: string) => ({ module: "./tasks/work.mjs", export: name });
const quickRecovery = ["--lock-duration", "1", "--stalled-interval", "0.5"];

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : []);

/**
 * Runs `code` as an ES module in a child node (in the package root): its stdout so far, and its exit
 * code once all its output has been read ("close": at "exit" the last lines may still be unread).
 */
function client(code: string): { child: ChildProcess; stdout: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += String(c);
  });
  return { child, stdout: () => out, exited: new Promise((r) => child.once("close", r)) };
}

// The group's bound is the sum of its tests' (each 60 s), not one test's: they took 114 s together in
// a landing run at load ~25, and 120 s would have failed the group with every test passed.
describe("RedisExecutor faults", { skip, timeout: 280_000 }, () => {
  let redis: Redis;
  const workers: Worker[] = [];
  const tmp = mkdtempSync(join(tmpdir(), "threading-faults-"));

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await teardown(redis, workers);
    rmSync(tmp, { recursive: true, force: true });
  });

  test("a worker SIGKILL'd mid-task: its jobs run again on another worker and every future settles", T, async () => {
    // A 3 s lock here, not 1 s: the survivor's own renewals (every half lock) must not lapse on a loaded
    // machine, or its retried jobs stall a second time, past BullMQ's default limit of 1 (a RuntimeError
    // "job stalled more than allowable limit", seen with a 1 s lock under load).
    const args = [
      "--threads",
      "2",
      "--concurrency",
      "4",
      "--allow",
      "./tasks/",
      "--lock-duration",
      "3",
      "--stalled-interval",
      "0.5",
    ];
    const [victim, survivor] = await Promise.all([
      startWorker(redis.url, "kill", args),
      startWorker(redis.url, "kill", args),
    ]);
    workers.push(victim as Worker, survivor as Worker);
    const ex = new RedisExecutor({ redis: redis.url, queue: "kill" });
    // Every task writes its worker's pid to its own file as it starts, then waits for the release,
    // given only once the victim is dead: the victim dies holding jobs whatever the machine's speed
    // (before, tasks of 0.15 s and a kill once 4 had ended: a test process starved for the rest of
    // the 40 tasks' 0.75 s would kill a victim holding nothing, and no job would stall).
    const release = join(tmp, "kill-release");
    const started = (i: number) => join(tmp, `kill-started-${i}`);
    const fs = Array.from({ length: 40 }, (_, i) =>
      ex.submit<string>(work("startedUntil"), started(i), release, `task ${i}`),
    );
    const victimPid = String(victim?.proc.pid);
    const heldByVictim = () =>
      fs.some((_, i) => existsSync(started(i)) && readFileSync(started(i), "utf8") === victimPid);
    try {
      await until("the victim to start a task", heldByVictim);
      victim?.proc.kill("SIGKILL");
      await victim?.exited;
    } finally {
      writeFileSync(release, "");
    }
    const results = await Promise.all(fs.map((f) => f.resultAsync(40)));
    assert.deepEqual(
      results,
      fs.map((_, i) => `task ${i}`),
    );
    assert.match(survivor?.log() ?? "", /had stalled \(its worker was lost\): running it again/);
    await ex.shutdownAsync();
  });

  test("a connection closing under an addBulk: the batch is added again, each job runs once", T, async () => {
    // The client thread's first two addBulk calls add half their batch, then fail as ioredis does
    // when the connection closes under the rest of the pipeline (AbortError: before, every job of
    // the batch failed "could not be added to Redis"; seen once in CI with Redis restarting).
    const args = ["--threads", "2", "--concurrency", "4", "--allow", "./tasks/"];
    workers.push(await startWorker(redis.url, "abort", args));
    const ex = new RedisExecutor({ redis: redis.url, queue: "abort", testAbortAdds: 2 } as never);
    const file = join(tmp, "abort-marks");
    try {
      const first = Array.from({ length: 20 }, (_, i) => ex.submit<string>(work("mark"), file, `a${i}`));
      await new Promise((r) => setTimeout(r, 50));
      const second = Array.from({ length: 20 }, (_, i) => ex.submit<string>(work("mark"), file, `b${i}`));
      const got = await Promise.all([...first, ...second].map((f) => f.resultAsync(30)));
      const want = [...first.map((_, i) => `a${i}`), ...second.map((_, i) => `b${i}`)];
      assert.deepEqual(got, want);
      assert.deepEqual(lines(file).sort(), [...want].sort(), "each job ran once");
    } finally {
      ex.shutdown();
    }
  });

  test("Redis restarting under load: every future settles with its exact result", T, async () => {
    const args = ["--threads", "2", "--concurrency", "8", "--allow", "./tasks/", ...quickRecovery];
    workers.push(
      ...(await Promise.all([startWorker(redis.url, "restart", args), startWorker(redis.url, "restart", args)])),
    );
    const ex = new RedisExecutor({ redis: redis.url, queue: "restart" });
    const fs = [];
    let restarted = false;
    for (let i = 0; i < 1200; i++) {
      fs.push(ex.submit<number>(work("double"), i));
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
      if (i === 600) {
        await redis.restart(300);
        restarted = true;
      }
    }
    assert.ok(restarted);
    const results = await Promise.all(fs.map((f) => f.resultAsync(50)));
    assert.deepEqual(
      results,
      fs.map((_, i) => i * 2),
    );
    await ex.shutdownAsync();
  });

  test("a client that dies with jobs in flight disturbs neither the workers nor other clients", T, async () => {
    const args = ["--threads", "2", "--allow", "./tasks/", ...quickRecovery];
    const w = await startWorker(redis.url, "clients", args);
    workers.push(w);
    const code = `
      import { RedisExecutor } from "threading/distributed";
      const ex = new RedisExecutor({ redis: ${JSON.stringify(redis.url)}, queue: "clients" });
      const fs = [];
      for (let i = 0; i < 50; i++) fs.push(ex.submit({ module: "./tasks/work.mjs", export: "sleepThen" }, 0.05, i));
      await fs[0];
      console.log("first result in");
      setInterval(() => {}, 1000);
    `;
    const { child, stdout, exited } = client(code);
    await until("the child's first result", () => /first result in/.test(stdout()), 30_000);
    child.kill("SIGKILL");
    await exited;
    const ex = new RedisExecutor({ redis: redis.url, queue: "clients" });
    const mine = Array.from({ length: 20 }, (_, i) => ex.submit<number>(work("double"), i + 1000));
    assert.deepEqual(
      await Promise.all(mine.map((f) => f.resultAsync(30))),
      mine.map((_, i) => (i + 1000) * 2),
    );
    assert.equal(w.proc.exitCode, null, "the worker is still running");
    await ex.shutdownAsync();
  });

  test(
    "blocked in result(timeout) / wait / asCompleted / map while Redis restarts: each wait ends with its results",
    T,
    async () => {
      // The client is a child process whose main thread blocks in the waits while this process
      // restarts Redis; its tasks end only once released, after the restart.
      const w = await startWorker(redis.url, "blocked", [
        "--threads",
        "5",
        "--concurrency",
        "8",
        "--allow",
        "./tasks/",
      ]);
      workers.push(w);
      const started = join(tmp, "blocked-started");
      const release = join(tmp, "blocked-release");
      const code = `
        import { asCompleted, wait } from "threading";
        import { RedisExecutor } from "threading/distributed";
        const ex = new RedisExecutor({ redis: ${JSON.stringify(redis.url)}, queue: "blocked" });
        const t = { module: "./tasks/work.mjs", export: "startedUntil" };
        const s = (x) => ${JSON.stringify(started)} + x;
        const [a, b, c] = ["a", "b", "c"].map((x) => ex.submit(t, s(x), ${JSON.stringify(release)}, x));
        const it = ex.map({ module: "./tasks/work.mjs", export: "startedUntilItem" },
          ["m1", "m2"].map((x) => [s(x), ${JSON.stringify(release)}, x]), { timeout: 90 });
        console.log("blocking");
        const out = [a.result(90)];
        const { done, notDone } = wait([b], 90);
        out.push(done.size, notDone.size, b.result(0));
        for (const f of asCompleted([c], 90)) out.push(f.result(0));
        for (const r of it) out.push(r);
        console.log("results " + JSON.stringify(out));
        ex.shutdown();
      `;
      const { stdout, exited } = client(code);
      await until("the child to block", () => /blocking/.test(stdout()), 30_000);
      await until(
        "the tasks to start",
        () => ["a", "b", "c", "m1", "m2"].every((x) => existsSync(started + x)),
        30_000,
      );
      await redis.restart(500);
      writeFileSync(release, "");
      assert.equal(await exited, 0, stdout());
      assert.match(stdout(), /results \["a",1,0,"b","c","m1","m2"\]/);
    },
  );

  test(
    "blocked in result() when Redis goes away for good: BrokenExecutor after connectTimeout, no hang",
    T,
    async () => {
      const gone = await startRedis();
      try {
        const code = `
        import { RedisExecutor } from "threading/distributed";
        const ex = new RedisExecutor({ redis: ${JSON.stringify(gone.url)}, queue: "gone-blocked", connectTimeout: 1 });
        const f = ex.submit({ module: "./tasks/work.mjs", export: "double" }, 1);
        await new Promise((r) => setTimeout(r, 300)); // the job is in Redis (no worker takes it)
        console.log("blocking");
        try { f.result(90); console.log("result"); } catch (e) { console.log("error " + e.name + ": " + e.message); }
        ex.shutdown();
      `;
        const { stdout, exited } = client(code);
        await until("the child to block", () => /blocking/.test(stdout()), 30_000);
        await gone.stop();
        assert.equal(await exited, 0, stdout());
        assert.match(stdout(), /error BrokenExecutor: .*cannot reach Redis at .* for 1 s \(connectTimeout\)/);
      } finally {
        await gone.stop();
      }
    },
  );

  test("SIGTERM stops a worker gracefully: it finishes the running task, takes no new one, exits 0", T, async () => {
    const w = await startWorker(redis.url, "term", ["--threads", "1", "--concurrency", "1", "--allow", "./tasks/"]);
    workers.push(w);
    const ex = new RedisExecutor({ redis: redis.url, queue: "term" });
    const file = join(tmp, "term-started");
    const release = join(tmp, "term-release");
    // The running task ends only when released, after the worker has begun stopping: it cannot end
    // first (and the worker take the queued job) however slowly the signal arrives.
    const running = ex.submit(work("startedUntil"), file, release, "finished");
    await until("the task to start", () => existsSync(file));
    const queued = ex.submit(work("double"), 1);
    w.proc.kill("SIGTERM");
    await until("the worker to begin stopping", () => /stopping: no new jobs/.test(w.log()));
    writeFileSync(release, "");
    assert.equal(await running.resultAsync(30), "finished");
    assert.equal(await w.exited, 0);
    assert.equal(queued.done(), false, "the worker took no new job");
    assert.match(w.log(), /INFO \[MainThread\] threading\.worker: SIGTERM: stopping gracefully/);
    assert.equal(queued.cancel(), true);
    await ex.shutdownAsync();
  });
  test(
    "SIGTERM stops a worker whose Redis is gone for good: once its jobs have finished it waits a grace, then exits 0",
    T,
    async () => {
      // Before, BullMQ's close waited for ever to store the running job's outcome and disconnect.
      // The job runs while Redis goes away, so its outcome cannot be stored whatever the timing.
      const gone = await startRedis();
      const w = await startWorker(gone.url, "gone", ["--threads", "1", "--allow", "./tasks/"], {
        THREADING_WORKER_CLOSE_GRACE: "1",
      });
      workers.push(w);
      const ex = new RedisExecutor({ redis: gone.url, queue: "gone", connectTimeout: 1 });
      const file = join(tmp, "gone-started");
      const release = join(tmp, "gone-release");
      const running = ex.submit(work("startedUntil"), file, release, "finished");
      await until("the task to start", () => existsSync(file));
      await gone.stop();
      w.proc.kill("SIGTERM");
      await until("the worker to begin stopping", () => /stopping: no new jobs/.test(w.log()));
      writeFileSync(release, "");
      assert.equal(await w.exited, 0);
      assert.match(
        w.log(),
        /WARNING \[MainThread\] threading\.worker: stopping: the running jobs have finished but Redis has not answered for 1 s/,
      );
      assert.match(w.log(), /stopped after 1 jobs/);
      // The client learns nothing more from Redis: its future fails once connectTimeout has passed.
      await assert.rejects(running.resultAsync(30), { name: "BrokenExecutor" });
      await ex.shutdownAsync();
    },
  );
  test("SIGTERM stops an idle worker whose Redis is gone for good: it exits 0", T, async () => {
    // Whether BullMQ's close answers at once (ioredis already knows the connection is gone) or
    // waits (a command queued for the reconnection), the worker exits: at worst after the grace.
    const gone = await startRedis();
    const w = await startWorker(gone.url, "gone-idle", ["--threads", "1", "--allow", "./tasks/"], {
      THREADING_WORKER_CLOSE_GRACE: "1",
    });
    workers.push(w);
    const ex = new RedisExecutor({ redis: gone.url, queue: "gone-idle" });
    assert.equal(await ex.submit(work("double"), 2).resultAsync(30), 4);
    await ex.shutdownAsync();
    await gone.stop();
    w.proc.kill("SIGTERM");
    assert.equal(await w.exited, 0);
    assert.match(w.log(), /stopped after 1 jobs/);
  });
  test("a job lost with its worker more than --max-stalled times fails its future with a RuntimeError", T, async () => {
    const args = [
      "--threads",
      "1",
      "--concurrency",
      "1",
      "--allow",
      "./tasks/",
      "--max-stalled",
      "0",
      ...quickRecovery,
    ];
    const both = await Promise.all([
      startWorker(redis.url, "maxstalled", args),
      startWorker(redis.url, "maxstalled", args),
    ]);
    workers.push(...both);
    const ex = new RedisExecutor({ redis: redis.url, queue: "maxstalled" });
    const file = join(tmp, "maxstalled-started");
    const f = ex.submit(work("started"), file, 60, "never");
    await until("the task to start", () => existsSync(file) && readFileSync(file, "utf8") !== "");
    const pid = Number(readFileSync(file, "utf8"));
    const victim = both.find((w) => w.proc.pid === pid);
    assert.ok(victim, `the task runs on one of the workers (pid ${pid})`);
    victim.proc.kill("SIGKILL");
    // The other worker's stalled-job check finds it lost once, more than --max-stalled 0 allows.
    await assert.rejects(f.resultAsync(40), (e: Error) => {
      assert.equal(e.name, "RuntimeError");
      assert.match(e.message, /^the job failed in BullMQ: .*stalled more than allowable limit/);
      return true;
    });
    assert.equal(f.cancelled(), false);
    await ex.shutdownAsync();
  });
  test(
    "a job lost in Redis (removed by another client, or its data lost) fails its future with RuntimeError",
    T,
    async () => {
      // No worker on this queue: the jobs wait. The executor looks up jobs without news every 0.5 s.
      const saved = process.env.THREADING_REDIS_SWEEP_SECONDS;
      process.env.THREADING_REDIS_SWEEP_SECONDS = "0.5";
      const ex = new RedisExecutor({ redis: redis.url, queue: "lost" });
      if (saved === undefined) delete process.env.THREADING_REDIS_SWEEP_SECONDS;
      else process.env.THREADING_REDIS_SWEEP_SECONDS = saved;
      const { Queue } = await import("bullmq");
      const other = new Queue("lost", { connection: { url: redis.url } });
      try {
        const removed = ex.submit(work("double"), 1);
        let waiting: { remove(): Promise<void> }[] = [];
        for (let i = 0; i < 200 && waiting.length === 0; i++) {
          waiting = await other.getWaiting();
          if (waiting.length === 0) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(waiting.length, 1);
        await waiting[0]?.remove();
        await assert.rejects(removed.resultAsync(30), (e: Error) => {
          assert.equal(e.name, "RuntimeError");
          assert.match(e.message, /the job is gone: the job was removed from the queue/);
          return true;
        });
        assert.equal(removed.cancelled(), false);

        const flushed = ex.submit(work("double"), 2);
        for (let i = 0; i < 200 && (await other.getWaitingCount()) === 0; i++)
          await new Promise((r) => setTimeout(r, 50));
        const IORedis = (await import("ioredis")).default;
        const raw = new IORedis(redis.url);
        await raw.flushall(); // Redis loses everything (no event says so: the executor's sweep notices)
        raw.disconnect();
        await assert.rejects(flushed.resultAsync(30), (e: Error) => {
          assert.equal(e.name, "RuntimeError");
          assert.match(e.message, /the job is gone: the job is no longer in Redis/);
          return true;
        });
      } finally {
        await other.close();
        await ex.shutdownAsync({ cancelFutures: true });
      }
    },
  );
  test(
    "a client thread that dies fails every pending future with BrokenExecutor, and later submits too",
    T,
    async () => {
      // No worker on these queues: the jobs stay pending until the client thread dies (test hook).
      const { BrokenExecutor, setExcepthook } = await import("threading");
      // Its body fails: it says why before it ends.
      const ex = new RedisExecutor({ redis: redis.url, queue: "crash", testCrash: "throw" } as never);
      const fs = [1, 2, 3].map((i) => ex.submit(work("double"), i));
      await assert.rejects(fs[0]?.resultAsync(30) as Promise<unknown>, (e: Error) => {
        assert.ok(e instanceof BrokenExecutor);
        assert.match(e.message, /RedisExecutor-\d+ \(queue crash\) is broken: Error: test: the client thread fails/);
        return true;
      });
      assert.throws(() => fs[1]?.result(5), BrokenExecutor); // a blocking wait too
      assert.ok(fs.every((f) => f.done() && !f.cancelled()));
      assert.throws(() => ex.submit(work("double"), 4), BrokenExecutor);
      assert.throws(() => ex.map(work("double"), [1]), BrokenExecutor);
      ex.shutdown(); // returns: nothing is pending
      // A callback throws: the thread ends without a word; the executor sees it end (the thread table).
      const uncaught: string[] = [];
      setExcepthook(({ excValue }) => uncaught.push(String((excValue as Error)?.message)));
      try {
        const ex2 = new RedisExecutor({ redis: redis.url, queue: "crash", testCrash: "listener" } as never);
        const f = ex2.submit(work("double"), 5);
        await assert.rejects(f.resultAsync(30), (e: Error) => {
          assert.ok(e instanceof BrokenExecutor);
          assert.match(e.message, /its client thread \(the one that talks to Redis\) ended unexpectedly/);
          return true;
        });
        const blocked = new RedisExecutor({ redis: redis.url, queue: "crash", testCrash: "listener" } as never);
        const g = blocked.submit(work("double"), 6);
        assert.throws(() => g.result(30), BrokenExecutor); // a blocking wait notices it too
        await ex2.shutdownAsync();
        await blocked.shutdownAsync();
        assert.deepEqual(uncaught, [
          "test: a callback of the client thread throws",
          "test: a callback of the client thread throws",
        ]);
      } finally {
        setExcepthook(null);
      }
    },
  );
  test(
    "unreachable Redis: after connectTimeout the executor is broken, its futures fail, nothing waits for ever",
    T,
    async () => {
      const { BrokenExecutor } = await import("threading");
      const { createServer } = await import("node:net");
      // A port where nothing listens (taken, then freed).
      const port = await new Promise<number>((resolve) => {
        const srv = createServer().listen(0, "127.0.0.1", () => {
          const p = (srv.address() as { port: number }).port;
          srv.close(() => resolve(p));
        });
      });
      const ex = new RedisExecutor({ redis: `redis://127.0.0.1:${port}`, queue: "nowhere", connectTimeout: 1 });
      const t0 = Date.now();
      const fs = [1, 2].map((i) => ex.submit(work("double"), i));
      await assert.rejects(fs[0]?.resultAsync(30) as Promise<unknown>, (e: Error) => {
        assert.ok(e instanceof BrokenExecutor, String(e));
        assert.match(
          e.message,
          new RegExp(
            `is broken: Error: cannot reach Redis at redis://127\\.0\\.0\\.1:${port} for 1 s \\(connectTimeout\\): .*ECONNREFUSED`,
          ),
        );
        return true;
      });
      assert.ok(Date.now() - t0 < 20_000, "bounded");
      assert.throws(() => fs[1]?.result(5), BrokenExecutor);
      assert.throws(() => ex.submit(work("double"), 3), BrokenExecutor);
      ex.shutdown(); // returns

      // Redis goes away for good while jobs wait (no worker): the same, connectTimeout after it left.
      const gone = await startRedis();
      const ex2 = new RedisExecutor({ redis: gone.url, queue: "gone", connectTimeout: 1 });
      const f = ex2.submit(work("double"), 4);
      await new Promise((r) => setTimeout(r, 500));
      await gone.stop();
      await assert.rejects(f.resultAsync(30), (e: Error) => {
        assert.ok(e instanceof BrokenExecutor, String(e));
        assert.match(e.message, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ for 1 s \(connectTimeout\)/);
        return true;
      });
      await ex2.shutdownAsync(); // returns
    },
  );
});
