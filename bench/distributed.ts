// RedisExecutor (issue 13): tiny-task throughput beside bare BullMQ (a Queue + QueueEvents client and
// a Worker process doing the same work; rounds of the two alternate), with the CPU per task of each
// process; and the CPU-bound speedup of 2 worker processes (--threads 1 each) over 1, on tasks of a
// few ms and on coarse tasks of tens of ms, on a real redis-server started here. The speedup is a
// wall-time ratio, shown beside plain node processes doing the same tasks at the same moment (on a
// shared machine that is what the cores give now), with the CPU time of every process involved
// (workers, redis-server, this client) and the speedup that CPU time allows on 2 idle cores: on a
// 2-core box the client and Redis share the cores with the workers. With one job per task, bare
// BullMQ runs the same tasks in the same rounds (its Worker process running them on its own
// thread): what BullMQ alone costs per job here, the floor under ours. Run: npm run bench -- distributed
// Every wait here (a process starting, a round's jobs, a close) has a deadline (WAIT_MS): past it the
// section fails, saying what it waited for and what Redis and the worker processes were doing.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { RedisExecutor } from "threading/distributed";
import {
  missingRedis,
  root,
  type Redis,
  startRedis,
  startWorker,
  teardown,
  type Worker,
} from "../test/distributed/cluster.js";
import { alternate, median, printTable, type Row } from "./util.js";

const N = 4000;
/** Rounds of tiny tasks, each side. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CPU_ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 3);
/** The parts to run (default all): BENCH_DISTRIBUTED=tiny,cpu,chunk,coarse. */
const parts = (process.env.BENCH_DISTRIBUTED ?? "tiny,cpu,chunk,coarse").split(",");
/** CPU-bound tasks of a few ms each (~4.5 ms on an idle core here): spin rounds, and how many. */
const SPIN = 1_000_000;
const CPU_TASKS = 400;
/** Coarse tasks, what a distributed executor is for: tens of ms each (~45 ms here), and how many. */
const COARSE_SPIN = 10_000_000;
const COARSE_TASKS = 48;
const work = (name: string) => ({ module: "./tasks/work.mjs", export: name });
/** The deadline (ms) of every wait for work here: a round's jobs, the warm-up (its tasks take seconds). */
const WAIT_MS = Number(process.env.BENCH_WAIT_MS ?? 120_000);
/** The deadline (ms) of a process's start or a close. */
const START_MS = 30_000;

/** Child processes of this section, killed at its end whatever happened (a failed round leaves some). */
const children = new Set<ChildProcess>();
function track(proc: ChildProcess): void {
  children.add(proc);
  proc.once("exit", () => children.delete(proc));
}

/**
 * `p`, or a rejection after `ms` saying that the section waited for `what`, and what `state()` finds
 * then (Redis, the queue, the workers): a wait that never ends fails the section instead of hanging it.
 */
async function within<T>(
  what: string,
  p: Promise<T>,
  state?: () => Promise<string> | string,
  ms = WAIT_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(async () => {
      let detail = "";
      try {
        if (state)
          detail = await Promise.race([
            Promise.resolve(state()),
            new Promise<string>((r) => setTimeout(() => r("(its state was not read within 10 s)"), 10_000)),
          ]);
      } catch (e) {
        detail = `(its state could not be read: ${(e as Error)?.message ?? e})`;
      }
      reject(new Error(`bench distributed: waited ${ms / 1000} s for ${what}${detail ? `\n${detail}` : ""}`));
    }, ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a close or stop with a deadline; a failure is printed, not thrown (it must not hide the error
 * that led here). Whether it ended in time.
 */
async function cleanup(what: string, f: () => Promise<unknown>): Promise<boolean> {
  try {
    await within(what, f(), undefined, START_MS);
    return true;
  } catch (e) {
    console.error(`bench distributed: ${(e as Error)?.message ?? e}`);
    return false;
  }
}

/** Whether process `pid` is alive (and not a zombie), from /proc where there is one. */
function alive(pid: number | undefined): string {
  if (pid === undefined) return "no pid";
  try {
    process.kill(pid, 0);
  } catch {
    return "gone";
  }
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8")
      .replace(/^.*\) /, "")
      .split(" ")[0];
    return `alive (state ${state}, CPU ${sum(threadsCpu(pid)).toFixed(2)} s)`;
  } catch {
    return "alive";
  }
}

