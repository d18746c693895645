/**
 * Whether a worker can run another thread after the one that just ended (threads/worker.ts).
 *
 * A thread ends when run() returns or its promise settles; what it left pending must not act in
 * the next thread on the same worker. Two kinds of leftovers:
 *  - Timers (setTimeout, setInterval, setImmediate, global or from `node:timers`): tracked from
 *    the worker's boot (trackTimers) and dropped when the thread ends (dropTimers), as a worker's
 *    exit dropped them before workers were reused.
 *  - Everything else that would call back into the worker: sockets, servers, ref'd MessagePorts,
 *    child processes, operations in flight (Node's active resources, by kind), listeners added to
 *    `process` or to the worker's parentPort, pending async waits of the library
 *    (shared/wait.ts) and of the thread's own Atomics.waitAsync() calls (counted through a wrapper
 *    installed with the timers'; the library's waits use the original), and modules that hold the
 *    worker (shared/thread-reset.ts), and handles the thread's own code unref'd (MessagePort,
 *    BroadcastChannel, Worker, net servers and sockets: an unref'd handle is no active resource,
 *    yet its listeners would run in the next thread) and has neither closed nor ref'd again
 *    (trackUnrefs; the library's own unref() calls, told by their caller's file, do not count), and
 *    callbacks of jobs run on libuv's thread pool that are no active resource (trackJobs: fs.readFile
 *    and writeFile, appendFile, cp, and their fs.promises forms, which Node >= 26 runs as one
 *    ReadFileJob / WriteFileJob / CpDirJob each; crypto's pbkdf2, scrypt, randomBytes, ... and zlib's
 *    one-shot gzip, deflate, ... with a callback, the chunks of zlib's streams (createGzip(), ...)
 *    and the promises of WebCrypto's crypto.subtle, on every Node: counted as "ThreadPoolWork";
 *    crypto, zlib and WebCrypto wrapped once this process's threads use them, as net's unref() is,
 *    and fs.promises as they are first read from fs where a worker boots without them; a thread
 *    that loaded one of them itself, running unwrapped, leaves its worker not reused, see
 *    trackLoadedJobModules). These cannot be
 *    dropped safely, so a worker that has more of any kind than it had right before the thread's
 *    code began (recordStartState) is not reused: it exits, which drops them. Except operations in
 *    flight alone (a file write nobody awaited; tsx writing its cache as a thread imports a .ts
 *    module; a ThreadPoolWork job): they complete by themselves, so the worker waits for them (settle(), bounded) after
 *    the thread has ended, and is reused if nothing else is left then. A MessagePort too (CLOSING):
 *    one the thread listened on and closed is counted until its close completes, a loop turn or two
 *    after the thread's end; one it left open is still counted when the wait is over, and the
 *    worker is not reused.
 * A runtime without `process.getActiveResourcesInfo()` never reuses a worker, nor does Bun, whose
 * list is always empty (Bun 1.4: a thread's timers, server or open MessagePort then ran in the next
 * thread on its worker, reuse.test under bun test). Deno's lists timers and sockets, not
 * MessagePorts (README, Runtimes and flags).
 * Why the jobs are counted: an idle worker parks in its dock (dock.ts), asleep in Atomics.wait()
 * with its event loop stopped, so a callback left pending that the census does not see never ran
 * while parked: it ran inside the next thread handed to that worker, as that thread, or never
 * (the worker retired). Node 26 made fs.readFile() such a job (2026-12-06: the leftover-holder
 * tests' file-read callback never ran there).
 */
import { fs, timers, util } from "../shared/builtins.js";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { BroadcastChannel, MessagePort, parentPort, Worker } from "node:worker_threads";
import { unrefIsOwn } from "../shared/own-unref.js";
import { distUrl } from "../shared/paths.js";
import { G, JOB_MODULES_USED } from "../shared/runtime.js";
import { workerHeld } from "../shared/thread-reset.js";
import { atomicsWaitAsync, pendingAsyncWaits } from "../shared/wait.js";

const { promisify } = util;

