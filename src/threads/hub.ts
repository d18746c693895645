/**
 * The hub: one worker, parent of every thread's Worker.
 *
 * Why: a Node Worker's child Workers die with it, but a Python thread outlives the thread that
 * started it; and the main thread may be blocked (in join(), acquire(), a CPU loop) exactly when
 * another thread wants to start one. The hub's event loop does nothing but serve, so starting a
 * thread, and noticing that a thread died, never waits for any user thread.
 *
 * Workers are reused: a worker whose thread has ended and left nothing behind says "idle"
 * (worker.ts) and runs the next thread. A worker that comes back is parked in a dock (dock.ts) when
 * one is free: a plain start then goes to it straight from the starting thread, and it parks itself
 * again after each such thread, without a message to the hub; the hub takes a parked worker out of
 * its dock for a start that comes through the hub, lets go of parked workers idle for IDLE_MS
 * beyond SPARES, and clears the dock of a worker that exits (ending or failing the thread it held).
 * The hub keeps
 *  - `ready`: idle workers not parked (no dock was free), booted spares and returned ones, most
 *    recently idle last (a start takes the returned one idle last, the warmest, before any spare; a
 *    booted spare is parked when a dock is free and no start waits, and an isolated start takes a
 *    parked one back out while it has run nothing, takeFreshDocked); at most MAX_IDLE returned ones, the
 *    rest are let go, and an unref'd reaper lets go of those idle for IDLE_MS beyond SPARES;
 *  - `running`: the worker of each thread handed out, until it says "idle" or "exiting" or exits;
 *    a thread that has already ended in the table (its worker is about to say which) counts as a
 *    worker on its way back, so a start does not boot a worker for nothing;
 *  - `waiting`: starts that no worker has taken yet; while the first worker (booted by the main
 *    thread) boots, the first of them is kept for it and no spare boots beside it (firstBooting).
 * A start with `isolated` or its own resourceLimits gets a worker of its own (a spare that never
 * ran a thread, or a new one), which exits with its thread. The hub ends in the thread table every
 * thread whose worker exits without having ended itself (process.exit() of the worker, out of
 * memory, a crash), which wakes everyone who joins it; one whose worker exits before it ran a line
 * runs on another worker, or, when it cannot (its transferList went with the worker, or the worker
 * was its own), its start() fails saying so; and a start left STARTING by a starter killed inside
 * start() is ended (table.ts endOrphanedStarts).
 */
// Not the whole library (as the entries that run a user's code import it): only what the hub uses,
// so that its boot, which a program's first start through the hub (a pool's thread, a transferList)
// waits for, does not compile the library's largest chunk (~400 KB; ~15 ms of the first pool result).
import { EventEmitter } from "node:events";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  type ResourceLimits,
  type TransferListItem,
  Worker as NodeWorker,
  workerData,
} from "node:worker_threads";
import {
  type Bootstrap,
  boot,
  G,
  HUB_READY,
  isIdentAlive,
  DEATH_ERROR,
  DEATH_OOM,
  SLOT_DEATH,
  SLOT_IDENT,
  SLOT_LINGER,
  SLOT_MAILBOX,
  SLOT_STATE,
  STARTING,
  MAX_DOCKS,
  slotIndex,
  stateOf,
} from "../shared/runtime.js";
import { type DirectoryMessage, releaseKib } from "../transport/directory.js";
import { writeAll } from "./output.js";
import { excepthookInHub, hubForward, hubHookPort, reportDeath } from "./excepthook.js";
import {
  endOrphanedStarts,
  markEnded,
  markFailed,
  markHubDead,
  recoverSlots,
  START_LOST,
  takenByHub,
} from "./table.js";
import { clear, dockLast, dockState, docksWork, dockWord, IDLE, parkIn, stampOf, take } from "./dock.js";
import { type RunRequest, transferListOf } from "./thread.js";
import { workerFile } from "../shared/paths.js";
import { listenInHub } from "./dump-signal.js";
import { idleMs, idleWorkers } from "./pool-config.js";

/** Booted workers kept ready beyond the starts waiting (a Worker boot costs tens of milliseconds). */
const SPARES = 2;

/** How many workers that ran a thread are kept idle for the next ones (0: no reuse). */
const MAX_IDLE = idleWorkers(true);
/** How long an idle worker beyond the spares lives. */
const IDLE_MS = idleMs(true);
/** Docks used (dock.ts): the idle workers kept, up to MAX_DOCKS; beyond, they wait in `ready`. None where docks cannot work. */
const DOCKS = docksWork ? Math.min(MAX_IDLE, MAX_DOCKS) : 0;

