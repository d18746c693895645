// API.md's every documented name as user code, compiled by test/types/types.test.ts under the
// strictest common settings (tsconfig.strict.json: strict, exactOptionalPropertyTypes,
// noUncheckedIndexedAccess, noPropertyAccessFromIndexSignature, noImplicitOverride,
// verbatimModuleSyntax, isolatedModules, module nodenext, no DOM) against dist/*.d.ts (never run).
// Explicit `undefined` in an option means "omitted" (API.md "Seconds": undefined/omitted waits forever).
import type { JobsOptions } from "bullmq";
import type { RedisOptions } from "ioredis";
import {
  ALL_COMPLETED,
  asCompleted,
  asCompletedAsync,
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  BrokenExecutor,
  CancelledError,
  Condition,
  Event,
  Empty,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Full,
  Future,
  KeyError,
  LifoQueue,
  Lock,
  local,
  logging,
  type ModuleTarget,
  PriorityQueue,
  Queue,
  RLock,
  RuntimeError,
  Semaphore,
  SharedArray,
  SharedDict,
  SharedList,
  ShutDown,
  SimpleQueue,
  SystemExit,
  type Target,
  Thread,
  ThreadPoolExecutor,
  TimeoutError,
  Timer,
  type TypeCode,
  Value,
  wait,
  waitAsync,
} from "threading";
import { RedisExecutor } from "threading/distributed";
import * as queueModule from "threading/queue";

const maybe = undefined as number | undefined;
const maybeName = undefined as string | undefined;

// ---- Threads: args checked against the target, options taking explicit undefined.
const t = new Thread({ target: (a: number, b: string) => a + b.length, args: [1, "x"], name: maybeName });
const typed: Thread<[number, string]> = t;
new Thread({
  target: { module: new URL("file:///x.mjs"), export: "run" },
  args: [1],
  daemon: undefined,
  isolated: true,
});
new Thread();
new Thread({});
t.join(maybe);
t.join(null);
await t.joinAsync(maybe);
t.daemon = true;
const name: string = t.getName();
t.setName("n");
t.setDaemon(false);
const d: boolean = t.isDaemon();
void [typed, name, d];
// @ts-expect-error ident is read-only
t.ident = 3;
const timer = new Timer(0.1, (s: string) => s, ["x"]);
const interval: number = timer.interval;
const fn: Target = timer.function;
const timerArgs: unknown[] = timer.args;
const finished: Event = timer.finished;
timer.cancel();
void [interval, fn, timerArgs, finished];

// ---- Synchronization
const lock = new Lock();
lock.acquire(true, maybe);
lock.acquire(false);
lock.acquire(true, -1);
// null and Infinity mean forever, also to a non-blocking acquire (API.md).
lock.acquire(false, null);
lock.acquire(false, Number.POSITIVE_INFINITY);
lock.acquire({ blocking: false, timeout: null });
new RLock().acquire(false, null);
new Condition().acquire(false, null);
new Semaphore().acquire(false, null);
// @ts-expect-error Python's Lock() takes no arguments (a TypeError at run time too)
new Lock(5);
// @ts-expect-error Event() takes no arguments
new Event(1);
// @ts-expect-error Semaphore() takes at most one
new Semaphore(1, 2);
await lock.acquireAsync(maybe);
{
  using _ = lock.hold(maybe);
}
{
  await using _ = await lock.holdAsync();
}
const rl = new RLock();
{
  using _ = rl.hold();
}
const cond = new Condition(new Lock());
new Condition();
{
  using _ = cond.hold();
  const ready: boolean = cond.waitFor(() => true, maybe);
  const count: number = await cond.waitForAsync(() => 3, 0.5);
  const woke: boolean = cond.wait(maybe) || (await cond.waitAsync(null));
  cond.notify();
  cond.notifyAll();
  void [ready, count, woke];
}
const sem = new Semaphore();
sem.acquire(true, maybe);
sem.release(3);
const bsem: Semaphore = new BoundedSemaphore(2);
{
  using _ = bsem.hold();
}
const ev = new Event();
const was: boolean = ev.wait(maybe) && (await ev.waitAsync(maybe)) && ev.isSet();
const b = new Barrier(3);
new Barrier(2, { module: "./action.mjs", export: "act" } satisfies ModuleTarget, maybe, [1]);
new Barrier(2, undefined, 1);
const idx: number = b.wait(maybe) + (await b.waitAsync());
const broken: boolean = b.broken;
const waiting: number = b.nWaiting + b.parties;
void [was, idx, broken, waiting];
class Conn extends local {
  declare db: string;
}
const conn = new Conn();
conn.db = "x";
const loc = new local();
loc["anything"] = [1];

// ---- Shared state
const codes: TypeCode[] = ["b", "B", "h", "H", "i", "I", "l", "L", "q", "Q", "f", "d"];
const v = new Value("d", 0.5, { lock: false });
new Value("i", 1, { lock: new RLock() });
new Value("i");
const vv: number = v.value;
v.getLock().release;
v.getObj();
const arr = new SharedArray<bigint>("q", [1n, 2n], { lock: lock });
const big: bigint = arr.at(0);
const len: number = arr.length;
const dict = new SharedDict<number, { n: number }>([[1, { n: 1 }]]);
const got: { n: number } | undefined = dict.get(1);
const popped: { n: number } = dict.pop(1, { n: 0 });
const sd: { n: number } = dict.setdefault(2, { n: 2 });
const obj: Record<string, { n: number }> = dict.toObject();
for (const k of dict.keys()) void (k satisfies number);
for (const x of dict.values()) void (x.n satisfies number);
for (const [k, x] of dict.entries()) void [k satisfies number, x satisfies { n: number }];
const size: number = dict.size;
dict.delete(1) && dict.has(2);
dict.clear();
const list = new SharedList<string>(["a"]);
list.extend(["b", "c"]);
const last: string = list.pop();
const first: string = list.pop(0);
list.set(0, "z");
const items: string[] = list.toArray();
const n: number = list.length;
list.clear();
void [codes, vv, big, len, got, popped, sd, obj, size, last, first, items, n];

