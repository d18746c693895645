// Which thread pairs the kernel keeps on one vCPU: a diagnostic for the awaited task's two modes
// (docs/benchmarks.md, "The awaited task's two modes"), not part of `npm run bench`.
// Run: npm run build && node --import tsx bench/pairs.ts
//
// The main thread runs bare postMessage round trips (each awaited before the next) to echoes on
// threads of different kinds, and the executor's tasks awaited one at a time, in interleaved blocks
// of PAIRS_BLOCK (a set is one block of each partner in PAIRS_SETS, in order, reversed every other
// set; a partner named twice answers two blocks a set, so it is busy twice as long). Partners:
//   worker  an echo Worker the main thread spawned, over the Worker's own port (the bench's baseline)
//   channel the same kind of Worker, over a MessageChannel port
//   nested  an echo Worker spawned by another Worker, over a MessageChannel port
//   thread  a library Thread whose target echoes on a port and keeps running
//   pool    an echo on the pool thread of a ThreadPoolExecutor (2 threads) that awaited tasks run on
//   task    the executor's task, awaited one at a time (on that same pool thread)
// On Linux, after each block, /proc/self/task says whether the main thread and the partner last
// ran on the same CPU ("packed"), the partner's PELT utilization (se.avg.util_avg, 0-1024) and
// which other threads of the process ran during the block. Per partner it prints the median µs
// of wall and CPU time, the packed blocks and the median utilization.
// PAIRS_SETS (default "pool,task,worker", the bench's sets), PAIRS_BLOCK (200), PAIRS_WARM (20
// unmeasured sets), PAIRS_N (60 measured sets), PAIRS_IDLE (below).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { median } from "./util.js";

const BLOCK = Number(process.env.PAIRS_BLOCK ?? 200);
const WARM = Number(process.env.PAIRS_WARM ?? 20);
const SETS = Number(process.env.PAIRS_N ?? 60);
const order = (process.env.PAIRS_SETS ?? "pool,task,worker").split(",");
const kinds = [...new Set(order)];
const linux = process.platform === "linux";

const echoFile = new URL("./fixtures/pairs-echo.mjs", import.meta.url);
const nestFile = new URL("./fixtures/pairs-nest.mjs", import.meta.url);

type Trip = (x: number) => Promise<unknown>;

/** One round trip at a time over `port` (a Worker or a MessagePort). */
function trips(port: Worker | MessagePort): Trip {
  let answer: (v: unknown) => void = () => {};
  port.on("message", (m: unknown) => answer(m));
  return (x) =>
    new Promise((resolve) => {
      answer = resolve;
      port.postMessage(x);
    });
}

/** The next message on `port`. */
const next = (port: Worker | MessagePort) => new Promise<unknown>((resolve) => port.once("message", resolve));
const tidOf = (m: unknown) => (m as { tid: number }).tid;

/** Node's own threads (V8's platform workers, libuv's), there before the library is loaded. */
const own = new Set(linux ? readdirSync("/proc/self/task").map(Number) : []);
const { Thread, ThreadPoolExecutor } = await import("threading");
// PAIRS_IDLE=n: first n threads started at once and joined, leaving the hub with idle workers to let
// go of (as a whole `npm run bench` does: its threads section runs before the executor's).
const idle = Number(process.env.PAIRS_IDLE ?? 0);
if (idle > 0) {
  const spin = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  const started = Array.from({ length: idle }, () => new Thread({ target: spin, args: [20] }));
  for (const t of started) t.start();
  for (const t of started) await t.joinAsync();
}
const sides = new Map<string, { trip: Trip; tid: number }>();
let executor: InstanceType<typeof ThreadPoolExecutor> | undefined;
for (const kind of kinds) {
  if (kind === "worker") {
    const w = new Worker(echoFile);
    const tid = tidOf(await next(w));
    sides.set(kind, { trip: trips(w), tid });
  } else if (kind === "channel" || kind === "nested") {
    const c = new MessageChannel();
    const report = new MessageChannel();
    new Worker(kind === "channel" ? echoFile : nestFile, {
      workerData: { port: c.port2, report: report.port2 },
      transferList: [c.port2, report.port2],
    });
    const tid = tidOf(await next(report.port1));
    report.port1.close();
    sides.set(kind, { trip: trips(c.port1), tid });
  } else if (kind === "thread") {
    const c = new MessageChannel();
    const echo = async (port: MessagePort) => {
      const fs = await import("node:fs");
      port.on("message", (m: unknown) => port.postMessage(m));
      port.postMessage({ tid: Number(fs.readlinkSync("/proc/thread-self").split("/").pop()) });
      await new Promise(() => {});
    };
    new Thread({ target: echo, args: [c.port2], transferList: [c.port2], daemon: true }).start();
    const tid = tidOf(await next(c.port1));
    sides.set(kind, { trip: trips(c.port1), tid });
  } else if (kind === "pool" || kind === "task") {
    if (executor === undefined) {
      const ex = new ThreadPoolExecutor({ maxWorkers: 2 });
      executor = ex;
      const echo = (x: number) => x;
      for (let i = 0; i < 2000; i++) await ex.submit(echo, i);
      const c = new MessageChannel();
      const tid = async () => Number((await import("node:fs")).readlinkSync("/proc/thread-self").split("/").pop());
      const onPool = await ex.submitWith(
        { transferList: [c.port2] },
        async (port: MessagePort) => {
          const fs = await import("node:fs");
          port.on("message", (m: unknown) => port.postMessage(m));
          return Number(fs.readlinkSync("/proc/thread-self").split("/").pop());
        },
        c.port2,
      );
      const tasksOn = await ex.submit(tid);
      if (tasksOn !== onPool) throw new Error(`the echo is on thread ${onPool}, awaited tasks on ${tasksOn}`);
      sides.set("pool", { trip: trips(c.port1), tid: onPool });
      sides.set("task", { trip: (x) => ex.submit(echo, x), tid: onPool });
    }
  } else throw new Error(`PAIRS_SETS: unknown partner ${kind}`);
}

