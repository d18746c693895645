// RedisExecutor (issue 13): tiny-task throughput beside bare BullMQ (a Queue + QueueEvents client and
// a Worker process doing the same work), and the CPU-bound speedup of 2 worker processes over 1, on a
// real redis-server started here. Run: npm run bench -- distributed
import { spawn } from "node:child_process";
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
import { median, printTable, type Row } from "./util.js";

const N = 4000;
const ROUNDS = 3;
const CPU_TASKS = 24;
const SPIN = 20_000_000; // ~60-100 ms of CPU per task
const work = (name: string) => ({ module: "./tasks/work.mjs", export: name });

async function ours(redis: Redis, queue: string): Promise<number> {
  const workers = [
    await startWorker(redis.url, queue, ["--threads", "2", "--concurrency", "16", "--allow", "./tasks/"]),
  ];
  const ex = new RedisExecutor({ redis: redis.url, queue });
  try {
    await ex.submit(work("double"), 1);
    const tp: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      const fs = [];
      for (let i = 0; i < N; i++) fs.push(ex.submit(work("double"), i));
      for (const f of fs) await f;
      tp.push(N / ((performance.now() - t) / 1000));
    }
    return median(tp);
  } finally {
    await ex.shutdownAsync();
    await teardown(undefined, workers);
  }
}

async function bare(redis: Redis, queue: string): Promise<number> {
  const { Queue, QueueEvents } = await import("bullmq");
  const proc = spawn(process.execPath, [`${root}bench/fixtures/bullmq-worker.mjs`, redis.url, queue, "16"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", r));
  await new Promise<void>((resolve) =>
    proc.stderr.on("data", (c: Buffer) => /worker on queue/.test(String(c)) && resolve()),
  );
  const q = new Queue(queue, { connection: { url: redis.url, maxRetriesPerRequest: null } });
  const events = new QueueEvents(queue, { connection: { url: redis.url, maxRetriesPerRequest: null } });
  await events.waitUntilReady();
  let waiting = new Map<string, (v: unknown) => void>();
  events.on("completed", ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
    waiting.get(jobId)?.(returnvalue);
    waiting.delete(jobId);
  });
  let seq = 0;
  try {
    const tp: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      waiting = new Map();
      const ps: Promise<unknown>[] = [];
      const jobs = [];
      for (let i = 0; i < N; i++) {
        const jobId = `b-${seq++}`;
        ps.push(new Promise((resolve) => waiting.set(jobId, resolve)));
        jobs.push({ name: "double", data: { x: i }, opts: { jobId, removeOnComplete: { age: 3600 } } });
      }
      await q.addBulk(jobs);
      await Promise.all(ps);
      tp.push(N / ((performance.now() - t) / 1000));
    }
    return median(tp);
  } finally {
    await events.close();
    await q.close();
    proc.kill("SIGTERM");
    await exited;
  }
}

async function cpu(redis: Redis, queue: string, processes: number): Promise<number> {
  const workers: Worker[] = [];
  for (let i = 0; i < processes; i++) {
    workers.push(await startWorker(redis.url, queue, ["--threads", "1", "--concurrency", "1", "--allow", "./tasks/"]));
  }
  const ex = new RedisExecutor({ redis: redis.url, queue });
  try {
    await Promise.all(workers.map(() => ex.submit(work("spin"), 1000)));
    const t = performance.now();
    const fs = [];
    for (let i = 0; i < CPU_TASKS; i++) fs.push(ex.submit(work("spin"), SPIN));
    for (const f of fs) await f;
    return (performance.now() - t) / 1000;
  } finally {
    await ex.shutdownAsync();
    await teardown(undefined, workers);
  }
}

export async function run(): Promise<void> {
  const why = missingRedis();
  if (why) {
    console.log(`\n## Distributed executor (issue 13)\n\nskipped: ${why}`);
    return;
  }
  const redis = await startRedis();
  try {
    const rows: Row[] = [];
    const b1 = await bare(redis, "bench-bare-1");
    const o1 = await ours(redis, "bench-ours-1");
    const b2 = await bare(redis, "bench-bare-2");
    const o2 = await ours(redis, "bench-ours-2");
    rows.push({
      what: `tiny tasks through Redis (${N} awaited, 1 worker process)`,
      value: (o1 + o2) / 2,
      unit: "tasks/s",
      baseline: (b1 + b2) / 2,
      baselineName: "bare BullMQ Queue+Worker",
    });
    const one = await cpu(redis, "bench-cpu-1", 1);
    const two = await cpu(redis, "bench-cpu-2", 2);
    rows.push({
      what: `CPU-bound speedup, 2 worker processes over 1 (${CPU_TASKS} tasks; target >= 1.8)`,
      value: one / two,
      unit: "x",
    });
    printTable("Distributed executor (issue 13)", rows);
  } finally {
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