type Callback = (...args: unknown[]) => unknown;
type Handle = ReturnType<typeof setTimeout>;
type ImmediateHandle = ReturnType<typeof setImmediate>;

const timeouts = new Set<Handle>();
const immediates = new Set<ImmediateHandle>();

const real = {
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
  setImmediate: globalThis.setImmediate,
  clearTimeout: globalThis.clearTimeout,
  clearInterval: globalThis.clearInterval,
  clearImmediate: globalThis.clearImmediate,
};

/** Atomics.waitAsync() calls of the threads' own code still pending (see trackTimers). */
let ownWaits = 0;
const ownWaitSettled = (): void => {
  ownWaits--;
};

/** Callbacks (or promises) of thread-pool jobs still pending (see trackJobs). */
let jobs = 0;

/** Counts `r` as one job until it settles; returns a promise that settles as `r` does. */
function countUntilSettled(r: Promise<unknown>): Promise<unknown> {
  jobs++;
  return r.then(
    (value) => {
      jobs--;
      return value;
    },
    (e: unknown) => {
      jobs--;
      throw e;
    },
  );
}

/** Gives a counting wrapper the name and length of the function it wraps. */
function keepNameAndLength(counted: (...args: unknown[]) => unknown, original: (...args: unknown[]) => unknown): void {
  Object.defineProperty(counted, "name", { value: original.name, configurable: true });
  Object.defineProperty(counted, "length", { value: original.length, configurable: true });
}

/** Handles the threads' own code unref'd and has not closed or ref'd again (see trackUnrefs). */
const unrefd = new Set<object>();
/** The library's files (dist/, or src/ under source maps), as stack frames name them. */
const libraryRoot = new URL("../", distUrl).href;
const libraryDirs = [`${libraryRoot}dist/`, `${libraryRoot}src/`, `${libraryRoot.replace(/^file:\/\//, "")}dist/`];

/**
 * True when the unref() being made is the library's own (its first caller outside Node is a library
 * file): for the calls that do not say so by unrefOwn() (shared/own-unref.ts), as the library's
 * own do, which spares them this stack trace.
 */
function libraryCall(): boolean {
  const stack = new Error().stack ?? "";
  const lines = stack.split("\n");
  // [0] "Error", [1] libraryCall, [2] the wrapper; then the caller (through Node's own frames).
  for (let i = 3; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/\(node:|at node:/.test(line)) continue;
    return libraryDirs.some((dir) => line.includes(dir));
  }
  return false;
}

type RefCounted = { ref(): unknown; unref(): unknown; once?(event: string, fn: () => void): unknown };

/**
 * Wraps `proto`'s unref() so that a handle unref'd by a thread's own code is remembered (unrefd)
 * until it emits `closeEvent` (or `close` is called, for classes without one) or is ref'd again.
 */
function trackUnrefs(proto: RefCounted | undefined, closeEvent: string | null): void {
  if (!proto || typeof proto.unref !== "function" || typeof proto.ref !== "function") return;
  const realUnref = proto.unref;
  const realRef = proto.ref;
  proto.unref = function unref(this: RefCounted, ...args: unknown[]) {
    if (!unrefIsOwn() && !unrefd.has(this) && !libraryCall()) {
      unrefd.add(this);
      if (closeEvent !== null) this.once?.(closeEvent, () => unrefd.delete(this));
    }
    return (realUnref as (...a: unknown[]) => unknown).apply(this, args);
  };
  proto.ref = function ref(this: RefCounted, ...args: unknown[]) {
    unrefd.delete(this);
    return (realRef as (...a: unknown[]) => unknown).apply(this, args);
  };
  if (closeEvent === null) {
    const closable = proto as RefCounted & { close?: (...a: unknown[]) => unknown };
    const realClose = closable.close;
    if (typeof realClose === "function") {
      closable.close = function close(this: RefCounted, ...args: unknown[]) {
        unrefd.delete(this);
        return realClose.apply(this, args);
      };
    }
  }
}

/** Functions of `mod` that run one job on libuv's thread pool, with a callback last or a promise returned. */
type JobModule = Record<string, unknown>;

