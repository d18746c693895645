// Executors: tiny-task throughput (1e5 tasks returning their argument, 2 threads) and the latency of
// one task awaited at a time, for threading's ThreadPoolExecutor beside the bare postMessage limits
// (a hand-written echo pool of 2 workers that batches, and one postMessage round trip), piscina,
// tinypool and CPython's ThreadPoolExecutor (a python3 subprocess), in the same run.
// Run: npm run build && node --import tsx bench/futures.ts
// Every pool is warmed up first (a throughput round and a latency round, unmeasured); the latency
// is measured before the throughput, so the garbage of 1e5 tasks is not collected in it. The
// executor and the bare pools are measured in alternating rounds (see alternating()), piscina,
// tinypool and CPython alone after them; every figure is a median of rounds.
//
// One task awaited at a time against the bare round trip (issue 14's target: <= 1.2x) is measured
// in short interleaved blocks: LAT_BLOCK bare round trips to an echo on the executor's pool thread,
// LAT_BLOCK tasks of the executor, LAT_BLOCK bare round trips to the bare echo Worker (their order
// reversed every other set, so the executor's block is next to both; LAT_WARM_SETS unmeasured sets,
// then LAT_PAIRS measured), and the row's ratio is the median of the sets' ratios of the executor to
// the echo Worker. Why: on the shared 2-vCPU VM a round trip between two threads runs in one of two
// modes, ~20 µs when the kernel keeps both threads on one vCPU (each wake a local switch) and 50 µs
// to 1 ms when they sit on the two vCPUs (each wake an IPI to the other vCPU, halted or busy with
// other processes; docs/benchmarks.md, "The awaited task's two modes"). The mode belongs to a pair
// of threads and flips within milliseconds: rounds of 2000 tasks a side (the method before
// 2026-12-06 10:00 UTC) often ran their two sides in different modes and gave 0.5x or 2x; blocks of
// 200 next to each other do in about one set of ten, which the median of the sets' ratios leaves
// out. The echo on the pool thread runs between the very threads the awaited task does (the same
// mode in every set), and is printed beside: it is not the row's baseline, because a MessageChannel
// port costs the main thread a few % more than a Worker's own port (the executor's port is one too),
// and the baseline is the fastest honest round trip: the echo Worker answering in its 'message'
// handler.
// Because a pair's mode sticks (on a quiet machine one pair can stay apart for the whole section while
// the other stays packed, whatever the threads: docs/benchmarks.md), 20 more sets of the executor and
// the echo Worker follow with the placement forced (Linux, taskset: forcedSets()), onto one vCPU,
// then two: both sides in the same mode in every run.
// FUTURES_BENCH_QUICK=1: the executor and the bare baselines only (no piscina, tinypool, CPython).
// FUTURES_BENCH_FORCED=0: no forced sets.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import Piscina from "piscina";
import { Barrier, getIdent, ThreadPoolExecutor, wait } from "threading";
import { Tinypool } from "tinypool";
import { alternate, median, python, ratios } from "./util.js";

const N = 100_000;
/** Awaited tasks of piscina, tinypool and CPython per latency round (each measured alone). */
const SEQ = 2_000;
/** Throughput rounds of the executor and the bare pools (alternating). */
const ROUNDS = 5;
/** Throughput rounds of piscina, tinypool and CPython (each measured alone, after). */
const OTHER_ROUNDS = 3;
/** Latency rounds of piscina, tinypool and CPython (SEQ awaits each, measured alone). */
const LAT_ROUNDS = 7;
/** Tasks a latency block of the executor and of the bare round trip (see the file comment). */
const LAT_BLOCK = 200;
/** Sets of latency blocks (the executor's and the two bare round trips', interleaved). */
const LAT_PAIRS = 60;
/** Unmeasured sets before them (the JIT's warm-up, see alternating()). */
const LAT_WARM_SETS = 20;
/** Sets of the awaited task and the echo Worker with the placement forced, per mode (forcedSets()). */
const FORCED_SETS = 20;
const echoFile = new URL("./fixtures/echo-worker.mjs", import.meta.url).href;
const bareFile = new URL("./fixtures/echo-pool-worker.mjs", import.meta.url);
/** Tasks per message of the bare pool (the executor's largest batch too, balance.ts). */
const BATCH = 512;

/** Sets of one vCPU or two, forced (forcedSets()): each side's median block and the sets' ratios (wall, CPU). */
interface Forced {
  cpus: "one vCPU" | "two vCPUs";
  ours: number;
  bare: number;
  wall: number[];
  cpu: number[];
}