/**
 * The first thread worker, booted by the main thread beside the hub (hub-client.ts), so that a
 * program's first start() waits for one Worker boot, not the hub's and then a worker's: the hub
 * talks with it through `control` (as with its own workers through their parent port), serves its
 * `hubPort` from the start, and keeps it `dock` (-1: none), where it parks itself once booted.
 */
export interface FirstWorker {
  control: MessagePort;
  hubPort: MessagePort;
  dock: number;
}

/**
 * A worker the hub did not make (the first one): its messages come on its control port, and its
 * exit is that port closing (a worker's ports close as it exits, however it ends: process.exit(),
 * an uncaught error, out of memory; also before the hub had the port), which "exit" stands for.
 */
class PortWorker extends EventEmitter {
  constructor(readonly control: MessagePort) {
    super();
    control.on("message", (message) => this.emit("message", message));
    control.once("close", () => this.emit("exit", null));
  }
  postMessage(message: unknown, transfer?: readonly TransferListItem[]): void {
    this.control.postMessage(message, transfer);
  }
}

/** A thread worker: one the hub made, or the first one. */
type Worker = NodeWorker | PortWorker;

listenInHub();
excepthookInHub();
const workerUrl = workerFile("threads/worker.js");
const root = (workerData as { threading: Bootstrap }).threading;

interface Idle {
  worker: Worker;
  /** performance.now() when it became idle. */
  since: number;
  /** It has run a thread (a spare that has not is as fresh as a new worker). */
  used: boolean;
}

interface Job {
  request: RunRequest;
  /** Where the start came from (see origins). */
  origin: MessagePort | undefined;
  /** The worker said it exits after this thread, or comes back only once its leftovers settle: not to be waited for. */
  leaving: boolean;
}

const ready: Idle[] = [];
let booting = 0;
const waiting: RunRequest[] = [];
const running = new Map<Worker, Job>();
/** The hub's end of each worker's port. */
const ports = new Map<Worker, MessagePort>();
/** Ports served by the event loop (from the first thread their worker ran). */
const served = new Set<MessagePort>();
/** Workers that have run a thread. */
const used = new WeakSet<Worker>();
/** The thread each idle worker ran last: should the worker die before it has ended it, the hub does. */
const lastRun = new WeakMap<Worker, { slot: number; ident: number }>();
/** The worker parked in each dock (dock.ts), and the dock of each parked worker. */
const docked: (Worker | undefined)[] = new Array(DOCKS).fill(undefined);
const dockOf = new Map<Worker, number>();
/** Workers made so far (for tests, see test:stats). */
let spawned = 0;

/**
 * The first worker while it boots (the main thread booted it for the program's first start): it is
 * the worker that start pays for, so until it has booted or exited no spare boots beside it (two
 * boots at once slow each, and a spare that booted first would take the start instead) and the
 * first start waiting here is left for it. Bounded by FIRST_GRACE_MS from the hub's own start: a
 * first worker that died before the hub had its port may never be seen to exit.
 */
let firstBooting: Worker | undefined;
const FIRST_GRACE_MS = 2_000;
/** FIRST_GRACE_MS, or what a test set (test:firstGrace: the placement tested whatever the machine's load). */
let firstGraceMs = FIRST_GRACE_MS;
const hubStarted = performance.now();

/** How long the waiting starts and the spares still leave room for the booting first worker (ms). */
function firstGrace(): number {
  if (firstBooting === undefined) return 0;
  return Math.max(0, firstGraceMs - (performance.now() - hubStarted));
}

/** The first worker has booted or exited: the spares it held back boot now (dispatch re-arms the refill). */
function firstDone(worker: Worker): void {
  if (worker !== firstBooting) return;
  firstBooting = undefined;
  if (refill) clearTimeout(refill);
  refill = undefined;
}

/** Workers that failed to boot in a row; at MAX_BOOT_FAILURES the waiting starts fail. */
let bootFailures = 0;
const MAX_BOOT_FAILURES = 3;
let lastBootError = "";

/**
 * Boots a worker. A spare goes to `ready` when booted; a worker made for one request (one with its
 * own resourceLimits) gets that request as soon as it is booted.
 */
