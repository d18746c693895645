// Benchmarks for issue 5 (queues): items/s through a Queue between threads, 1 producer -> 1 consumer
// and 2 -> 2, for numbers, short strings and small objects, beside a bare SharedArrayBuffer int32
// ring (the limit; for 2 -> 2 a bare MPMC ring), postMessage between the same threads, and CPython's
// queue.Queue; and the latency of one item handed to a consumer blocked in get(), beside a bare
// Atomics.notify wake of a sleeping thread. The queue is bounded at 10,000 beside CPython and the
// rings (bounded alike) and unbounded beside postMessage (whose channels are): see queueRun.
// Every throughput is measured in ROUNDS rounds: in each round every run is made once, each run
// next to its baseline's, in one order in even rounds and the reverse in odd ones (util.ts's
// alternate), and in PY_ROUNDS of them CPython's runs (a python3 process) before or after them;
// each row shows the medians of the rounds, the ratio of the medians, and the ratio round by round.
// The hand-off latency is WAKE_ROUNDS hand-offs (2000: ~10 s) after 3000 warm-up ones, each next to a
// bare wake, so that its p99 is the 20th-largest of 2000 samples rather than the 3rd-largest of 300
// and both sides are measured optimized (see wakeLatencies).
// `node --import tsx bench/run.ts queue` (after `npm run build`; `handoff` instead of `queue`: the
// hand-off alone); QUEUE_BENCH_N sets items per run
// (QUEUE_BENCH_N_NUMBERS for 1 -> 1 numbers), QUEUE_BENCH_ROUNDS and QUEUE_BENCH_PY_ROUNDS the rounds,
// QUEUE_BENCH_WAKE_ROUNDS the hand-offs.
import { MessageChannel } from "node:worker_threads";
import { Event, Queue, sleep, Thread } from "threading";
import { alternate, median, printTable, python, type Row, ratios } from "./util.js";

/** Items per run. */
const N = Number(process.env.QUEUE_BENCH_N ?? 400_000);
/**
 * Items per run of 1 -> 1 numbers, the fastest runs (a Queue() moves ~9M numbers a second on an
 * idle core pair here): more, so that each run lasts 100 ms or more.
 */
const N_NUMBERS = Number(process.env.QUEUE_BENCH_N_NUMBERS ?? 1_000_000);
/** Rounds of every throughput (see the header). */
const ROUNDS = Number(process.env.QUEUE_BENCH_ROUNDS ?? 5);
/**
 * Rounds with a CPython part (its runs take 15 s a round here, ours 13 s): spread over the ROUNDS,
 * before ours in some and after in others.
 */
const PY_ROUNDS = Math.min(ROUNDS, Number(process.env.QUEUE_BENCH_PY_ROUNDS ?? 3));
/**
 * Hand-offs to a blocked get() measured (after 3000 warm-up ones 0.2 ms apart), each beside a bare
 * wake: 2 ms of sleep each side, ~10 s in all (the warm-up ~2 s). The p99 of n samples is the
 * (n/100)th-largest: with the 300 of before it was the 3rd, which two or three wakes delayed by the
 * scheduler decided (the ratio of the p99s over repeated runs of one build: docs/benchmarks.md).
 */
const WAKE_ROUNDS = Number(process.env.QUEUE_BENCH_WAKE_ROUNDS ?? 2000);
/** 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st. */
const ordinal = (n: number) =>
  `${n}${n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th")}`;
const pyRound = (r: number) => Math.ceil(((r + 1) * PY_ROUNDS) / ROUNDS) > Math.ceil((r * PY_ROUNDS) / ROUNDS);
/** Items per run of `kind` between `pairs` producer/consumer pairs. */
const itemsOf = (kind: Kind, pairs: number) => (kind === "number" && pairs === 1 ? N_NUMBERS : N);
type Kind = "number" | "string" | "object";
const KINDS: Kind[] = ["number", "string", "object"];

/** Runs `threads`, released together by an Event; returns wall seconds from release to last join. */
function timed(threads: Thread[], go: Event): number {
  for (const t of threads) t.start();
  // Let the hub finish booting the spare workers it starts after each handed-out one: a boot takes
  // a core for tens of milliseconds and would be measured as queue time.
  sleep(0.3);
  const t0 = performance.now();
  go.set();
  for (const t of threads) t.join();
  return (performance.now() - t0) / 1000;
}

