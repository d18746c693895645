// API.md's signatures, transcribed as types, and the package's exports assigned to them: each
// export must do at least what the contract declares (members present, parameters accepting
// what API.md's accept, results fitting API.md's). Members are written as function-typed
// properties so that parameters are checked strictly (contravariantly), not bivariantly as
// methods are. Compiled (never run) by test/types/consumer.test.ts and tsconfig.strict.json.
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
  Future,
  getIdent,
  getNativeId,
  KeyError,
  LifoQueue,
  Lock,
  local,
  mainThread,
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
  setExcepthook,
  sleep,
  sleepAsync,
  TIMEOUT_MAX,
  Thread,
  ThreadPoolExecutor,
  TimeoutError,
  Timer,
  Value,
  wait,
  waitAsync,
} from "threading";
import { RedisExecutor } from "threading/distributed";

// ---- API.md "Threads"
// `| undefined`: every option takes an explicit undefined (README "Types", exactOptionalPropertyTypes).
type ModuleTarget = { module: string | URL; export?: string | undefined };
type Target = ((...args: any[]) => unknown) | ModuleTarget;
interface ApiThread {
  start: () => void;
  startAsync: () => Promise<void>;
  run: () => unknown;
  join: (timeout?: number) => void;
  joinAsync: (timeout?: number) => Promise<void>;
  isAlive: () => boolean;
  name: string;
  readonly ident: number | null;
  readonly nativeId: number | null;
  daemon: boolean;
  getName: () => string;
  setName: (name: string) => void;
  isDaemon: () => boolean;
  setDaemon: (daemon: boolean) => void;
}
type ApiThreadCtor = new <A extends unknown[] = unknown[]>(options?: {
  target?: ((...args: A) => unknown) | ModuleTarget;
  args?: A;
  name?: string;
  daemon?: boolean;
  isolated?: boolean;
}) => ApiThread;
const threadCtor: ApiThreadCtor = Thread;
type ExceptHook = (args: { excType: string; excValue: unknown; thread: Thread | null }) => void;
const threadFunctions: {
  currentThread: () => ApiThread;
  mainThread: () => ApiThread;
  activeCount: () => number;
  enumerate: () => ApiThread[];
  getIdent: () => number;
  getNativeId: () => number;
  setExcepthook: (hook: ExceptHook | null) => void;
  excepthook: ExceptHook;
  sleep: (seconds: number) => void;
  sleepAsync: (seconds: number) => Promise<void>;
  TIMEOUT_MAX: number;
  dumpThreads: () => string;
} = {
  currentThread,
  mainThread,
  activeCount,
  enumerate,
  getIdent,
  getNativeId,
  setExcepthook,
  excepthook,
  sleep,
  sleepAsync,
  TIMEOUT_MAX,
  dumpThreads,
};
interface ApiTimer extends ApiThread {
  cancel: () => void;
  readonly interval: number;
  readonly function: Target;
  readonly args: unknown[];
  readonly finished: ApiEvent;
}
const timerCtor: new (interval: number, fn: Target, args?: unknown[]) => ApiTimer = Timer;
const timerIsThread: ApiThread = new Timer(1, () => {});

// ---- API.md "Synchronization primitives"
interface ApiLock {
  acquire: (blocking?: boolean, timeout?: number) => boolean;
  acquireAsync: (timeout?: number) => Promise<boolean>;
  release: () => void;
  locked: () => boolean;
  hold: (timeout?: number) => Disposable;
  holdAsync: (timeout?: number) => Promise<Disposable>;
}
const lockCtor: new () => ApiLock = Lock;
const rlockCtor: new () => ApiLock = RLock;
interface ApiCondition extends Omit<ApiLock, "locked"> {
  wait: (timeout?: number) => boolean;
  waitAsync: (timeout?: number) => Promise<boolean>;
  waitFor: (predicate: () => unknown, timeout?: number) => unknown;
  waitForAsync: (predicate: () => unknown, timeout?: number) => Promise<unknown>;
  notify: (n?: number) => void;
  notifyAll: () => void;
}
const conditionCtor: new (lock?: Lock | RLock) => ApiCondition = Condition;
interface ApiSemaphore extends Omit<ApiLock, "locked" | "release"> {
  release: (n?: number) => void;
}
const semaphoreCtor: new (value?: number) => ApiSemaphore = Semaphore;
const boundedCtor: new (value?: number) => ApiSemaphore = BoundedSemaphore;
const boundedIsSemaphore: Semaphore = new BoundedSemaphore();
interface ApiEvent {
  set: () => void;
  clear: () => void;
  isSet: () => boolean;
  wait: (timeout?: number) => boolean;
  waitAsync: (timeout?: number) => Promise<boolean>;
}
const eventCtor: new () => ApiEvent = Event;
interface ApiBarrier {
  wait: (timeout?: number) => number;
  waitAsync: (timeout?: number) => Promise<number>;
  reset: () => void;
  abort: () => void;
  readonly parties: number;
  readonly nWaiting: number;
  readonly broken: boolean;
}
const barrierCtor: new (parties: number, action?: Target, timeout?: number, actionArgs?: unknown[]) => ApiBarrier =
  Barrier;