interface Result {
  name: string;
  throughput: number; // tasks/s
  latency: number; // µs per awaited task
  /** CPU time of the whole process (all its threads) per task, µs: throughput run, sequential run. */
  cpu?: [number, number];
  /** Round by round (where the pool is measured in rounds alternating with the bare ones): tasks/s, µs per awaited task. */
  rounds?: [number[], number[]];
  /**
   * The awaited task against the bare round trip, block by block (pairs of interleaved blocks): the
   * ratios of wall time and of CPU time of each pair.
   */
  blocks?: { wall: number[]; cpu: number[] };
  /** The awaited task against the echo Worker with the placement forced (forcedSets()). */
  forced?: Forced[];
}

/** CPU time (user + system, all threads of this process) in µs since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

/** A pool measured in rounds: a block of tasks awaited one at a time, one round of N tasks at once. */
interface Rounds {
  /** `n` tasks awaited one at a time: µs per task, and CPU µs per task. */
  latency(n: number): Promise<[number, number]>;
  /** tasks/s, and CPU µs per task. */
  throughput(): Promise<[number, number]>;
  close(): Promise<unknown>;
}

/** Times `run` (wall µs and process CPU µs), per task of `tasks`. */
async function timedRound(tasks: number, run: () => Promise<void> | void): Promise<[number, number]> {
  const c = process.cpuUsage();
  const t = performance.now();
  await run();
  const wall = (performance.now() - t) * 1000;
  return [wall / tasks, cpuSince(c) / tasks];
}

/** `n` round trips awaited one at a time over `port`, whose other end echoes (see echoOn()). */
function echoRounds(port: MessagePort): (n: number) => Promise<[number, number]> {
  let answer: (v: unknown) => void = () => {};
  port.on("message", (m: unknown) => answer(m));
  const one = (x: number) =>
    new Promise<unknown>((resolve) => {
      answer = resolve;
      port.postMessage(x);
    });
  return (n) =>
    timedRound(n, async () => {
      for (let i = 0; i < n; i++) await one(i);
    });
}

/**
 * The executor (2 threads), warmed up; and a bare echo on the very pool thread that runs the tasks
 * awaited one at a time: a MessagePort whose 'message' handler posts each message back, as the bare
 * echo worker's does. Its round trip runs between the same two OS threads as the awaited task, so
 * the kernel's placement of the pair (the VM's two modes) is the same for both.
 */
/** The executor's rounds, with the bare echo on its pool thread. */
interface OursRounds extends Rounds {
  /** `n` bare round trips to the echo on the pool thread awaited tasks run on: as latency(). */
  echo(n: number): Promise<[number, number]>;
  /** Throws unless awaited tasks still run on the echo's thread. */
  check(): Promise<void>;
  /** The OS thread id of the pool thread awaited tasks run on (Linux). */
  tid(): Promise<number>;
}

async function ours(): Promise<OursRounds> {
  const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
  const echo = (x: number) => x;
  ex.submit(echo, 0).result();
  ex.submit(echo, 0);
  ex.submit(echo, 0).result();
  // Warm-up, unmeasured, as for every pool here: a throughput round and a latency round.
  wait(Array.from({ length: N / 10 }, (_, i) => ex.submit(echo, i)));
  for (let i = 0; i < SEQ; i++) await ex.submit(echo, i);
  // An echo port on each of the two pool threads (the barrier holds each setup task until the
  // other runs, so they run on two threads), then the one on the thread awaited tasks go to.
  const barrier = new Barrier(2);
  const channels = [new MessageChannel(), new MessageChannel()];
  const echoOn = (port: MessagePort, b: Barrier) => {
    b.wait();
    port.on("message", (m: unknown) => port.postMessage(m));
    return getIdent();
  };
  const idents = await Promise.all(
    channels.map((c) => ex.submitWith({ transferList: [c.port2] }, echoOn, c.port2, barrier)),
  );
  const awaitedOn = () => ex.submit(() => getIdent());
  const thread = await awaitedOn();
  const channel = channels[idents.indexOf(thread)];
  if (channel === undefined) throw new Error(`awaited tasks ran on thread ${thread}, the echoes on ${idents}`);
  const echoLatency = echoRounds(channel.port1);
  await echoLatency(SEQ);
  return {
    latency: (n) =>
      timedRound(n, async () => {
        for (let i = 0; i < n; i++) await ex.submit(echo, i);
      }),
    echo: echoLatency,
    async throughput() {
      const [us, cpu] = await timedRound(N, () => {
        const fs = [];
        for (let i = 0; i < N; i++) fs.push(ex.submit(echo, i));
        wait(fs);
      });
      return [1e6 / us, cpu];
    },
    close: () => {
      for (const c of channels) c.port1.close();
      return ex.shutdownAsync();
    },
    async check() {
      const now = await awaitedOn();
      if (now !== thread) throw new Error(`awaited tasks moved from thread ${thread} to ${now}, the echo's`);
    },
    tid: () =>
      ex.submit(async () => Number((await import("node:fs")).readlinkSync("/proc/thread-self").split("/").pop())),
  };
}