interface Sched {
  cpu: number;
  util: number;
  switches: number;
}

/** Each thread's last CPU, utilization and context switches (Linux; empty elsewhere). */
function sched(): Map<number, Sched> {
  const out = new Map<number, Sched>();
  if (!linux) return out;
  for (const name of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const s = readFileSync(`/proc/self/task/${name}/sched`, "utf8");
      const status = readFileSync(`/proc/self/task/${name}/status`, "utf8");
      const count = (re: RegExp) => Number(status.match(re)?.[1] ?? 0);
      out.set(Number(name), {
        cpu: Number(fields[36]), // field 39: the CPU it last ran on
        util: Number(s.match(/se\.avg\.util_avg\s*:\s*(\d+)/)?.[1] ?? 0),
        switches: count(/^voluntary_ctxt_switches:\s*(\d+)/m) + count(/^nonvoluntary_ctxt_switches:\s*(\d+)/m),
      });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

const main = linux ? Number(readlinkSync("/proc/thread-self").split("/").pop()) : 0;
const names = new Map<number, string>([[main, "main"]]);
for (const [kind, { tid }] of sides) if (kind !== "task") names.set(tid, kind);
const results = new Map(
  kinds.map((k) => [k, { wall: [] as number[], cpu: [] as number[], packed: 0, util: [] as number[] }]),
);
const others = new Map<string, number>();

for (let r = 0; r < WARM + SETS; r++) {
  for (const kind of r % 2 === 0 ? order : [...order].reverse()) {
    const side = sides.get(kind) as { trip: Trip; tid: number };
    const before = sched();
    const t = performance.now();
    const c = process.cpuUsage();
    for (let i = 0; i < BLOCK; i++) await side.trip(i);
    const wall = ((performance.now() - t) * 1000) / BLOCK;
    const cu = process.cpuUsage(c);
    const after = sched();
    if (r < WARM) continue;
    const res = results.get(kind) as { wall: number[]; cpu: number[]; packed: number; util: number[] };
    res.wall.push(wall);
    res.cpu.push((cu.user + cu.system) / BLOCK);
    const m = after.get(main);
    const p = after.get(side.tid);
    if (m !== undefined && p !== undefined) {
      if (m.cpu === p.cpu) res.packed++;
      res.util.push((before.get(side.tid) as Sched).util);
    }
    for (const [tid, s] of after) {
      const was = before.get(tid);
      if (was === undefined || tid === main || tid === side.tid || s.switches === was.switches) continue;
      const who = names.get(tid) ?? (own.has(tid) ? "node's own threads" : "the library's threads (hub, workers)");
      const key = `${who} during ${kind}'s blocks`;
      others.set(key, (others.get(key) ?? 0) + s.switches - was.switches);
    }
  }
}

console.log(`sets: ${order.join(", ")} (${SETS} measured after ${WARM}), ${BLOCK} round trips a block\n`);
console.log("| partner | wall µs (median block) | CPU µs | packed blocks | partner util_avg (median) |");
console.log("|---|---:|---:|---:|---:|");
for (const [kind, r] of results) {
  const util = r.util.length > 0 ? String(median(r.util)) : "-";
  console.log(
    `| ${kind} | ${median(r.wall).toFixed(1)} | ${median(r.cpu).toFixed(1)} | ${linux ? `${r.packed}/${r.wall.length}` : "-"} | ${util} |`,
  );
}
if (linux) {
  const list = [...others].map(([who, n]) => `${who} ${n}`).join(", ");
  console.log(`\nContext switches of other threads during the measured blocks: ${list || "none"}.`);
}
await executor?.shutdownAsync();
process.exit(0);
