#!/usr/bin/env node
// One soak round (scripts/soak.mjs runs many, each in its own process): a random mix, from `--seed S`,
// of threads starting threads, queues carrying shared objects and large items, an executor with
// failing and exiting tasks, Event and Condition ping-pongs, Semaphore timeouts racing releases, a
// SharedDict and SharedList written by several threads at once, and CPU-hogging threads to force preemption. Every count is checked exactly (no item lost or
// duplicated); a mismatch prints what differs and exits 1. A hang is the parent's watchdog's business.
// Usage: node scripts/soak-round.mjs --seed S
import {
  Condition,
  Event,
  Lock,
  Queue,
  Semaphore,
  SimpleQueue,
  Thread,
  ThreadPoolExecutor,
  LifoQueue,
  PriorityQueue,
  SharedDict,
  SharedList,
  sleepAsync,
} from "../dist/index.js";

const seedArg = process.argv.indexOf("--seed");
const seed = seedArg >= 0 ? Number(process.argv[seedArg + 1]) >>> 0 : (Date.now() ^ process.pid) >>> 0;

/** mulberry32: small, seeded, good enough to pick a mix. */
function rng(s) {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(seed);
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};
const log = (s) => process.stdout.write(`[seed ${seed}] ${s}\n`);

// --- CPU hogs: daemon threads that spin until told to stop, so the others get preempted.
const stopHogs = new Event();
const hogs = [];
for (let i = int(0, 2); i > 0; i--) {
  const t = new Thread({
    name: `hog-${i}`,
    daemon: true,
    target: (stop) => {
      let x = 0;
      while (!stop.isSet()) for (let j = 0; j < 1e5; j++) x = (x * 31 + j) | 0;
      return x;
    },
    args: [stopHogs],
  });
  t.start();
  hogs.push(t);
}

/** Queue pipeline: P producers x N items, C consumers, each item seen exactly once (per-item counters). */
async function queues() {
  const kind = pick(["Queue", "SimpleQueue", "LifoQueue", "PriorityQueue"]);
  const producers = int(1, 3);
  const consumers = int(1, 3);
  const perProducer = int(200, 1500);
  const maxsize = kind === "SimpleQueue" ? 0 : pick([0, 1, 8, 64]);
  const q =
    kind === "Queue"
      ? new Queue(maxsize)
      : kind === "LifoQueue"
        ? new LifoQueue(maxsize)
        : kind === "PriorityQueue"
          ? new PriorityQueue(maxsize)
          : new SimpleQueue();
  const total = producers * perProducer;
  const seen = new Int32Array(new SharedArrayBuffer(4 * total));
  const bad = new Int32Array(new SharedArrayBuffer(4));
  const shared = new Lock();
  const threads = [];
  for (let p = 0; p < producers; p++) {
    threads.push(
      new Thread({
        name: `producer-${p}`,
        target: async (q, p, n, lock, kind, useAsync) => {
          for (let i = 0; i < n; i++) {
            const id = p * n + i;
            let item;
            const r = id % 17;
            if (r === 0) {
              const arr = new Int32Array(new SharedArrayBuffer(8));
              arr[0] = id;
              item = { id, lock, arr };
            } else if (r === 1 && id % 5 === 0) item = { id, big: "x".repeat(70_000) + id };
            else item = { id };
            const entry = kind === "PriorityQueue" ? [id, item] : item;
            if (useAsync && i % 2 === 0 && q.putAsync !== undefined) await q.putAsync(entry);
            else q.put(entry);
          }
        },
        args: [q, p, perProducer, shared, kind, rand() < 0.5],
      }),
    );
  }
  for (let c = 0; c < consumers; c++) {
    threads.push(
      new Thread({
        name: `consumer-${c}`,
        target: async (q, seen, bad, lock, kind, useAsync) => {
          for (let i = 0; ; i++) {
            let entry = useAsync && i % 3 === 0 ? await q.getAsync() : q.get();
            if (entry === null) return;
            const item = kind === "PriorityQueue" ? entry[1] : entry;
            if (item === null) return;
            if (item.arr !== undefined && (item.lock !== lock || item.arr[0] !== item.id)) Atomics.add(bad, 0, 1);
            if (item.big !== undefined && item.big.length !== 70_000 + String(item.id).length) Atomics.add(bad, 0, 1);
            Atomics.add(seen, item.id, 1);
            entry = null;
          }
        },
        args: [q, seen, bad, shared, kind, rand() < 0.5],
      }),
    );
  }
  for (const t of threads) t.start();
  for (const t of threads.slice(0, producers)) await t.joinAsync();
  // A LIFO queue hands out its newest item first: a stop sentinel put while items remain would be
  // taken before them. So it gets its sentinels only once the consumers have emptied it.
  if (kind === "LifoQueue") while (!q.empty()) await sleepAsync(0.001);
  for (let c = 0; c < consumers; c++) q.put(kind === "PriorityQueue" ? [Number.MAX_SAFE_INTEGER, null] : null);
  for (const t of threads.slice(producers)) await t.joinAsync();
  let missing = 0;
  let dup = 0;
  for (let i = 0; i < total; i++) {
    if (seen[i] === 0) missing++;
    if (seen[i] > 1) dup++;
  }
  check(
    missing === 0 && dup === 0,
    `${kind}(${maxsize}) ${producers}x${perProducer} -> ${consumers}: ${missing} lost, ${dup} duplicated`,
  );
  check(bad[0] === 0, `${kind}: ${bad[0]} items arrived wrong (shared lock/array or large item)`);
  return `${kind}(${maxsize}) ${producers}x${perProducer}->${consumers}`;
}

