// Benchmarks for issues 4 and 14: uncontended Lock, RLock and Semaphore acquire+release beside the
// bare-Atomics limit and CPython; Condition and Event ping-pong between two threads beside a bare
// Atomics.wait/notify ping-pong (the limit) and CPython's, all in this run.
import { Condition, Event, Lock, RLock, Semaphore, sleep, Thread } from "threading";
import { bareAtomicsPingPong, printTable, python, type Row } from "./util.js";

const N = 3_000_000;
const ROUNDS = 5_000;
/** Interleaved rounds of the uncontended loops; each keeps its best. */
const UNCONTENDED_ROUNDS = 7;

/**
 * Uncontended acquire+release, ns per pair: the bare limit (one CAS to take, one atomic store to
 * free, written inline) and Lock, RLock, Semaphore, each in a loop of the same shape. CPU time
 * (process.cpuUsage), so time the shared machine gives other jobs counts for none of them; the
 * loops take turns, round after round, and each keeps its best round.
 */
function uncontended(): { bare: number; lock: number; rlock: number; sem: number } {
  const w = new Int32Array(new SharedArrayBuffer(4));
  const lock = new Lock();
  const rlock = new RLock();
  const sem = new Semaphore();
  const loops = {
    bare: () => {
      for (let i = 0; i < N; i++) {
        Atomics.compareExchange(w, 0, 0, 1);
        Atomics.store(w, 0, 0);
      }
    },
    lock: () => {
      for (let i = 0; i < N; i++) {
        lock.acquire();
        lock.release();
      }
    },
    rlock: () => {
      for (let i = 0; i < N; i++) {
        rlock.acquire();
        rlock.release();
      }
    },
    sem: () => {
      for (let i = 0; i < N; i++) {
        sem.acquire();
        sem.release();
      }
    },
  };
  const best = {
    bare: Number.POSITIVE_INFINITY,
    lock: Number.POSITIVE_INFINITY,
    rlock: Number.POSITIVE_INFINITY,
    sem: Number.POSITIVE_INFINITY,
  };
  for (let r = 0; r < UNCONTENDED_ROUNDS; r++) {
    for (const key of ["bare", "lock", "rlock", "sem"] as const) {
      const c0 = process.cpuUsage();
      loops[key]();
      const c = process.cpuUsage(c0);
      best[key] = Math.min(best[key], ((c.user + c.system) * 1000) / N);
    }
  }
  return best;
}

function eventPingPong(): number {
  const ping = new Event();
  const pong = new Event();
  const other = new Thread({
    target: (a: Event, b: Event, n: number) => {
      for (let i = 0; i < n; i++) {
        a.wait();
        a.clear();
        b.set();
      }
    },
    args: [ping, pong, ROUNDS],
  });
  other.start();
  sleep(0.3); // let the hub finish booting its next spare worker, which takes a core meanwhile
  const t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    ping.set();
    pong.wait();
    pong.clear();
  }
  const us = ((performance.now() - t0) / ROUNDS) * 1000;
  other.join();
  return us;
}

function conditionPingPong(): number {
  // turn[0]: 0 = main's turn to send, 1 = the other's turn to answer.
  const cond = new Condition(new Lock());
  const turn = new Int32Array(new SharedArrayBuffer(4));
  const other = new Thread({
    target: (c: Condition, t: Int32Array, n: number) => {
      for (let i = 0; i < n; i++) {
        c.acquire();
        while (t[0] !== 1) c.wait();
        t[0] = 0;
        c.notify();
        c.release();
      }
    },
    args: [cond, turn, ROUNDS],
  });
  other.start();
  sleep(0.3);
  const t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    cond.acquire();
    turn[0] = 1;
    cond.notify();
    while (turn[0] !== 0) cond.wait();
    cond.release();
  }
  const us = ((performance.now() - t0) / ROUNDS) * 1000;
  other.join();
  return us;
}

/** Prints the sync primitives table (called by bench/run.ts). */
export async function run(): Promise<void> {
  const py = python(`
import threading, time
n = 1000000
def per_op(lock):
    t0 = time.process_time()
    for i in range(n):
        lock.acquire(); lock.release()
    return (time.process_time() - t0) / n * 1e9
print(per_op(threading.RLock()))
print(per_op(threading.Semaphore()))
R = ${ROUNDS}
ping, pong = threading.Event(), threading.Event()
def other():
    for i in range(R):
        ping.wait(); ping.clear(); pong.set()
t = threading.Thread(target=other); t.start()
t0 = time.perf_counter()
for i in range(R):
    ping.set(); pong.wait(); pong.clear()
print((time.perf_counter() - t0) / R * 1e6); t.join()
cond = threading.Condition(threading.Lock()); turn = [0]
def other2():
    for i in range(R):
        with cond:
            while turn[0] != 1: cond.wait()
            turn[0] = 0; cond.notify()
t = threading.Thread(target=other2); t.start()
t0 = time.perf_counter()
for i in range(R):
    with cond:
        turn[0] = 1; cond.notify()
        while turn[0] != 0: cond.wait()
print((time.perf_counter() - t0) / R * 1e6); t.join()
print(per_op(threading.Lock()))
`);
  const { bare: limit, lock: lk, rlock: rl, sem: se } = uncontended();
  const pp = bareAtomicsPingPong(ROUNDS);
  const ev = eventPingPong();
  const co = conditionPingPong();
  const rows: Row[] = [
    {
      what: "uncontended Lock acquire+release (CPU time)",
      value: lk,
      unit: "ns",
      baseline: limit,
      baselineName: "bare CAS+store (limit)",
    },
    {
      what: "uncontended Lock acquire+release",
      value: lk,
      unit: "ns",
      baseline: py[4],
      baselineName: "CPython Lock",
    },
    {
      what: "uncontended RLock acquire+release (CPU time)",
      value: rl,
      unit: "ns",
      baseline: limit,
      baselineName: "bare CAS+store (limit)",
    },
    {
      what: "uncontended RLock acquire+release",
      value: rl,
      unit: "ns",
      baseline: py[0],
      baselineName: "CPython RLock",
    },
    {
      what: "uncontended Semaphore acquire+release (CPU time)",
      value: se,
      unit: "ns",
      baseline: limit,
      baselineName: "bare CAS+store (limit)",
    },
    {
      what: "uncontended Semaphore acquire+release",
      value: se,
      unit: "ns",
      baseline: py[1],
      baselineName: "CPython Semaphore",
    },
    {
      what: "Event ping-pong round trip (µs; lower is better)",
      value: ev,
      unit: "µs",
      baseline: pp,
      baselineName: "bare Atomics wait/notify",
    },
    { what: "Event ping-pong round trip", value: ev, unit: "µs", baseline: py[2], baselineName: "CPython Event" },
    {
      what: "Condition ping-pong round trip",
      value: co,
      unit: "µs",
      baseline: pp,
      baselineName: "bare Atomics wait/notify",
    },
    {
      what: "Condition ping-pong round trip",
      value: co,
      unit: "µs",
      baseline: py[3],
      baselineName: "CPython Condition",
    },
  ];
  printTable("Synchronization primitives (issue 4); for round trips, throughput vs the limit = 1 / ratio", rows);
}
