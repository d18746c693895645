// Every export of the package's entry points ("threading", "threading/queue",
// "threading/distributed") as a typed user writes it, with the misuse the types refuse marked by
// ts-expect-error comments. Compiled (never run) by test/types/consumer.test.ts in scratch projects that
// install the packed package, under every strict flag (see consumer.test.ts) and each module setup.
import {
  type AcquireOptions,
  asCompleted,
  asCompletedAsync,
  Barrier,
  type BlockOptions,
  BoundedSemaphore,
  BrokenBarrierError,
  BrokenExecutor,
  CancelledError,
  Condition,
  currentThread,
  Empty,
  Event,
  type ExceptHookArgs,
  type ExecutorStats,
  type ExplicitResult,
  excepthook,
  FIRST_COMPLETED,
  Full,
  Future,
  type Held,
  InvalidStateError,
  KeyError,
  LifoQueue,
  type LockOption,
  Lock,
  local,
  logging,
  type MapOptions,
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
  type SubmitOptions,
  SystemExit,
  setExcepthook,
  type Target,
  Thread,
  ThreadError,
  type ThreadOptions,
  ThreadPoolExecutor,
  type ThreadPoolExecutorOptions,
  type Timeout,
  type TimeoutOptions,
  TimeoutError,
  type TimeStats,
  Timer,
  type TypeCode,
  type TypedView,
  Value,
  wait,
  waitAsync,
  type WaitOptions,
} from "threading";
import * as threading from "threading";
import { type RedisExecutorOptions, RedisExecutor, type MapOptions as RedisMapOptions } from "threading/distributed";
import * as queue from "threading/queue";

// ---- The subpaths export the same classes as the root.
const sameQueue: typeof threading.Queue = queue.Queue;
const fromSubpath: threading.Queue<number> = new queue.LifoQueue<number>();
const prioritySub: Queue<[number, string]> = new queue.PriorityQueue<[number, string]>();
const simpleSub: SimpleQueue<string> = new queue.SimpleQueue<string>();
const errorsSub: [typeof Empty, typeof Full, typeof ShutDown] = [queue.Empty, queue.Full, queue.ShutDown];
const queueOptions: [queue.BlockOptions, queue.Timeout, queue.TimeoutOptions] = [
  { block: false },
  1,
  { timeout: null },
];
void [sameQueue, fromSubpath, prioritySub, simpleSub, errorsSub, queueOptions];

// ---- Errors: each a class that `instanceof` narrows to (API.md "Errors").
function explain(e: unknown): string {
  if (e instanceof BrokenBarrierError) return `barrier: ${e.message}`;
  if (e instanceof RuntimeError) return `misuse: ${e.name}`;
  if (e instanceof Empty || e instanceof Full || e instanceof ShutDown) return `queue: ${e.message}`;
  if (e instanceof TimeoutError || e instanceof CancelledError || e instanceof BrokenExecutor) return e.message;
  if (e instanceof InvalidStateError) return e.message;
  if (e instanceof KeyError) return `missing ${e.message}`;
  if (e instanceof SystemExit) return String(e.code);
  if (e instanceof TypeError || e instanceof RangeError) return e.message;
  return "?";
}
const asRuntime: RuntimeError = new BrokenBarrierError("broken");
const asError: Error[] = [new RuntimeError("r"), new KeyError("k"), new SystemExit(), new SystemExit("bye")];
// Python's ThreadError is RuntimeError: the same class, caught by either name
const asThreadError: ThreadError = new RuntimeError("r");
const sameClass: typeof RuntimeError = ThreadError;
try {
  new Queue<number>().getNowait();
} catch (e) {
  if (e instanceof Empty) void (e satisfies Error);
  else throw e;
}
void [explain, asRuntime, asError, asThreadError, sameClass];

// ---- Threads: args typed from the target's parameters; subclasses override run().
const th = new Thread({ target: (n: number, s: string): string => s.repeat(n), args: [2, "ab"] });
void (th satisfies Thread<[number, string]>);
const anyThread: Thread = th;
const options: ThreadOptions<[number]> = { target: (n: number) => n, args: [1], daemon: true, isolated: false };
new Thread(options);
new Thread({ target: { module: import.meta.url, export: "work" } satisfies ModuleTarget, args: ["any", 1] });
class Worker extends Thread {
  result = 0;
  private readonly n: number;
  constructor(n: number) {
    super({ name: `worker-${n}` });
    this.n = n;
  }
  override run(): void {
    this.result = this.n * 2;
  }
}
const worker = new Worker(21);
worker.start();
worker.join();
const doubled: number = worker.result;
class AsyncWorker extends Thread {
  override async run(): Promise<void> {
    await threading.sleepAsync(0.01);
  }
}
await new AsyncWorker().startAsync();
const me: Thread = currentThread();
setExcepthook((args: ExceptHookArgs) => {
  const who: string | undefined = args.thread?.name;
  void [who, args.excType, args.excValue];
});
setExcepthook(excepthook);
void [anyThread, doubled, me];
// @ts-expect-error too many args for the target
new Thread({ target: (n: number) => n, args: [1, 2] });
// @ts-expect-error a target is a function or { module, export }
new Thread({ target: 42 });
// @ts-expect-error a name is a string
new Thread({ name: 1 });
// @ts-expect-error a timeout is seconds (a number), not a string
th.join("1");
// @ts-expect-error joinAsync takes a timeout, not a callback
void th.joinAsync(() => {});
// @ts-expect-error the hook gets one args object
setExcepthook((type: string, value: unknown) => void [type, value]);