function spawn(forRequest?: RunRequest, made?: FirstWorker): boolean {
  const { port1, port2 } = made ? { port1: made.hubPort, port2: null } : new MessageChannel();
  const threading: Bootstrap = { ...boot, hubPort: port2, slot: -1, ident: 0 };
  const limits = workerLimits(forRequest);
  let worker: Worker;
  try {
    if (made) worker = new PortWorker(made.control);
    else {
      if (failingSpawns) throw new Error("test: spawn refused (EAGAIN)");
      worker = new NodeWorker(workerUrl, {
        workerData: { threading },
        transferList: [port2 as MessagePort],
        execArgv: boot.execArgv,
        stdout: false,
        stderr: false,
        ...(limits ? { resourceLimits: limits } : {}),
      });
    }
  } catch (e) {
    // The Worker cannot be made (bad limits, no memory): the starts it was for fail, none waits.
    // (A spare that cannot be made fails the waiting starts only when no worker is coming for them.)
    port1.close();
    const reason = e instanceof Error ? e.message : String(e);
    if (forRequest) failStart(forRequest, reason);
    else if (ready.length + booting + returning() === 0) {
      for (const request of waiting.splice(0)) failStart(request, reason);
    }
    return false;
  }
  spawned++;
  let booted = false;
  if (!forRequest) booting++;
  ports.set(worker, port1);
  if (made) {
    firstBooting = worker;
    // It may run threads before it says it has booted (handed over in its dock): its port is served now.
    served.add(port1);
    serve(port1);
    if (made.dock >= 0) {
      docked[made.dock] = worker;
      dockOf.set(worker, made.dock);
    }
  }
  worker.on("message", (message: "ready" | "parked" | "idle" | "exiting" | "settling") => {
    // Any word from the first worker means it has booted (it may run a thread handed over in its dock first).
    firstDone(worker);
    if (message === "idle") {
      returned(worker);
      return;
    }
    if (message === "exiting" || message === "settling") {
      // A parked worker says so after a thread handed over in its dock: it has left the dock.
      if (dockOf.has(worker)) undock(worker, clear(dockOf.get(worker) as number).last);
      const job = running.get(worker);
      if (job) job.leaving = true;
      dispatch();
      return;
    }
    booted = true;
    bootFailures = 0;
    if (forRequest) {
      run(worker, forRequest);
      return;
    }
    booting--;
    if (message === "parked") {
      // The first worker, parked in the dock kept for it (a starter may have taken it meanwhile).
      reapDocksLater();
      dispatch();
      return;
    }
    // The first worker could not park (its dock was cleared): it is a spare like the others.
    if (dockOf.has(worker)) undock(worker, null);
    if (failingSpawns) {
      retire(worker);
      return;
    }
    // A spare is parked too when a dock is free and no start waits for it: a burst of plain starts
    // then finds it there (an isolated start takes it back out while it has run nothing: takeFresh).
    if (waiting.length > 0 || !dock(worker)) {
      ready.push({ worker, since: performance.now(), used: false });
      reapLater();
    }
    dispatch();
  });
  let death: unknown;
  worker.on("error", (e) => {
    // A thread reports its own errors; an error here means the worker died (out of memory), and
    // "exit" follows: the thread running then is reported dead of it (endDead()).
    if (!booted) lastBootError = e instanceof Error ? (e.stack ?? e.message) : String(e);
    death = e;
  });
  worker.on("exit", () => {
    firstDone(worker);
    const end = (slot: number, ident: number) => endDead(slot, ident, death);
    ports.delete(worker);
    // What the thread posted last (a directory registration, a start request) may still be queued
    // on its port when the hub's loop gets here: it was posted before the worker exited, so it is
    // in the port's queue now. Serve it before closing, or a taker / a child waits for ever.
    drain(port1);
    port1.close();
    if (worker instanceof PortWorker) worker.control.close();
    served.delete(port1);
    const h = held.indexOf(port1);
    if (h >= 0) held.splice(h, 1);
    if (dockOf.has(worker)) dockExited(worker, dockOf.get(worker) as number, end);
    const last = lastRun.get(worker);
    if (last) end(last.slot, last.ident);
    // A thread of this worker killed inside start() (its starts sent here were served above),
    // or inside claimSlot(), or before it took its start's failure
    queueMicrotask(() => {
      endOrphanedStarts();
      recoverSlots();
    });
    const job = running.get(worker);
    running.delete(worker);
    if (job) {
      const { request } = job;
      if (neverRan(request) && !forRequest && transferListOf(request).length === 0) {
        // The worker died before the thread ran a line (a reused worker retiring as it was handed
        // the thread): nothing of the thread is lost, another worker runs it.
        if (job.origin) origins.set(request.ident, job.origin);
        waiting.unshift(request);
      } else if (neverRan(request)) {
        // Died before the thread ran a line, and it cannot run elsewhere (what its transferList
        // moved went with the worker; a worker of its own): its start() fails and says so, rather
        // than return as if the thread had run (ENDED).
        if (job.origin) origins.set(request.ident, job.origin);
        const why = death instanceof Error ? `: ${death.message.split("\n")[0]}` : " (see stderr)";
        failStart(request, `its worker died before the thread ran${why}`);
      } else end(request.slot, request.ident);
      dispatch();
      return;
    }
    const idle = ready.findIndex((r) => r.worker === worker);
    if (idle >= 0) ready.splice(idle, 1);
    else if (!booted) {
      if (!forRequest) booting = Math.max(0, booting - 1);
      if (++bootFailures >= MAX_BOOT_FAILURES || forRequest) {
        const failed = forRequest ? [forRequest] : waiting.splice(0);
        const reason = `its worker failed to boot: ${lastBootError.split("\n")[0]}`;
        for (const request of failed) failStart(request, reason);
        process.stderr.write(`threading: a thread's worker failed to start: ${lastBootError}\n`);
        if (!forRequest) return;
      }
    }
    dispatch();
  });
  return true;
}

