// Benchmarks for issue 3: thread start latency, start+join, uncontended Lock vs the bare-Atomics
// limit, contended lock handoff, CPU-bound speedup; beside CPython where it applies.
import { Event, Lock, sleep, Thread } from "threading";
import { median, python, type Row } from "./util.js";

export async function benchThreads(rows: Row[]): Promise<void> {
  // Warm up: the first thread starts the hub and boots workers.
  const first = new Thread({ target: () => {} });
  first.start();
  first.join();
  sleep(0.3);

  const lat: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = new Thread({ target: () => {} });
    const a = performance.now();
    t.start();
    lat.push(performance.now() - a);
    t.join();
    sleep(0.12); // let the hub refill its spare
  }
  const py = python(`
import threading, time
ts=[]
for i in range(15):
    t=threading.Thread(target=lambda: None); a=time.perf_counter(); t.start(); ts.append(time.perf_counter()-a); t.join()
ts.sort(); print(ts[7]*1000)
t0=time.perf_counter()
for i in range(100):
    t=threading.Thread(target=lambda: None); t.start(); t.join()
print((time.perf_counter()-t0)*1000)
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
`);
  rows.push({
    what: "thread start-to-running, median (warm spare)",
    value: median(lat),
    unit: "ms",
    baseline: py[0],
    baselineName: "CPython",
  });

  const b = performance.now();
  for (let i = 0; i < 100; i++) {
    const t = new Thread({ target: () => {} });
    t.start();
    t.join();
  }
  rows.push({
    what: "start+join of 100 threads, one after another",
    value: performance.now() - b,
    unit: "ms",
    baseline: py[1],
    baselineName: "CPython",
  });

  const N = 5_000_000;
  const lock = new Lock();
  const word = new Int32Array(new SharedArrayBuffer(4));
  let lockNs = Number.POSITIVE_INFINITY;
  let bareNs = Number.POSITIVE_INFINITY;
  let t0 = 0;
  for (let round = 0; round < 3; round++) {
    // Best of three rounds, alternating, so neither side is measured cold.
    t0 = performance.now();
    for (let i = 0; i < N; i++) {
      lock.acquire();
      lock.release();
    }
    lockNs = Math.min(lockNs, ((performance.now() - t0) / N) * 1e6);
    t0 = performance.now();
    for (let i = 0; i < N; i++) {
      Atomics.compareExchange(word, 0, 0, 1);
      Atomics.store(word, 0, 0);
    }
    bareNs = Math.min(bareNs, ((performance.now() - t0) / N) * 1e6);
  }
  rows.push({
    what: "uncontended Lock acquire+release",
    value: lockNs,
    unit: "ns",
    baseline: bareNs,
    baselineName: "bare CAS+store (limit)",
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
  const one = new Thread({ target: work, args: [job] });
  t0 = performance.now();
  one.start();
  one.join();
  const oneMs = performance.now() - t0;
  const two = [new Thread({ target: work, args: [job] }), new Thread({ target: work, args: [job] })];
  t0 = performance.now();
  for (const t of two) t.start();
  for (const t of two) t.join();
  const twoMs = performance.now() - t0;
  rows.push({
    what: "CPU-bound: 2 jobs on 2 threads vs 1 job on 1 (speedup, ideal 2)",
    value: (2 * oneMs) / twoMs,
    unit: "x",
    baseline: py[4],
    baselineName: "CPython, same job (GIL)",
  });
}