// A Timer is a Thread whose args are checked against its function.
const timer = new Timer(0.5, (who: string, times: number) => who.repeat(times), ["x", 2]);
const timerThread: Thread = timer;
const fired: boolean = timer.finished.isSet();
const fn: Target = timer.function;
timer.cancel();
void [timerThread, fired, fn];
// @ts-expect-error the interval is seconds (a number)
new Timer("1", () => {});
// @ts-expect-error the args must fit the function
new Timer(1, (who: string) => who, [1]);

// `args` is required when the target needs arguments (Thread, Timer, Barrier's action, as submit()),
// optional when it takes none or only optional ones, for a module target, and for a value typed Target.
new Thread({ target: () => 1 });
new Thread({ target: (n?: number) => n });
new Thread({ target: (...ns: number[]) => ns.length });
new Thread({ target: (n: number) => n, args: [1] });
new Thread({ target: (n) => n * 2, args: [1] }); // n: number, from args
new Thread({ target: (n: number, m = 2) => n + m, args: [1] }); // a default parameter may be left out
new Thread({ target: { module: "./work.js" } });
new Thread({ target: fn });
const needsArgs: ThreadOptions<[number]> = { target: (n: number) => n, args: [1] };
const noArgs: ThreadOptions<[n?: number]> = { target: (n?: number) => n };
const anyOptions: ThreadOptions = { target: fn };
new Thread(needsArgs);
new Thread(noArgs);
new Thread(anyOptions);
const spawn = <B extends unknown[]>(f: (...b: B) => void, b: B): Thread<B> => new Thread({ target: f, args: b });
new Timer(1, () => 1);
new Timer(1, (n?: number) => n);
new Timer(1, (n: number, m = 2) => n + m, [1]);
new Timer(1, { module: "./work.js" });
new Timer(1, fn);
new Barrier(2, () => 1);
new Barrier(2, (label: string) => label, null, ["round"]);
new Barrier(2, { action: (label: string) => label, actionArgs: ["round"] });
new Barrier(2, { action: () => 1, timeout: 5 });
void spawn;
// @ts-expect-error the target needs an argument: args is required
new Thread({ target: (n: number) => n });
// @ts-expect-error explicit undefined is "omitted", and the target needs an argument
new Thread({ target: (n: number) => n, args: undefined });
// @ts-expect-error args must fit an optional parameter too
new Thread({ target: (n?: number) => n, args: ["1"] });
// @ts-expect-error ThreadOptions of a target that needs arguments requires args
const missingArgs: ThreadOptions<[number]> = { target: (n: number) => n };
// @ts-expect-error the function needs an argument: args is required
new Timer(1, (who: string) => who);
// @ts-expect-error the action needs an argument: actionArgs is required
new Barrier(2, (label: string) => label);
// @ts-expect-error the action needs an argument: actionArgs is required
new Barrier(2, { action: (label: string) => label, timeout: 5 });
void missingArgs;

// ---- Synchronization: timeouts are numbers (or null / { timeout }), hold() gives a Disposable.
const lock = new Lock();
{
  using held = lock.hold(1);
  void (held satisfies Held & Disposable);
}
{
  await using _h = await new RLock().holdAsync({ timeout: 1 });
}
const acquireOptions: AcquireOptions = { blocking: true, timeout: null };
const timeouts: Timeout[] = [1, 0.5, null, { timeout: 2 }, { timeout: undefined }];
const timeoutOptions: TimeoutOptions = {};
lock.acquire(acquireOptions);
const cond = new Condition(new RLock());
const ready: number = cond.waitFor(() => 3, 1);
const readyAsync: Promise<string> = cond.waitForAsync(() => "x");
const sem = new BoundedSemaphore(2);
const asSemaphore: Semaphore = sem;
const ev = new Event();
const barrier = new Barrier(2, (label: string) => label.length, 1, ["round"]);
const n: number = barrier.wait();
void [timeouts, timeoutOptions, ready, readyAsync, asSemaphore, n];
// @ts-expect-error blocking is a boolean
lock.acquire("yes");
// @ts-expect-error the async twin takes a timeout only (it never blocks)
void lock.acquireAsync(true);
// @ts-expect-error a timeout is a number
lock.hold("1");
// @ts-expect-error a timeout is a number
ev.wait("1");
// @ts-expect-error a timeout is a number
void ev.waitAsync("1");
// @ts-expect-error notify(n) takes a count
cond.notify("all");
// @ts-expect-error a Condition wraps a Lock or an RLock
new Condition(new Semaphore());
// @ts-expect-error a Barrier's parties is a number
new Barrier("2");
// @ts-expect-error parties is read-only
barrier.parties = 3;