/**
 * Thread CPU time per item (ns, all the run's threads together) where the runtime can tell it
 * (process.threadCpuUsage, Node >= 23.9); NaN elsewhere. Unlike items/s it hardly depends on what
 * else the machine runs: on a loaded machine it is the figure to compare.
 */
type ThreadCpu = (prev?: { user: number; system: number }) => { user: number; system: number };

/** A run's items/s and CPU ns per item (see ThreadCpu). */
interface Run {
  rate: number;
  cpu: number;
}

/** The bound of the queues and rings compared with CPython's queue.Queue(10000). */
const BOUND = 10_000;

function cpuPerItem(cpu: Float64Array, items: number): number {
  let us = 0;
  for (const x of cpu) us += x;
  return us < 0 ? Number.NaN : (us * 1000) / items;
}

/**
 * `producers` threads put `n` items of `kind` into one Queue(`maxsize`), `consumers` threads get them.
 * Beside CPython's queue.Queue(10000) and the bare rings (bounded too) the queue is bounded at
 * 10,000; beside postMessage, whose channels have no bound, it is unbounded (`Queue()`, Python's
 * default): a bounded queue's producers must wait for its consumers to run, which on 2 cores means
 * sleeping and waking, where a postMessage producer never waits.
 */
function queueRun(kind: Kind, n: number, producers: number, consumers: number, maxsize = BOUND): Run {
  const q = new Queue<unknown>(maxsize);
  const go = new Event();
  const each = Math.floor(n / producers);
  const total = each * producers;
  const cpu = new Float64Array(new SharedArrayBuffer(8 * (producers + consumers)));
  const threads: Thread[] = [];
  for (let p = 0; p < producers; p++) {
    threads.push(
      new Thread({
        target: (q: Queue<unknown>, go: Event, n: number, kind: string, cpu: Float64Array, slot: number) => {
          go.wait();
          const tc = (process as unknown as { threadCpuUsage?: ThreadCpu }).threadCpuUsage;
          const c0 = tc?.();
          if (kind === "number") for (let i = 0; i < n; i++) q.put(i);
          else if (kind === "string") for (let i = 0; i < n; i++) q.put(`item ${i & 1023}`);
          else for (let i = 0; i < n; i++) q.put({ id: i, name: "item", ok: true });
          const c = tc?.(c0);
          cpu[slot] = c ? c.user + c.system : -1e12;
        },
        args: [q, go, each, kind, cpu, p],
      }),
    );
  }
  const base = Math.floor(total / consumers);
  for (let c = 0; c < consumers; c++) {
    const n = c === consumers - 1 ? total - base * (consumers - 1) : base;
    threads.push(
      new Thread({
        target: (q: Queue<unknown>, go: Event, n: number, cpu: Float64Array, slot: number) => {
          go.wait();
          const tc = (process as unknown as { threadCpuUsage?: ThreadCpu }).threadCpuUsage;
          const c0 = tc?.();
          for (let i = 0; i < n; i++) q.get();
          const c = tc?.(c0);
          cpu[slot] = c ? c.user + c.system : -1e12;
        },
        args: [q, go, n, cpu, producers + c],
      }),
    );
  }
  const rate = total / timed(threads, go);
  return { rate, cpu: cpuPerItem(cpu, total) };
}