/**
 * Wraps each function `names` of `mod` that exists so that a call with a callback last counts one
 * job (jobs) until that callback is called, and (`promises`) a call that returns a promise counts
 * one until it settles. The wrapper returns what the function returns: for a promise, one that
 * settles as it does (a rejection nobody handles is still unhandled).
 */
function trackJobs(mod: JobModule | undefined, names: readonly string[], promises = false): void {
  if (!mod) return;
  for (const name of names) {
    const fn = mod[name];
    if (typeof fn !== "function") continue;
    const original = fn as (...args: unknown[]) => unknown;
    const counted = function (this: unknown, ...args: unknown[]): unknown {
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === "function") {
        let pending = true;
        args[last] = function (this: unknown, ...results: unknown[]) {
          if (pending) {
            pending = false;
            jobs--;
          }
          return (callback as Callback).apply(this, results);
        };
        jobs++;
        try {
          return original.apply(this, args);
        } catch (e) {
          if (pending) {
            pending = false;
            jobs--;
          }
          throw e;
        }
      }
      const r = original.apply(this, args);
      if (!promises || !(r instanceof Promise)) return r;
      return countUntilSettled(r);
    };
    keepNameAndLength(counted, original);
    const custom = (original as unknown as Record<symbol, unknown>)[promisify.custom];
    if (custom !== undefined) {
      Object.defineProperty(counted, promisify.custom, { value: custom, configurable: true, writable: true });
    }
    try {
      mod[name] = counted;
    } catch {
      // (a read-only export: left as it is)
    }
  }
}

/**
 * What runs on the thread pool without being an active resource, by module: crypto's and zlib's
 * one-shot functions with a callback (trackJobs), zlib's streams (each chunk, trackZlibStreams)
 * and WebCrypto's crypto.subtle operations (each promise, trackSubtle; its module is loaded by the
 * first use of globalThis.crypto or crypto.webcrypto, not by node:crypto). And net, whose servers
 * and sockets a thread may unref (trackUnrefs): no thread-pool jobs, but loaded and wrapped the same
 * way, as a worker boots without it (loading it cost a thread's worker ~0.5-0.9 ms of its boot,
 * several under load, on the first start()'s path).
 */
const JOB_MODULES = {
  crypto: {
    bit: 1,
    names: [
      "pbkdf2",
      "scrypt",
      "hkdf",
      "randomBytes",
      "randomFill",
      "randomInt",
      "generateKeyPair",
      "generateKey",
      "generatePrime",
      "checkPrime",
      "sign",
      "verify",
    ],
  },
  zlib: {
    bit: 2,
    names: [
      "deflate",
      "deflateRaw",
      "gzip",
      "gunzip",
      "inflate",
      "inflateRaw",
      "unzip",
      "brotliCompress",
      "brotliDecompress",
      "zstdCompress",
      "zstdDecompress",
    ],
  },
  webcrypto: { bit: 4, names: [] },
  net: { bit: 8, names: [] },
  fsPromises: { bit: 16, names: ["readFile", "writeFile", "appendFile", "cp"] },
} as const;
const ALL_JOB_MODULES = 31;
/** The JOB_MODULES bits whose functions this worker has wrapped. */
let jobModulesTracked = 0;
/** Node's list of the modules loaded so far (append-only), where the runtime has one. */
const loadList = (process as { moduleLoadList?: readonly string[] }).moduleLoadList;
/** What Node's module load list says once fs.promises (node:fs/promises) is loaded. */
const FS_PROMISES_LOADED = "NativeModule internal/fs/promises";
/** How the fs module gives its `promises` (a getter that loads them on first use), taken before fsPromisesOnUse(). */
const fsPromisesGiven = Object.getOwnPropertyDescriptor(fs, "promises");

/** fs.promises, through the fs module's own getter (loading them if they are not yet). */
function fsPromises(): JobModule {
  const given = fsPromisesGiven;
  return (given?.get ? given.get.call(fs) : (given?.value ?? fs.promises)) as JobModule;
}

/** How much of loadList trackLoadedJobModules() has read. */
let loadsSeen = 0;
const builtin = createRequire(import.meta.url);