// `local`: bracket access under noPropertyAccessFromIndexSignature; declared fields keep their type.
class Connection extends local {
  declare host: string;
  opened = 0;
}
const conn = new Connection();
conn.host = "db";
conn.opened++;
conn["anything"] = [1];
// @ts-expect-error a declared field keeps its type
conn.host = 1;

// ---- Shared state.
const typecodes: TypeCode[] = ["i", "d", "q"];
const views: TypedView[] = [new Value("i", 1).getObj() as TypedView];
const lockOption: LockOption = new RLock();
new Value("i", 1, { lock: lockOption });
const shared = new SharedArray("i", 3, { lock: false });
const third: number = shared.at(2);
const dict = new SharedDict<number, string[]>();
dict.set(1, ["a"]).set(2, []);
const list = new SharedList<number>([1, 2]);
const total: number = list.toArray().reduce((a, b) => a + b, 0);
void [typecodes, views, third, total];
// @ts-expect-error "x" is not a typecode
new Value("x", 1);
// @ts-expect-error a SharedDict key is a string or a number
new SharedDict<boolean, number>();
// @ts-expect-error a SharedArray of numbers stores numbers
shared.set(0, "1");
// @ts-expect-error a SharedList<number> holds numbers
list.append("3");

// ---- Queues.
const q = new Queue<{ id: number }>(10);
q.put({ id: 1 }, { block: true, timeout: 1 } satisfies BlockOptions);
const got: { id: number } = q.get(true, 1);
for await (const item of q) void (item.id satisfies number);
const lifo = new LifoQueue<string>();
const fromLifo: string = lifo.get(false);
const pq = new PriorityQueue<[number, string]>();
pq.put([1, "first"]);
const sq = new SimpleQueue<bigint>();
sq.put(1n);
const fromSimple: bigint = await sq.getAsync(1);
void [got, fromLifo, fromSimple];
// @ts-expect-error maxsize is a number
new Queue<number>("10");
// @ts-expect-error block is a boolean
q.put({ id: 1 }, "yes");
// @ts-expect-error a timeout is a number
q.get(true, "1");
// @ts-expect-error items must fit T
pq.put([1, 2]);
// @ts-expect-error SimpleQueue has no taskDone() (as in Python)
sq.taskDone();

