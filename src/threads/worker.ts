/**
 * The entry of every thread's Worker (started by the hub). It boots, tells the hub it is ready, and
 * then runs threads, one after another, as the hub sends run requests (see RunRequest in
 * thread.ts). For each: publish RUNNING (start() returns in the creator; if its start was failed
 * first, table.ts, the thread does not run and the worker goes back to its dock or says "idle"), build the thread's object
 * (a subclass instance gets its fields copied in, without its constructor running again, as in
 * Python the object is the same), run run(), report an uncaught exception to the excepthook, then
 * finish(): send the fields back, drop the timers the thread left, and either
 *  - hand the worker back: post "idle" to the hub, *then* mark the thread ENDED (so the hub, seeing
 *    the thread ended, knows the worker is coming back), then reset what belonged to the thread
 *    (shared/thread-reset.ts) for the next one; or
 *  - the same once the operations the thread left in flight have completed (reuse.ts settle()):
 *    post "settling", mark ENDED, wait for them, reset, post "idle" (or exit if more is left); or
 *  - end the worker: when the thread asked for a worker of its own (isolated, resourceLimits) or
 *    left something that could still call back (reuse.ts verdict()): post "exiting" and exit; the
 *    hub marks the thread ENDED once the worker has exited (the exit runs the thread's process
 *    'exit' listeners, its own code, which may hold queue locks: it is not ended while they run).
 * An idle worker the hub has parked in a dock (dock.ts) sleeps in Atomics.wait() on the dock's word
 * (parkHere()) until a starter writes a request there, or the hub takes it out; a thread handed over
 * so, when it ends clean, resets, parks the worker again in that dock and then marks the thread
 * ENDED, without a word to the hub (finishDocked()).
 * The hub lets an idle worker go with a "retire" message, never terminate(): a worker stopped
 * between "idle" and marking its thread ENDED would leave that thread alive for ever.
 * In the thread, process.exit() throws SystemExit (below): the thread's stack unwinds and the
 * thread ends silently; only finish() ends the worker itself.
 *
 * Every run is its own record (`Run`), and finish() acts once per record: the end of a run may be
 * reached twice (its continuation after an uncaught exception already finished it), and a late one
 * never touches the thread running now.
 */
import { fs } from "../shared/builtins.js";
import { RuntimeError, SystemExit } from "../errors.js";
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { boot, FIRST_LIBRARY, G, SLOT_LINGER, setLockOwner, slotIndex } from "../shared/runtime.js";
import { decode } from "../transport/decode.js";
import { encode } from "../transport/encode.js";
import { actionsLoading, actionsPending } from "../sync/action.js";
import { reportException } from "./excepthook.js";
import { beforeUserImport } from "../transport/loaders.js";
import { installDirectOutput, writeAll } from "./output.js";
import { markEnded, markFailed, markRunning, tableTestHooks } from "./table.js";
import { dropTimers, recordStartState, settle, trackTimers, untrackedSetImmediate, verdict } from "./reuse.js";
import { resetThreadState, threadEnding } from "../shared/thread-reset.js";
import { compileTarget, evaluate, setCallerFallback, type TargetSpec } from "../transport/target.js";
import { awaitClaim, handedRequest, leave, type Parking, park, parkFirst, repark } from "./dock.js";
import {
  adoptSelf,
  kSelfReady,
  libraryClasses,
  needsLibrary,
  type RunRequest,
  setRun,
  Thread,
  threadFor,
} from "./thread.js";

const { readlinkSync } = fs;

installDirectOutput();
trackTimers();

/**
 * Where this worker talks with the hub (run requests in; "ready", "idle", ... out): its parent port,
 * or for the first worker, which the main thread boots beside the hub (hub-client.ts), a port whose
 * other end the hub holds (`dock`: the dock the hub keeps for it, -1 for none).
 */
const first = workerData as { control?: MessagePort; dock?: number };
const control = first.control ?? parentPort;