/** What redis-server and `queues` look like now (for a wait that ran out): PING, and each queue's job counts and event stream. */
async function redisState(redis: Redis, queues: string[]): Promise<string> {
  const { Redis: IORedis } = await import("ioredis");
  const client = new IORedis(redis.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  const lines = [`redis-server pid ${redis.pid()}: ${alive(redis.pid())}`];
  try {
    await client.connect();
    lines.push(`PING: ${await client.ping()}`);
    for (const q of queues) {
      const k = (s: string) => `bull:${q}:${s}`;
      const [wait, active, prioritized, delayed, completed, failed, events, lastEvent] = await Promise.all([
        client.llen(k("wait")),
        client.llen(k("active")),
        client.zcard(k("prioritized")),
        client.zcard(k("delayed")),
        client.zcard(k("completed")),
        client.zcard(k("failed")),
        client.xlen(k("events")),
        client.xrevrange(k("events"), "+", "-", "COUNT", 1),
      ]);
      const last = lastEvent[0] ? `${lastEvent[0][0]} ${lastEvent[0][1].join(" ")}` : "none";
      lines.push(
        `queue ${q}: wait ${wait}, active ${active}, prioritized ${prioritized}, delayed ${delayed}, completed ${completed}, failed ${failed}; events stream ${events} entries, last ${last}`,
      );
    }
  } catch (e) {
    lines.push(`Redis not readable: ${(e as Error)?.message ?? e}`);
  } finally {
    client.disconnect();
  }
  return lines.join("\n");
}

/** A process's state and the end of its output, for a wait that ran out. */
function processState(name: string, pid: number | undefined, log: string): string {
  return `${name} pid ${pid}: ${alive(pid)}; its output ends:\n${log.slice(-600) || "(nothing)"}`;
}

/**
 * A `threading worker` (test/distributed/cluster.ts's startWorker, which gives it 20 s to say it takes
 * jobs), tracked; a start that fails says what Redis looked like then.
 */
async function threadingWorker(redis: Redis, queue: string, args: string[]): Promise<Worker> {
  try {
    const w = await startWorker(redis.url, queue, args);
    track(w.proc);
    return w;
  } catch (e) {
    throw new Error(`bench distributed: ${(e as Error)?.message ?? e}\n${await redisState(redis, [queue])}`);
  }
}

/** A side of the tiny-task comparison: its worker process, and one round of N tasks from this process. */
interface Side {
  worker: number | undefined;
  round(): Promise<void>;
  close(): Promise<void>;
}

/** How many of `ps` have settled (looked at on the next turns of the event loop). */
async function settledCount(ps: Promise<unknown>[]): Promise<number> {
  let n = 0;
  for (const p of ps)
    p.then(
      () => n++,
      () => n++,
    );
  await new Promise((r) => setImmediate(r));
  return n;
}

function workersState(workers: Worker[]): string {
  return workers.map((w, i) => processState(`threading worker ${i + 1}`, w.proc.pid, w.log())).join("\n");
}

async function ours(redis: Redis, queue: string): Promise<Side> {
  const workers = [
    await threadingWorker(redis, queue, ["--threads", "2", "--concurrency", "16", "--allow", "./tasks/"]),
  ];
  const ex = new RedisExecutor({ redis: redis.url, queue });
  const state = (fs: Promise<unknown>[]) => async () =>
    `${await settledCount(fs)} of ${fs.length} futures settled\n${await redisState(redis, [queue])}\n${workersState(workers)}`;
  const first = [ex.submit(work("double"), 1)];
  await within(`the first task of RedisExecutor on ${queue}`, Promise.all(first), state(first));
  return {
    worker: workers[0]?.proc.pid,
    async round() {
      const fs = [];
      for (let i = 0; i < N; i++) fs.push(ex.submit(work("double"), i));
      await within(`${N} tiny tasks of RedisExecutor on ${queue}`, Promise.all(fs), state(fs));
    },
    async close() {
      await cleanup(`RedisExecutor on ${queue} to shut down`, () => ex.shutdownAsync());
      await cleanup(`the worker processes of ${queue} to end`, () => teardown(undefined, workers));
    },
  };
}

/** A bare BullMQ Worker process (bench/fixtures/bullmq-worker.mjs) running `task` on its own thread. */
interface BareWorker {
  pid: number | undefined;
  /** Its state and the end of its output (for a wait that ran out). */
  state(): string;
  stop(): Promise<void>;
}

async function bareWorker(
  redis: Redis,
  queue: string,
  concurrency: number,
  task: "double" | "spin",
): Promise<BareWorker> {
  const proc = spawn(
    process.execPath,
    [`${root}bench/fixtures/bullmq-worker.mjs`, redis.url, queue, String(concurrency), task],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  track(proc);
  let text = "";
  const exited = new Promise<number | null>((r) => proc.once("exit", r));
  const ready = new Promise<void>((resolve, reject) => {
    const on = (c: Buffer) => {
      text += String(c);
      if (/worker on queue/.test(text)) resolve();
    };
    proc.stdout.on("data", on);
    proc.stderr.on("data", on);
    void exited.then((code) =>
      reject(new Error(`the bare BullMQ worker on ${queue} exited (${code}) before it was ready:\n${text}`)),
    );
  });
  const state = () => processState(`bare BullMQ worker (${task}, ${queue})`, proc.pid, text);
  try {
    await within(
      `the bare BullMQ worker on ${queue} to start`,
      ready,
      async () => `${state()}\n${await redisState(redis, [queue])}`,
      START_MS,
    );
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  }
  return {
    pid: proc.pid,
    state,
    async stop() {
      proc.kill("SIGTERM");
      // Its close() waits for nothing here (no jobs left); a SIGKILL after 5 s all the same.
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Bare BullMQ's client side on `queue`: a Queue, and a QueueEvents reading the completions from the
 * event stream's position before any job of ours is added (`lastEventId`), as RedisExecutor's
 * client thread does. Left to its default, a QueueEvents reads from "$", the stream's end when its
 * first XREAD reaches Redis, which its waitUntilReady() does not wait for (bullmq issue 2874): a job
 * that completed before that XREAD is never reported. That was the hang of the whole run of
 * 2026-12-06: a fresh QueueEvents per CPU round, its warm-up jobs added at once, one of them done
 * before the XREAD (this process preempted between the two), and the round waiting for it for ever.
 */
async function bareClient(
  redis: Redis,
  queue: string,
  workers: BareWorker[],
): Promise<{
  /** Adds `jobs` (unique ids) and resolves once every one has completed; fails past WAIT_MS, or on a failed job. */
  run(
    jobs: { name: string; data: unknown; opts: { jobId: string } & Record<string, unknown> }[],
    what: string,
  ): Promise<void>;
  close(): Promise<void>;
}> {
  const { Queue, QueueEvents } = await import("bullmq");
  const connection = { url: redis.url, maxRetriesPerRequest: null };
  const q = new Queue(queue, { connection });
  const state = () => redisState(redis, [queue]);
  let lastEventId = "0-0";
  try {
    const client = (await within(
      `bare BullMQ's Queue on ${queue} to connect`,
      q.getBackend().client as Promise<unknown>,
      state,
      START_MS,
    )) as {
      xrevrange(...a: unknown[]): Promise<[string, unknown][]>;
    };
    const last = await within(
      `the end of ${queue}'s event stream`,
      client.xrevrange(q.keys.events, "+", "-", "COUNT", 1),
      state,
      START_MS,
    );
    if (last[0]) lastEventId = last[0][0];
  } catch (e) {
    await cleanup(`bare BullMQ's Queue on ${queue} to close`, () => q.close());
    throw e;
  }
  const events = new QueueEvents(queue, { connection, lastEventId });
  const errors: string[] = [];
  events.on("error", (e: Error) => errors.push(e?.message ?? String(e)));
  const waiting = new Map<string, { resolve(): void; reject(e: Error): void }>();
  events.on("completed", ({ jobId }: { jobId: string }) => {
    waiting.get(jobId)?.resolve();
    waiting.delete(jobId);
  });
  events.on("failed", ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
    waiting
      .get(jobId)
      ?.reject(new Error(`bench distributed: bare BullMQ job ${jobId} on ${queue} failed: ${failedReason}`));
    waiting.delete(jobId);
  });
  return {
    async run(jobs, what) {
      const done = jobs.map(
        (job) =>
          new Promise<void>((resolve, reject) => {
            waiting.set(job.opts.jobId, { resolve, reject });
          }),
      );
      const all = Promise.all(done);
      all.catch(() => {}); // a job failed while they were being added: reported below
      await within(`${what} to be added`, q.addBulk(jobs), state);
      await within(`${what} to complete`, all, async () => {
        const missing = jobs.map((j) => j.opts.jobId).filter((id) => waiting.has(id));
        return [
          `${missing.length} of ${jobs.length} jobs not reported completed (${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", ..." : ""})`,
          `QueueEvents errors: ${errors.slice(-3).join("; ") || "none"}`,
          await state(),
          ...workers.map((w) => w.state()),
        ].join("\n");
      });
    },
    async close() {
      await cleanup(`bare BullMQ's QueueEvents on ${queue} to close`, () => events.close());
      await cleanup(`bare BullMQ's Queue on ${queue} to close`, () => q.close());
    },
  };
}

async function bare(redis: Redis, queue: string): Promise<Side> {
  const worker = await bareWorker(redis, queue, 16, "double");
  let client: Awaited<ReturnType<typeof bareClient>>;
  try {
    client = await bareClient(redis, queue, [worker]);
  } catch (e) {
    await cleanup(`the bare BullMQ worker on ${queue} to stop`, () => worker.stop());
    throw e;
  }
  let seq = 0;
  const round = (n: number) => {
    const jobs = [];
    for (let i = 0; i < n; i++) {
      jobs.push({ name: "double", data: { x: i }, opts: { jobId: `b-${seq++}`, removeOnComplete: { age: 3600 } } });
    }
    return client.run(jobs, `${n} tiny bare BullMQ jobs on ${queue}`);
  };
  // The first job, as ours has (its first submit() before the rounds).
  await round(1);
  return {
    worker: worker.pid,
    round: () => round(N),
    async close() {
      await client.close();
      await cleanup(`the bare BullMQ worker on ${queue} to stop`, () => worker.stop());
    },
  };
}

/** One round's throughput (tasks/s) and CPU per task (ms) of this client process, the worker process and redis-server. */
interface TinyRound {
  rate: number;
  client: number;
  worker: number;
  redis: number;
}

/**
 * Tiny tasks, ours beside bare BullMQ: both set up once, then ROUNDS rounds of each, alternating
 * (bare, ours, ours, bare, bare, ...: see util.ts's alternate), so a change in the machine's load
 * hits both alike.
 */
async function tiny(redis: Redis): Promise<{ ours: TinyRound[]; bare: TinyRound[]; ratios: number[] }> {
  const b = await bare(redis, "bench-bare");
  let o: Side;
  try {
    o = await ours(redis, "bench-ours");
  } catch (e) {
    await b.close();
    throw e;
  }
  const sides = { bare: b, ours: o };
  const out = { ours: [] as TinyRound[], bare: [] as TinyRound[], ratios: [] as number[] };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of alternate(r, ["bare", "ours"] as const)) {
        const side = sides[name];
        const cpu = () => [sum(threadsCpu(process.pid)), sum(threadsCpu(side.worker)), sum(threadsCpu(redis.pid()))];
        const before = cpu();
        const t = performance.now();
        await side.round();
        const wall = (performance.now() - t) / 1000;
        const [client, worker, rds] = cpu().map((v, k) => ((v - (before[k] as number)) / N) * 1000);
        out[name].push({ rate: N / wall, client: client as number, worker: worker as number, redis: rds as number });
      }
      out.ratios.push((out.ours[r] as TinyRound).rate / (out.bare[r] as TinyRound).rate);
    }
  } finally {
    await sides.ours.close();
    await sides.bare.close();
  }
  return out;
}

/**
 * CPU seconds each thread of a process has used so far, from /proc (Linux; empty elsewhere): the
 * scheduler's own count in nanoseconds (schedstat) where the kernel keeps it, else user + system
 * time in clock ticks (10 ms each: over a few hundred jobs and a dozen threads, that rounding alone
 * is tenths of a ms per job).
 */
function threadsCpu(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let cpu: number;
      try {
        cpu = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]) / 1e9;
      } catch {
        const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")
          .replace(/^.*\) /, "")
          .split(" ");
        cpu = (Number(fields[11]) + Number(fields[12])) / TICKS;
      }
      out.set(`${pid}/${tid}`, cpu);
    }
  } catch {
    // gone, or not Linux
  }
  return out;
}
const TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
/** CPU seconds per thread since `before`. */
const since = (before: Map<string, number>, after: Map<string, number>) =>
  new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)]));

