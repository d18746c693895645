/**
 * RedisExecutor: the executor API of `concurrent.futures` (as ThreadPoolExecutor) with tasks
 * running on worker processes (`npx threading worker`, worker.ts) on any machines, through a
 * BullMQ queue on Redis.
 *
 * In the thread that makes it, the executor checks and encodes each call at once (a TypeError for
 * what cannot cross machines, nothing submitted), gives it a Future bound to a word of its own
 * shared slabs (as the pool's futures: see futures/future.ts), and posts it to its client thread
 * (client-thread.ts), which adds the jobs to Redis and posts outcomes back. The client thread
 * starts lazily, with the first task.
 *
 * Outcomes are taken from the port both from the event loop (a listener, ref'd while futures are
 * outstanding, so a program does not exit with tasks in flight) and by blocking waits (`poll()`,
 * `receiveMessageOnPort`), so `result()`, `wait()` and `asCompleted()` work on a blocked thread
 * and mix RedisExecutor futures with local ones.
 *
 * Delivery is at least once: a task whose worker died runs again. cancel() succeeds while the
 * client has not heard that a worker took the job, and removes the job from Redis; if a worker
 * took it in that instant, it runs and its outcome is dropped.
 */
import { randomBytes } from "node:crypto";
import { MessageChannel, type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { BrokenExecutor, RuntimeError } from "../errors.js";
import { blockUntil, doorbell, Future, type FutureLink, internals } from "../futures/future.js";
import { type Slot, Slots } from "../futures/slots.js";
import { libraryFile } from "../shared/paths.js";
import { onProcessExit } from "../shared/at-exit.js";
import { G, isIdentAlive, isRoot, SLOT_STATE, slotIndex } from "../shared/runtime.js";
import { atomicsWaitAsync, checkOptions, deadlineOf, secondsMs, timeoutMs } from "../shared/wait.js";
import { checkModuleTarget, functionExpression, isModuleTarget, type Target } from "../transport/target.js";
import { Thread } from "../threads/thread.js";
import { Executor } from "../futures/base.js";
import { callArgsOf, MapFeed, results } from "../futures/map.js";
import { kShare } from "../transport/shareable.js";
import { BROKEN, type ClientBatch, type ClientOptions, DONE, FAILED, GONE } from "./client-thread.js";
import { redisConnection } from "./connection.js";
import { argsPayload, CALL, CHUNK, outcomeOf, type RemoteTarget } from "./protocol.js";
import { unrefOwn } from "../shared/own-unref.js";

/** Options of `new RedisExecutor()`. */
export interface RedisExecutorOptions {
  /**
   * `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS), or ioredis connection options
   * (`{ host, port, username, password, tls: { ca, cert, key } }`, or `{ url, tls }`: the URL's parts
   * with the other options). Wrong credentials or a TLS certificate that does not verify break the
   * executor at once (BrokenExecutor saying so), without waiting for `connectTimeout`.
   */
  redis: string | object;
  /** The BullMQ queue (default "threading"); workers are started with the same `--queue`. */
  queue?: string | undefined;
  /** BullMQ job options for every job (e.g. `{ removeOnComplete: { age: 60 } }`); merged over the defaults. */
  defaultJobOptions?: object | undefined;
  /** BullMQ key prefix (default "bull"); workers need the same `--prefix`. */
  prefix?: string | undefined;
  /**
   * Seconds the executor may go without reaching Redis (default 30): unreachable that long, at
   * start or later without a break, it is broken (its pending futures and later submits fail with
   * BrokenExecutor). `null` or `Infinity`: wait for Redis for ever.
   */
  connectTimeout?: number | null | undefined;
}

/** Options of `map()` / `mapAsync()`. */
export interface MapOptions {
  /** Seconds, counted from the map() call, for all the results. */
  timeout?: number | undefined;
  /** Calls per job: items are sent, run and returned in chunks of this size. */
  chunksize?: number | undefined;
}

const clientEntry = { module: libraryFile("distributed/client-thread.js"), export: "clientThread" };
/** Completed jobs are kept this long in Redis (s) unless defaultJobOptions say otherwise; failed ones a day. */
const DEFAULT_JOB_OPTIONS = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } };

let executorCounter = 0;