// ---- Executors and futures.
const poolOptions: ThreadPoolExecutorOptions = { maxWorkers: 2, initializer: (x: number) => void x, initargs: [1] };
{
  using pool = new ThreadPoolExecutor(poolOptions);
  const f = pool.submit((a: number, b: number) => a + b, 1, 2);
  void (f satisfies Future<number>);
  const viaPromise = pool.submit(async (s: string) => s.length, "abc");
  void (viaPromise satisfies Future<number>);
  const explicit: Future<number[]> = pool.submit<number[]>({ module: "./work.js", export: "list" });
  const given: ExplicitResult<number> = () => 1;
  void given;
  const mapOptions: MapOptions = { timeout: 5, chunksize: 4 };
  const lengths: IterableIterator<number> = pool.map((s: string) => s.length, ["a", "bb"], mapOptions);
  const submitOptions: SubmitOptions = { timeout: 1, block: true };
  const withOptions: Future<string> = pool.submitWith(submitOptions, (s: string) => s, "x");
  const stats: ExecutorStats = pool.stats();
  const times: TimeStats = stats.runTime;
  const mixed = wait([f, viaPromise, explicit], { returnWhen: FIRST_COMPLETED } satisfies WaitOptions);
  for (const done of mixed.done) void (done satisfies Future<number> | Future<number[]>);
  for (const done of asCompleted([f, withOptions], 1)) void done.result();
  const first = await asCompletedAsync([f]).next();
  if (!first.done) void (first.value satisfies Future<number>);
  const later = await waitAsync([f]);
  void [lengths, times, later];
  // A value typed Target (API.md: `map<R>(fn: Target, ...)`), e.g. a helper's parameter.
  const someTarget: Target = (x: number) => x;
  const anyResults: IterableIterator<unknown> = pool.map(someTarget, [1]);
  const givenResults: IterableIterator<number> = pool.map<number>(someTarget, [1]);
  const givenAsync: AsyncIterableIterator<string> = pool.mapAsync<string>(someTarget, [1]);
  const anyFuture: Future<unknown> = pool.submit(someTarget, 1);
  const givenFuture: Future<number> = pool.submit<number, Target>(someTarget, 1);
  void [anyResults, givenResults, givenAsync, anyFuture, givenFuture];
  // A task with a default parameter: map() and a submit() that passes every argument infer it; a
  // submit() that leaves it out needs its type written (`m: number = 2`): TypeScript types an
  // unannotated parameter from the rest parameter `...args: A` it is matched to (microsoft/TypeScript#50461).
  const defaulted: Future<number> = pool.submit((n: number, m: number = 2) => n + m, 1);
  const allGiven: Future<number> = pool.submit((n: number, m = 2) => n + m, 1, 3);
  const mappedDefault: IterableIterator<number> = pool.map((n: number, m = 2) => n + m, [1]);
  const fromArgs: Future<number> = pool.submit((n) => n * 2, 21); // n: number, from the args
  const optionalOnly: Future<number | undefined> = pool.submit((n?: number) => n);
  void [defaulted, allGiven, mappedDefault, fromArgs, optionalOnly];
  // @ts-expect-error the task needs an argument
  pool.submit((n: number) => n);
  // @ts-expect-error submit() with R given takes a function returning R (API.md), not any Target
  pool.submit<number>(someTarget, 1);
  // @ts-expect-error submit() args must fit the function
  pool.submit((a: number) => a, "1");
  // @ts-expect-error a task is a function or { module, export }
  pool.submit(42);
  // @ts-expect-error map() takes one iterable per parameter
  pool.map((a: number, b: number) => a + b, [1]);
  // @ts-expect-error the pool's result type is the function's
  const wrong: Future<string> = pool.submit(() => 1);
  // @ts-expect-error returnWhen is FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED
  wait([f], { returnWhen: "ANY" });
  // @ts-expect-error a timeout is a number
  f.result("1");
  void wrong;
}
{
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const results: number[] = [];
  for await (const r of pool.mapAsync(async (x: number) => x * 2, [1, 2])) results.push(r);
}
// A Future made by hand (as concurrent.futures allows): thenable, so `await` gives T.
const handMade = new Future<number>();
handMade.setResult(1);
const awaited: number = await handMade;
handMade.addDoneCallback((done) => void (done.result() satisfies number));
void awaited;
// @ts-expect-error the options are ThreadPoolExecutor's
new ThreadPoolExecutor({ maxWorkers: "2" });
// @ts-expect-error setResult takes a T
handMade.setResult("1");

// ---- Distributed.
const redisOptions: RedisExecutorOptions = { redis: "redis://localhost:6379", queue: "jobs", connectTimeout: null };
const remoteMap: RedisMapOptions = { chunksize: 8 };
{
  await using remote = new RedisExecutor(redisOptions);
  const rf: Future<number> = remote.submit((a: number) => a * 2, 21);
  const name: string = remote.queue;
  for (const r of remote.map((s: string) => s.length, ["x"], remoteMap)) void (r satisfies number);
  void [rf, name];
  // @ts-expect-error submit() args must fit the function
  remote.submit((a: number) => a, "21");
}
// @ts-expect-error redis is required
new RedisExecutor({ queue: "q" });

// ---- Logging: the namespace object.
logging.basicConfig({ level: logging.DEBUG, format: logging.BASIC_FORMAT, datefmt: "%H:%M:%S", force: true });
logging.basicConfig({ level: "INFO", stream: process.stdout });
const log: logging.Logger = logging.getLogger("app");
log.setLevel(logging.WARNING);
const level: number = log.getEffectiveLevel() + logging.root.level;
const child: logging.Logger = log.getChild("db");
child.exception("failed %s", "x");
logging.log(logging.ERROR, "%d items", 3);
logging.addLevelName(5, "TRACE");
const levelName: string | number = logging.getLevelName(5);
const mapping: Record<string, number> = logging.getLevelNamesMapping();
const configured: boolean = logging.isConfigured();
const levels: number[] = [logging.CRITICAL, logging.FATAL, logging.INFO, logging.WARN, logging.NOTSET];
const config: logging.BasicConfigOptions = { style: "%" };
new logging.Logger("standalone", logging.INFO).fatal("x");
logging.debug("d");
logging.info("i");
logging.warning("w");
logging.warn("w");
logging.error("e");
logging.exception("x");
logging.critical("c");
logging.fatal("f");
void [level, levelName, mapping, configured, levels, config];
// @ts-expect-error a level is a number or a level name
logging.basicConfig({ level: true });
// @ts-expect-error only %-style formats
logging.basicConfig({ style: "{" });