/** This worker's kernel thread id (Linux), the same for every thread it runs. */
const kernelThreadId = ((): number => {
  try {
    return Number(readlinkSync("/proc/thread-self").split("/").pop()) || 0;
  } catch {
    return 0;
  }
})();

/**
 * The whole library: what a function target finds in scope (transport/target.ts), the classes of
 * the shared objects its arguments may hold, the Thread subclasses. This file imports only what
 * runs a thread, so that the first worker, which the main thread's first start() waits for, boots
 * sooner; the rest loads with library(): at boot in a worker the hub starts (a spare, ready for
 * any thread), and in the first worker once it is known that its first thread does without it, or
 * when that thread needs it (see parkSoon()).
 */
let lib: Record<string, unknown> | undefined;
let loading: Promise<Record<string, unknown>> | undefined;

function library(): Promise<Record<string, unknown>> {
  loading ??= import("../index.js").then((namespace) => {
    lib = namespace as unknown as Record<string, unknown>;
    return lib;
  });
  return loading;
}

/**
 * How long the first worker, parked for the first time without the whole library, waits for a
 * start before it loads it (ms): the main thread that waits for it in its first start() hands the
 * start over as soon as it wakes. Not at all once the main thread has sent the hub a start that
 * needs the library (G[FIRST_LIBRARY], first-worker.ts): the hub gives that start to this worker,
 * which loads the library while the hub boots instead of after.
 */
const FIRST_START_MS = 20;

/** The main thread has sent the hub a start that needs the whole library (first-worker.ts firstWorkerLoadsLibrary). */
const libraryWanted = (): boolean => Atomics.load(G, FIRST_LIBRARY) === 1;

/** The first worker's first parking (parkFirst()), which may wait FIRST_START_MS before the library loads. */
let firstParking = false;

async function threadClass(request: RunRequest): Promise<Function> {
  let C = (lib as Record<string, unknown>)[request.base] as Function;
  if (!libraryClasses.has(C)) throw new TypeError(`unknown library class ${request.base}`);
  if (request.classModule) {
    await beforeUserImport();
    const mod = (await import(request.classModule)) as Record<string, unknown>;
    const name = request.classes[0]?.name;
    const found = Object.values(mod).find((v) => typeof v === "function" && v.name === name);
    if (!found) throw new TypeError(`module ${request.classModule} exports no class ${name}`);
    return found as Function;
  }
  const scope: Record<string, unknown> = {};
  for (const { name, source, location, namespaces } of request.classes) {
    scope[request.base] = C;
    C = evaluate(source, request.origin, { ...scope }, { location, namespaces }) as Function;
    if (name) scope[name] = C;
  }
  return C;
}

/**
 * What process.exit() throws inside a thread: Python's SystemExit (errors.ts). It unwinds the stack it is
 * thrown on, so `finally` blocks and `using` disposals run (a lock released there is free), and
 * the run loop below ends the thread silently when it reaches it. Guarantees, as in Python:
 *  - code that catches everything (`catch (e) {}`) catches it too, and the thread goes on;
 *  - a process.exit() inside a `finally` or a disposal replaces the one being unwound;
 *  - thrown from a callback (a timer, a listener), it unwinds that callback's stack only, then
 *    ends the thread (as an uncaught exception does, without the report): the frames of an async
 *    target suspended in an `await` are not resumed, so their `finally` blocks do not run.
 * A pool task's process.exit() fails that task's future with this error, and then ends the pool
 * thread (its run() rejects with it), which the pool replaces (futures/pool-thread.ts).
 */
function isSystemExit(e: unknown): boolean {
  return e instanceof SystemExit;
}

const realExit = process.exit.bind(process);
process.exit = ((code?: number | string | null) => {
  throw new SystemExit(code);
}) as typeof process.exit;