interface CpuRun {
  /** Wall time (s) of the tasks. */
  wall: number;
  /** CPU seconds during them: of the worker processes, of redis-server, of this client process. */
  workers: number;
  redis: number;
  client: number;
  /** CPU seconds of the busiest thread (a worker's pool thread): what cannot be spread over cores. */
  busiest: number;
}

/**
 * Runs `run` and measures it: its wall time, and the CPU time it took in the worker processes `pids`
 * (per thread, for the busiest), in redis-server and in this client process.
 */
async function measureCpu(redis: Redis, pids: (number | undefined)[], run: () => Promise<void>): Promise<CpuRun> {
  const sample = () => {
    const w = new Map<string, number>();
    for (const pid of pids) for (const [k, v] of threadsCpu(pid)) w.set(k, v);
    const u = process.cpuUsage();
    return { w, redis: sum(threadsCpu(redis.pid())), client: (u.user + u.system) / 1e6 };
  };
  const before = sample();
  const t = performance.now();
  await run();
  const wall = (performance.now() - t) / 1000;
  const after = sample();
  const w = since(before.w, after.w);
  return {
    wall,
    workers: sum(w),
    redis: after.redis - before.redis,
    client: after.client - before.client,
    busiest: Math.max(...w.values()),
  };
}

/**
 * `tasks` spin(`spin`) tasks through Redis on `processes` worker processes of 1 thread each: one
 * submit() per task, or map() with `chunksize` calls per job.
 */
