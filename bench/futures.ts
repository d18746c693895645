// Executors: tiny-task throughput (1e5 tasks returning their argument, 2 threads) and the latency of
// one task awaited at a time, for threading's ThreadPoolExecutor beside the bare postMessage limits
// (a hand-written echo pool of 2 workers that batches, and one postMessage round trip), piscina,
// tinypool and CPython's ThreadPoolExecutor (a python3 subprocess), in the same run.
// Run: npm run build && node --import tsx bench/futures.ts
// Every pool is warmed up first (a throughput round and a latency round, unmeasured); the latency
// is measured before the throughput, so the garbage of 1e5 tasks is not collected in it. The
// executor and the bare pools are measured in alternating rounds (see alternating()), piscina,
// tinypool and CPython alone after them; every figure is a median of rounds.
// FUTURES_BENCH_QUICK=1: the executor and the bare baselines only (no piscina, tinypool, CPython).
import { Worker } from "node:worker_threads";
import Piscina from "piscina";
import { ThreadPoolExecutor, wait } from "threading";
import { Tinypool } from "tinypool";
import { alternate, median, python, ratios } from "./util.js";

const N = 100_000;
const SEQ = 2_000;
/** Throughput rounds of the executor and the bare pools (alternating). */
const ROUNDS = 5;
/** Throughput rounds of piscina, tinypool and CPython (each measured alone, after). */
const OTHER_ROUNDS = 3;
/** Rounds of the latency measure (2000 awaits each: short, so more of them). */
const LAT_ROUNDS = 7;
const echoFile = new URL("./fixtures/echo-worker.mjs", import.meta.url).href;
const bareFile = new URL("./fixtures/echo-pool-worker.mjs", import.meta.url);
/** Tasks per message of the bare pool (the executor's largest batch too, balance.ts). */
const BATCH = 512;

interface Result {
  name: string;
  throughput: number; // tasks/s
  latency: number; // µs per awaited task
  /** CPU time of the whole process (all its threads) per task, µs: throughput run, sequential run. */
  cpu?: [number, number];
  /** Round by round (where the pool is measured in rounds alternating with the bare ones): tasks/s, µs per awaited task. */
  rounds?: [number[], number[]];
}

