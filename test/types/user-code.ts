// User code as docs/API.md shows it, compiled under `strict` by test/types/types.test.ts (never
// run). Every public export is used; the lines under @ts-expect-error are what the types must
// refuse (tsc fails if such a line compiles).
import {
  ALL_COMPLETED,
  activeCount,
  asCompleted,
  asCompletedAsync,
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  BrokenExecutor,
  CancelledError,
  Condition,
  currentThread,
  dumpThreads,
  Empty,
  Event,
  enumerate,
  excepthook,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Full,
  type Future,
  getIdent,
  getNativeId,
  KeyError,
  LifoQueue,
  Lock,
  local,
  logging,
  type ModuleTarget,
  mainThread,
  PriorityQueue,
  Queue,
  RLock,
  RuntimeError,
  type Sendable,
  type SendableArgs,
  Semaphore,
  SharedArray,
  SharedDict,
  SharedList,
  SimpleQueue,
  ShutDown,
  SystemExit,
  setExcepthook,
  sleep,
  sleepAsync,
  type Target,
  Thread,
  ThreadPoolExecutor,
  TIMEOUT_MAX,
  TimeoutError,
  Timer,
  Value,
  wait,
  waitAsync,
} from "threading";

// ---- Threads
function worker(lock: Lock, cell: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    using _ = lock.hold();
    cell[0] = (cell[0] as number) + 1;
  }
}
const lock = new Lock();
const cell = new Int32Array(new SharedArrayBuffer(4));
const t = new Thread({ target: worker, args: [lock, cell, 10], name: "w", daemon: false });
t.start();
t.join(1.5);
await t.joinAsync();
const alive: boolean = t.isAlive();
const ident: number | null = t.ident;
const nativeId: number | null = t.nativeId;
t.name = "renamed";
await new Thread({ target: async (s: string) => s.length, args: ["x"] }).startAsync();
new Thread({ target: { module: "./work.js", export: "run" }, args: [1] });
new Thread({ target: { module: new URL("file:///x.js") } });
// @ts-expect-error args must fit the target's parameters
new Thread({ target: worker, args: [lock, cell, "10"] });
class Counter extends Thread {
  count = 0;
  override run(): void {
    this.count++;
  }
}
new Counter().start();
const me: Thread = currentThread();
const all: Thread[] = enumerate();
const n: number = activeCount() + getIdent() + getNativeId() + TIMEOUT_MAX;
void [alive, ident, nativeId, me, all, n, mainThread().name];
setExcepthook((args) => console.log(args.excType, args.excValue, args.thread?.name));
setExcepthook(null);
excepthook({ excType: "Error", excValue: new Error("x"), thread: null });
sleep(0.01);
await sleepAsync(0.01);
const timer = new Timer(0.5, (msg: string) => console.log(msg), ["hi"]);
timer.start();
timer.cancel();
const report: string = dumpThreads();
void report;

// ---- Synchronization primitives
const got: boolean = lock.acquire(true, -1) && lock.acquire({ timeout: 0.5 });
const gotAsync: Promise<boolean> = lock.acquireAsync(0.5);
lock.release();
{
  await using _h = await lock.holdAsync(1);
}
const rlock = new RLock();
rlock.acquire();
rlock.release();
const cond = new Condition(rlock);
{
  using _c = cond.hold();
  const notified: boolean = cond.wait(0.1);
  const pred: unknown = cond.waitFor(() => true, 0.1);
  cond.notify(2);
  cond.notifyAll();
  void [notified, pred];
}
const sem = new Semaphore(2);
sem.acquire();
sem.release(2);
new BoundedSemaphore(1).release();
const ev = new Event();
ev.set();
const isSet: boolean = ev.isSet() && ev.wait(0.1) && (await ev.waitAsync(0.1));
ev.clear();
const barrier = new Barrier(2, (x: number) => console.log(x), 5, [1]);
const index: number = barrier.wait();
const indexAsync: Promise<number> = barrier.waitAsync(1);
barrier.reset();
barrier.abort();
void [got, gotAsync, isSet, index, indexAsync, barrier.parties, barrier.nWaiting, barrier.broken];