async function cpu(
  redis: Redis,
  queue: string,
  processes: number,
  spin: number,
  tasks: number,
  chunksize?: number,
): Promise<CpuRun> {
  const workers: Worker[] = [];
  let ex: RedisExecutor | undefined;
  try {
    for (let i = 0; i < processes; i++) {
      // One pool thread each (so one core each); the default concurrency (2 jobs per thread) keeps the
      // next job at hand while a task runs, as it is for users.
      workers.push(await threadingWorker(redis, queue, ["--threads", "1", "--allow", "./tasks/"]));
    }
    const executor = new RedisExecutor({ redis: redis.url, queue });
    ex = executor;
    const state = (fs: Promise<unknown>[]) => async () =>
      `${await settledCount(fs)} of ${fs.length} futures settled\n${await redisState(redis, [queue])}\n${workersState(workers)}`;
    // Warm-up: every worker's pool thread started and the task module imported.
    const warm = Array.from({ length: 8 * processes }, () => executor.submit(work("spin"), spin / 10));
    await within(`the warm-up tasks of RedisExecutor on ${queue}`, Promise.all(warm), state(warm));
    return await measureCpu(
      redis,
      workers.map((worker) => worker.proc.pid),
      async () => {
        if (chunksize === undefined) {
          const fs = [];
          for (let i = 0; i < tasks; i++) fs.push(executor.submit(work("spin"), spin));
          await within(`${tasks} spin tasks of RedisExecutor on ${queue}`, Promise.all(fs), state(fs));
        } else {
          const all = (async () => {
            for await (const _ of executor.mapAsync(work("spin"), new Array(tasks).fill(spin), { chunksize })) {
              // results in order
            }
          })();
          await within(`map() of ${tasks} spin tasks (chunksize ${chunksize}) on ${queue}`, all, async () =>
            [await redisState(redis, [queue]), workersState(workers)].join("\n"),
          );
        }
      },
    );
  } finally {
    if (ex) await cleanup(`RedisExecutor on ${queue} to shut down`, () => (ex as RedisExecutor).shutdownAsync());
    await cleanup(`the worker processes of ${queue} to end`, () => teardown(undefined, workers));
  }
}