const brokenBarrier: RuntimeError = new BrokenBarrierError("x");
const localCtor: new (...args: unknown[]) => { [attribute: string]: any } = local;

// ---- API.md "Shared state"
type TypeCode = "b" | "B" | "h" | "H" | "i" | "I" | "l" | "L" | "q" | "Q" | "f" | "d";
type LockOptions = { lock?: boolean | Lock | RLock };
interface ApiValue<T> {
  value: T;
  getLock: () => Lock | RLock;
  getObj: () => unknown;
}
const numberValue: new (typecode: TypeCode, initial?: number, options?: LockOptions) => ApiValue<number> = Value;
const bigintValue: ApiValue<bigint> = new Value<bigint>("q", 0n, { lock: false });
interface ApiSharedArray<T> extends Iterable<T> {
  readonly length: number;
  at: (i: number) => T;
  set: (i: number, v: T) => void;
  getLock: () => Lock | RLock;
  getObj: () => unknown;
}
const numberArray: new (
  typecode: TypeCode,
  sizeOrItems: number | Iterable<number>,
  options?: LockOptions,
) => ApiSharedArray<number> = SharedArray;
interface ApiSharedDict<K, V> extends Iterable<[K, V]> {
  get: (key: K) => V | undefined;
  set: (key: K, value: V) => unknown;
  has: (key: K) => boolean;
  delete: (key: K) => boolean;
  setdefault: (key: K, value: V) => V;
  pop: (key: K, fallback?: V) => V;
  update: (key: K, fn: (old: V | undefined) => V) => V;
  readonly size: number;
  keys: () => IterableIterator<K>;
  values: () => IterableIterator<V>;
  entries: () => IterableIterator<[K, V]>;
  clear: () => void;
  toObject: () => Record<string, V>;
}
const dict: ApiSharedDict<string, number[]> = new SharedDict<string, number[]>([["a", [1]]]);
const dictSetReturnsThis: SharedDict<string, number> = new SharedDict<string, number>().set("a", 1);
interface ApiSharedList<V> extends Iterable<V> {
  append: (v: V) => void;
  extend: (vs: Iterable<V>) => void;
  pop: (index?: number) => V;
  at: (i: number) => V;
  set: (i: number, v: V) => void;
  readonly length: number;
  toArray: () => V[];
  clear: () => void;
}
const list: ApiSharedList<string> = new SharedList<string>(["a"]);

// ---- API.md "Queues"
interface ApiQueue<T> {
  put: (item: T, block?: boolean, timeout?: number) => void;
  putAsync: (item: T, timeout?: number) => Promise<void>;
  get: (block?: boolean, timeout?: number) => T;
  getAsync: (timeout?: number) => Promise<T>;
  putNowait: (item: T) => void;
  getNowait: () => T;
  qsize: () => number;
  empty: () => boolean;
  full: () => boolean;
  readonly maxsize: number;
  taskDone: () => void;
  join: () => void;
  joinAsync: () => Promise<void>;
  shutdown: (immediate?: boolean) => void;
  [Symbol.asyncIterator]: () => AsyncIterator<T>;
}
const queues: [ApiQueue<number>, ApiQueue<string>, ApiQueue<[number, string]>] = [
  new Queue<number>(1),
  new LifoQueue<string>(),
  new PriorityQueue<[number, string]>(0),
];
const lifoIsQueue: Queue<string> = new LifoQueue<string>();
const priorityIsQueue: Queue<number> = new PriorityQueue<number>();
interface ApiSimpleQueue<T> {
  put: (item: T, block?: boolean, timeout?: number) => void;
  putNowait: (item: T) => void;
  get: (block?: boolean, timeout?: number) => T;
  getAsync: (timeout?: number) => Promise<T>;
  getNowait: () => T;
  qsize: () => number;
  empty: () => boolean;
}
const simple: ApiSimpleQueue<bigint> = new SimpleQueue<bigint>();
const queueErrors: (new (message?: string) => Error)[] = [Empty, Full, ShutDown];