// ---- Queues
const q = new Queue<{ id: number }>();
q.put({ id: 1 }, true, maybe);
q.put({ id: 1 }, { timeout: maybe });
await q.putAsync({ id: 2 }, maybe);
const item: { id: number } = q.get(true, maybe);
const item2: { id: number } = q.get({ block: true, timeout: maybe });
const item3: { id: number } = await q.getAsync(maybe);
const size2: number = q.qsize() + q.maxsize;
const flags: boolean = q.empty() || q.full();
q.taskDone();
q.join();
await q.joinAsync();
q.shutdown();
q.shutdown(true);
for await (const it of q) void (it.id satisfies number);
const lq = new LifoQueue<number>(3);
const pq = new PriorityQueue<[number, string]>();
pq.put([1, "x"]);
const sq = new SimpleQueue<number>();
sq.put(1);
sq.putNowait(2);
const s1: number = sq.get() + sq.getNowait() + (await sq.getAsync(maybe)) + sq.qsize();
void [item, item2, item3, size2, flags, lq, s1, sq.empty()];
const q2: queueModule.Queue<number> = new queueModule.LifoQueue<number>();
void [q2, queueModule.Empty, queueModule.Full, queueModule.ShutDown];
for (const E of [Empty, Full, ShutDown, RuntimeError, KeyError, BrokenBarrierError, SystemExit]) {
  const e: Error = new E("x");
  void e;
}

// ---- Executors: results inferred.
const pool = new ThreadPoolExecutor({ maxWorkers: maybe, threadNamePrefix: maybeName, initializer: undefined });
const f1 = pool.submit((a: number, b: number) => a + b, 1, 2);
const f1t: Future<number> = f1;
const f2 = pool.submit(async (s: string) => ({ s }), "x");
const f2t: Future<{ s: string }> = f2;
const f3: Future<string[]> = pool.submit<string[]>({ module: "./m.mjs" });
const r1: number = f1.result(maybe);
const r2: { s: string } = await f2.resultAsync(maybe);
const ex: unknown = f1.exception(maybe) ?? (await f1.exceptionAsync(maybe));
f1.addDoneCallback((f) => void (f.result() satisfies number));
const awaited: number = await f1;
for (const x of pool.map((i: number) => String(i), [1, 2], { timeout: maybe, chunksize: 2 })) void (x satisfies string);
for await (const x of pool.mapAsync(
  (i: number) => i * 2,
  (async function* () {
    yield 1;
  })(),
  { timeout: maybe },
))
  void (x satisfies number);
const all = wait([f1, f2], { timeout: maybe, returnWhen: FIRST_EXCEPTION });
for (const f of all.done) void (f satisfies Future<number> | Future<{ s: string }>);
const all2 = await waitAsync([f1], { returnWhen: ALL_COMPLETED, timeout: null });
void all2.notDone;
wait([f1], { returnWhen: FIRST_COMPLETED });
for (const f of asCompleted([f1, f2, f3], maybe)) void f.done();
const it = asCompletedAsync([f1], maybe);
const step = await it.next();
if (!step.done) void (step.value satisfies Future<number>);
pool.shutdown(true, { cancelFutures: true });
pool.shutdown(false);
await pool.shutdownAsync({ cancelFutures: false });
await using _pool = new ThreadPoolExecutor();
const errs = [CancelledError, TimeoutError, BrokenExecutor];
void [f1t, f2t, r1, r2, ex, awaited, errs];
new Future<number>().cancel();

// ---- Distributed: options typed by the user's own library types (API.md: redis string | object).
const redisOptions: RedisOptions = { host: "localhost", port: 6379 };
const jobOptions: JobsOptions = { attempts: 2 };
const remote = new RedisExecutor({ redis: redisOptions, queue: "q", defaultJobOptions: jobOptions });
new RedisExecutor({ redis: "redis://localhost:6379" });
const rf: Future<number> = remote.submit((a: number) => a * 2, 21);
for (const x of remote.map((i: number) => i, [1])) void (x satisfies number);
for await (const x of remote.mapAsync((i: number) => `${i}`, [1])) void (x satisfies string);
wait([rf, f1]);
remote.shutdown(true, { cancelFutures: true });
await remote.shutdownAsync();
{
  using _r = new RedisExecutor({ redis: "redis://localhost" });
}

// ---- Logging
logging.basicConfig({ level: logging.INFO, format: "%(asctime)s %(threadName)-9s %(message)s" });
logging.info("x %d", 1);
logging.warning("w");
logging.error("e");
logging.critical("c");
const log = logging.getLogger("app");
log.debug("d %s %r", "a", { b: 1 });

// ---- What the types refuse.
// @ts-expect-error args must fit the target's parameters
new Thread({ target: (a: number) => a, args: ["x"] });
// @ts-expect-error submit() args must fit fn
pool.submit((a: number) => a, "x");
// @ts-expect-error a Future<number> is not a Future<string>
const wrong: Future<string> = pool.submit((a: number) => a, 1);
// @ts-expect-error items must fit T
new Queue<number>().put("x");
// @ts-expect-error returnWhen is one of the three constants
wait([f1], { returnWhen: "SOMETIMES" });
// @ts-expect-error SharedDict keys are K
new SharedDict<string, number>().set(1, 1);
// @ts-expect-error a timeout is a number
lock.acquire(true, "1");
void wrong;
