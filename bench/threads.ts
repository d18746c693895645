// Benchmarks for issues 3 and 14: thread start latency (warm worker), start+join one at a time,
// 100 threads started then joined (the first round, and the median of the next five), 10,000
// threads in a loop, the cold first start against one raw
// Worker boot (fresh processes, same run), uncontended Lock vs the bare-Atomics limit, contended
// lock handoff, CPU-bound speedup; beside CPython where it applies.
import { spawnSync } from "node:child_process";
import { Event, Lock, sleep, Thread } from "threading";
import { alternate, median, python, type Row, ratios } from "./util.js";

/** Rounds of the comparisons measured in alternating rounds here (the cold start, the Lock loops). */
export const ROUNDS = Number(process.env.THREADS_BENCH_ROUNDS ?? 5);

/**
 * The cold start, in fresh processes, alternating so both see the same machine: (a) one raw Worker
 * (an ES module file posting one message) from `new Worker()` to its first message; (b) a program
 * that imports threading and calls start() at once: from start() to the target running (start()
 * returns then); and both from the process's start (what a program pays before its first thread
 * runs: Node's own boot, the import, the hub and a worker). Medians of `rounds`, the two in turn
 * (their order reversed every other round).
 */
function coldStart(rounds: number): {
  raw: number;
  rawTotal: number;
  start: number;
  total: number;
  /** Round by round: start / raw, total / rawTotal. */
  ratios: [number[], number[]];
} {
  const raw = `
    import { Worker } from "node:worker_threads";
    const a = performance.now();
    const w = new Worker(new URL("data:text/javascript,import { parentPort } from 'node:worker_threads'; parentPort.postMessage(1);"));
    w.once("message", () => { const b = performance.now(); console.log(JSON.stringify([b - a, b])); void w.terminate(); });`;
  const cold = `
    const { Thread } = await import("threading");
    const b = performance.now();
    const t = new Thread({ target: () => {} });
    t.start();
    const c = performance.now();
    t.join();
    console.log(JSON.stringify([c - b, c]));`;
  const run = (code: string): string =>
    spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 60_000 }).stdout;
  const raws: number[] = [];
  const rawTotals: number[] = [];
  const starts: number[] = [];
  const totals: number[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const side of alternate(i, ["raw", "cold"] as const)) {
      if (side === "raw") {
        const [boot, rawTotal] = JSON.parse(run(raw)) as number[];
        raws.push(boot as number);
        rawTotals.push(rawTotal as number);
      } else {
        const [start, total] = JSON.parse(run(cold)) as number[];
        starts.push(start as number);
        totals.push(total as number);
      }
    }
  }
  return {
    raw: median(raws),
    rawTotal: median(rawTotals),
    start: median(starts),
    total: median(totals),
    ratios: [ratios(starts, raws), ratios(totals, rawTotals)],
  };
}