/** Threads starting threads: a tree of depth D and fan-out F; every node counts itself once. */
async function tree() {
  const depth = int(1, 3);
  const fan = int(1, 3);
  const count = new Int32Array(new SharedArrayBuffer(4));
  const root = new Thread({
    name: "tree",
    target: function node(count, depth, fan) {
      Atomics.add(count, 0, 1);
      if (depth === 0) return;
      const kids = [];
      for (let i = 0; i < fan; i++) {
        const t = new Thread({ target: node, args: [count, depth - 1, fan] });
        t.start();
        kids.push(t);
      }
      for (const t of kids) t.join();
    },
    args: [count, depth, fan],
  });
  root.start();
  await root.joinAsync();
  let expected = 0;
  for (let d = 0; d <= depth; d++) expected += fan ** d;
  check(count[0] === expected, `thread tree depth ${depth} fan ${fan}: ${count[0]} nodes ran, expected ${expected}`);
  return `tree ${depth}/${fan} (${expected} threads)`;
}

/** Executor: ok, failing and exiting (process.exit) tasks; each future settles as its task did. */
async function executor() {
  const n = int(20, 150);
  const pool = new ThreadPoolExecutor({ maxWorkers: int(1, 4) });
  const kinds = [];
  const futures = [];
  for (let i = 0; i < n; i++) {
    const k = rand() < 0.8 ? "ok" : rand() < 0.6 ? "fail" : "exit";
    kinds.push(k);
    futures.push(
      pool.submit(
        (k, i) => {
          if (k === "fail") throw new RangeError(`task ${i} fails`);
          if (k === "exit") process.exit(3);
          let x = 0;
          for (let j = 0; j < 1000 * (i % 7); j++) x += j;
          return i * 2 + (x > -1 ? 0 : 1);
        },
        k,
        i,
      ),
    );
  }
  const settled = await Promise.allSettled(futures.map((f) => f.resultAsync()));
  let wrong = 0;
  settled.forEach((s, i) => {
    const k = kinds[i];
    if (k === "ok" && !(s.status === "fulfilled" && s.value === i * 2)) wrong++;
    if (k === "fail" && !(s.status === "rejected" && s.reason?.name === "RangeError")) wrong++;
    if (k === "exit" && s.status !== "rejected") wrong++;
  });
  await pool.shutdownAsync();
  check(
    wrong === 0,
    `executor: ${wrong} of ${n} futures settled wrong (${kinds.filter((k) => k === "exit").length} exiting)`,
  );
  return `executor ${n} tasks`;
}

/** Event ping-pong: R rounds, each side set/wait/clear; one side async half of the time. */
async function eventPingPong() {
  const rounds = int(500, 4000);
  const a = new Event();
  const b = new Event();
  const count = new Int32Array(new SharedArrayBuffer(4));
  const t = new Thread({
    name: "pong",
    target: (a, b, n, count) => {
      for (let i = 0; i < n; i++) {
        a.wait();
        a.clear();
        Atomics.add(count, 0, 1);
        b.set();
      }
    },
    args: [a, b, rounds, count],
  });
  t.start();
  const useAsync = rand() < 0.5;
  for (let i = 0; i < rounds; i++) {
    a.set();
    if (useAsync) await b.waitAsync();
    else b.wait();
    b.clear();
    if (count[0] !== i + 1) {
      check(false, `Event ping-pong: round ${i}, the other side counted ${count[0]}`);
      break;
    }
  }
  await t.joinAsync();
  return `Event ping-pong ${rounds}${useAsync ? " (async)" : ""}`;
}

/** Condition ping-pong: two threads take turns on a shared word under the Condition. */
async function conditionPingPong() {
  const rounds = int(300, 2000);
  const cond = new Condition(rand() < 0.5 ? new Lock() : undefined);
  const turn = new Int32Array(new SharedArrayBuffer(8));
  const side = (cond, turn, me, n) => {
    for (let i = 0; i < n; i++) {
      cond.acquire();
      while (turn[0] % 2 !== me) cond.wait();
      turn[0]++;
      cond.notifyAll();
      cond.release();
    }
  };
  const ts = [0, 1].map((me) => new Thread({ name: `cond-${me}`, target: side, args: [cond, turn, me, rounds] }));
  for (const t of ts) t.start();
  for (const t of ts) await t.joinAsync();
  check(turn[0] === 2 * rounds, `Condition ping-pong: ${turn[0]} turns, expected ${2 * rounds}`);
  return `Condition ping-pong ${rounds}`;
}