// `local`: any attribute may be set; a subclass may declare typed fields.
// (dot-access.ts writes `data.x`, which a tsconfig with noPropertyAccessFromIndexSignature refuses.)
const data = new local();
data["x"] = 1;
data["conn"] = { open: true };
const x: number = data["x"];
class Session extends local {
  declare user: string;
  constructor(readonly db: string) {
    super(db);
  }
}
const session = new Session("db");
session.user = "ann";
// @ts-expect-error a declared field keeps its type
session.user = 1;
void x;

// ---- Shared state
const counter = new Value("i", 0);
counter.value += 1;
const arr = new SharedArray("d", [0.5, 1.5]);
const counts = new SharedDict<string, number>();
counts.update("w", (c) => (c ?? 0) + 1);
const results = new SharedList<{ id: number }>();
results.append({ id: 1 });
void arr;

// ---- Queues
const q = new Queue<number>(10);
q.put(1);
q.put(2, { block: true, timeout: 0.5 });
await q.putAsync(3);
const item: number = q.get() + q.get({ timeout: 0.5 }) + (await q.getAsync(0.1)) + q.getNowait();
q.taskDone();
q.join();
q.shutdown(true);
for await (const i of q) void (i satisfies number);
// @ts-expect-error items must fit T
q.put("x");
const lifo = new LifoQueue<string>();
lifo.putNowait("a");
const prio = new PriorityQueue<[number, string]>();
prio.put([1, "a"]);
const sq = new SimpleQueue<string>();
sq.put("x");
const s: string = sq.get();
void [item, s];
for (const E of [Empty, Full, ShutDown, RuntimeError, KeyError, BrokenBarrierError]) void new E("x");

// ---- Executors
function add(a: number, b: number): number {
  return a + b;
}
const pool = new ThreadPoolExecutor({ maxWorkers: 2, threadNamePrefix: "p", initializer: () => {}, initargs: [] });
const f1: Future<number> = pool.submit(add, 1, 2);
const f2: Future<string> = pool.submit(async (s: string) => s.toUpperCase(), "a"); // Promise<R> unwraps
const f3 = pool.submit<number>({ module: "./work.js", export: "crunch" }, 1, 2);
const f4: Future<number> = pool.submit<number>((a: number, b: number) => a * b, 1, 2); // R given
const f5: Future<boolean> = pool.submit(() => true);
// @ts-expect-error args must fit the function's parameters (the error is about the function)
pool.submit(add, 1, "2");
// @ts-expect-error too few args
pool.submit(add, 1);
// @ts-expect-error R given: the function must return it
pool.submit<string>((a: number) => a, 1);
const r1: number = f1.result(1);
const r2: string = await f2;
const r3: number = await f3.resultAsync();
const e: unknown = f4.exception();
const flags: boolean = f5.done() || f5.running() || f5.cancelled() || f5.cancel();
f1.addDoneCallback((f) => void (f.result() satisfies number));
f1.then(undefined, (err: Error) => console.log(err.message));
await f1.then((v) => v + 1).catch(() => 0);
void [r1, r2, r3, e, flags];

// Results of map() are typed from the function.
for (const v of pool.map((i: number) => i * 2, [1, 2, 3])) void (v satisfies number);
for (const v of pool.map(async (i: number) => `${i}`, [1, 2], { timeout: 5, chunksize: 2 })) void (v satisfies string);
for await (const v of pool.mapAsync((i: number) => i > 1, [1, 2])) void (v satisfies boolean);
const viaModule = pool.map<number>({ module: "./work.js", export: "double" }, [1, 2]);
void (viaModule.next().value satisfies number | undefined);
// @ts-expect-error items must fit the function's parameter
pool.map((i: number) => i * 2, ["1"]);
// Several iterables, as Python's map(fn, *iterables): one per parameter, the options last.
for (const v of pool.map((x: number, y: string) => y.repeat(x), [1, 2], ["a", "b"])) void (v satisfies string);
for (const v of pool.map(Math.pow, [1, 2], [3, 4], { chunksize: 2 })) void (v satisfies number);
for (const v of pool.map((x, y) => x + y, [1, 2], new Set([3]))) void (v satisfies number);
for await (const v of pool.mapAsync(async (x: number, y: number) => x > y, [1], [2], { timeout: 1 }))
  void (v satisfies boolean);
// @ts-expect-error the second iterable's items must fit the second parameter
pool.map((x: number, y: number) => x + y, [1], ["2"]);
// @ts-expect-error one iterable per parameter
pool.map((x: number, y: number) => x + y, [1]);