/** The main thread's memory and stack flags (shared/exec-argv.ts), overridden by the thread's own limits. */
function workerLimits(request?: RunRequest): ResourceLimits | null {
  if (!boot.resourceLimits && !request?.resourceLimits) return null;
  return { ...boot.resourceLimits, ...request?.resourceLimits };
}

/** Where each start request not yet handed to a worker came from (by ident): its failure goes back there. */
const origins = new Map<number, MessagePort>();

/**
 * Fails a start that no worker will run: the reason is posted to the thread that asked first, then
 * the slot is ended as failed, so its start() finds the reason when it sees the end (thread.ts);
 * should another party have failed or ended the slot first, the reason is withdrawn.
 */
function failStart(request: RunRequest, reason: string): void {
  const origin = origins.get(request.ident);
  origins.delete(request.ident);
  try {
    origin?.postMessage({ type: "start-failed", ident: request.ident, reason });
  } catch {
    // that thread is gone
  }
  if (markFailed(request.slot, request.ident)) return;
  // Its start was failed already (by its starter, or as the hub died), or its thread runs: the
  // reason is withdrawn (a start is failed once, by whoever won the slot, table.ts).
  try {
    origin?.postMessage({ type: "start-failed", ident: request.ident, reason: null });
  } catch {
    // that thread is gone
  }
}

/** True while the thread of `request` has not begun to run (its slot is still STARTING). */
function neverRan(request: { slot: number; ident: number }): boolean {
  const state = stateOf(Atomics.load(G, slotIndex(request.slot, SLOT_STATE)));
  return state === STARTING && Atomics.load(G, slotIndex(request.slot, SLOT_IDENT)) === request.ident;
}

/** Parks the idle `worker` in a free dock; false if none is free. */
/**
 * A worker posts to the hub only once it runs a thread: its port is served from then on, from the
 * first run() or from its docking (a thread handed over in its dock by a starter runs without the
 * hub, and may wait for an answer before it ends: excepthook.ts post()).
 */
function serveOnce(worker: Worker): void {
  const port = ports.get(worker) as MessagePort;
  if (!served.has(port) && !held.includes(port)) {
    if (holding) held.push(port);
    else {
      served.add(port);
      serve(port);
    }
  }
}

function dock(worker: Worker): boolean {
  const d = docked.indexOf(undefined);
  if (d < 0) return false;
  serveOnce(worker);
  docked[d] = worker;
  dockOf.set(worker, d);
  worker.postMessage({ type: "dock", dock: d, gen: parkIn(d, used.has(worker)) });
  reapDocksLater();
  return true;
}

/** Bookkeeping of a worker out of its dock (the dock is EMPTY now): the thread it took last is its last run. */
function undock(worker: Worker, last: [number, number] | null): void {
  const d = dockOf.get(worker);
  if (d === undefined) return;
  dockOf.delete(worker);
  docked[d] = undefined;
  if (last) lastRun.set(worker, { slot: last[0], ident: last[1] });
}