/** Semaphore acquires with short timeouts racing releases: taken + left over = released, exactly. */
async function timeouts() {
  const units = int(200, 2000);
  const sem = new Semaphore(0);
  const taken = new Int32Array(new SharedArrayBuffer(4));
  const done = new Event();
  const takers = [];
  for (let i = int(1, 3); i > 0; i--) {
    takers.push(
      new Thread({
        name: `taker-${i}`,
        target: async (sem, taken, done, useAsync) => {
          for (;;) {
            const t = (Math.random() * 2) / 1000;
            const ok = useAsync ? await sem.acquireAsync(t) : sem.acquire(true, t);
            if (ok) Atomics.add(taken, 0, 1);
            else if (done.isSet()) return;
          }
        },
        args: [sem, taken, done, rand() < 0.5],
      }),
    );
  }
  for (const t of takers) t.start();
  const releaser = new Thread({
    name: "releaser",
    target: (sem, n) => {
      for (let i = 0; i < n; i++) {
        sem.release();
        if (i % 50 === 0) for (let j = 0; j < 1e4; j++);
      }
    },
    args: [sem, units],
  });
  releaser.start();
  await releaser.joinAsync();
  done.set();
  for (const t of takers) await t.joinAsync();
  let left = 0;
  while (sem.acquire(false)) left++;
  check(taken[0] + left === units, `Semaphore timeouts: ${taken[0]} taken + ${left} left != ${units} released`);
  return `Semaphore timeouts ${units}`;
}

/**
 * SharedDict and SharedList from T threads at once: every thread adds 1 to shared counters with
 * update() (the totals must be exact), churns keys of its own through set (numbers and objects),
 * delete, setdefault and pop while reading them back whole, and appends to a list (each value once).
 * A thread that sees a torn value or throws records it in the dict under "error-<t>".
 */
async function shared() {
  const threads = int(2, 4);
  const n = int(300, 3000);
  const keys = int(1, 64);
  const d = new SharedDict();
  const l = new SharedList();
  const ts = [];
  for (let t = 0; t < threads; t++) {
    const th = new Thread({
      name: `shared-${t}`,
      target: (d, l, t, n, keys) => {
        try {
          for (let i = 0; i < n; i++) {
            d.update(`k${(i * 7 + t) % keys}`, (v) => (v ?? 0) + 1);
            const own = `own-${t}-${i % 13}`;
            const op = i % 5;
            if (op === 0) d.set(own, i);
            else if (op === 1) d.set(own, { i, s: "x".repeat(i % 40) });
            else if (op === 2) d.delete(own);
            else if (op === 3) d.setdefault(own, -1);
            else d.pop(own, null);
            const g = d.get(own);
            if (g !== undefined && typeof g !== "number" && g.s.length !== g.i % 40) {
              throw new Error(`torn value ${JSON.stringify(g)}`);
            }
            if (i % 10 === 0) l.append(t * 1e6 + i);
          }
        } catch (e) {
          d.set(`error-${t}`, String(e?.stack ?? e));
        }
      },
      args: [d, l, t, n, keys],
    });
    th.start();
    ts.push(th);
  }
  for (const th of ts) await th.joinAsync();
  for (let t = 0; t < threads; t++) check(!d.has(`error-${t}`), `shared: thread ${t}: ${d.get(`error-${t}`)}`);
  let total = 0;
  for (let k = 0; k < keys; k++) total += d.get(`k${k}`) ?? 0;
  check(total === threads * n, `shared: counters add up to ${total}, not ${threads} x ${n}`);
  const seen = [...d.keys()];
  check(seen.length === d.size, `shared: ${seen.length} keys iterated, size ${d.size}`);
  const items = l.toArray();
  const perThread = Math.ceil(n / 10);
  check(
    items.length === threads * perThread && new Set(items).size === items.length,
    `shared: list has ${items.length} items (${new Set(items).size} distinct), not ${threads * perThread}`,
  );
  return `shared ${threads}x${n} on ${keys} keys`;
}

const all = { queues, tree, executor, eventPingPong, conditionPingPong, timeouts, shared };
const chosen = Object.keys(all).filter(() => rand() < 0.6);
if (chosen.length === 0) chosen.push(pick(Object.keys(all)));
// Some of them twice, all at once.
const jobs = chosen.flatMap((k) => (rand() < 0.3 ? [k, k] : [k]));
const t0 = Date.now();
const results = await Promise.all(jobs.map((k) => all[k]()));
stopHogs.set();
log(`${results.join("; ")}; ${hogs.length} hog(s); ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (failures.length > 0) {
  for (const f of failures) log(`FAILED: ${f}`);
  process.exit(1);
}