function ringRun(N: number): number {
  // Single-producer single-consumer ring of int32 in a SharedArrayBuffer: [head, tail, ...slots].
  const SIZE = BOUND;
  const ring = new Int32Array(new SharedArrayBuffer((SIZE + 2) * 4));
  const go = new Event();
  const prod = new Thread({
    target: (r: Int32Array, go: Event, n: number, size: number) => {
      go.wait();
      for (let i = 0; i < n; i++) {
        const tail = Atomics.load(r, 1);
        while (tail - Atomics.load(r, 0) >= size) Atomics.wait(r, 0, Atomics.load(r, 0), 0.05);
        r[2 + (tail % size)] = i;
        Atomics.store(r, 1, tail + 1);
        Atomics.notify(r, 1);
      }
    },
    args: [ring, go, N, SIZE],
  });
  const cons = new Thread({
    target: (r: Int32Array, go: Event, n: number, size: number) => {
      go.wait();
      for (let i = 0; i < n; i++) {
        const head = Atomics.load(r, 0);
        while (Atomics.load(r, 1) === head) Atomics.wait(r, 1, head, 0.05);
        r[2 + (head % size)];
        Atomics.store(r, 0, head + 1);
      }
    },
    args: [ring, go, N, SIZE],
  });
  return N / timed([prod, cons], go);
}

/**
 * 2 producers -> 2 consumers through a bare shared-memory MPMC ring of int32 (Vyukov's bounded
 * queue: a sequence word per cell, producers and consumers each claim a position with one CAS):
 * the limit for a 2 -> 2 queue in shared memory, with no codec, no maxsize, no shutdown. A thread
 * that finds its cell not ready spins a little, then waits 50 µs on the cell's sequence word.
 */
function mpmcRingRun(N: number): number {
  const SIZE = 8192; // a power of two
  // [0] enqueue position, [16] dequeue position (own cache lines), then SIZE sequence words, SIZE values.
  const r = new Int32Array(new SharedArrayBuffer((32 + 2 * SIZE) * 4));
  for (let i = 0; i < SIZE; i++) r[32 + i] = i;
  const go = new Event();
  const each = Math.floor(N / 2);
  const threads: Thread[] = [];
  for (let p = 0; p < 2; p++) {
    threads.push(
      new Thread({
        target: (r: Int32Array, go: Event, n: number, size: number) => {
          go.wait();
          const mask = size - 1;
          for (let i = 0; i < n; i++) {
            for (let spins = 0; ; spins++) {
              const pos = Atomics.load(r, 0);
              const cell = 32 + (pos & mask);
              const seq = Atomics.load(r, cell);
              if (seq === pos) {
                if (Atomics.compareExchange(r, 0, pos, (pos + 1) | 0) === pos) {
                  r[cell + size] = i;
                  Atomics.store(r, cell, (pos + 1) | 0);
                  Atomics.notify(r, cell);
                  break;
                }
              } else if (((seq - pos) | 0) < 0 && spins > 64) Atomics.wait(r, cell, seq, 0.05);
            }
          }
        },
        args: [r, go, each, SIZE],
      }),
      new Thread({
        target: (r: Int32Array, go: Event, n: number, size: number) => {
          go.wait();
          const mask = size - 1;
          for (let i = 0; i < n; i++) {
            for (let spins = 0; ; spins++) {
              const pos = Atomics.load(r, 16);
              const cell = 32 + (pos & mask);
              const seq = Atomics.load(r, cell);
              if (seq === ((pos + 1) | 0)) {
                if (Atomics.compareExchange(r, 16, pos, (pos + 1) | 0) === pos) {
                  r[cell + size];
                  Atomics.store(r, cell, (pos + size) | 0);
                  Atomics.notify(r, cell);
                  break;
                }
              } else if (((seq - (pos + 1)) | 0) < 0 && spins > 64) Atomics.wait(r, cell, seq, 0.05);
            }
          }
        },
        args: [r, go, each, SIZE],
      }),
    );
  }
  return (each * 2) / timed(threads, go);
}

/**
 * postMessage between the same threads: `pairs` producer -> consumer MessageChannels, `n` items in all
 * (for 2->2, two independent channels: the best postMessage can do, with no shared queue at all).
 */