export async function benchThreads(rows: Row[]): Promise<void> {
  const cold = coldStart(ROUNDS);

  // Warm up: the first thread runs on the first worker (booted at import) and starts the hub, which
  // boots a spare; the coldStart() above blocked the main thread, so the hub boots only now (it
  // boots once the first worker has, from the main thread's event loop, or at the first start()).
  // The rows below measure warm workers: let those boots end first.
  const first = new Thread({ target: () => {} });
  first.start();
  first.join();
  sleep(1);

  // A warm worker: the one whose thread has just ended (worker reuse).
  const lat: number[] = [];
  for (let i = 0; i < 101; i++) {
    const t = new Thread({ target: () => {} });
    const a = performance.now();
    t.start();
    lat.push(performance.now() - a);
    t.join();
  }
  const py = python(`
import threading, time
ts=[]
for i in range(101):
    t=threading.Thread(target=lambda: None); a=time.perf_counter(); t.start(); ts.append(time.perf_counter()-a); t.join()
ts.sort(); print(ts[50]*1000)
ts=[]
for i in range(101):
    a=time.perf_counter(); t=threading.Thread(target=lambda: None); t.start(); t.join(); ts.append(time.perf_counter()-a)
ts.sort(); print(ts[50]*1000)
import threading
l=threading.Lock(); n=1000000; t0=time.perf_counter()
for i in range(n):
    l.acquire(); l.release()
print((time.perf_counter()-t0)/n*1e9)
c=[0]; M=200000
def inc():
    for i in range(M):
        l.acquire(); c[0]+=1; l.release()
ts=[threading.Thread(target=inc) for _ in range(2)]
t0=time.perf_counter()
for t in ts: t.start()
for t in ts: t.join()
print((time.perf_counter()-t0)/(2*M)*1e9)
def work(n):
    x = 0.0
    for i in range(n): x = (x + i ** 0.5) % 1e9
job = 3000000
t0=time.perf_counter(); work(job); one=time.perf_counter()-t0
ts=[threading.Thread(target=work, args=(job,)) for _ in range(2)]
t0=time.perf_counter()
for t in ts: t.start()
for t in ts: t.join()
print(2*one/(time.perf_counter()-t0))
rounds=[]
for r in range(6):
    t0=time.perf_counter()
    ts=[threading.Thread(target=lambda: None) for _ in range(100)]
    for t in ts: t.start()
    for t in ts: t.join()
    rounds.append((time.perf_counter()-t0)*1000)
print(rounds[0])
t0=time.perf_counter()
for i in range(10000):
    t=threading.Thread(target=lambda x: x + 1, args=(i,)); t.start(); t.join()
print((time.perf_counter()-t0)*1000)
later=sorted(rounds[1:]); print(later[2])
`);
  rows.push({
    what: "thread start-to-running, median (warm worker)",
    value: median(lat),
    unit: "ms",
    baseline: py[0],
    baselineName: "CPython",
  });

  const each: number[] = [];
  for (let i = 0; i < 101; i++) {
    const a = performance.now();
    const t = new Thread({ target: () => {} });
    t.start();
    t.join();
    each.push(performance.now() - a);
  }
  rows.push({
    what: "start+join of a trivial thread, one at a time, median",
    value: median(each),
    unit: "ms",
    baseline: py[1],
    baselineName: "CPython",
  });

  // 100 threads started, then all joined: the first round finds what the loops above left (a
  // parked worker or two, the hub's spares), the next rounds the workers the first one grew.
  const hundredRounds: number[] = [];
  let b = 0;
  for (let round = 0; round < 6; round++) {
    b = performance.now();
    const hundred = Array.from({ length: 100 }, () => new Thread({ target: () => {} }));
    for (const t of hundred) t.start();
    for (const t of hundred) t.join();
    hundredRounds.push(performance.now() - b);
  }
  rows.push({
    what: "100 threads started, then all joined: first round",
    value: hundredRounds[0] as number,
    unit: "ms",
    baseline: py[5],
    baselineName: "CPython (first round)",
  });
  rows.push({
    what: "100 threads started, then all joined: rounds 2-6, median",
    value: median(hundredRounds.slice(1)),
    unit: "ms",
    baseline: py[7],
    baselineName: "CPython (rounds 2-6, median)",
  });

  b = performance.now();
  for (let i = 0; i < 10_000; i++) {
    const t = new Thread({ target: (x: number) => x + 1, args: [i] });
    t.start();
    t.join();
  }
  rows.push({
    what: "10,000 short threads, started and joined in a loop",
    value: performance.now() - b,
    unit: "ms",
    baseline: py[6],
    baselineName: "CPython",
  });

  rows.push({
    what: `cold: first start() to the target running, fresh process (medians of ${ROUNDS} alternating rounds)`,
    value: cold.start,
    unit: "ms",
    baseline: cold.raw,
    baselineName: "one raw Worker boot to its first message",
    rounds: cold.ratios[0],
  });
  rows.push({
    what: "cold: process start to the first thread's target running (import included)",
    value: cold.total,
    unit: "ms",
    baseline: cold.rawTotal,
    baselineName: "process start to a raw Worker's first message",
    rounds: cold.ratios[1],
  });

  const N = 7_000_000;
  const lock = new Lock();
  const word = new Int32Array(new SharedArrayBuffer(4));
  const lockRounds: number[] = [];
  const bareRounds: number[] = [];
  let t0 = 0;
  const loops = {
    lock: () => {
      t0 = performance.now();
      for (let i = 0; i < N; i++) {
        lock.acquire();
        lock.release();
      }
      lockRounds.push(((performance.now() - t0) / N) * 1e6);
    },
    bare: () => {
      t0 = performance.now();
      for (let i = 0; i < N; i++) {
        Atomics.compareExchange(word, 0, 0, 1);
        Atomics.store(word, 0, 0);
      }
      bareRounds.push(((performance.now() - t0) / N) * 1e6);
    },
  };
  // A first round of each, unmeasured, so neither side is measured cold; then ROUNDS rounds of
  // each, alternating (their order reversed every other round), and the medians.
  loops.lock();
  loops.bare();
  lockRounds.length = 0;
  bareRounds.length = 0;
  for (let round = 0; round < ROUNDS; round++) for (const k of alternate(round, ["lock", "bare"] as const)) loops[k]();
  const lockNs = median(lockRounds);
  rows.push({
    what: `uncontended Lock acquire+release (medians of ${ROUNDS} alternating rounds)`,
    value: lockNs,
    unit: "ns",
    baseline: median(bareRounds),
    baselineName: "bare CAS+store (limit)",
    rounds: ratios(lockRounds, bareRounds),
  });
  rows.push({
    what: "uncontended Lock acquire+release",
    value: lockNs,
    unit: "ns",
    baseline: py[2],
    baselineName: "CPython Lock",
  });

  // Contended lock: two threads each do M lock-protected increments of one shared counter, so the
  // lock is handed between them all the time (CPython the same with two threads, under its GIL).
  const M = 200_000;
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const go = new Event();
  const contender = () =>
    new Thread({
      target: (l: Lock, c: Int32Array, g: Event, m: number) => {
        g.wait();
        for (let i = 0; i < m; i++) {
          l.acquire();
          c[0] = (c[0] as number) + 1;
          l.release();
        }
      },
      args: [lock, counter, go, M],
    });
  const pair = [contender(), contender()];
  for (const t of pair) t.start();
  sleep(0.3); // let the hub finish booting its next spare, which takes a core meanwhile
  t0 = performance.now();
  go.set();
  for (const t of pair) t.join();
  const contendedNs = ((performance.now() - t0) / (2 * M)) * 1e6;
  if (counter[0] !== 2 * M) throw new Error(`contended lock lost updates: ${counter[0]}`);
  rows.push({
    what: "contended Lock: 2 threads x 200k increments, per acquire+release",
    value: contendedNs,
    unit: "ns",
    baseline: py[3],
    baselineName: "CPython, 2 threads",
  });

  // CPU-bound speedup of 2 threads over 1.
  const work = (n: number) => {
    let x = 0;
    for (let i = 0; i < n; i++) x = (x + Math.sqrt(i)) % 1e9;
    return x;
  };
  const job = 60_000_000;
  const oneRounds: number[] = [];
  const twoRounds: number[] = [];
  const sides = {
    one: () => {
      const one = new Thread({ target: work, args: [job] });
      const t = performance.now();
      one.start();
      one.join();
      oneRounds.push(performance.now() - t);
    },
    two: () => {
      const two = [new Thread({ target: work, args: [job] }), new Thread({ target: work, args: [job] })];
      const t = performance.now();
      for (const th of two) th.start();
      for (const th of two) th.join();
      twoRounds.push(performance.now() - t);
    },
  };
  const CPU_ROUNDS = 3;
  for (let round = 0; round < CPU_ROUNDS; round++)
    for (const k of alternate(round, ["one", "two"] as const)) sides[k]();
  rows.push({
    what: `CPU-bound: 2 jobs on 2 threads vs 1 job on 1 (speedup, ideal 2; medians of ${CPU_ROUNDS} alternating rounds; round by round: ${ratios(
      oneRounds,
      twoRounds,
    )
      .map((x) => (2 * x).toFixed(2))
      .join(", ")})`,
    value: (2 * median(oneRounds)) / median(twoRounds),
    unit: "x",
    baseline: py[4],
    baselineName: "CPython, same job (GIL)",
  });
}