/**
 * A parked worker has exited (dock.ts, "what a dying party leaves"): a thread claimed in its dock
 * that has not run is failed as START_LOST (its start() starts it again through the hub), one that
 * runs is ended; the thread it took last is ended by the exit handler (lastRun).
 */
function dockExited(worker: Worker, d: number, end: (slot: number, ident: number) => void): void {
  const { claim, last } = clear(d);
  undock(worker, last);
  if (claim === null) return;
  const [slot, ident] = claim;
  if (neverRan({ slot, ident })) markFailed(slot, ident, START_LOST);
  else end(slot, ident);
}

/**
 * Ends thread `ident` in `slot`, whose worker has exited. If it was running and its worker died of
 * an error (`death`: out of memory, which the thread cannot report itself), that error goes to the
 * excepthook first, as an uncaught exception of the thread would (before ENDED, so that join() in
 * the hook's thread returns after the hook ran).
 */
function endDead(slot: number, ident: number, death: unknown): void {
  if (death !== undefined && isIdentAlive(slot, ident) && !neverRan({ slot, ident })) {
    const oom = (death as { code?: unknown } | null)?.code === "ERR_WORKER_OUT_OF_MEMORY";
    Atomics.store(G, slotIndex(slot, SLOT_DEATH), oom ? DEATH_OOM : DEATH_ERROR);
    try {
      reportDeath(slot, ident, death);
    } catch (e) {
      writeAll(2, `threading: reporting the death of thread ${ident} failed: ${String(e)}\n`);
    }
  }
  markEnded(slot, ident);
  // (its worker has exited: nothing of it runs any more, SLOT_LINGER)
  Atomics.compareExchange(G, slotIndex(slot, SLOT_LINGER), ident, 0);
}

/** Parked workers that are idle now (not claimed). */
function idleDocked(): number {
  let n = 0;
  for (const d of dockOf.values()) if (dockState(dockWord(d)) === IDLE) n++;
  return n;
}

/**
 * For an isolated start: a parked spare that has run no thread, taken out of its dock; undefined if
 * none. One that ran a thread handed over in its dock just before it was taken joins `ready`.
 */
function takeFreshDocked(): Worker | undefined {
  for (const [worker, d] of dockOf) {
    if (used.has(worker) || dockState(dockWord(d)) !== IDLE || dockLast(d) !== 0n) continue;
    const last = take(d);
    if (last === false) continue;
    undock(worker, last);
    if (last === null) return worker;
    used.add(worker);
    ready.push({ worker, since: performance.now(), used: true });
    reapLater();
  }
  return undefined;
}

/** Takes the parked worker parked last out of its dock (a starter may claim each one first); undefined if none. */
function takeDocked(): Worker | undefined {
  for (;;) {
    let best: Worker | undefined;
    let stamp = -1n;
    for (const [worker, d] of dockOf) {
      const w = dockWord(d);
      if (dockState(w) === IDLE && stampOf(w) > stamp) {
        best = worker;
        stamp = stampOf(w);
      }
    }
    if (best === undefined) return undefined;
    const last = take(dockOf.get(best) as number);
    if (last !== false) {
      undock(best, last);
      return best;
    }
  }
}

function run(worker: Worker, request: RunRequest): void {
  const origin = origins.get(request.ident);
  origins.delete(request.ident);
  running.set(worker, { request, origin, leaving: false });
  used.add(worker);
  serveOnce(worker);
  if (pauseAfterIdle > 0) request.testPauseMs = pauseAfterIdle;
  if (failNextRun) {
    failNextRun = false;
    request.testFailAtRun = true;
  }
  // (once: a start given back after that exit runs on the next worker)
  request.testExitAtRun = exitNextRun || undefined;
  exitNextRun = false;
  worker.postMessage(request, transferListOf(request));
}

/**
 * A worker whose thread has ended says it can run another: everything that thread posted to the
 * hub is queued on its port by now (posted before "idle"), so it is served first; then the worker
 * takes a waiting start, or waits in `ready`, or goes when MAX_IDLE are idle already.
 */