function postMessageRun(kind: Kind, n: number, pairs = 1): Run {
  const go = new Event();
  const each = Math.floor(n / pairs);
  const cpu = new Float64Array(new SharedArrayBuffer(8 * 2 * pairs));
  const threads: Thread[] = [];
  for (let p = 0; p < pairs; p++) {
    const { port1, port2 } = new MessageChannel();
    threads.push(
      new Thread({
        target: (
          port: import("node:worker_threads").MessagePort,
          go: Event,
          n: number,
          kind: string,
          cpu: Float64Array,
          slot: number,
        ) => {
          go.wait();
          const tc = (process as unknown as { threadCpuUsage?: ThreadCpu }).threadCpuUsage;
          const c0 = tc?.();
          if (kind === "number") for (let i = 0; i < n; i++) port.postMessage(i);
          else if (kind === "string") for (let i = 0; i < n; i++) port.postMessage(`item ${i & 1023}`);
          else for (let i = 0; i < n; i++) port.postMessage({ id: i, name: "item", ok: true });
          const c = tc?.(c0);
          cpu[slot] = c ? c.user + c.system : -1e12;
          port.close();
        },
        args: [port1, go, each, kind, cpu, 2 * p],
        transferList: [port1],
      }),
      new Thread({
        target: (
          port: import("node:worker_threads").MessagePort,
          go: Event,
          n: number,
          cpu: Float64Array,
          slot: number,
        ) =>
          new Promise<void>((resolve) => {
            const tc = (process as unknown as { threadCpuUsage?: ThreadCpu }).threadCpuUsage;
            let c0: { user: number; system: number } | undefined;
            let got = 0;
            port.on("message", () => {
              if (++got === n) {
                const c = tc?.(c0);
                cpu[slot] = c ? c.user + c.system : -1e12;
                port.close();
                resolve();
              }
            });
            go.wait();
            c0 = tc?.();
          }),
        args: [port2, go, each, cpu, 2 * p + 1],
        transferList: [port2],
      }),
    );
  }
  const rate = (each * pairs) / timed(threads, go);
  return { rate, cpu: cpuPerItem(cpu, each * pairs) };
}

/**
 * The latency of one item handed to a consumer blocked in get(), and beside it, in alternate
 * rounds (so both see the same machine), a bare futex wake: a thread asleep in Atomics.wait, woken
 * by a store and Atomics.notify — the VM's wake-up of a sleeping thread, the limit of any hand-off
 * to a sleeper (issue 14: the queue's p99 within 1.5x of the bare p99).
 * Each round the main thread waits 2 ms (so the consumer is past its spin and asleep), sends the
 * time (absolute clocks: timeOrigin + now), and the woken thread writes the one-way delay and
 * acknowledges on a bare futex word, so the main thread's own waiting does not disturb the
 * measurement. Both paths are warmed first (a stream of items, then short rounds), as in a program
 * that uses its queue: a cold put()/get() runs unoptimized code, several µs more.
 */
function wakeLatencies(): { queue: { median: number; p99: number }; bare: { median: number; p99: number } } {
  const q = new Queue<number>();
  // [0] queue rounds acknowledged, [2] bare rounds started, [3] bare rounds acknowledged;
  // float64 [2] queue delay, [3] bare send time, [4] bare delay.
  const w = new Int32Array(new SharedArrayBuffer(64));
  const f = new Float64Array(w.buffer);
  const stream = 50_000;
  // (3000: with 1000, V8 optimized the bare wake's thread only ~1000 rounds into the measured ones,
  // and its median fell ~15% there: the baseline was measured cold; docs/benchmarks.md)
  const warm = 3000;
  const rounds = WAKE_ROUNDS;
  const total = warm + rounds;
  const consumer = new Thread({
    target: (q: Queue<number>, w: Int32Array, stream: number, n: number) => {
      const f = new Float64Array(w.buffer);
      for (let i = 0; i < stream; i++) q.get();
      for (let i = 0; i < n; i++) {
        const sent = q.get();
        f[2] = performance.timeOrigin + performance.now() - sent;
        Atomics.store(w, 0, i + 1);
        Atomics.notify(w, 0);
      }
    },
    args: [q, w, stream, total],
  });
  const bare = new Thread({
    target: (w: Int32Array, n: number) => {
      const f = new Float64Array(w.buffer);
      for (let i = 0; i < n; i++) {
        while (Atomics.load(w, 2) === i) Atomics.wait(w, 2, i);
        f[4] = performance.timeOrigin + performance.now() - (f[3] as number);
        Atomics.store(w, 3, i + 1);
        Atomics.notify(w, 3);
      }
    },
    args: [w, total],
  });
  consumer.start();
  bare.start();
  for (let i = 0; i < stream; i++) q.put(i);
  const lq: number[] = [];
  const lb: number[] = [];
  for (let i = 0; i < total; i++) {
    sleep(i < warm ? 0.0002 : 0.002);
    q.put(performance.timeOrigin + performance.now());
    while (Atomics.load(w, 0) !== i + 1) Atomics.wait(w, 0, i);
    if (i >= warm) lq.push((f[2] as number) * 1000);
    sleep(i < warm ? 0.0002 : 0.002);
    f[3] = performance.timeOrigin + performance.now();
    Atomics.store(w, 2, i + 1);
    Atomics.notify(w, 2);
    while (Atomics.load(w, 3) !== i + 1) Atomics.wait(w, 3, i);
    if (i >= warm) lb.push((f[4] as number) * 1000);
  }
  consumer.join();
  bare.join();
  const stats = (lat: number[]) => {
    const sorted = [...lat].sort((a, b) => a - b);
    return { median: median(lat), p99: sorted[Math.floor(sorted.length * 0.99)] as number };
  };
  return { queue: stats(lq), bare: stats(lb) };
}

