// Executors: tiny-task throughput (1e5 tasks returning their argument, 2 threads) and the latency of
// one task awaited at a time, for threading's ThreadPoolExecutor beside piscina, tinypool and
// CPython's ThreadPoolExecutor (a python3 subprocess), in the same run.
// Run: npm run build && node --import tsx bench/futures.ts
import Piscina from "piscina";
import { ThreadPoolExecutor, wait } from "threading";
import { Tinypool } from "tinypool";
import { median, python } from "./util.js";

const N = 100_000;
const SEQ = 2_000;
const ROUNDS = 3;
const echoFile = new URL("./fixtures/echo-worker.mjs", import.meta.url).href;

interface Result {
  name: string;
  throughput: number; // tasks/s
  latency: number; // µs per awaited task
}

async function ours(): Promise<Result> {
  const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
  const echo = (x: number) => x;
  ex.submit(echo, 0).result();
  ex.submit(echo, 0);
  ex.submit(echo, 0).result();
  const tp: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    const fs = [];
    for (let i = 0; i < N; i++) fs.push(ex.submit(echo, i));
    wait(fs);
    tp.push(N / ((performance.now() - t) / 1000));
  }
  const lat: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (let i = 0; i < SEQ; i++) await ex.submit(echo, i);
    lat.push(((performance.now() - t) * 1000) / SEQ);
  }
  await ex.shutdownAsync();
  return { name: "threading ThreadPoolExecutor", throughput: median(tp), latency: median(lat) };
}

async function pool(
  name: string,
  run: (x: number) => Promise<unknown>,
  close: () => Promise<unknown>,
): Promise<Result> {
  await Promise.all([run(0), run(0)]);
  const tp: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    const ps = [];
    for (let i = 0; i < N; i++) ps.push(run(i));
    await Promise.all(ps);
    tp.push(N / ((performance.now() - t) / 1000));
  }
  const lat: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (let i = 0; i < SEQ; i++) await run(i);
    lat.push(((performance.now() - t) * 1000) / SEQ);
  }
  await close();
  return { name, throughput: median(tp), latency: median(lat) };
}

function cpython(): Result {
  const [tp, lat] = python(`
import time, statistics
from concurrent.futures import ThreadPoolExecutor, wait
ex = ThreadPoolExecutor(max_workers=2)
f = lambda x: x
ex.submit(f, 0).result()
tp = []
for r in range(${ROUNDS}):
    t = time.perf_counter(); fs = [ex.submit(f, i) for i in range(${N})]; wait(fs)
    tp.append(${N} / (time.perf_counter() - t))
lat = []
for r in range(${ROUNDS}):
    t = time.perf_counter()
    for i in range(${SEQ}): ex.submit(f, i).result()
    lat.append((time.perf_counter() - t) * 1e6 / ${SEQ})
print(statistics.median(tp)); print(statistics.median(lat))
`);
  return { name: "CPython 3 ThreadPoolExecutor", throughput: tp as number, latency: lat as number };
}

export async function futuresRows(): Promise<Result[]> {
  const results: Result[] = [await ours()];
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
  const base = results.find((r) => r.name.startsWith("piscina"))?.throughput ?? Number.NaN;
  console.log(`\n## Executors: ${N} tiny tasks on 2 threads, and ${SEQ} tasks awaited one at a time\n`);
  console.log("| pool | throughput (tasks/s) | vs piscina | sequential await (µs/task) |");
  console.log("|---|---:|---:|---:|");
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.throughput.toFixed(0)} | ${(r.throughput / base).toFixed(2)}x | ${r.latency.toFixed(1)} |`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