/** One thread's run on this worker. */
interface Run {
  request: RunRequest;
  self: Thread | undefined;
  /** finish() has run for it: the thread is over, whatever of its code still runs. */
  over: boolean;
  /**
   * For a start handed over in a dock (dock.ts): the dock, its BUSY word for this thread, and
   * whether the worker parked there straight from the last thread's clean end (reuse.ts
   * recordStartState(): that end's census stands as this thread's baseline).
   */
  dock: { index: number; busy: bigint; afterCleanEnd?: boolean } | undefined;
}

/** The library could not be loaded at this worker's boot (bootFailed()): it dies of that error. */
let dyingOfBootFailure = false;

/** The thread this worker runs now (undefined while idle). */
let running: Run | undefined;

/**
 * An uncaught exception or rejection ends the thread that runs now. In an idle worker it comes from
 * code an ended thread left behind (something reuse.ts cannot see): reported, and the worker exits.
 */
function uncaught(e: unknown): void {
  if (dyingOfBootFailure) return; // (bootFailed(): Bun's "error" event)
  const run = running;
  if (run === undefined) {
    if (!isSystemExit(e)) {
      writeAll(
        2,
        `threading: an error in code left behind by a thread that has ended (its worker exits):\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
      );
    }
    realExit(1);
    return;
  }
  if (!isSystemExit(e)) reportException(e);
  finish(run, { cause: e });
}
process.on("uncaughtException", uncaught);
process.on("unhandledRejection", uncaught);
// Under `bun test` (Bun 1.4) an exception thrown in a worker's callback (a timer, a listener) skips
// process's "uncaughtException" listeners: the worker's global "error" event fires, and then Bun
// ends the worker whatever its listeners do. Taken here as uncaught() takes it (the excepthook, the
// thread's end, a pool task's error saying what ended it) before the worker goes; the hub ends the
// thread when it has exited. Where the listener above gets the error (Node, `bun run`), this event
// does not fire on Bun; Deno fires both, so it is not listened to there.
if ("Bun" in globalThis) {
  const scope = globalThis as unknown as {
    addEventListener(type: "error", fn: (event: { error: unknown }) => void): void;
  };
  scope.addEventListener("error", (event) => uncaught(event.error));
}

function copyFieldsBack(run: Run): void {
  const { request, self } = run;
  if (!request.copyBack) return;
  if (self) {
    const own: Record<string, unknown> = {};
    for (const key of Object.keys(self)) {
      const value = (self as unknown as Record<string, unknown>)[key];
      try {
        encode(value, key);
        own[key] = value;
      } catch (e) {
        writeAll(2, `threading: field ${key} of ${self.name} is not copied back: ${(e as Error).message}\n`);
      }
    }
    request.copyBack.postMessage(encode(own, "field"));
  }
  request.copyBack.close();
}

/**
 * Ends the thread of `run` (once), and then the worker or the worker's turn (see the file comment).
 * `by`: what a callback threw that ended it (uncaught()), for onThreadEnding() (shared/thread-reset.ts).
 */
function finish(run: Run, by?: { cause: unknown }): void {
  if (run.over) return;
  run.over = true;
  if (running === run) running = undefined;
  const { request } = run;
  if (run.dock) {
    finishDocked(request, run.dock, by);
    return;
  }
  let left: "clean" | "settling" | "dirty" = "dirty";
  try {
    copyFieldsBack(run);
  } finally {
    dropTimers();
    if (!request.isolated && !request.resourceLimits) left = verdict();
    control?.postMessage(left === "clean" ? "idle" : left === "settling" ? "settling" : "exiting");
    if (request.testPauseMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, request.testPauseMs);
    threadEnding(by?.cause);
    // A worker that exits runs the thread's process 'exit' listeners first, which may hold queue
    // locks: the thread stays RUNNING until the hub has seen the worker exit and ends it (endDead).
    if (left !== "dirty") {
      linger(request);
      markEnded(request.slot, request.ident);
    }
  }
  if (left === "dirty") realExit(0);
  else if (left === "clean") reset();
  else afterSettling();
}

/**
 * Operations the thread left in flight complete first (reuse.ts settle()); the thread has ended,
 * and the hub does not count on this worker until it says "idle".
 */
function afterSettling(): void {
  void settle().then((clean) => {
    if (!clean || running !== undefined) realExit(0);
    else if (reset()) control?.postMessage("idle");
  });
}

/**
 * finish() of a thread handed over in a dock (no fields to copy back: such starts go through the
 * hub). Clean: reset, park again in the dock, *then* mark the thread ENDED, so that a join() that
 * returns finds the worker parked and the next start() takes it without waiting; the dock's last
 * word names the thread for the hub should the worker die in between (dock.ts). Otherwise: leave
 * the dock, tell the hub, mark ENDED, then settle or exit as finish() does.
 */
function finishDocked(request: RunRequest, dock: { index: number; busy: bigint }, by?: { cause: unknown }): void {
  dropTimers();
  const left = verdict();
  if (left === "clean") {
    if (reset()) {
      parkAgain(dock);
      endedClean = parked !== null;
      if (testHook("exitAfterRepark")) realExit(1);
    }
    threadEnding(by?.cause);
    linger(request);
    markEnded(request.slot, request.ident);
    parkSoon();
    return;
  }
  parked = null;
  leave(dock.index, dock.busy);
  control?.postMessage(left === "settling" ? "settling" : "exiting");
  threadEnding(by?.cause);
  if (left !== "dirty") {
    linger(request);
    markEnded(request.slot, request.ident);
  }
  if (left === "dirty") realExit(0);
  else afterSettling();
}

/** Where this worker is parked (dock.ts), null when it is not. */
let parked: Parking | null = null;
/** The worker parked again straight from its thread's clean end (finishDocked()), and has not slept in the dock since. */
let endedClean = false;

/** Parks the worker again in the dock of the thread that was handed over there (dock.ts repark()). */
function parkAgain(dock: { index: number; busy: bigint }): void {
  const gen = repark(dock.index, dock.busy);
  parked = gen === null ? null : { dock: dock.index, gen };
}

/**
 * Sleeps in the dock, from the event loop's next turn (what the ended thread's code queued runs
 * first), until a request comes (run it) or the dock is no longer this worker's (back to the event
 * loop, where the hub's message waits).
 */
function parkSoon(): void {
  untrackedSetImmediate(parkNow);
}

/** parkSoon()'s sleep, now: for the first worker handed a start while it booted (its event loop has nothing of a thread yet). */
function parkNow(): void {
  const afterCleanEnd = endedClean;
  endedClean = false;
  if (parked === null || running !== undefined) return;
  const place = parked;
  const waited = firstParking;
  firstParking = false;
  if (lib === undefined && !(waited && awaitClaim(place, FIRST_START_MS, libraryWanted))) {
    // Load the whole library before sleeping in the dock: a start handed over meanwhile waits
    // there until it has loaded (as it waited for the worker's boot).
    library().then(parkSoon, (e: unknown) => {
      writeAll(
        2,
        `threading: a thread's worker could not load the library (it exits): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
      );
      if (running === undefined) realExit(1);
    });
    return;
  }
  const handed = park(place);
  if (handed === null) {
    if (parked === place) parked = null;
    return;
  }
  if (testHook("exitOnClaim")) realExit(1);
  const dock = { index: place.dock, busy: handed.busy, afterCleanEnd };
  // RUNNING first, before the request is even read: its start() returns while this worker goes on.
  if (!publishRunning(handed.slot, handed.ident)) {
    // Its start was failed first (table.ts: one of RUNNING and FAILED wins; its start() raises,
    // or starts it again): it must not run. Nothing of it was touched: park again.
    parkAgain(dock);
    parkSoon();
    return;
  }
  let request: RunRequest;
  try {
    if (testHook("unreadableRequest")) throw new Error("test hook unreadableRequest");
    request = handedRequest(place.dock, handed);
  } catch (e) {
    // (Never seen: the starter wrote it with v8.serialize.) The thread is RUNNING: it ends as a
    // thread whose run() threw, through run() (its excepthook, then finishDocked()), with a
    // stand-in request made from what the thread table holds.
    const self = threadFor(handed.slot, handed.ident);
    const failure = new RuntimeError(
      `thread ${self.name}: its start could not be read: ${e instanceof Error ? e.message : String(e)}`,
    );
    void run(standIn(handed.slot, handed.ident, self.name, self.daemon), dock, failure);
    return;
  }
  void run(request, dock);
}