/**
 * Executors with futures outstanding. At the exit of the thread that made them (the end of the
 * program, process.exit(), an uncaught error) each finishes them first, as CPython joins executor
 * threads at exit (and as ThreadPoolExecutor does, futures/executor.ts): otherwise the jobs still
 * buffered for the client thread (posted in a microtask) never reached Redis, and the outcomes of
 * those in flight were dropped. Bounded: a Redis out of reach breaks the executor after
 * connectTimeout, which settles every future.
 */
const unfinished = new Set<{ finishAtExit(): void }>();
/** This thread is exiting: no executor of it takes new tasks (CPython's "after interpreter shutdown"). */
let exiting = false;
// (onProcessExit: also after an uncaught error in Deno's main thread, which emits no "exit" then)
onProcessExit(() => {
  exiting = true;
  for (const ex of [...unfinished]) ex.finishAtExit();
}, isRoot);

interface MapSetup {
  deadline: number;
  fs: Future<unknown>[];
  size: number;
  target: Keyed;
  source?: AsyncIterable<unknown>;
}

/** A target's key and description (the description travels with every batch that uses the key). */
interface Keyed {
  key: number;
  spec: RemoteTarget;
}

/** How many function sources an executor keeps described (least recently used out), as futures/targets.ts. */
const SOURCES_MAX = 256;

interface Task {
  seq: number;
  /** Its future's word. */
  slot: Slot;
}

function describe(fn: unknown, where: string): RemoteTarget {
  if (typeof fn === "function") {
    return { kind: "source", source: functionExpression(fn, where), name: fn.name };
  }
  if (isModuleTarget(fn)) {
    const exp = checkModuleTarget(fn, where);
    const module = fn.module instanceof URL ? fn.module.href : fn.module;
    return { kind: "module", module, export: exp };
  }
  throw new TypeError(`${where} must be a function or { module, export }, not ${fn === null ? "null" : typeof fn}`);
}

/**
 * An executor whose tasks run on `threading worker` processes through a BullMQ queue on Redis:
 * `submit(fn, ...args)` returns a Future; `map(fn, items)` yields the results in order. Module
 * targets `{ module, export }` are resolved by the worker (relative to its working directory, or a
 * package name); functions are sent as source (workers run those only with --allow-source).
 * `submit()` copies the arguments with `v8.serialize`: a value that cannot cross machines (a
 * function, a shared object such as a Lock or a SharedArrayBuffer) is a TypeError naming where it
 * sits, and nothing is submitted. `map()` sends `chunksize` calls per job.
 */
export class RedisExecutor extends Executor<MapOptions> implements Disposable, AsyncDisposable {
  readonly #options: ClientOptions;
  readonly #name: string;
  #thread: Thread | undefined;
  #port: MessagePort | undefined;
  #referenced = false;
  #shutdown = false;
  #stopSent = false;
  #seq = 1;
  readonly #futures = new Map<number, Future<unknown>>();
  /** The words of this executor's futures (futures/slots.ts). */
  readonly #slots = new Slots();
  #slabsSent = 0;
  /** Target object -> its key and description (gone with the object). */
  readonly #keys = new WeakMap<object, Keyed>();
  /** Description text -> key and description, the SOURCES_MAX used last (least recently used first). */
  readonly #bySource = new Map<string, Keyed>();
  #nextKey = 0;
  /** The targets of the jobs in #outbox, sent with them (the client thread keeps none across batches). */
  #outboxTargets = new Map<number, RemoteTarget>();
  #outbox: unknown[] = [];
  #cancels: number[] = [];
  #flushQueued = false;
  /** Why the executor cannot go on (its client thread died or cannot reach Redis): see #break. */
  #broken: string | undefined;
  readonly #link: FutureLink;
  readonly #exitHook = { finishAtExit: (): void => this.shutdown(true) };