/**
 * The same `tasks` spin(`spin`) tasks, one job each, on bare BullMQ: `processes` Worker processes
 * (bench/fixtures/bullmq-worker.mjs, concurrency 2 as ours, the task run on the Worker's own
 * thread), a Queue (one addBulk) and QueueEvents in this process (see bareClient). What BullMQ alone
 * costs per job on this machine: the floor under ours.
 */
async function cpuBare(redis: Redis, queue: string, processes: number, spin: number, tasks: number): Promise<CpuRun> {
  const workers: BareWorker[] = [];
  let client: Awaited<ReturnType<typeof bareClient>> | undefined;
  const go = (c: NonNullable<typeof client>, n: number, x: number, tag: string) => {
    const jobs = [];
    for (let i = 0; i < n; i++) {
      jobs.push({ name: "spin", data: { x }, opts: { jobId: `${tag}-${i}`, removeOnComplete: { age: 3600 } } });
    }
    return c.run(jobs, `${n} bare BullMQ spin jobs (${tag}) on ${queue}`);
  };
  try {
    for (let i = 0; i < processes; i++) workers.push(await bareWorker(redis, queue, 2, "spin"));
    const c = await bareClient(redis, queue, workers);
    client = c;
    await go(c, 8 * processes, spin / 10, "warm");
    return await measureCpu(
      redis,
      workers.map((worker) => worker.pid),
      () => go(c, tasks, spin, "task"),
    );
  } finally {
    await client?.close();
    for (const worker of workers) await cleanup(`the bare BullMQ worker on ${queue} to stop`, () => worker.stop());
  }
}