/**
 * markRunning() for thread `ident` in `slot` on this worker; false if its start was failed first.
 * Test hook failAtRun (or `testFail`, from the hub's test:failAtRun): the start is failed between
 * markRunning()'s reads and its CAS, as the hub or a starter failing it at that instant would.
 */
function publishRunning(slot: number, ident: number, testFail = false): boolean {
  if (testHook("failAtRun") || testFail) {
    tableTestHooks.beforeCas = () => {
      tableTestHooks.beforeCas = undefined;
      const failed = markFailed(slot, ident);
      writeAll(2, `threading: test hook failAtRun: failed ${failed}\n`);
    };
  }
  return markRunning(slot, ident, kernelThreadId);
}

/**
 * @internal Test hooks a thread's own code sets on its worker (test/threads/dock.test.ts,
 * hub.test.ts), each used once, and said on stderr when it fires.
 */
function testHook(name: "exitOnClaim" | "exitAfterRepark" | "failAtRun" | "unreadableRequest"): boolean {
  const hooks = (globalThis as Record<symbol, Record<string, boolean> | undefined>)[
    Symbol.for("threading.test.worker")
  ];
  if (!hooks?.[name]) return false;
  hooks[name] = false;
  writeAll(2, `threading: test hook ${name} fired\n`);
  return true;
}