function returned(worker: Worker): void {
  const job = running.get(worker);
  if (job) lastRun.set(worker, job.request);
  running.delete(worker);
  const port = ports.get(worker);
  if (port) drain(port);
  if (failingSpawns || MAX_IDLE === 0) {
    retire(worker);
    return;
  }
  const next = waiting.shift();
  if (next) run(worker, next);
  else if (dock(worker)) {
    // parked: starts reach it from their threads now
  } else if (ready.filter((r) => r.used).length + dockOf.size >= MAX_IDLE) retire(worker);
  else {
    ready.push({ worker, since: performance.now(), used: true });
    reapLater();
  }
  dispatch();
}

/**
 * Lets an idle worker go. Never terminate(): a worker says "idle" *before* it marks its thread
 * ENDED (worker.ts finish()), and terminate() stops it at any instruction, so a worker let go as it
 * came back died before its thread was ended (a join() that never returns) or between ending it
 * and counting it out of the live non-daemon threads (an exit that never comes). "retire" is a
 * message: the worker handles it from its event loop, after finish() has run to its end, and exits.
 */
function retire(worker: Worker): void {
  worker.postMessage({ type: "retire" });
}

/** Workers handed a thread that has already ended in the table: each is about to come back (or exit). */
function returning(): number {
  let n = 0;
  for (const job of running.values()) {
    if (!job.leaving && !isIdentAlive(job.request.slot, job.request.ident)) n++;
  }
  return n;
}

/**
 * The idle worker to run a start: the one that ran a thread last (warm), else a spare; for an
 * isolated start (`fresh`), only a spare that never ran a thread.
 */
function takeReady(fresh: boolean): Worker | undefined {
  for (let i = ready.length - 1; i >= 0; i--) {
    if ((ready[i] as Idle).used !== fresh) return ready.splice(i, 1)[0]?.worker;
  }
  return fresh ? undefined : ready.pop()?.worker;
}

function dispatch(): void {
  if (waiting.length === 0) {
    if (!refill && ready.length + idleDocked() + booting < SPARES) refill = setTimeout(topUp, 5);
    return;
  }
  // A worker whose thread has just ended is coming back (its "idle" is already on the way): it
  // takes the next start (it is the warmest), ready workers the starts beyond those.
  // While the first worker boots, the first start waiting is its (a spare booted for a later start takes that one).
  const back = returning();
  const kept = firstGrace() > 0 ? 1 : 0;
  while (waiting.length > back + kept) {
    const worker = takeWarm();
    if (worker === undefined) break;
    run(worker, waiting.splice(kept, 1)[0] as RunRequest);
  }
  for (let n = ready.length + booting + back; n < waiting.length; n++) if (!spawn()) break;
  // Refill the spares a moment later: booting a Worker takes a core for tens of milliseconds, and
  // the thread just handed out should get going first.
  if (!refill && ready.length + idleDocked() + booting < SPARES + waiting.length) refill = setTimeout(topUp, 5);
}

/** The idle worker to run a start through the hub: one that ran a thread (waiting, then parked), else a spare. */
function takeWarm(): Worker | undefined {
  for (let i = ready.length - 1; i >= 0; i--) {
    if ((ready[i] as Idle).used) return ready.splice(i, 1)[0]?.worker;
  }
  return takeDocked() ?? ready.pop()?.worker;
}

let refill: ReturnType<typeof setTimeout> | undefined;
function topUp(): void {
  refill = undefined;
  // No spare boots beside the first worker (see firstBooting): the refill waits for it, bounded.
  const grace = firstGrace();
  if (grace > 0) {
    refill = setTimeout(topUp, grace);
    return;
  }
  const coming = ready.length + idleDocked() + booting + returning();
  for (let n = coming; n < SPARES + waiting.length; n++) if (!spawn()) break;
}

let reaper: ReturnType<typeof setTimeout> | undefined;

/** Arms the reaper for the oldest idle worker beyond the spares (unref'd: it never keeps anything alive). */
function reapLater(): void {
  if (reaper !== undefined || ready.length <= SPARES) return;
  const oldest = ready[0] as Idle;
  reaper = setTimeout(reap, Math.max(0, oldest.since + IDLE_MS - performance.now()) + 1);
  reaper.unref();
}

let dockReaper: ReturnType<typeof setTimeout> | undefined;
/** The word each dock had at the last round of the dock reaper: unchanged since, it has been idle all along. */
const seen = new Map<number, bigint>();

/** Arms the dock reaper while parked workers beyond the spares are idle (unref'd). */
function reapDocksLater(): void {
  if (dockReaper !== undefined || ready.length + idleDocked() <= SPARES) return;
  dockReaper = setTimeout(reapDocks, Math.max(IDLE_MS, 50));
  dockReaper.unref();
}