async function pool(
  name: string,
  run: (x: number) => Promise<unknown>,
  close: () => Promise<unknown>,
): Promise<Result> {
  await Promise.all([run(0), run(0)]);
  await Promise.all(Array.from({ length: N / 10 }, (_, i) => run(i)));
  for (let i = 0; i < SEQ; i++) await run(i);
  const lat: number[] = [];
  for (let r = 0; r < LAT_ROUNDS; r++) {
    const t = performance.now();
    for (let i = 0; i < SEQ; i++) await run(i);
    lat.push(((performance.now() - t) * 1000) / SEQ);
  }
  const tp: number[] = [];
  for (let r = 0; r < OTHER_ROUNDS; r++) {
    const t = performance.now();
    const ps = [];
    for (let i = 0; i < N; i++) ps.push(run(i));
    await Promise.all(ps);
    tp.push(N / ((performance.now() - t) / 1000));
  }
  await close();
  return { name, throughput: median(tp), latency: median(lat) };
}

/**
 * The bare limits, no library: (throughput) a hand-written pool of 2 workers: the N calls are
 * spread over the workers in batches of BATCH (one postMessage each way per batch) and every
 * result is stored in order; (latency) one worker, one postMessage and its answer awaited per call.
 * `perCall`: the same pool sending one message per call each way (all in flight at once), the
 * plain echo pool a user writes first (its latency round is the same round trip).
 */
async function bare(): Promise<{ batched: Rounds; perCall: Rounds; tid: () => Promise<number> }> {
  const workers = [new Worker(bareFile), new Worker(bareFile)];
  let results: unknown[] = [];
  let got = 0;
  let done: () => void = () => {};
  let answer: (v: unknown) => void = () => {};
  for (const w of workers) {
    w.on("message", (m: unknown) => {
      if (typeof m === "number") {
        answer(m);
        return;
      }
      const out = m as number[];
      const base = out[0] as number;
      for (let i = 1; i < out.length; i++) results[base + i - 1] = out[i];
      got += out.length - 1;
      if (got === results.length) done();
    });
  }
  const one = (w: Worker, x: number | "tid") =>
    new Promise<unknown>((resolve) => {
      answer = resolve;
      w.postMessage(x);
    });
  for (const w of workers) await one(w, 0);
  for (let i = 0; i < SEQ; i++) await one(workers[0] as Worker, i);
  /** n calls in batches of `batch` over the 2 workers; resolves once every result is stored. */
  const round = (n: number, perMessage = BATCH): Promise<void> => {
    results = new Array(n);
    got = 0;
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    for (let base = 0, k = 0; base < n; base += perMessage, k++) {
      const size = Math.min(perMessage, n - base);
      const batch = new Array(size + 1);
      batch[0] = base;
      for (let i = 0; i < size; i++) batch[i + 1] = base + i;
      (workers[k % 2] as Worker).postMessage(batch);
    }
    return all;
  };
  await round(N / 10);
  await round(N / 10, 1);
  const w = workers[0] as Worker;
  const latency = (n: number) =>
    timedRound(n, async () => {
      for (let i = 0; i < n; i++) await one(w, i);
    });
  const throughput = async (perMessage: number): Promise<[number, number]> => {
    const [us, cpu] = await timedRound(N, () => round(N, perMessage));
    return [1e6 / us, cpu];
  };
  const close = () => Promise.all(workers.map((x) => x.terminate()));
  return {
    batched: { latency, throughput: () => throughput(BATCH), close },
    perCall: { latency, throughput: () => throughput(1), close: async () => {} },
    tid: async () => (await one(w, "tid")) as number,
  };
}