/** The thread that ended last on this worker, while its slot's SLOT_LINGER names it (shared/runtime.ts). */
let lingering: { slot: number; ident: number } | null = null;

/**
 * Before the thread of `request` is marked ENDED on a worker that lives on: what it left running
 * (callbacks it did not await) keeps holding queue locks under its ident (lockOwner), so its slot
 * says that this worker still runs under it (SLOT_LINGER) until the next thread or the worker's
 * exit. (A worker that exits after its thread is not marked so: its thread stays RUNNING while its
 * process 'exit' listeners run, and the hub ends it once the worker has exited.)
 */
function linger(request: RunRequest): void {
  Atomics.store(G, slotIndex(request.slot, SLOT_LINGER), request.ident);
  lingering = { slot: request.slot, ident: request.ident };
}

/** A new thread runs on this worker: the last one's slot no longer lingers (linger()). */
function endLinger(): void {
  if (lingering === null) return;
  Atomics.compareExchange(G, slotIndex(lingering.slot, SLOT_LINGER), lingering.ident, 0);
  lingering = null;
}

/** Resets what belonged to the thread that ended, for the next one; false (and the worker exits) if it cannot. */
function reset(): boolean {
  try {
    resetThreadState();
  } catch (e) {
    writeAll(
      2,
      `threading: a thread's state could not be reset (its worker exits): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    realExit(1);
    return false;
  }
  boot.slot = -1;
  boot.ident = 0;
  setCallerFallback(undefined);
  return true;
}

type Target = (...args: unknown[]) => unknown;
/**
 * Function targets compiled on this worker, by what was sent (source, name, base, location): a
 * program that starts threads with one function in a loop compiles it once per worker. The
 * function object is the worker's, as its module instances are (a property set on it stays).
 */
const compiled = new Map<string, Target>();
/**
 * The same, by the spec object: a start handed over in a dock brings the spec object this worker
 * read before for that target (dock-request.ts readRequest()), found here without building and
 * hashing its key (the source text) at every start.
 */
const compiledSpecs = new WeakMap<TargetSpec, Target>();

function keyOf(spec: TargetSpec & { kind: "function" }): string {
  const at = spec.location ? `${spec.location.url}:${spec.location.line}:${spec.location.column}` : "";
  return `${spec.name}\u0000${spec.base}\u0000${at}\u0000${spec.namespaces ?? ""}\u0000${spec.source}`;
}

function compiledBefore(spec: TargetSpec): Target | undefined {
  if (spec.kind !== "function") return undefined;
  let fn = compiledSpecs.get(spec);
  if (fn === undefined) {
    fn = compiled.get(keyOf(spec));
    if (fn !== undefined) compiledSpecs.set(spec, fn);
  }
  return fn;
}

async function compile(spec: TargetSpec): Promise<Target> {
  const fn = await compileTarget(spec);
  if (spec.kind === "function") {
    if (compiled.size >= 256) compiled.clear();
    compiled.set(keyOf(spec), fn);
    compiledSpecs.set(spec, fn);
  }
  return fn;
}

/**
 * Runs the thread of `request`: one handed over in `dock` is RUNNING already (parkSoon()); one
 * from the hub is marked RUNNING here first.
 */
/** The request of a thread whose own could not be read (parkSoon()): no target, nothing to copy back. */
function standIn(slot: number, ident: number, name: string, daemon: boolean): RunRequest {
  return {
    type: "run",
    slot,
    ident,
    name,
    daemon,
    target: null,
    args: { value: [], marked: false },
    classes: [],
    base: "Thread",
    classModule: null,
    fields: null,
    origin: "",
    copyBack: null,
    transfer: [],
    resourceLimits: null,
    isolated: false,
  };
}

/**
 * Runs thread `request` on this worker, from the hub or handed over in `dock`. With `failure`, the
 * thread's start could not be read: it ends at once with that error, reported as its run() throwing.
 */
async function run(request: RunRequest, dock?: Run["dock"], failure?: Error): Promise<void> {
  if (running !== undefined) {
    // The hub hands a worker a thread only once it has said "idle", a starter only once it is
    // parked in a dock: two at once is a bug here.
    writeAll(2, `threading: a worker got thread ${request.name} while it runs ${running.request.name}\n`);
    realExit(70);
    return;
  }
  if (dock === undefined) {
    // A start through the hub: the hub has taken this worker out of any dock.
    parked = null;
    if (request.testExitAtRun) {
      writeAll(2, "threading: test hook exitAtRun fired\n");
      realExit(1);
      return;
    }
    if (!publishRunning(request.slot, request.ident, request.testFailAtRun === true)) {
      // Its start was failed first (its start() raises; table.ts: one of RUNNING and FAILED wins):
      // it must not run. Nothing of it ran: back to the hub, unless this worker was made for it
      // alone (isolated, or its own resourceLimits): that one exits, as after its thread.
      request.copyBack?.close();
      if (request.isolated || request.resourceLimits) {
        control?.postMessage("exiting");
        realExit(0);
      } else control?.postMessage("idle");
      return;
    }
  }
  const run: Run = { request, self: undefined, over: false, dock };
  running = run;
  boot.slot = request.slot;
  boot.ident = request.ident;
  // (what the last thread left runs under this thread's ident from now on: its slot may go)
  endLinger();
  setLockOwner(request.ident, request.slot);
  const adoption = { slot: request.slot, ident: request.ident, name: request.name, daemon: request.daemon };
  // Whatever the last thread's leftover code started after it ended goes.
  dropTimers();
  // The thread's object exists before any of its code (a module target's top level) runs.
  run.self = adoptSelf(Thread, adoption);
  // What the thread's code sends on from a function target compiled without a location resolves
  // its relative import() against the file that target was written in (callerFile()).
  setCallerFallback(request.target?.kind === "function" ? request.target.base : request.origin);
  // The whole library, unless this thread does without it and it is not loading already (then it
  // loads before the thread's code runs, so that nothing of it starts while that code runs).
  // (the last thread's end census stands as this one's baseline only if nothing ran in between)
  let afterCleanEnd = dock?.afterCleanEnd === true;
  if (lib === undefined && failure === undefined && (loading !== undefined || needsLibrary(request))) {
    afterCleanEnd = false;
    try {
      await library();
    } catch (e) {
      failure = e instanceof Error ? e : new Error(String(e));
    }
    if (run.over) return;
  }
  // Count what exists before the thread's own code runs.
  recordStartState(afterCleanEnd);
  try {
    if (failure !== undefined) throw failure;
    const target = request.target ? (compiledBefore(request.target) ?? (await compile(request.target))) : undefined;
    const args = decode(request.args.value, request.args.marked) as unknown[];
    // Barriers among the arguments start importing their module actions on arrival; let them
    // finish, so a blocking wait() in the target finds its action ready.
    if (actionsPending()) await actionsLoading();
    if (run.over) return;
    if (request.classes.length > 0 || request.base !== "Thread") {
      const C = await threadClass(request);
      if (run.over) return;
      run.self = adoptSelf(C, { ...adoption, target, args });
      const ready = (run.self as unknown as Record<symbol, unknown>)[kSelfReady];
      if (typeof ready === "function") await ready.call(run.self, args);
      if (run.over) return;
      if (request.fields) Object.assign(run.self, decode(request.fields.value, request.fields.marked));
      await actionsLoading();
      if (run.over) return;
    } else {
      setRun(run.self, target, args);
    }
    await run.self.run();
  } catch (e) {
    if (run.over) return;
    if (!isSystemExit(e)) reportException(e);
  }
  finish(run);
}

/** The worker has booted: it takes run requests, and says so (to the hub; the first worker to the main thread too). */
function serve(): void {
  control?.on("message", (message: RunRequest | { type: "retire" } | { type: "dock"; dock: number; gen: bigint }) => {
    // "retire": the hub lets this idle worker go (hub.ts retire()); it exits from here, between threads.
    if (message.type === "retire") {
      if (running === undefined) realExit(0);
      return;
    }
    // "dock": the hub has parked this idle worker in a dock (dock.ts): it sleeps there.
    if (message.type === "dock") {
      parked = { dock: message.dock, gen: message.gen };
      parkSoon();
      return;
    }
    void run(message);
  });
  if (first.control) {
    // The first worker: its hub has died once the port closes (the hub's own workers die with it).
    first.control.once("close", () => realExit(0));
    const gen = first.dock !== undefined && first.dock >= 0 ? parkFirst(first.dock) : null;
    if (gen !== null) {
      // Parked in its dock before the hub knows (a start from the main thread may take it at once):
      // "parked" tells the hub it has booted.
      parked = { dock: first.dock as number, gen };
      firstParking = true;
      control?.postMessage("parked");
      parentPort?.postMessage("booted"); // to the main thread, which starts the hub now (first-worker.ts)
      // Generation 0: the main thread's first start() handed its thread over as this worker booted
      // (dock.ts preHand()); it waits for it to run, so it runs now, not after a turn of the event loop.
      if (gen === 0n) parkNow();
      else parkSoon();
    } else {
      control?.postMessage("ready");
      parentPort?.postMessage("booted");
    }
  } else control?.postMessage("ready");
}

// A worker the hub starts is a spare: it loads the whole library now, so a run request finds it
// ready. So does the first worker when it has no dock to park in (its starts come through the hub).
// Not with a top-level await: see worker-entry.ts.
if (!first.control || first.dock === undefined || first.dock < 0) library().then(serve, bootFailed);
else serve();

/**
 * The library could not be loaded: no thread runs here yet, so the worker dies of the error as an
 * uncaught exception (its Worker's "error" event: the hub records why its boot failed, and a start
 * waiting for this worker fails saying so), not through uncaught(), which would blame code left
 * behind by an ended thread. Node's handler of a worker's fatal exception calls process.exit(),
 * which must be Node's own again (in a thread it throws SystemExit: thrown there, Node aborted).
 */
function bootFailed(e: unknown): void {
  dyingOfBootFailure = true;
  process.off("uncaughtException", uncaught);
  process.off("unhandledRejection", uncaught);
  process.exit = realExit;
  process.nextTick(() => {
    throw e;
  });
}