/** Lets go of parked workers idle since the last round (oldest first), beyond the spares. */
function reapDocks(): void {
  dockReaper = undefined;
  const idle = [...dockOf].filter(([, d]) => dockState(dockWord(d)) === IDLE);
  idle.sort(([, a], [, b]) => (stampOf(dockWord(a)) < stampOf(dockWord(b)) ? -1 : 1));
  for (const [worker, d] of idle) {
    const w = dockWord(d);
    if (seen.get(d) === w && ready.length + idleDocked() > SPARES) {
      const last = take(d);
      if (last !== false) {
        undock(worker, last);
        retire(worker);
        continue;
      }
    }
    seen.set(d, w);
  }
  reapDocksLater();
}

function reap(): void {
  reaper = undefined;
  const now = performance.now();
  while (ready.length > SPARES && now - (ready[0] as Idle).since >= IDLE_MS) {
    retire((ready.shift() as Idle).worker);
  }
  reapLater();
}

// The buffer directory (transport/directory.ts): buffers in flight, and takers waiting for a put
// that has not arrived yet (a put and its take come on different ports, in either order).
const buffers = new Map<number, SharedArrayBuffer>();
const takers = new Map<number, { port: MessagePort; slot: number }>();
// Kept buffers (directory.ts keepBuffer/peekBuffer): never dropped; peekers wait for a keep that has
// not arrived yet (several may wait for one ref).
const kept = new Map<number, SharedArrayBuffer>();
const peekers = new Map<number, { port: MessagePort; slot: number }[]>();

function answer(port: MessagePort, slot: number, ref: number, buffer: SharedArrayBuffer): void {
  port.postMessage({ ref, buffer });
  const mailbox = slotIndex(slot, SLOT_MAILBOX);
  Atomics.add(G, mailbox, 1);
  Atomics.notify(G, mailbox);
}

/** The excepthook's messages where it goes through the hub (excepthook.ts, VIA_HUB). */
type HookMessage =
  | { type: "hook"; owner: number; port: MessagePort | null }
  | { type: "excepthook"; owner: number; report: Parameters<typeof hubForward>[1]; ref: number; slot: number };

type HubMessage = { type: "start"; request: RunRequest } | DirectoryMessage | HookMessage | TestMessage;

/** Answers a request that waits for nothing but the answer (excepthook.ts post()). */
const NO_BUFFER = new SharedArrayBuffer(0);

/** @internal Test hooks (src/internal.ts): make the races of a busy hub reproducible. */
export type TestMessage =
  | { type: "test:hold"; hold: boolean }
  | { type: "test:failSpawns"; fail: boolean }
  | { type: "test:crash" }
  | { type: "test:stats"; into: SharedArrayBuffer }
  | { type: "test:pauseAfterIdle"; ms: number }
  | { type: "test:failAtRun" }
  | { type: "test:exitAtRun" }
  | { type: "test:stall"; word: SharedArrayBuffer }
  | { type: "test:firstGrace"; ms: number };

/** Test: how long workers pause between saying "idle" and ending their thread (RunRequest.testPauseMs). */
let pauseAfterIdle = 0;

/** Test: the next start the hub hands to a worker is failed as the worker marks it RUNNING (RunRequest.testFailAtRun). */
let failNextRun = false;

/** Test: the worker handed the next start exits before it marks it RUNNING (RunRequest.testExitAtRun). */
let exitNextRun = false;

/** While true, every new Worker() throws (as on EAGAIN) and booted spares are let go. */
let failingSpawns = false;

/**
 * While true, the ports of threads started from now on are not served by the event loop: their
 * messages stay queued, as they do while the hub's loop is busy, until the worker exits (drain)
 * or the hold ends.
 */
let holding = false;
const held: MessagePort[] = [];