  constructor(options: RedisExecutorOptions) {
    super();
    if (typeof options !== "object" || options === null) {
      throw new TypeError("RedisExecutor(options): options must be an object like { redis: 'redis://host:6379' }");
    }
    // A misspelt option ({ qeue: "work" }) is Python's "unexpected keyword argument", not a default.
    // (The test hooks testCrash / testAbortAdds are taken too, and not listed.)
    const given = Object.fromEntries(
      Object.entries(options).filter(([k]) => k !== "testCrash" && k !== "testAbortAdds"),
    );
    checkOptions(given, ["redis", "queue", "prefix", "defaultJobOptions", "connectTimeout"], "RedisExecutor");
    const { queue = "threading", defaultJobOptions = {}, prefix } = options;
    // An ioredis RedisOptions (an interface, so typed as `object` here for users) read as a record.
    const redis = options.redis as string | Record<string, unknown>;
    const { testCrash, testAbortAdds } = options as Pick<ClientOptions, "testCrash" | "testAbortAdds">;
    const connectMs =
      options.connectTimeout === undefined
        ? 30_000
        : secondsMs(options.connectTimeout, "RedisExecutor: connectTimeout");
    if (redis === undefined) {
      throw new TypeError(
        "RedisExecutor: missing required option 'redis' (a redis:// or rediss:// URL, or ioredis options)",
      );
    }
    try {
      redisConnection(redis); // checks it
    } catch (error) {
      throw error instanceof TypeError ? new TypeError(`RedisExecutor: ${error.message}`) : error;
    }
    if (typeof queue !== "string" || queue === "")
      throw new TypeError("RedisExecutor: queue must be a non-empty string");
    // BullMQ refuses it only once the client thread makes its Queue (the executor broken then).
    if (queue.includes(":")) throw new RangeError(`RedisExecutor: queue ${JSON.stringify(queue)} cannot contain ":"`);
    if (typeof defaultJobOptions !== "object" || defaultJobOptions === null) {
      throw new TypeError("RedisExecutor: defaultJobOptions must be an object");
    }
    if (prefix !== undefined && typeof prefix !== "string")
      throw new TypeError("RedisExecutor: prefix must be a string");
    this.#name = `RedisExecutor-${executorCounter++}`;
    this.#options = {
      redis,
      queue,
      prefix,
      tag: randomBytes(6).toString("hex"),
      defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, ...defaultJobOptions },
      sweepAfter: Number(process.env.THREADING_REDIS_SWEEP_SECONDS ?? 10),
      connectTimeout: connectMs / 1000,
      ...(testCrash === undefined ? {} : { testCrash }),
      ...(testAbortAdds === undefined ? {} : { testAbortAdds }),
    };
    this.#link = {
      poll: () => this.#poll(),
      // `await future` needs its job sent, not the port read and the client thread checked (the
      // event loop does both): once per future of a Promise.all, that was a receiveMessageOnPort a job.
      flush: () => {
        if (this.#flushQueued) this.#flush();
      },
      cancelled: (f) => this.#forget(f),
    };
  }

  /** The BullMQ queue's name. */
  get queue(): string {
    return this.#options.queue;
  }

  /** @internal submit() (its overloads: futures/base.ts). */
  protected submitCall(fn: Target, args: unknown[]): Future<unknown> {
    this.#checkBroken();
    this.#checkOpen();
    const target = this.#keyOf(fn, "RedisExecutor.submit(): fn");
    return this.#submit(target, CALL, argsPayload(args, false, "RedisExecutor.submit(): args"));
  }

  #keyOf(fn: unknown, where: string): Keyed {
    if (typeof fn === "object" || typeof fn === "function") {
      const known = fn === null ? undefined : this.#keys.get(fn);
      if (known !== undefined) return known;
    }
    const spec = describe(fn, where);
    const text = JSON.stringify(spec);
    let target = this.#bySource.get(text);
    if (target === undefined) {
      target = { key: this.#nextKey++, spec };
      if (this.#bySource.size >= SOURCES_MAX) this.#bySource.delete(this.#bySource.keys().next().value as string);
    } else this.#bySource.delete(text); // the most recently used last
    this.#bySource.set(text, target);
    this.#keys.set(fn as object, target);
    return target;
  }

  /** @internal For tests: how many target descriptions this executor keeps by their text. */
  _targetCountForTest(): number {
    return this.#bySource.size;
  }

  #submit(target: Keyed, mode: number, bytes: Uint8Array | string): Future<unknown> {
    const { key } = target;
    this.#checkBroken();
    this.#start();
    const f = new Future<unknown>();
    const slot = this.#slots.take();
    const { slab, index, gen } = slot;
    internals.bind(f, this.#link, this.#slots.words(slot), index, gen);
    const seq = this.#seq++;
    internals.setTask(f, { seq, slot } satisfies Task);
    this.#futures.set(seq, f);
    this.#outbox.push(seq, key, mode, bytes, slab, index, gen);
    this.#outboxTargets.set(key, target.spec);
    if (!this.#referenced) {
      this.#referenced = true;
      this.#port?.ref();
      unfinished.add(this.#exitHook);
    }
    this.#queueFlush();
    return f;
  }

  #start(): void {
    if (this.#thread !== undefined) return;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.on("message", (m: unknown[]) => this.#receive(m));
    // The thread's end closes the port: with futures out, it died (not from inside the close event,
    // where receiveMessageOnPort() crashes Node; see futures/executor.ts).
    port1.on("close", () => setImmediate(() => this.#checkClient()));
    unrefOwn(port1);
    const thread = new Thread<unknown[]>({
      target: clientEntry,
      args: [port2, doorbell, this.#options],
      transferList: [port2],
      name: this.#name,
      daemon: true,
    });
    this.#thread = thread;
    thread.start();
    this.#watch(thread);
  }

  /** From the event loop: notices the client thread's end in the thread table (without keeping the process alive). */
  #watch(thread: Thread): void {
    const ident = thread.ident as number;
    const slot = (thread[kShare]().meta as { slot: number }).slot;
    const i = slotIndex(slot, SLOT_STATE);
    const again = (): void => {
      if (!isIdentAlive(slot, ident)) {
        this.#checkClient();
        return;
      }
      const r = atomicsWaitAsync(G, i, Atomics.load(G, i));
      if (r.async) r.value.then(again);
      else queueMicrotask(again);
    };
    again();
  }

  /**
   * The backstop for a client thread that died without saying why (an error thrown from a
   * callback, its worker killed): once it has ended, the outcomes it posted are taken, and the
   * futures still pending fail with BrokenExecutor. Called from blocking waits (#poll) too.
   */
  #checkClient(): void {
    const thread = this.#thread;
    if (thread === undefined || this.#broken !== undefined || thread.isAlive()) return;
    this.#drain();
    if (this.#futures.size > 0 || !this.#stopSent) {
      this.#break("its client thread (the one that talks to Redis) ended unexpectedly (see stderr)");
    }
  }

  /**
   * The executor cannot go on: every pending future fails with BrokenExecutor(`reason`), and so do
   * later submit() / map() calls. Jobs already in Redis may still run on workers (their outcomes
   * are not received).
   */
  #break(reason: string): void {
    if (this.#broken !== undefined) return;
    this.#broken = `${this.#name} (queue ${this.#options.queue}) is broken: ${reason}`;
    this.#outbox = [];
    this.#outboxTargets = new Map();
    for (const [seq, f] of [...this.#futures]) {
      this.#release(f, seq);
      internals.settle(f, { ok: false, error: new BrokenExecutor(this.#broken) });
    }
    this.#afterSettle();
    this.#port?.close();
  }

  #checkBroken(): void {
    if (this.#broken !== undefined) throw new BrokenExecutor(this.#broken);
  }

  /** CPython's words for a submission after shutdown(), or while the thread that made the executor exits. */
  #checkOpen(): void {
    // (exiting first: the exit hook shuts the executor down itself)
    if (exiting) throw new RuntimeError("cannot schedule new futures after interpreter shutdown");
    if (this.#shutdown) throw new RuntimeError("cannot schedule new futures after shutdown");
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushQueued = false;
    const port = this.#port;
    if (port === undefined) return;
    if (this.#outbox.length === 0 && this.#cancels.length === 0 && !(this.#shutdown && this.#futures.size === 0))
      return;
    const batch: ClientBatch = {};
    const slabs = this.#slots.slabs;
    if (this.#slabsSent < slabs.length) {
      batch.s = [];
      for (let n = this.#slabsSent; n < slabs.length; n++) batch.s.push([n, slabs[n] as Int32Array]);
      this.#slabsSent = slabs.length;
    }
    if (this.#outbox.length > 0) {
      batch.j = this.#outbox;
      this.#outbox = [];
      batch.f = [...this.#outboxTargets];
      this.#outboxTargets = new Map();
    }
    if (this.#cancels.length > 0) {
      batch.c = this.#cancels;
      this.#cancels = [];
    }
    if (this.#shutdown && this.#futures.size === 0 && !this.#stopSent) {
      this.#stopSent = true;
      batch.stop = true;
    }
    port.postMessage(batch);
  }

  /** Outcomes from the client thread: seq, kind, payload each. */
  #receive(m: unknown[]): void {
    for (let i = 0; i < m.length; i += 3) {
      const seq = m[i] as number;
      const kind = m[i + 1];
      const payload = m[i + 2];
      if (kind === BROKEN) {
        this.#break(String(payload));
        return;
      }
      const f = this.#futures.get(seq);
      if (f === undefined) continue;
      this.#release(f, seq);
      if (kind === DONE) {
        let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
        try {
          outcome = outcomeOf(payload as string);
        } catch (e) {
          outcome = {
            ok: false,
            error: new RuntimeError(`the job's result could not be read: ${(e as Error)?.message}`),
          };
        }
        internals.settle(f, outcome);
      } else if (kind === FAILED) {
        internals.settle(f, { ok: false, error: new RuntimeError(`the job failed in BullMQ: ${String(payload)}`) });
      } else if (kind === GONE) {
        // A failure of the machinery (the job's data lost or removed by someone else), not a cancel:
        // the future was never cancelled (cancelled() is false), so RuntimeError, as the README says.
        internals.settle(f, { ok: false, error: new RuntimeError(`the job is gone: ${String(payload)}`) });
      }
    }
    this.#afterSettle();
  }

  #release(f: Future<unknown>, seq: number): void {
    this.#futures.delete(seq);
    const task = internals.task(f) as Task | undefined;
    internals.setTask(f, undefined);
    if (task !== undefined) this.#slots.give(task.slot);
  }

  #afterSettle(): void {
    if (this.#futures.size > 0) return;
    if (this.#referenced) {
      this.#referenced = false;
      if (this.#port) unrefOwn(this.#port);
      unfinished.delete(this.#exitHook);
    }
    if (this.#shutdown) this.#queueFlush();
  }

  /** A future cancelled here (its word went PENDING -> CANCELLED): remove its job. */
  #forget(f: Future<unknown>): void {
    const task = internals.task(f) as Task | undefined;
    if (task === undefined) return;
    this.#release(f, task.seq);
    this.#cancels.push(task.seq);
    this.#queueFlush();
    this.#afterSettle();
  }

  /** Sends what is buffered and takes the outcomes posted (for blocking waits); notices a dead client thread. */
  #poll(): void {
    if (this.#flushQueued) this.#flush();
    this.#drain();
    this.#checkClient();
  }

  /** Takes the outcomes the client thread has posted. */
  #drain(): void {
    const port = this.#port;
    if (port === undefined || this.#broken !== undefined) return;
    for (;;) {
      const m = receiveMessageOnPort(port);
      if (m === undefined) return;
      this.#receive(m.message as unknown[]);
    }
  }

  /** @internal map() (its overloads: futures/base.ts). */
  protected mapCalls(fn: Target, iterable: Iterable<unknown>, options: MapOptions = {}): IterableIterator<unknown> {
    const { deadline, fs, size } = this.#mapSetup(fn, iterable, options, "map");
    return results(fs, deadline, size > 1, "RedisExecutor.map()");
  }

  #mapSetup(
    fn: Target,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options: MapOptions,
    what: string,
  ): MapSetup {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`RedisExecutor.${what}(): options must be an object`);
    }
    const deadline = deadlineOf(timeoutMs(options.timeout, `RedisExecutor.${what}()`));
    const size = options.chunksize ?? 1;
    if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
      throw new RangeError(`RedisExecutor.${what}(): chunksize must be an integer >= 1, not ${size}`);
    }
    this.#checkBroken();
    this.#checkOpen();
    const target = this.#keyOf(fn, `RedisExecutor.${what}(): fn`);
    const fs: Future<unknown>[] = [];
    const isObject = iterable !== null && typeof iterable === "object";
    if (what === "mapAsync" && isObject && Symbol.asyncIterator in iterable && !(Symbol.iterator in iterable)) {
      return { deadline, fs, size, target, source: iterable as AsyncIterable<unknown> };
    }
    if (iterable == null || typeof (iterable as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new TypeError(`RedisExecutor.${what}(): iterable is not iterable`);
    }
    // Every item is encoded before anything is submitted: an item that cannot cross submits nothing.
    const jobs: [number, Uint8Array | string][] = [];
    let chunk: unknown[][] = [];
    for (const item of iterable as Iterable<unknown>) {
      if (size === 1) jobs.push([CALL, argsPayload(callArgsOf(item), false, `RedisExecutor.${what}(): item`)]);
      else {
        chunk.push(callArgsOf(item));
        if (chunk.length === size) {
          jobs.push([CHUNK, argsPayload(chunk, true, `RedisExecutor.${what}(): item`)]);
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) jobs.push([CHUNK, argsPayload(chunk, true, `RedisExecutor.${what}(): item`)]);
    for (const [mode, bytes] of jobs) fs.push(this.#submit(target, mode, bytes));
    return { deadline, fs, size, target };
  }

  /** @internal mapAsync() (its overloads: futures/base.ts). */
  protected mapCallsAsync(
    fn: Target,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    options: MapOptions = {},
  ): AsyncIterableIterator<unknown> {
    let setup: MapSetup | undefined;
    let failure: { error: unknown } | undefined;
    try {
      setup = this.#mapSetup(fn, iterable, options, "mapAsync");
    } catch (error) {
      failure = { error };
    }
    const feed = new MapFeed(setup?.fs);
    const size = setup?.size ?? 1;
    if (setup?.source !== undefined) {
      const source = setup.source[Symbol.asyncIterator]();
      feed.feeding(source);
      const { target } = setup;
      void (async () => {
        let chunk: unknown[][] = [];
        try {
          for (;;) {
            const r = await source.next();
            if (feed.closed) return;
            if (r.done) break;
            if (size === 1)
              feed.push(
                this.#submit(target, CALL, argsPayload(callArgsOf(r.value), false, "RedisExecutor.mapAsync(): item")),
              );
            else {
              chunk.push(callArgsOf(r.value));
              if (chunk.length === size) {
                feed.push(this.#submit(target, CHUNK, argsPayload(chunk, true, "RedisExecutor.mapAsync(): item")));
                chunk = [];
              }
            }
          }
          if (chunk.length > 0)
            feed.push(this.#submit(target, CHUNK, argsPayload(chunk, true, "RedisExecutor.mapAsync(): item")));
        } catch (error) {
          feed.end({ error });
          return;
        }
        feed.end();
      })();
    }
    return feed.results(setup?.deadline ?? Number.POSITIVE_INFINITY, size > 1, "RedisExecutor.mapAsync()", failure);
  }

  /**
   * No new tasks after this. With `cancelFutures`, the tasks no worker has started are cancelled
   * (and removed from Redis). With `wait` (default), returns once every future has settled and the
   * executor's Redis connections are closed; without it, they close once the futures settle.
   */
  shutdown(wait = true, options: { cancelFutures?: boolean | undefined } = {}): void {
    this.#beginShutdown(options, "shutdown");
    if (!wait) return;
    const fs = [...this.#futures.values()];
    if (fs.length > 0) {
      let left = fs.length;
      for (const f of fs) internals.onSettle(f, () => left--);
      blockUntil(fs, () => left === 0, Number.POSITIVE_INFINITY);
    }
    this.#flush();
    this.#thread?.join();
    this.#port?.close();
  }

  /** The async twin of `shutdown(true)`. */
  async shutdownAsync(options: { cancelFutures?: boolean | undefined } = {}): Promise<void> {
    this.#beginShutdown(options, "shutdownAsync");
    const fs = [...this.#futures.values()];
    await Promise.all(fs.map((f) => new Promise<void>((resolve) => internals.onSettle(f, () => resolve()))));
    this.#flush();
    await this.#thread?.joinAsync();
    this.#port?.close();
  }

  #beginShutdown(options: { cancelFutures?: boolean | undefined }, what: string): void {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`RedisExecutor.${what}(): options must be an object`);
    }
    checkOptions(options, ["cancelFutures"], `RedisExecutor.${what}()`);
    this.#shutdown = true;
    if (options.cancelFutures) for (const f of [...this.#futures.values()]) f.cancel();
    this.#queueFlush();
  }

  /** `using ex = new RedisExecutor(...)`: shutdown(true) at the end of the block. */
  [Symbol.dispose](): void {
    this.shutdown(true);
  }

  /** `await using ex = ...`: shutdownAsync() at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdownAsync();
  }

  /** `<RedisExecutor queue=NAME pending=N>`, ` shut down` once shut down (for logs and the REPL). */
  override toString(): string {
    return `<RedisExecutor queue=${this.#options.queue} pending=${this.#futures.size}${this.#shutdown ? " shut down" : ""}>`;
  }
}