/** Wraps the functions of JOB_MODULES `name` (loading it) and says so process-wide (G[JOB_MODULES_USED]). */
function trackJobModule(name: keyof typeof JOB_MODULES): void {
  const { bit, names } = JOB_MODULES[name];
  if (jobModulesTracked & bit) return;
  jobModulesTracked |= bit;
  if (name === "webcrypto") trackSubtle();
  else if (name === "fsPromises") trackJobs(fsPromises(), names, true);
  else if (name === "net") {
    const net = builtin("node:net") as typeof import("node:net");
    trackUnrefs(net.Server?.prototype as unknown as RefCounted, "close");
    trackUnrefs(net.Socket?.prototype as unknown as RefCounted, "close");
  } else {
    const mod = builtin(`node:${name as "crypto" | "zlib"}`) as JobModule;
    trackJobs(mod, names);
    if (name === "zlib") trackZlibStreams(mod);
  }
  Atomics.or(G, JOB_MODULES_USED, bit);
}

/**
 * Counts each chunk a zlib stream (Gzip, Deflate, Brotli..., of one class ZlibBase) has taken and
 * not yet finished as one job: its compression runs on the thread pool, a callback at the end of
 * each round, and the stream is no active resource. (A chunk is finished when the stream calls its
 * write callback: also when the stream is destroyed; a stream nobody reads stalls with its chunk
 * counted, and its worker is not reused.)
 */
function trackZlibStreams(zlib: JobModule): void {
  let proto = (zlib.Gzip as { prototype?: object } | undefined)?.prototype ?? null;
  while (proto !== null && !Object.hasOwn(proto, "_transform")) proto = Object.getPrototypeOf(proto) as object | null;
  if (proto === null) return;
  const base = proto as { _transform: (chunk: unknown, encoding: unknown, cb: Callback) => unknown };
  const original = base._transform;
  if (typeof original !== "function") return;
  base._transform = function _transform(this: unknown, chunk: unknown, encoding: unknown, cb: Callback) {
    let pending = true;
    jobs++;
    const finished = function (this: unknown, ...results: unknown[]) {
      if (pending) {
        pending = false;
        jobs--;
      }
      return cb.apply(this, results);
    };
    try {
      return original.call(this, chunk, encoding, finished);
    } catch (e) {
      if (pending) {
        pending = false;
        jobs--;
      }
      throw e;
    }
  };
}

/**
 * Counts each pending promise of crypto.subtle's operations (digest, encrypt, deriveBits, ...:
 * every method of SubtleCrypto) as one job: they run on the thread pool and are no active resource.
 */
function trackSubtle(): void {
  const subtle = (globalThis as { crypto?: { subtle?: object } }).crypto?.subtle;
  if (subtle === undefined) return;
  const proto = Object.getPrototypeOf(subtle) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const fn = Object.getOwnPropertyDescriptor(proto, name)?.value;
    if (name === "constructor" || typeof fn !== "function") continue;
    const original = fn as (...args: unknown[]) => unknown;
    const counted = function (this: unknown, ...args: unknown[]): unknown {
      const r = original.apply(this, args);
      if (!(r instanceof Promise)) return r;
      return countUntilSettled(r);
    };
    keepNameAndLength(counted, original);
    try {
      proto[name] = counted;
    } catch {
      // (a read-only method: left as it is)
    }
  }
}

/**
 * Wraps the functions of crypto, zlib, WebCrypto and net once they are loaded here (Node's module load list): as
 * importing them at every worker's boot costs ~3-7 ms (a cold start), a worker wraps them at boot
 * and before each thread's code only once a thread of this process has loaded them
 * (trackUsedJobModules), or when it sees them loaded (here, and at a thread's end: such a thread
 * ran with them unwrapped, so its worker is not reused, see verdict). Returns the bits wrapped now.
 */