// ---- API.md "Executors"
interface ApiFuture<T> extends PromiseLike<T> {
  result: (timeout?: number) => T;
  resultAsync: (timeout?: number) => Promise<T>;
  exception: (timeout?: number) => unknown;
  exceptionAsync: (timeout?: number) => Promise<unknown>;
  done: () => boolean;
  running: () => boolean;
  cancelled: () => boolean;
  cancel: () => boolean;
  addDoneCallback: (fn: (f: Future<T>) => void) => void;
}
const future: ApiFuture<number> = new Future<number>();
type MapOptions = { timeout?: number; chunksize?: number };
interface ApiExecutor {
  // API.md's map<R>(fn: Target, ...) and mapAsync<R>, with R given.
  map: (fn: Target, iterable: Iterable<unknown>, options?: MapOptions) => IterableIterator<number>;
  mapAsync: (
    fn: Target,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options?: MapOptions,
  ) => AsyncIterableIterator<number>;
  shutdown: (wait?: boolean, options?: { cancelFutures?: boolean }) => void;
  shutdownAsync: (options?: { cancelFutures?: boolean }) => Promise<void>;
  [Symbol.dispose]: () => void;
  [Symbol.asyncDispose]: () => Promise<void>;
}
const pool = new ThreadPoolExecutor({ maxWorkers: 1, threadNamePrefix: "p", initializer: () => {}, initargs: [] });
const poolAsApi: ApiExecutor = {
  map: (fn, iterable, options) => pool.map<number>(fn, iterable, options),
  mapAsync: (fn, iterable, options) => pool.mapAsync<number>(fn, iterable, options),
  shutdown: (w, o) => pool.shutdown(w, o),
  shutdownAsync: (o) => pool.shutdownAsync(o),
  [Symbol.dispose]: () => pool[Symbol.dispose](),
  [Symbol.asyncDispose]: () => pool[Symbol.asyncDispose](),
};
// submit's three forms, as API.md writes them.
function submitForms<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>> {
  return pool.submit(fn, ...args);
}
const moduleForm: Future<number> = pool.submit<number>({ module: "./m.js" }, 1, "x");
const explicitForm: Future<number> = pool.submit<number>((a: string) => a.length, 1);
const remote = new RedisExecutor({ redis: {}, queue: "q", defaultJobOptions: {} });
const remoteAsApi: ApiExecutor = {
  map: (fn, iterable, options) => remote.map<number>(fn, iterable, options),
  mapAsync: (fn, iterable, options) => remote.mapAsync<number>(fn, iterable, options),
  shutdown: (w, o) => remote.shutdown(w, o),
  shutdownAsync: (o) => remote.shutdownAsync(o),
  [Symbol.dispose]: () => remote[Symbol.dispose](),
  [Symbol.asyncDispose]: () => remote[Symbol.asyncDispose](),
};
const remoteSubmit: Future<number> = remote.submit((a: number) => a, 1);
type WaitOptions = { timeout?: number; returnWhen?: "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED" };
const futureFunctions: {
  asCompleted: (fs: Iterable<Future<number>>, timeout?: number) => IterableIterator<Future<number>>;
  asCompletedAsync: (fs: Iterable<Future<number>>, timeout?: number) => AsyncIterableIterator<Future<number>>;
  wait: (
    fs: Iterable<Future<number>>,
    options?: WaitOptions,
  ) => { done: Set<Future<number>>; notDone: Set<Future<number>> };
  waitAsync: (
    fs: Iterable<Future<number>>,
    options?: WaitOptions,
  ) => Promise<{ done: Set<Future<number>>; notDone: Set<Future<number>> }>;
} = { asCompleted, asCompletedAsync, wait, waitAsync };
const constants: ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"] = [
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  ALL_COMPLETED,
];
const executorErrors: (new (message?: string) => Error)[] = [CancelledError, TimeoutError, BrokenExecutor];
const otherErrors: (new (message?: string) => Error)[] = [RuntimeError, KeyError, BrokenBarrierError];

void [threadCtor, threadFunctions, timerCtor, timerIsThread, lockCtor, rlockCtor, conditionCtor, semaphoreCtor];
void [boundedCtor, boundedIsSemaphore, eventCtor, barrierCtor, brokenBarrier, localCtor, numberValue, bigintValue];
void [numberArray, dict, dictSetReturnsThis, list, queues, lifoIsQueue, priorityIsQueue, simple, queueErrors];
void [future, poolAsApi, submitForms, moduleForm, explicitForm, remoteAsApi, remoteSubmit, futureFunctions];
void [constants, executorErrors, otherErrors];
