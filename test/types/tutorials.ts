// User code written from the Python in the tutorials the project starts from ("Creating a thread
// and passing arguments", "Daemon thread & join() method") and from the TypeScript column of
// docs/from-python.md's table, as a user translates them: Python's names camelCased, keywords as one
// options object. Compiled (never run) by test/types/consumer.test.ts with every strict flag.
import {
  activeCount,
  Barrier,
  BoundedSemaphore,
  Condition,
  currentThread,
  Empty,
  Event,
  enumerate,
  excepthook,
  FIRST_COMPLETED,
  Full,
  getIdent,
  getNativeId,
  LifoQueue,
  Lock,
  local,
  logging,
  mainThread,
  PriorityQueue,
  Queue,
  RLock,
  Semaphore,
  SharedArray,
  SharedDict,
  SharedList,
  ShutDown,
  SimpleQueue,
  setExcepthook,
  sleep,
  sleepAsync,
  Thread,
  ThreadPoolExecutor,
  Timer,
  Value,
  wait,
  asCompleted,
} from "threading";

// ---- "Creating a thread": def f(): print('thread function'); Thread(target=f) x 3.
function f(): void {
  console.log("thread function");
}
for (let i = 0; i < 3; i++) {
  const t = new Thread({ target: f });
  t.start();
}

// ---- Passing arguments: def f(id): ...; Thread(target=f, args=(i,)).
function g(id: number): void {
  console.log(`thread function ${id}`);
}
for (let i = 0; i < 3; i++) {
  const t = new Thread({ target: g, args: [i] });
  t.start();
}

// ---- "Daemon thread & join()": the three variants.
logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-9s) %(message)s" });
function n(): void {
  logging.debug("Starting");
  logging.debug("Exiting");
}
function d(): void {
  logging.debug("Starting");
  sleep(5);
  logging.debug("Exiting");
}
const t = new Thread({ name: "non-daemon", target: n });
const dt = new Thread({ name: "daemon", target: d });
dt.setDaemon(true);
dt.start();
t.start();
dt.join(3.0);
console.log("d.isAlive()", dt.isAlive());
dt.join();
t.join();
const daemonic: boolean = dt.isDaemon() && dt.daemon;
void daemonic;

// ---- docs/from-python.md's table, row by row.
const w = new Thread({ target: (a: number, b: number) => a + b, args: [1, 2], name: "w", daemon: true });
w.start();
w.join(1.5);
await w.joinAsync();
const alive: boolean = w.isAlive();
class W extends Thread {
  override run(): void {
    console.log(this.name);
  }
}
new W().start();
const info: [Thread, Thread, Thread[], number, number, number] = [
  currentThread(),
  mainThread(),
  enumerate(),
  activeCount(),
  getIdent(),
  getNativeId(),
];
setExcepthook((args) => console.error(args.excType, args.excValue, args.thread?.name));
setExcepthook(excepthook);
new Timer(1.5, (a: string, b: number) => a.repeat(b), ["x", 2]).start();
sleep(0.1);
await sleepAsync(0.1);
const lock = new Lock();
const rlock = new RLock();
{
  using _ = lock.hold();
}
lock.acquire(false);
lock.acquire({ timeout: 1 });
lock.acquire(true, 1);
lock.release();
const cond = new Condition(lock);
const cond2 = new Condition(rlock);
{
  using _ = cond.hold();
  cond.wait(0.1);
  cond.waitFor(() => true, 0.1);
  cond.notify();
  cond.notifyAll();
}
const sems = [new Semaphore(2), new BoundedSemaphore(2)];
const event = new Event();
event.set();
event.clear();
const set: boolean = event.isSet() || event.wait(0.1);
new Barrier(3, () => console.log("round"));
const mydata = new local();
mydata["x"] = 1; // `mydata.x = 1` under noPropertyAccessFromIndexSignature
const q = new Queue<number>(10);
const lifo = new LifoQueue<number>();
const prio = new PriorityQueue<[number, string]>();
const simple = new SimpleQueue<string>();
q.put(1, { block: false });
try {
  q.get({ timeout: 0.5 });
  q.putNowait(2);
  q.getNowait();
} catch (e) {
  if (e instanceof Empty || e instanceof Full || e instanceof ShutDown) console.log(e.message);
}
const fromAsync: number = await q.getAsync();
q.taskDone();
q.join();
q.shutdown();
for await (const x of q) console.log(x);
{
  using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
  const fut = pool.submit((a: number, b: number) => a + b, 1, 2);
  const sum: number = fut.result(1) + (await fut);
  const squares = [...pool.map((x: number) => x * x, [1, 2, 3], { timeout: 5, chunksize: 10 })];
  const fs = [fut, pool.submit(() => "s")];
  const { done, notDone } = wait(fs, { returnWhen: FIRST_COMPLETED });
  for (const c of asCompleted(fs)) console.log(c.result());
  pool.shutdown(true, { cancelFutures: true });
  void [sum, squares, done, notDone];
}
{
  await using pool = new ThreadPoolExecutor();
  pool.shutdown({ wait: false, cancelFutures: true });
}
const v = new Value("i", 0);
const arr = new SharedArray("d", 10);
const counts = new SharedDict<string, number>();
const items = new SharedList<string>();
counts.update("k", (c) => (c ?? 0) + 1);
items.append("x");
v.value += 1;
arr.set(0, 1.5);
logging.basicConfig({ format: "%(threadName)s %(message)s" });

void [alive, info, cond2, sems, set, lifo, prio, simple, fromAsync];