function trackLoadedJobModules(): number {
  if (jobModulesTracked === ALL_JOB_MODULES) return 0;
  const before = jobModulesTracked;
  if (loadList === undefined) {
    // (no list: wrap them now, where a worker may be reused at all)
    if (!censusWorks) return 0;
    trackJobModule("crypto");
    trackJobModule("zlib");
    trackJobModule("webcrypto");
    trackJobModule("net");
    trackJobModule("fsPromises");
  } else {
    for (; loadsSeen < loadList.length; loadsSeen++) {
      const m = loadList[loadsSeen];
      if (m === "NativeModule crypto") trackJobModule("crypto");
      else if (m === "NativeModule zlib") trackJobModule("zlib");
      else if (m === "NativeModule internal/crypto/webcrypto") trackJobModule("webcrypto");
      else if (m === "NativeModule net") trackJobModule("net");
      else if (m === FS_PROMISES_LOADED) trackJobModule("fsPromises");
    }
  }
  if (jobModulesTracked === before) return 0;
  syncBuiltinESMExports();
  return jobModulesTracked & ~before;
}

/** Wraps those of crypto, zlib, WebCrypto and net that a thread of this process has loaded (G[JOB_MODULES_USED]) or that are loaded here. */
function trackUsedJobModules(): void {
  if (jobModulesTracked === ALL_JOB_MODULES) return;
  const used = Atomics.load(G, JOB_MODULES_USED) & ~jobModulesTracked;
  if (used & JOB_MODULES.crypto.bit) trackJobModule("crypto");
  if (used & JOB_MODULES.zlib.bit) trackJobModule("zlib");
  if (used & JOB_MODULES.webcrypto.bit) trackJobModule("webcrypto");
  if (used & JOB_MODULES.net.bit) trackJobModule("net");
  if (used & JOB_MODULES.fsPromises.bit) trackJobModule("fsPromises");
  if (used !== 0) syncBuiltinESMExports();
  trackLoadedJobModules();
}

/**
 * fs.promises are wrapped (JOB_MODULES) as they are first read from the fs module rather than at
 * boot, where nothing has loaded them yet (Node >= 22: ~1.2-2 ms of a fresh worker, the largest
 * part of its own set-up on the first start()'s path): the fs module's `promises` getter is
 * replaced by one that wraps them first. False where it cannot be (not a configurable getter).
 * A thread that imports node:fs/promises by that name loads them unwrapped: as for crypto, its
 * worker is not reused (trackLoadedJobModules), and later workers wrap them before any thread.
 */
function fsPromisesOnUse(): boolean {
  const given = fsPromisesGiven;
  if (given?.get === undefined || !given.configurable) return false;
  Object.defineProperty(fs, "promises", {
    get() {
      trackJobModule("fsPromises");
      return fsPromises();
    },
    configurable: true,
    enumerable: given.enumerable ?? true,
  });
  return true;
}

/** The one-shot functions of fs (loaded already), and those of fs.promises, crypto, zlib and WebCrypto (and net's unrefs) as said above. */
function trackAllJobs(): void {
  trackJobs(fs as unknown as JobModule, JOB_MODULES.fsPromises.names);
  if (loadList === undefined || loadList.includes(FS_PROMISES_LOADED) || !fsPromisesOnUse()) {
    trackJobModule("fsPromises");
  }
  trackUsedJobModules();
}

/** setImmediate as it was before trackTimers(): what the worker itself schedules, never dropped. */
export const untrackedSetImmediate = real.setImmediate;

let tracking = false;

/**
 * Makes every setTimeout / setInterval / setImmediate of this worker (the globals and `node:timers`'
 * exports) tracked until it fires or is cleared, so that dropTimers() can drop what a thread left.
 * `util.promisify(setTimeout)` keeps working (the promisified forms are not tracked: a pending one
 * is an active resource, see verdict). Also installs what verdict() counts besides the census: the
 * threads' own Atomics.waitAsync() calls, the handles they unref (trackUnrefs), their thread-pool
 * jobs (trackJobs); and the watch of process listeners that spares the census counting them.
 */