/**
 * One round of CPython's queue.Queue(10000) (a python3 process): items/s of 1 -> 1 numbers, strings,
 * objects, then 2 -> 2, the same items per run as ours (itemsOf).
 */
function cpythonRound(): number[] {
  const py = python(`
import queue, threading, time
def run(kind, P, C, N):
    q=queue.Queue(10000); each=N//P; total=each*P
    def prod():
        if kind=="number":
            for i in range(each): q.put(i)
        elif kind=="string":
            for i in range(each): q.put("item %d" % (i & 1023))
        else:
            for i in range(each): q.put({"id": i, "name": "item", "ok": True})
    def cons(n):
        for i in range(n): q.get()
    base=total//C
    ts=[threading.Thread(target=prod) for _ in range(P)]+[threading.Thread(target=cons, args=(total-base*(C-1) if c==C-1 else base,)) for c in range(C)]
    t0=time.perf_counter()
    for t in ts: t.start()
    for t in ts: t.join()
    return total/(time.perf_counter()-t0)
for P in (1,2):
    for k in ("number","string","object"): print(run(k,P,P,${N_NUMBERS} if (k=="number" and P==1) else ${N}))
`);
  return Array.from({ length: 6 }, (_, i) => py[i] ?? Number.NaN);
}

export async function run(): Promise<void> {
  // Warm the hub and the thread spares.
  const w = new Thread({ target: () => {} });
  w.start();
  w.join();
  sleep(0.3);
  // Every run of every round, by side: "ring1", "bounded1 number", "open2 string", "pm2 object", ...
  const runs = new Map<string, Run[]>();
  /** CPython's runs of the rounds that have them, and those rounds. */
  const cpython: number[][] = [];
  const cpythonAt: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const part of alternate(r, ["threading", "cpython"] as const)) {
      if (part === "cpython") {
        if (pyRound(r)) {
          cpython.push(cpythonRound());
          cpythonAt.push(r);
        }
        continue;
      }
      for (const pairs of [1, 2]) {
        for (const kind of KINDS) {
          const n = itemsOf(kind, pairs);
          // Each run next to its baseline's: the bounded queue beside the bare ring (numbers), the
          // unbounded one beside postMessage; CPython's runs are in their own part of the round.
          const steps: [string, () => Run][] = [];
          if (kind === "number")
            steps.push([`ring${pairs}`, () => ({ rate: pairs === 1 ? ringRun(n) : mpmcRingRun(n), cpu: Number.NaN })]);
          steps.push(
            [`bounded${pairs} ${kind}`, () => queueRun(kind, n, pairs, pairs)],
            [`open${pairs} ${kind}`, () => queueRun(kind, n, pairs, pairs, 0)],
            [`pm${pairs} ${kind}`, () => postMessageRun(kind, n, pairs)],
          );
          for (const [key, f] of alternate(r, steps)) {
            const list = runs.get(key) ?? [];
            list.push(f());
            runs.set(key, list);
          }
        }
      }
    }
  }
  const of = (key: string, f: (x: Run) => number = (x) => x.rate) => (runs.get(key) ?? []).map(f);
  const rows: Row[] = [];
  const cpuRows: Row[] = [];
  /**
   * A row of medians over the rounds, with the ratio round by round (of the rounds in `at` only,
   * where the baseline was measured in those only).
   */
  const row = (
    what: string,
    unit: string,
    value: number[],
    baseline: number[],
    baselineName: string,
    at?: number[],
  ): Row => ({
    what,
    value: median(value),
    unit,
    baseline: median(baseline),
    baselineName,
    rounds: ratios(at ? at.map((r) => value[r] as number) : value, baseline),
  });
  for (const pairs of [1, 2]) {
    const arrow = pairs === 1 ? "1->1" : "2->2";
    const pmName = pairs === 1 ? "postMessage" : "postMessage, 2 channels";
    for (const [i, kind] of KINDS.entries()) {
      const bounded = of(`bounded${pairs} ${kind}`);
      const py = cpython.map((round) => round[3 * (pairs - 1) + i] as number);
      rows.push(
        row(`Queue ${arrow} ${kind}s`, "items/s", bounded, py, `CPython queue.Queue (${PY_ROUNDS} rounds)`, cpythonAt),
      );
      rows.push(
        row(
          `Queue() ${arrow} ${kind}s, unbounded`,
          "items/s",
          of(`open${pairs} ${kind}`),
          of(`pm${pairs} ${kind}`),
          pmName,
        ),
      );
      // CPU per item (where the runtime can tell: ThreadCpu).
      const cpu = of(`open${pairs} ${kind}`, (x) => x.cpu);
      if (!cpu.some(Number.isNaN)) {
        cpuRows.push(
          row(
            `Queue() ${arrow} ${kind}s, unbounded, CPU per item`,
            "ns",
            cpu,
            of(`pm${pairs} ${kind}`, (x) => x.cpu),
            pmName,
          ),
        );
      }
      if (kind === "number")
        rows.push(
          row(
            `Queue ${arrow} numbers`,
            "items/s",
            bounded,
            of(`ring${pairs}`),
            pairs === 1 ? "bare SAB int32 ring (limit)" : "bare SAB int32 MPMC ring (limit)",
          ),
        );
    }
  }
  rows.push(row("bare SAB int32 MPMC ring 2->2", "items/s", of("ring2"), of("pm2 number"), "postMessage, 2 channels"));
  rows.push(...cpuRows);
  rows.push(...handoffRows());
  printTable(
    `Queues (issue 5): ${N} items per run (1->1 numbers: ${N_NUMBERS}); medians of ${ROUNDS} rounds (CPython: ${PY_ROUNDS} of them), each run beside its baseline's, their order reversed every other round`,
    rows,
  );
}