/**
 * The awaited task and the bare round trip to the echo Worker with the kernel's placement taken out
 * (Linux, with taskset): the main thread pinned to the first vCPU it may use, the pool thread and the
 * echo Worker pinned to that vCPU too (one vCPU: each wake a local switch) or to another (two vCPUs:
 * each wake an IPI), FORCED_SETS sets of a block of each (order reversed every other set, after 2
 * unmeasured), then every affinity is put back. So both sides are measured in the same mode, which
 * the sets left to the kernel do not promise (docs/benchmarks.md, "The awaited task's two modes").
 * Skipped (undefined) elsewhere, with one CPU, or with FUTURES_BENCH_FORCED=0.
 */
async function forcedSets(
  tids: [() => Promise<number>, () => Promise<number>],
  ours: (n: number) => Promise<[number, number]>,
  bare: (n: number) => Promise<[number, number]>,
): Promise<Forced[] | undefined> {
  if (process.platform !== "linux" || process.env.FUTURES_BENCH_FORCED === "0") return undefined;
  const allowed = readFileSync("/proc/self/status", "utf8").match(/^Cpus_allowed_list:\s*(\S+)/m)?.[1];
  const cpus = (allowed ?? "")
    .split(",")
    .flatMap((r) => {
      const [a, b] = r.split("-").map(Number) as [number, number | undefined];
      return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
    })
    .filter((c) => Number.isInteger(c));
  if (allowed === undefined || cpus.length < 2) return undefined;
  const partners = [await tids[0](), await tids[1]()];
  const pin = (tid: number, list: string) => execFileSync("taskset", ["-pc", list, String(tid)], { stdio: "ignore" });
  const out: Forced[] = [];
  try {
    for (const [name, cpu] of [
      ["one vCPU", cpus[0]],
      ["two vCPUs", cpus[1]],
    ] as const) {
      pin(process.pid, String(cpus[0]));
      for (const tid of partners) pin(tid, String(cpu));
      const lat = { ours: [] as number[], bare: [] as number[] };
      const cpuOf = { ours: [] as number[], bare: [] as number[] };
      const run = { ours, bare };
      for (let r = 0; r < FORCED_SETS + 2; r++) {
        for (const k of alternate(r, ["ours", "bare"] as const)) {
          const [us, c] = await run[k](LAT_BLOCK);
          if (r < 2) continue;
          lat[k].push(us);
          cpuOf[k].push(c);
        }
      }
      out.push({
        cpus: name,
        ours: median(lat.ours),
        bare: median(lat.bare),
        wall: ratios(lat.ours, lat.bare),
        cpu: ratios(cpuOf.ours, cpuOf.bare),
      });
    }
  } catch (e) {
    console.error(`futures: the forced placement sets were skipped: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  } finally {
    for (const tid of [process.pid, ...partners]) {
      try {
        pin(tid, allowed);
      } catch {
        // (a thread that ended has no affinity to restore)
      }
    }
  }
  return out;
}

/**
 * The executor beside the bare pools: LAT_PAIRS sets of latency blocks (LAT_BLOCK bare round trips
 * to the echo on the executor's pool thread, LAT_BLOCK tasks of the executor awaited one at a time,
 * LAT_BLOCK bare round trips to the echo Worker; their order reversed every other set, so the
 * executor's block is next to both), then ROUNDS throughput rounds (the executor, the batching bare
 * pool, the pool with a message per call; likewise alternating). Throughput: the medians of the
 * rounds. Latency: the median of each side's blocks, and each set's ratios to the echo Worker (in
 * `blocks`).
 */
async function alternating(): Promise<Result[]> {
  const executor = await ours();
  const bareSides = await bare();
  const sides = { ours: executor, batched: bareSides.batched, perCall: bareSides.perCall };
  const names = ["ours", "batched", "perCall"] as const;
  const latency = { ours: executor.latency, echo: executor.echo, batched: sides.batched.latency };
  const lat = { ours: [] as number[], echo: [] as number[], batched: [] as number[] };
  const latCpu = { ours: [] as number[], echo: [] as number[], batched: [] as number[] };
  const tp = { ours: [] as number[], batched: [] as number[], perCall: [] as number[] };
  const tpCpu = { ours: [] as number[], batched: [] as number[], perCall: [] as number[] };
  // Unmeasured sets first: until then V8 still optimizes the executor's await path on its helper
  // threads (~35 TurboFan jobs during the 60 sets, 3-5 µs of CPU a task on those threads), after
  // them ~6 (0.3-0.5 µs a task).
  for (let r = 0; r < LAT_WARM_SETS; r++) {
    for (const k of alternate(r, ["echo", "ours", "batched"] as const)) await latency[k](LAT_BLOCK);
  }
  for (let r = 0; r < LAT_PAIRS; r++) {
    for (const k of alternate(r, ["echo", "ours", "batched"] as const)) {
      const [us, cpu] = await latency[k](LAT_BLOCK);
      lat[k].push(us);
      latCpu[k].push(cpu);
    }
  }
  await executor.check();
  const forced = await forcedSets([executor.tid, bareSides.tid], executor.latency, sides.batched.latency);
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of alternate(r, names)) {
      const [rate, cpu] = await sides[k].throughput();
      tp[k].push(rate);
      tpCpu[k].push(cpu);
    }
  }
  for (const k of names) await sides[k].close();
  const blocks = (k: "ours" | "echo" | "batched") => ({
    wall: ratios(lat[k], lat.batched),
    cpu: ratios(latCpu[k], latCpu.batched),
  });
  const row = (name: string, k: (typeof names)[number], l: "ours" | "batched"): Result => ({
    name,
    throughput: median(tp[k]),
    latency: median(lat[l]),
    cpu: [median(tpCpu[k]), median(latCpu[l])],
    rounds: [tp[k], lat[l]],
    blocks: blocks(l),
  });
  const oursRow = row("threading ThreadPoolExecutor", "ours", "ours");
  if (forced) oursRow.forced = forced;
  return [
    oursRow,
    {
      name: "bare round trip to an echo on the same pool thread",
      throughput: Number.NaN,
      latency: median(lat.echo),
      cpu: [Number.NaN, median(latCpu.echo)],
      rounds: [[], lat.echo],
      blocks: blocks("echo"),
    },
    row("bare postMessage (echo pool of 2 / one round trip to an echo Worker)", "batched", "batched"),
    row("postMessage echo pool of 2, a message per call", "perCall", "batched"),
  ];
}

/** The q-quantile of `xs` (nearest rank). */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

function cpython(): Result {
  const [tp, lat] = python(`
import time, statistics
from concurrent.futures import ThreadPoolExecutor, wait
ex = ThreadPoolExecutor(max_workers=2)
f = lambda x: x
ex.submit(f, 0).result()
tp = []
for r in range(${OTHER_ROUNDS}):
    t = time.perf_counter(); fs = [ex.submit(f, i) for i in range(${N})]; wait(fs)
    tp.append(${N} / (time.perf_counter() - t))
lat = []
for r in range(${LAT_ROUNDS}):
    t = time.perf_counter()
    for i in range(${SEQ}): ex.submit(f, i).result()
    lat.append((time.perf_counter() - t) * 1e6 / ${SEQ})
print(statistics.median(tp)); print(statistics.median(lat))
`);
  return { name: "CPython 3 ThreadPoolExecutor", throughput: tp as number, latency: lat as number };
}

export async function futuresRows(): Promise<Result[]> {
  const results: Result[] = await alternating();
  if (process.env.FUTURES_BENCH_QUICK) return results;
  const piscina = new Piscina({ filename: echoFile, minThreads: 2, maxThreads: 2 });
  results.push(
    await pool(
      "piscina (default options)",
      (x) => piscina.run(x),
      () => piscina.destroy(),
    ),
  );
  const tuned = new Piscina({ filename: echoFile, minThreads: 2, maxThreads: 2, concurrentTasksPerWorker: 16 });
  results.push(
    await pool(
      "piscina (16 tasks per worker)",
      (x) => tuned.run(x),
      () => tuned.destroy(),
    ),
  );
  const tiny = new Tinypool({ filename: echoFile, minThreads: 2, maxThreads: 2 });
  results.push(
    await pool(
      "tinypool",
      (x) => tiny.run(x),
      () => tiny.destroy(),
    ),
  );
  results.push(cpython());
  return results;
}

/** Prints the executor table (called by bench/run.ts, or run this file alone). */
export async function run(): Promise<void> {
  const results = await futuresRows();
  const limit = results.find((r) => r.name.startsWith("bare postMessage")) as Result;
  const echo = results.find((r) => r.name.startsWith("bare round trip")) as Result;
  const base = results.find((r) => r.name.startsWith("piscina"))?.throughput ?? Number.NaN;
  const perCall = results.find((r) => r.name.includes("a message per call")) as Result;
  const ours = results[0] as Result;
  const blocks = ours.blocks as { wall: number[]; cpu: number[] };
  const fixed = (x: number, digits: number, unit = "") => (Number.isNaN(x) ? "-" : `${x.toFixed(digits)}${unit}`);
  console.log(
    `\n## Executors: ${N} tiny tasks on 2 threads, and tasks awaited one at a time. Throughput: medians of ${ROUNDS} rounds, the executor and the bare pools alternating (their order reversed every other round). Awaited tasks: ${LAT_PAIRS} sets of interleaved blocks of ${LAT_BLOCK} tasks (the bare round trip to an echo on the executor's pool thread, the executor's, the bare round trip to the echo Worker; order reversed every other set); µs: each side's median block; the ratio: the median of the sets' ratios to the echo Worker. piscina, tinypool and CPython alone after them: ${OTHER_ROUNDS} rounds of throughput and ${LAT_ROUNDS} of ${SEQ} awaited tasks, their ratio that of the medians\n`,
  );
  console.log(
    "| pool | throughput (tasks/s) | vs bare pool | vs a message per call | vs piscina | sequential await (µs/task) | vs bare round trip |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of results) {
    const latRatio = r.blocks !== undefined ? median(r.blocks.wall) : r.latency / limit.latency;
    console.log(
      `| ${r.name} | ${fixed(r.throughput, 0)} | ${fixed(r.throughput / limit.throughput, 2, "x")} | ${fixed(r.throughput / perCall.throughput, 2, "x")} | ${fixed(r.throughput / base, 2, "x")} | ${r.latency.toFixed(1)} | ${latRatio.toFixed(2)}x |`,
    );
  }
  const [tpRounds] = ours.rounds as [number[], number[]];
  const [perCallRounds] = perCall.rounds as [number[], number[]];
  const [, echoBlocks] = echo.rounds as [number[], number[]];
  const [, workerBlocks] = limit.rounds as [number[], number[]];
  const [, oursBlocks] = ours.rounds as [number[], number[]];
  const each = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
  const spread = (xs: number[], digits = 2) =>
    `median ${median(xs).toFixed(digits)}, quartiles ${quantile(xs, 0.25).toFixed(digits)}–${quantile(xs, 0.75).toFixed(digits)}, 10th–90th percentile ${quantile(xs, 0.1).toFixed(digits)}–${quantile(xs, 0.9).toFixed(digits)}`;
  console.log(
    `\nRound by round: the executor's throughput / a message per call's ${each(ratios(tpRounds, perCallRounds))}.`,
  );
  console.log(
    `\nOne awaited task / the bare round trip to the echo Worker, over the ${LAT_PAIRS} sets: wall ${spread(blocks.wall)}; CPU ${spread(blocks.cpu)}.`,
  );
  console.log(
    `One awaited task / the bare round trip to the echo on its pool thread (the same two threads, so the same mode in each set; its MessageChannel port costs the main thread a little more than a Worker's own port): wall ${spread(ratios(oursBlocks, echoBlocks))}; CPU ${spread(ratios(blocks.cpu, (echo.blocks as { cpu: number[] }).cpu))}.`,
  );
  for (const f of ours.forced ?? []) {
    console.log(
      `Forced onto ${f.cpus} (taskset: the main thread, the pool thread and the echo Worker pinned; ${FORCED_SETS} sets of the two blocks): the executor ${f.ours.toFixed(1)} µs, the echo Worker ${f.bare.toFixed(1)} µs; the sets' ratios: wall ${spread(f.wall)}; CPU ${spread(f.cpu)}.`,
    );
  }
  console.log(
    `The echo on the pool thread / the echo Worker: wall ${spread(ratios(echoBlocks, workerBlocks))}. Blocks (µs a task; the VM's two modes show as two clusters): the echo on the pool thread ${spread(echoBlocks, 1)}; the echo Worker ${spread(workerBlocks, 1)}.`,
  );
  // On a loaded machine wall times swing with what else runs; CPU time per task does not.
  console.log("\nCPU time of the process (all its threads) per task, µs:\n");
  console.log("| pool | 1e5 tasks | vs bare pool | awaited one at a time | vs bare round trip |");
  console.log("|---|---:|---:|---:|---:|");
  const [lt] = limit.cpu as [number, number];
  for (const r of results) {
    if (r.cpu === undefined) continue;
    const [t, l] = r.cpu;
    const latRatio = median((r.blocks as { cpu: number[] }).cpu);
    console.log(
      `| ${r.name} | ${fixed(t, 2)} | ${fixed(t / lt, 2, "x")} | ${l.toFixed(1)} | ${latRatio.toFixed(2)}x |`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