/**
 * The machine's own limit at this moment, without Redis or threading: the same `tasks` spin tasks
 * split over `processes` plain node processes started together. Wall time (s), and the CPU seconds
 * of the tasks themselves.
 */
async function plain(processes: number, spin: number, tasks: number): Promise<{ wall: number; cpu: number }> {
  const file = `${root}test/fixtures/distributed/tasks/work.mjs`;
  const code = (n: number) =>
    `const { spin } = await import(${JSON.stringify(file)}); spin(${spin / 10});` +
    `process.stdin.once("data", () => { const u = process.cpuUsage(); for (let i = 0; i < ${n}; i++) spin(${spin});` +
    "const d = process.cpuUsage(u); process.stdout.write(' ' + (d.user + d.system) / 1e6, () => process.exit(0)); });" +
    "process.stdout.write('ready');";
  const procs = Array.from({ length: processes }, (_, i) => {
    const n = Math.floor(tasks / processes) + (i < tasks % processes ? 1 : 0);
    const p = spawn(process.execPath, ["--input-type=module", "-e", code(n)], { stdio: ["pipe", "pipe", "inherit"] });
    track(p);
    return p;
  });
  const outputs = procs.map((p) => {
    let text = "";
    p.stdout.on("data", (c: Buffer) => {
      text += c.toString();
    });
    return () => text;
  });
  const exited = procs.map((p) => new Promise((r) => p.once("exit", r)));
  const state = () =>
    procs.map((p, i) => processState(`plain node process ${i + 1}`, p.pid, outputs[i]?.() ?? "")).join("\n");
  const ready = (async () => {
    while (!outputs.every((o) => o().startsWith("ready"))) {
      if (procs.some((p) => p.exitCode !== null || p.signalCode !== null))
        throw new Error(`bench distributed: a plain node process exited before it was ready\n${state()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await within(`${processes} plain node processes to start`, ready, state, START_MS);
  const t = performance.now();
  for (const p of procs) p.stdin.write("go");
  await within(`${processes} plain node processes to run ${tasks} spin tasks`, Promise.all(exited), state);
  const wall = (performance.now() - t) / 1000;
  return { wall, cpu: outputs.reduce((total, o) => total + Number(o().slice("ready".length)), 0) };
}

/**
 * The rows of the CPU-bound speedup of 2 worker processes over 1 for one way of sending the tasks:
 * the wall times (1 and 2 processes alternate, medians of CPU_ROUNDS each, as the machine's load
 * drifts), beside plain node processes doing the same at the same moment; and, as wall times on a
 * shared machine say little, where the CPU went and the speedup that allows on 2 idle cores.
 */
async function cpuRows(redis: Redis, rows: Row[], spin: number, tasks: number, chunksize?: number): Promise<void> {
  const ours1: CpuRun[] = [];
  const ours2: CpuRun[] = [];
  const plain1: { wall: number; cpu: number }[] = [];
  const plain2: { wall: number; cpu: number }[] = [];
  // Bare BullMQ with the same tasks one job each (not for map() chunks: BullMQ has no such thing).
  const withBare = chunksize === undefined;
  const bare1: CpuRun[] = [];
  const bare2: CpuRun[] = [];
  const q = `bench-cpu-${chunksize ?? 0}-${spin}`;
  for (let r = 0; r < CPU_ROUNDS; r++) {
    ours1.push(await cpu(redis, `${q}-1-${r}`, 1, spin, tasks, chunksize));
    ours2.push(await cpu(redis, `${q}-2-${r}`, 2, spin, tasks, chunksize));
    if (withBare) {
      bare1.push(await cpuBare(redis, `${q}-bare1-${r}`, 1, spin, tasks));
      bare2.push(await cpuBare(redis, `${q}-bare2-${r}`, 2, spin, tasks));
    }
    plain1.push(await plain(1, spin, tasks));
    plain2.push(await plain(2, spin, tasks));
  }
  const m = <T>(runs: T[], f: (r: T) => number) => median(runs.map(f));
  const task = m([...plain1, ...plain2], (r) => r.cpu) / tasks; // CPU seconds of one task alone
  const how = chunksize === undefined ? "one submit() each" : `map() with chunksize ${chunksize}`;
  rows.push({
    what: `CPU-bound speedup, 2 worker processes (--threads 1 each) over 1, wall time: ${tasks} tasks of ${(task * 1000).toFixed(1)} ms CPU, ${how} (target >= 1.8)`,
    value: m(ours1, (r) => r.wall) / m(ours2, (r) => r.wall),
    unit: "x",
    baseline: m(plain1, (r) => r.wall) / m(plain2, (r) => r.wall),
    baselineName: "2 plain node processes over 1, same tasks, same moment (what the machine gives now)",
  });
  // CPU time hardly depends on the load: what the tasks cost through Redis, in every process (the
  // workers, redis-server, this client), beside the task alone.
  const per = (runs: CpuRun[], f: (r: CpuRun) => number) => (m(runs, f) / tasks) * 1000;
  const beyond = (runs: CpuRun[]) =>
    `beyond the task: worker processes ${(per(runs, (r) => r.workers) - task * 1000).toFixed(2)}, redis-server ${per(
      runs,
      (r) => r.redis,
    ).toFixed(2)}, client ${per(runs, (r) => r.client).toFixed(2)} ms`;
  const all = (r: CpuRun) => r.workers + r.redis + r.client;
  rows.push({
    what: `  CPU per task through Redis, all processes, 2 workers (${beyond(ours2)})`,
    value: per(ours2, all),
    unit: "ms",
    baseline: task * 1000,
    baselineName: "the task alone",
  });
  // On 2 idle cores, a run takes at least its busiest thread's CPU time (a pool thread: tasks run
  // one after another there) and at least half of all the CPU time (both cores busy). With 1
  // worker, the other core takes the rest (its BullMQ thread, redis-server, the client) for free.
  const least = (r: CpuRun) => Math.max(r.busiest, all(r) / 2);
  const allowed = (ones: CpuRun[], twos: CpuRun[]) =>
    median(ones.map((one, i) => least(one) / least(twos[i] as CpuRun)));
  rows.push({
    what: "  speedup that CPU time allows on 2 idle cores (derived from CPU time, not a wall time)",
    value: allowed(ours1, ours2),
    unit: "x",
    ...(withBare
      ? {
          baseline: allowed(bare1, bare2),
          baselineName: "bare BullMQ, the same tasks one job each (its Worker runs them on its own thread)",
        }
      : {}),
  });
  if (withBare) {
    // What BullMQ alone costs per job here, measured in the same rounds: the floor under ours.
    rows.push({
      what: `  the same tasks on bare BullMQ, CPU per task in all processes, 2 workers (${beyond(bare2)}); wall time 2 over 1 ${(
        m(bare1, (r) => r.wall) / m(bare2, (r) => r.wall)
      ).toFixed(2)}x`,
      value: per(ours2, all),
      unit: "ms",
      baseline: per(bare2, all),
      baselineName: "bare BullMQ",
    });
  }
}

export async function run(): Promise<void> {
  const why = missingRedis();
  if (why) {
    console.log(`\n## Distributed executor (issue 13)\n\nskipped: ${why}`);
    return;
  }
  const redis = await within("redis-server to start", startRedis(), undefined, START_MS);
  try {
    const rows: Row[] = [];
    const loadTiny = loadavg()
      .map((x) => x.toFixed(1))
      .join(" ");
    const t = parts.includes("tiny") ? await tiny(redis) : undefined;
    const m = (runs: TinyRound[], f: (r: TinyRound) => number) => median(runs.map(f));
    if (t)
      rows.push({
        what: `tiny tasks through Redis (${N} awaited, 1 worker process; medians of ${ROUNDS} rounds each, alternating; round by round: ${t.ratios
          .map((x) => x.toFixed(2))
          .join(", ")}) (target >= 0.8)`,
        value: m(t.ours, (r) => r.rate),
        unit: "tasks/s",
        baseline: m(t.bare, (r) => r.rate),
        baselineName: "bare BullMQ Queue+Worker (the same rounds)",
      });
    if (t) {
      // On a shared machine the wall-time ratio swings with the other sessions' load; CPU time does
      // not. On 2 idle cores the throughput of each side is bound by the CPU time of all its
      // processes per task (client, worker, redis-server): that bound's ratio, round by round.
      const all = (r: TinyRound) => r.client + r.worker + r.redis;
      const byCpu = t.ours.map((r, i) => all(t.bare[i] as TinyRound) / all(r));
      rows.push({
        what: `  the same, the ratio that CPU time allows on 2 idle cores (bare BullMQ's CPU per task in all processes / ours; round by round: ${byCpu
          .map((x) => x.toFixed(2))
          .join(", ")}) (derived from CPU time, not a wall time)`,
        value: median(byCpu),
        unit: "x",
      });
    }
    for (const [what, f] of t === undefined
      ? []
      : ([
          ["client process", (r: TinyRound) => r.client],
          ["worker process", (r: TinyRound) => r.worker],
          ["redis-server", (r: TinyRound) => r.redis],
        ] as const)) {
      rows.push({
        what: `  CPU per tiny task, ${what}`,
        value: m(t.ours, f) * 1000,
        unit: "us",
        baseline: m(t.bare, f) * 1000,
        baselineName: "bare BullMQ",
      });
    }
    console.log(`(load average before the tiny tasks: ${loadTiny})`);
    const loadBefore = loadavg()
      .map((x) => x.toFixed(1))
      .join(" ");
    if (parts.includes("cpu")) await cpuRows(redis, rows, SPIN, CPU_TASKS);
    // The same tasks 10 to a job: BullMQ's cost per job (which is most of the cost here) spread out.
    if (parts.includes("chunk")) await cpuRows(redis, rows, SPIN, CPU_TASKS, 10);
    // Coarse tasks, one submit() each: the cost per job is small beside each task.
    if (parts.includes("coarse")) await cpuRows(redis, rows, COARSE_SPIN, COARSE_TASKS);
    console.log(
      `(load average before / after the CPU-bound rows: ${loadBefore} / ${loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")}; ${availableParallelism()} cores)`,
    );
    printTable("Distributed executor (issue 13)", rows);
  } finally {
    // A failed round may leave processes behind: none outlives the section.
    for (const p of children) p.kill("SIGKILL");
    if (!(await cleanup("redis-server to stop", () => redis.stop()))) {
      const pid = redis.pid();
      if (pid !== undefined) process.kill(pid, "SIGKILL");
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