function handle(port: MessagePort, message: HubMessage): void {
  switch (message.type) {
    case "start": {
      const request = message.request;
      // (the hub has the start now: should its starter die before it says so, it still runs)
      takenByHub(request.slot, request.ident);
      origins.set(request.ident, port);
      if (request.resourceLimits) spawn(request);
      else if (request.isolated) {
        // A spare that never ran a thread is as fresh as a new worker.
        const fresh = failingSpawns ? undefined : (takeReady(true) ?? takeFreshDocked());
        if (fresh) {
          run(fresh, request);
          dispatch();
        } else spawn(request);
      } else {
        waiting.push(request);
        dispatch();
      }
      break;
    }
    case "put": {
      const { ref, buffer } = message;
      const taker = takers.get(ref);
      if (taker) {
        takers.delete(ref);
        releaseKib(buffer); // before the answer: the taker may put again at once
        answer(taker.port, taker.slot, ref, buffer);
      } else buffers.set(ref, buffer);
      break;
    }
    case "keep": {
      const { ref, buffer } = message;
      kept.set(ref, buffer);
      for (const p of peekers.get(ref) ?? []) answer(p.port, p.slot, ref, buffer);
      peekers.delete(ref);
      break;
    }
    case "peek": {
      const { ref, slot } = message;
      const buffer = kept.get(ref);
      if (buffer) answer(port, slot, ref, buffer);
      else peekers.set(ref, [...(peekers.get(ref) ?? []), { port, slot }]);
      break;
    }
    case "take": {
      const { ref, slot } = message;
      const buffer = buffers.get(ref);
      if (buffer) {
        buffers.delete(ref);
        releaseKib(buffer); // before the answer: the taker may put again at once
        answer(port, slot, ref, buffer);
      } else takers.set(ref, { port, slot });
      break;
    }
    case "hook":
      hubHookPort(message.owner, message.port);
      break;
    case "excepthook": {
      const { owner, report, ref, slot } = message;
      hubForward(owner, report, () => answer(port, slot, ref, NO_BUFFER));
      break;
    }
    case "test:hold": {
      holding = message.hold;
      if (!holding) {
        for (const port of held.splice(0)) {
          served.add(port);
          serve(port);
        }
      }
      break;
    }
    case "test:pauseAfterIdle":
      pauseAfterIdle = message.ms;
      break;
    case "test:firstGrace":
      // How long from the hub's start the first worker keeps the first start and holds back the
      // spares (a refill armed meanwhile asks firstGrace() again when it fires).
      firstGraceMs = message.ms;
      break;
    case "test:failAtRun":
      failNextRun = true;
      break;
    case "test:exitAtRun":
      exitNextRun = true;
      break;
    case "test:stall": {
      // The hub's loop stops, as under a burst of work, until the test stores 0 in word[0]: it stores
      // 1 when stalled, then 2 when released, or 3 if nobody released it within a minute.
      const word = new Int32Array(message.word);
      Atomics.store(word, 0, 1);
      Atomics.notify(word, 0);
      const released = Atomics.wait(word, 0, 1, 60_000) !== "timed-out";
      Atomics.store(word, 0, released ? 2 : 3);
      Atomics.notify(word, 0);
      break;
    }
    case "test:stats": {
      // [idle workers, of them ever used, running, booting, workers made so far, 1 = answered]
      const out = new Int32Array(message.into);
      const parked = idleDocked();
      out[0] = ready.length + parked;
      out[1] = ready.filter((r) => r.used).length + parked;
      out[2] = running.size + dockOf.size - parked;
      out[3] = booting;
      out[4] = spawned;
      Atomics.store(out, 5, 1);
      Atomics.notify(out, 5);
      break;
    }
    case "test:crash":
      setImmediate(() => {
        throw new Error("test: the hub crashes");
      });
      break;
    case "test:failSpawns": {
      failingSpawns = message.fail;
      if (failingSpawns) {
        for (const idle of ready.splice(0)) retire(idle.worker);
        for (let worker = takeDocked(); worker; worker = takeDocked()) retire(worker);
      } else dispatch();
      break;
    }
  }
}

function serve(port: MessagePort): void {
  port.on("message", (message: HubMessage) => handle(port, message));
}

/** Handles every message still queued on `port` (its worker has exited: nothing more can come). */
function drain(port: MessagePort): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) handle(port, m.message as HubMessage);
}

// If the hub dies (an uncaught error here, process.exit()), its Workers, every thread, die with it.
process.on("exit", () => markHubDead());
process.on("uncaughtExceptionMonitor", (e) => {
  writeAll(2, `threading: the hub worker failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
});

if (root.hubPort) serve(root.hubPort);
// The first worker (the main thread booted it) is the first spare; the others follow once it is
// ready (a first start() waits for one worker, and booting several at once slows each).
const first = (workerData as { first?: FirstWorker }).first;
if (first) spawn(undefined, first);
else topUp();
Atomics.store(G, HUB_READY, 1);
Atomics.notify(G, HUB_READY);