/** CPU time (user + system, all threads of this process) in µs since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

/** A pool measured in rounds: one round of SEQ tasks awaited one at a time, one round of N tasks at once. */
interface Rounds {
  /** µs per awaited task, and CPU µs per task. */
  latency(): Promise<[number, number]>;
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

async function ours(): Promise<Rounds> {
  const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
  const echo = (x: number) => x;
  ex.submit(echo, 0).result();
  ex.submit(echo, 0);
  ex.submit(echo, 0).result();
  // Warm-up, unmeasured, as for every pool here: a throughput round and a latency round.
  wait(Array.from({ length: N / 10 }, (_, i) => ex.submit(echo, i)));
  for (let i = 0; i < SEQ; i++) await ex.submit(echo, i);
  return {
    latency: () =>
      timedRound(SEQ, async () => {
        for (let i = 0; i < SEQ; i++) await ex.submit(echo, i);
      }),
    async throughput() {
      const [us, cpu] = await timedRound(N, () => {
        const fs = [];
        for (let i = 0; i < N; i++) fs.push(ex.submit(echo, i));
        wait(fs);
      });
      return [1e6 / us, cpu];
    },
    close: () => ex.shutdownAsync(),
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
async function bare(): Promise<{ batched: Rounds; perCall: Rounds }> {
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
  const one = (w: Worker, x: number) =>
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
  const latency = () =>
    timedRound(SEQ, async () => {
      for (let i = 0; i < SEQ; i++) await one(w, i);
    });
  const throughput = async (perMessage: number): Promise<[number, number]> => {
    const [us, cpu] = await timedRound(N, () => round(N, perMessage));
    return [1e6 / us, cpu];
  };
  const close = () => Promise.all(workers.map((x) => x.terminate()));
  return {
    batched: { latency, throughput: () => throughput(BATCH), close },
    perCall: { latency, throughput: () => throughput(1), close: async () => {} },
  };
}

/**
 * The executor beside the bare pools, in alternating rounds (their order reversed every other
 * round): LAT_ROUNDS latency rounds (the executor and the bare round trip), then ROUNDS throughput
 * rounds (the executor, the batching bare pool, the pool with a message per call); the medians.
 */
async function alternating(): Promise<Result[]> {
  const sides = { ours: await ours(), ...(await bare()) };
  const names = ["ours", "batched", "perCall"] as const;
  const lat = { ours: [] as number[], batched: [] as number[], perCall: [] as number[] };
  const latCpu = { ours: [] as number[], batched: [] as number[], perCall: [] as number[] };
  const tp = { ours: [] as number[], batched: [] as number[], perCall: [] as number[] };
  const tpCpu = { ours: [] as number[], batched: [] as number[], perCall: [] as number[] };
  for (let r = 0; r < LAT_ROUNDS; r++) {
    for (const k of alternate(r, ["ours", "batched"] as const)) {
      const [us, cpu] = await sides[k].latency();
      lat[k].push(us);
      latCpu[k].push(cpu);
    }
  }
  // The per-call pool's latency round is the same round trip as the batching pool's.
  lat.perCall = lat.batched;
  latCpu.perCall = latCpu.batched;
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of alternate(r, names)) {
      const [rate, cpu] = await sides[k].throughput();
      tp[k].push(rate);
      tpCpu[k].push(cpu);
    }
  }
  for (const k of names) await sides[k].close();
  const title = {
    ours: "threading ThreadPoolExecutor",
    batched: "bare postMessage (echo pool of 2 / one round trip)",
    perCall: "postMessage echo pool of 2, a message per call",
  };
  return names.map((k) => ({
    name: title[k],
    throughput: median(tp[k]),
    latency: median(lat[k]),
    cpu: [median(tpCpu[k]), median(latCpu[k])],
    rounds: [tp[k], lat[k]],
  }));
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
  const limit = results.find((r) => r.name.startsWith("bare")) as Result;
  const base = results.find((r) => r.name.startsWith("piscina"))?.throughput ?? Number.NaN;
  const perCall = results.find((r) => r.name.includes("a message per call")) as Result;
  console.log(
    `\n## Executors: ${N} tiny tasks on 2 threads, and ${SEQ} tasks awaited one at a time; medians of rounds: the executor and the bare pools alternating, ${ROUNDS} rounds of throughput and ${LAT_ROUNDS} of awaited tasks each (their order reversed every other round); piscina, tinypool and CPython alone after them, ${OTHER_ROUNDS} and ${LAT_ROUNDS} rounds\n`,
  );
  console.log(
    "| pool | throughput (tasks/s) | vs bare pool | vs a message per call | vs piscina | sequential await (µs/task) | vs bare round trip |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.throughput.toFixed(0)} | ${(r.throughput / limit.throughput).toFixed(2)}x | ${(r.throughput / perCall.throughput).toFixed(2)}x | ${(r.throughput / base).toFixed(2)}x | ${r.latency.toFixed(1)} | ${(r.latency / limit.latency).toFixed(2)}x |`,
    );
  }
  const ours = results[0] as Result;
  const [tpRounds, latRounds] = ours.rounds as [number[], number[]];
  const [perCallRounds] = perCall.rounds as [number[], number[]];
  const [, bareLatRounds] = limit.rounds as [number[], number[]];
  const each = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
  console.log(
    `\nRound by round: the executor's throughput / a message per call's ${each(ratios(tpRounds, perCallRounds))}; one awaited task / the bare round trip ${each(ratios(latRounds, bareLatRounds))}.`,
  );
  // On a loaded machine wall times swing with what else runs; CPU time per task does not.
  console.log("\nCPU time of the process (all its threads) per task, µs:\n");
  console.log("| pool | 1e5 tasks | vs bare pool | awaited one at a time | vs bare round trip |");
  console.log("|---|---:|---:|---:|---:|");
  const [lt, ll] = limit.cpu as [number, number];
  for (const r of results) {
    if (r.cpu === undefined) continue;
    const [t, l] = r.cpu;
    console.log(
      `| ${r.name} | ${t.toFixed(2)} | ${(t / lt).toFixed(2)}x | ${l.toFixed(1)} | ${(l / ll).toFixed(2)}x |`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
