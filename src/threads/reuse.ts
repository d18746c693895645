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
 *    (trackUnrefs; the library's own unref() calls, told by their caller's file, do not count). These cannot be
 *    dropped safely, so a worker that has more of any kind than it had right before the thread's
 *    code began (recordStartState) is not reused: it exits, which drops them. Except operations in
 *    flight alone (a file write nobody awaited; tsx writing its cache as a thread imports a .ts
 *    module): they complete by themselves, so the worker waits for them (settle(), bounded) after
 *    the thread has ended, and is reused if nothing else is left then.
 * A runtime without `process.getActiveResourcesInfo()` never reuses a worker.
 */
import net from "node:net";
import timers from "node:timers";
import { syncBuiltinESMExports } from "node:module";
import { promisify } from "node:util";
import { BroadcastChannel, MessagePort, parentPort, Worker } from "node:worker_threads";
import { distUrl } from "../shared/paths.js";
import { workerHeld } from "../shared/thread-reset.js";
import { atomicsWaitAsync, pendingAsyncWaits } from "../shared/wait.js";

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

/** Handles the threads' own code unref'd and has not closed or ref'd again (see trackUnrefs). */
const unrefd = new Set<object>();
/** The library's files (dist/, or src/ under source maps), as stack frames name them. */
const libraryRoot = new URL("../", distUrl).href;
const libraryDirs = [`${libraryRoot}dist/`, `${libraryRoot}src/`, `${libraryRoot.replace(/^file:\/\//, "")}dist/`];

/** True when the unref() being made is the library's own (its first caller outside Node is a library file). */
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
    if (!unrefd.has(this) && !libraryCall()) {
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

/** setImmediate as it was before trackTimers(): what the worker itself schedules, never dropped. */
export const untrackedSetImmediate = real.setImmediate;

let tracking = false;

/**
 * Makes every setTimeout / setInterval / setImmediate of this worker (the globals and `node:timers`'
 * exports) tracked until it fires or is cleared, so that dropTimers() can drop what a thread left.
 * `util.promisify(setTimeout)` keeps working (the promisified forms are not tracked: a pending one
 * is an active resource, see verdict).
 */
export function trackTimers(): void {
  if (tracking) return;
  tracking = true;
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
  trackUnrefs(net.Server?.prototype as unknown as RefCounted, "close");
  trackUnrefs(net.Socket?.prototype as unknown as RefCounted, "close");
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

/**
 * Fills `counts` with how many of each kind of thing that could call back into this worker exist
 * now; false where the runtime cannot tell (no process.getActiveResourcesInfo()). Runs twice per
 * thread: no allocation but the resource list (the maps are reused, the listener keys kept).
 */
function census(counts: Map<string, number>): boolean {
  if (typeof process.getActiveResourcesInfo !== "function") return false;
  counts.clear();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  // (Added up: two symbols with one description have one key.)
  for (const name of process.eventNames()) {
    const key = listenerKey(processKeys, "process:", name);
    counts.set(key, (counts.get(key) ?? 0) + process.listenerCount(name));
  }
  if (parentPort) {
    for (const name of parentPort.eventNames()) {
      const key = listenerKey(portKeys, "parentPort:", name);
      counts.set(key, (counts.get(key) ?? 0) + parentPort.listenerCount(name));
    }
  }
  return true;
}

const processKeys = new Map<string | symbol, string>();
const portKeys = new Map<string | symbol, string>();

/** The census key of the listeners of event `name` (`prefix` + name), made once per name. */
function listenerKey(keys: Map<string | symbol, string>, prefix: string, name: string | symbol): string {
  let key = keys.get(name);
  if (key === undefined) {
    key = prefix + String(name);
    if (keys.size < 1024) keys.set(name, key);
  }
  return key;
}

/**
 * Kinds of active resources that are one operation in flight (a file read or write, a DNS lookup, a
 * connect, a write on a socket, a close): each completes by itself, unlike a handle (a socket, a
 * server, a watcher) or a listener, which stays until someone closes or removes it.
 */
const OPERATION = /Req|^(Write|Shutdown|Connect|PipeConnect|TCPConnect|Send)Wrap$/;

/** The census right before the thread's own code began (recorded: there is one). */
const start = new Map<string, number>();
let recorded = false;
/** verdict()'s census. */
const now = new Map<string, number>();

/** Takes the census right before a thread's own code begins (compared by verdict()). */
export function recordStartState(): void {
  unrefd.clear();
  recorded = census(start);
}

/**
 * What the thread that just ended left (call after dropTimers):
 *  - "clean": nothing that could act later: no pending async wait, no module holding the worker,
 *    no kind of active resource or listener above its count at recordStartState();
 *  - "settling": nothing but operations in flight (OPERATION): the worker may be reused once they
 *    have completed (settle());
 *  - "dirty": anything else; the worker must not be reused.
 */
export function verdict(): "clean" | "settling" | "dirty" {
  if (pendingAsyncWaits() > 0 || ownWaits > 0 || unrefd.size > 0 || workerHeld()) return "dirty";
  if (!recorded || !census(now)) return "dirty";
  let result: "clean" | "settling" = "clean";
  for (const [key, n] of now) {
    if (n <= (start.get(key) ?? 0)) continue;
    if (!OPERATION.test(key)) return "dirty";
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