/** The two rows of the hand-off to a blocked get() (wakeLatencies). */
function handoffRows(): Row[] {
  const rows: Row[] = [];
  const { queue: lat, bare } = wakeLatencies();
  rows.push({
    what: `one item to a consumer blocked in get(), median (${WAKE_ROUNDS} hand-offs, each beside a bare wake)`,
    value: lat.median,
    unit: "µs",
    baseline: bare.median,
    baselineName: "bare Atomics.notify wake",
  });
  rows.push({
    what: `one item to a consumer blocked in get(), p99 (the ${ordinal(WAKE_ROUNDS - Math.floor(WAKE_ROUNDS * 0.99))}-largest of ${WAKE_ROUNDS})`,
    value: lat.p99,
    unit: "µs",
    baseline: bare.p99,
    baselineName: "bare Atomics.notify wake (goal <= 1.5x)",
  });
  return rows;
}

/**
 * `npm run bench -- handoff`: the hand-off to a blocked get() alone (~12 s), the rows of the queue
 * section's end, for comparing builds (run them alternating: docs/benchmarks.md).
 */
export async function handoff(): Promise<void> {
  // Warm the hub and the thread spares, as run() does.
  const w = new Thread({ target: () => {} });
  w.start();
  w.join();
  sleep(0.3);
  printTable(`Queue hand-off to a blocked get() (issue 14), as at the end of the queue section`, handoffRows());
}