export function trackTimers(): void {
  if (tracking) return;
  tracking = true;
  watchProcessListeners();
  const setTimeoutTracked = function setTimeout(callback: Callback, ms?: number, ...args: unknown[]): Handle {
    if (typeof callback !== "function") return real.setTimeout(callback, ms, ...args);
    const handle: Handle = real.setTimeout(
      function (this: unknown, ...a: unknown[]) {
        timeouts.delete(handle);
        return callback.apply(this, a);
      },
      ms,
      ...args,
    );
    timeouts.add(handle);
    return handle;
  };
  const setIntervalTracked = function setInterval(callback: Callback, ms?: number, ...args: unknown[]): Handle {
    const handle = real.setInterval(callback, ms, ...args);
    timeouts.add(handle);
    return handle;
  };
  const setImmediateTracked = function setImmediate(callback: Callback, ...args: unknown[]): ImmediateHandle {
    if (typeof callback !== "function") return real.setImmediate(callback, ...args);
    const handle: ImmediateHandle = real.setImmediate(
      function (this: unknown, ...a: unknown[]) {
        immediates.delete(handle);
        return callback.apply(this, a);
      },
      ...args,
    );
    immediates.add(handle);
    return handle;
  };
  const clearTimeoutTracked = function clearTimeout(handle?: Handle | string | number): void {
    real.clearTimeout(handle as Handle);
    timeouts.delete(handle as Handle);
  };
  const clearIntervalTracked = function clearInterval(handle?: Handle | string | number): void {
    real.clearInterval(handle as Handle);
    timeouts.delete(handle as Handle);
  };
  const clearImmediateTracked = function clearImmediate(handle?: ImmediateHandle): void {
    real.clearImmediate(handle as ImmediateHandle);
    immediates.delete(handle as ImmediateHandle);
  };
  for (const [tracked, original] of [
    [setTimeoutTracked, real.setTimeout],
    [setImmediateTracked, real.setImmediate],
    [setIntervalTracked, real.setInterval],
  ] as const) {
    const custom = (original as unknown as Record<symbol, unknown>)[promisify.custom];
    if (custom !== undefined) {
      Object.defineProperty(tracked, promisify.custom, { value: custom, configurable: true, writable: true });
    }
  }
  const patch: Record<string, unknown> = {
    setTimeout: setTimeoutTracked,
    setInterval: setIntervalTracked,
    setImmediate: setImmediateTracked,
    clearTimeout: clearTimeoutTracked,
    clearInterval: clearIntervalTracked,
    clearImmediate: clearImmediateTracked,
  };
  Object.assign(globalThis, patch);
  if (typeof atomicsWaitAsync === "function") {
    const waitAsyncCounted = function waitAsync(this: unknown, ...args: Parameters<typeof Atomics.waitAsync>) {
      const r = atomicsWaitAsync.apply(Atomics, args);
      if (r.async) {
        ownWaits++;
        r.value.then(ownWaitSettled, ownWaitSettled);
      }
      return r;
    } as typeof Atomics.waitAsync;
    Object.defineProperty(Atomics, "waitAsync", { value: waitAsyncCounted, writable: true, configurable: true });
  }
  trackUnrefs(MessagePort?.prototype as unknown as RefCounted, "close");
  trackUnrefs(BroadcastChannel?.prototype as unknown as RefCounted, null);
  trackUnrefs(Worker?.prototype as unknown as RefCounted, "exit");
  // (net's servers and sockets: once net is loaded, see JOB_MODULES)
  trackAllJobs();
  const mod = timers as unknown as Record<string, unknown>;
  for (const [name, fn] of Object.entries(patch)) {
    if (typeof mod[name] === "function") mod[name] = fn;
  }
  syncBuiltinESMExports();
}

/** Clears every tracked timer still pending (see trackTimers). */
export function dropTimers(): void {
  for (const handle of timeouts) real.clearTimeout(handle);
  timeouts.clear();
  for (const handle of immediates) real.clearImmediate(handle);
  immediates.clear();
}

/** Whether process.getActiveResourcesInfo() tells what could call back (see the file comment). */
const censusWorks = typeof process.getActiveResourcesInfo === "function" && !("Bun" in globalThis);

/** One census (census()): what could call back into this worker, by kind. */
interface Census {
  /** Active resources by kind, thread-pool jobs ("ThreadPoolWork"), listeners of the worker's port ("parentPort:<event>"). */
  counts: Map<string, number>;
  /** Listeners of `process` by event name: a map shared by the censuses between two changes, never written once made. */
  processListeners: Map<string | symbol, number>;
}