// wait() / asCompleted() over futures of different result types.
const { done, notDone } = wait([f1, f2], { timeout: 1, returnWhen: FIRST_COMPLETED });
for (const f of done) void (f satisfies Future<number> | Future<string>);
void notDone;
const w2 = await waitAsync([f1, f5], { returnWhen: FIRST_EXCEPTION });
void (w2.done satisfies Set<Future<number> | Future<boolean>>);
wait([f1], { returnWhen: ALL_COMPLETED });
wait([f1, f2], 5);
for (const f of asCompleted([f1, f2], 1)) void (f satisfies Future<number> | Future<string>);
// asCompletedAsync yields the Future objects (API.md), and `for await` over it types them so under
// strict TS (TypeScript types `for await` as awaiting every value; CompletedFuture<F> is not awaited
// into the result), as does next():
for await (const f of asCompletedAsync([f1, f2, f5])) {
  void (f satisfies Future<number> | Future<string> | Future<boolean>);
  const r: number | string | boolean = f.result();
  void r;
  f.addDoneCallback((g) => void (g.result() satisfies number | string | boolean));
}
for await (const f of asCompletedAsync([f1], 1)) void (f.result() satisfies number);
const completing = asCompletedAsync([f1, f2, f5]);
for (let r = await completing.next(); !r.done; r = await completing.next()) void r.value.result();
// next() gives the futures as given: awaiting one gives its result's type.
const firstOne = await asCompletedAsync([f1]).next();
if (!firstOne.done) void ((await firstOne.value) satisfies number);
// API.md's signature shape: an AsyncIterableIterator of the futures.
const asShape: AsyncIterableIterator<Future<number>> = asCompletedAsync([f1]);
void asShape;
// Generic code over Future<T> keeps T.
async function firstDone<T>(fs: Future<T>[]): Promise<T | undefined> {
  for await (const f of asCompletedAsync(fs)) return f.result();
  return undefined;
}
void firstDone;
pool.shutdown(true, { cancelFutures: true });
await pool.shutdownAsync();
{
  using _p = new ThreadPoolExecutor();
}
for (const E of [CancelledError, TimeoutError, BrokenExecutor]) void new E("x");
const exitCode: number | string | null | undefined = new SystemExit(3).code;
void exitCode;

// ---- What cannot cross: a TypeError at run time (API.md), so such calls compile; Sendable is opt-in.
class Person {
  constructor(readonly name: string) {}
  greet(): string {
    return `hi ${this.name}`;
  }
}
// A class instance arrives as a plain object with its fields (API.md): sending one compiles.
pool.submit((p: { name: string }) => p.name, new Person("ann"));
pool.submit((p: Person) => p.name, new Person("ann"));
// A function argument compiles too: start()/submit() throw the TypeError at run time.
void (() =>
  pool.submit(
    (cb: () => void) => cb(),
    () => {},
  ));
// Generic code compiles as written.
function runOn<T>(fn: (x: T) => number, x: T): Future<number> {
  return pool.submit(fn, x);
}
function runAll<A extends unknown[], R>(fn: (...a: A) => R, ...a: A): Future<Awaited<R>> {
  return pool.submit(fn, ...a);
}
runOn((x: { n: number }) => x.n, { n: 1 });
runAll((a: number, b: string) => a + b.length, 1, "x");
// Sendable<T> / SendableArgs<A> refuse, where a program asks for it, what cannot arrive as typed.
const okData: Sendable<{ a: number; b: string[] }> = { a: 1, b: ["x"] };
// @ts-expect-error a function cannot be sent to another thread
const notData: Sendable<{ a: () => void }> = { a: () => {} };
// @ts-expect-error an object with methods arrives without them
const notPerson: SendableArgs<[Person]> = [new Person("ann")];
// A local subclass is shared and keeps its methods in every thread.
class Tally extends local {
  count = 0;
  bump(): number {
    return ++this.count;
  }
}
const okTally: SendableArgs<[{ bump(): number }]> = [new Tally()];
void [okData, notData, notPerson, okTally];

// ---- Logging
logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-9s) %(message)s" });
logging.debug("running with %s and %s", 1, "x");
logging.getLogger("app").info("x");

// Targets as values.
const targets: Target[] = [add, { module: "./work.js" } satisfies ModuleTarget];
void targets;