/**
 * Fills `c` with how many of each kind of thing that could call back into this worker exist now;
 * false where the runtime cannot tell (censusWorks). It runs on the path of every thread's end (and
 * of its start on the hub's path), mostly before V8 has optimized it: it allocates only the resource
 * list, and counts the listeners of `process` again only after one was added or removed
 * (processListenerCounts()).
 */
function census(c: Census): boolean {
  if (!censusWorks) return false;
  const counts = c.counts;
  counts.clear();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  if (jobs > 0) counts.set("ThreadPoolWork", jobs);
  c.processListeners = processListenerCounts();
  if (parentPort) {
    // The worker's port dispatches these three events, and no other (a listener of another name
    // would run only in code that dispatches it itself).
    const message = parentPort.listenerCount("message");
    const messageerror = parentPort.listenerCount("messageerror");
    const close = parentPort.listenerCount("close");
    if (message > 0) counts.set("parentPort:message", message);
    if (messageerror > 0) counts.set("parentPort:messageerror", messageerror);
    if (close > 0) counts.set("parentPort:close", close);
  }
  return true;
}

/**
 * Listeners of `process` added or removed since the worker's boot, as its two own listeners of
 * "newListener" and "removeListener" see them (every add and remove of an EventEmitter emits one
 * of those, whichever method or prototype made it). Null once either of the two was removed
 * (removeAllListeners()): then every census counts them all again.
 */
let processChanges: number | null = null;
const onProcessListenerChange = (): void => {
  if (processChanges !== null) processChanges++;
};
const onProcessListenerRemoved = (_name: string | symbol, listener: unknown): void => {
  if (listener === onProcessListenerChange || listener === onProcessListenerRemoved) processChanges = null;
  else if (processChanges !== null) processChanges++;
};
/** At the worker's boot (trackTimers()): starts counting the changes, where a test add and remove shows both are seen. */
function watchProcessListeners(): void {
  if (!censusWorks) return;
  process.on("newListener", onProcessListenerChange);
  process.on("removeListener", onProcessListenerRemoved);
  processChanges = 0;
  const probe = (): void => {};
  process.on("threading:probe", probe);
  process.removeListener("threading:probe", probe);
  if (processChanges !== 2) {
    processChanges = null;
    process.removeListener("newListener", onProcessListenerChange);
    process.removeListener("removeListener", onProcessListenerRemoved);
  }
}
/** The last count of process listeners, and processChanges then. */
let processCounted: { at: number | null; counts: Map<string | symbol, number> } | undefined;

/**
 * The listeners of `process` by event name: counted again only when they may have changed
 * (processChanges; or the "removeListener" listeners are fewer: removeAllListeners("removeListener")
 * takes the worker's own without a word, and removals are not seen from then on).
 */
function processListenerCounts(): Map<string | symbol, number> {
  if (
    processCounted !== undefined &&
    processChanges !== null &&
    processCounted.at === processChanges &&
    process.listenerCount("removeListener") === processCounted.counts.get("removeListener")
  ) {
    return processCounted.counts;
  }
  if (processChanges !== null && !process.rawListeners("removeListener").includes(onProcessListenerRemoved)) {
    processChanges = null;
  }
  const counts = new Map<string | symbol, number>();
  for (const name of process.eventNames()) counts.set(name, process.listenerCount(name));
  processCounted = { at: processChanges, counts };
  return counts;
}

/**
 * Kinds of active resources that are one operation in flight (a file read or write, a DNS lookup, a
 * connect, a write on a socket, a close; a thread-pool job, trackJobs): each completes by itself, unlike a handle (a socket, a
 * server, a watcher) or a listener, which stays until someone closes or removes it.
 */
const OPERATION = /Req|^(Write|Shutdown|Connect|PipeConnect|TCPConnect|Send)Wrap$|^ThreadPoolWork$/;

/**
 * Handle kinds that stay in the census for a loop turn or two after the thread closed them: a
 * MessagePort the thread listened on (a port is ref'd once it has a "message" listener) and then
 * closed is counted until libuv's close callback runs, after the thread has ended. Counted as
 * settling, as an operation in flight: settle() waits until the count is back (a closed port:
 * 1-2 ms) and the worker is reused; a port the thread left open stays, and after SETTLE_MS the
 * worker is not reused (its listeners may run meanwhile, between threads, as an operation's
 * callbacks do). Before, every thread that received a port, listened and closed it retired its
 * worker, and the next threads ran on fresh spares (cold: V8 compiles their code again).
 */
const CLOSING = /^MessagePort$/;

/** The census right before the thread's own code began (recorded: there is one). */
let start: Census = { counts: new Map(), processListeners: new Map() };
let recorded = false;
/** verdict()'s census. */
let now: Census = { counts: new Map(), processListeners: new Map() };

/**
 * Takes the census right before a thread's own code begins (compared by verdict()). With
 * `lastEnd`, the census of the last thread's clean end (its verdict()) stands instead: the worker
 * passes it for a thread handed over in a dock right after that end, when between the two only the
 * library's own steps ran (reset, park again, one turn of the event loop, the sleep in the dock,
 * the wake): they open and close nothing, and a parked worker's event loop is stopped. Half the
 * census a docked thread costs, on the path of a start (the woken worker may hold its starter's
 * core until it sleeps again: docs/benchmarks.md). Something an ended thread's code adds after its
 * verdict (a listener in a late promise callback) is then the next thread's leftover, and its
 * worker is not reused, where a census taken here would have counted it as the worker's own.
 */
export function recordStartState(lastEnd = false): void {
  trackUsedJobModules();
  unrefd.clear();
  if (lastEnd && recorded && lastVerdict === "clean") {
    [start, now] = [now, start];
    lastVerdict = undefined;
    return;
  }
  lastVerdict = undefined;
  recorded = census(start);
}

/** What the last verdict() found, until recordStartState() (whose `lastEnd` needs a clean one). */
let lastVerdict: "clean" | "settling" | "dirty" | undefined;

/**
 * What the thread that just ended left (call after dropTimers):
 *  - "clean": nothing that could act later: no pending async wait, no module holding the worker,
 *    no kind of active resource or listener above its count at recordStartState();
 *  - "settling": nothing but operations in flight (OPERATION): the worker may be reused once they
 *    have completed (settle());
 *  - "dirty": anything else; the worker must not be reused.
 */
export function verdict(): "clean" | "settling" | "dirty" {
  lastVerdict = findVerdict();
  return lastVerdict;
}

function findVerdict(): "clean" | "settling" | "dirty" {
  if (pendingAsyncWaits() > 0 || ownWaits > 0 || unrefd.size > 0 || workerHeld()) return "dirty";
  // (crypto, zlib or WebCrypto loaded by the thread, unwrapped while it ran: a job it left would not be seen)
  if (trackLoadedJobModules() !== 0) return "dirty";
  if (!recorded || !census(now)) return "dirty";
  if (now.processListeners !== start.processListeners) {
    for (const [name, n] of now.processListeners) if (n > (start.processListeners.get(name) ?? 0)) return "dirty";
  }
  let result: "clean" | "settling" = "clean";
  for (const [key, n] of now.counts) {
    if (n <= (start.counts.get(key) ?? 0)) continue;
    if (!OPERATION.test(key) && !CLOSING.test(key)) return "dirty";
    result = "settling";
  }
  return result;
}

/** How long a worker waits for the operations a thread left in flight before it gives up on reuse (ms). */
const SETTLE_MS = 1_000;

/**
 * Waits (without tracked timers) until the operations the ended thread left in flight have
 * completed, at most SETTLE_MS; then drops the timers their callbacks may have set and returns
 * whether the worker is clean now.
 */
export async function settle(): Promise<boolean> {
  const until = performance.now() + SETTLE_MS;
  for (let ms = 1; verdict() === "settling" && performance.now() < until; ms = Math.min(ms * 2, 64)) {
    await new Promise((resolve) => real.setTimeout(resolve, ms));
  }
  dropTimers();
  return verdict() === "clean";
}
