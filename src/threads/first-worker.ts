/**
 * The first thread worker, booted by the main thread as the library's import begins, beside the
 * hub rather than by it.
 *
 * A program's first start() would otherwise wait for the hub's Worker boot and then for a thread
 * worker's (the hub's workers are its children, so it can boot one only once it runs). This one is
 * the main thread's child: the hub adopts it (hub.ts PortWorker), talks with it through `control`,
 * and sees it exit when that port closes. It parks itself in dock 0, which the hub keeps for it,
 * and the main thread's first start() hands it the thread there without waiting for the hub, even
 * before it has booted (handToFirstWorker: it then runs that thread as it parks, and the hub boots
 * once the thread runs). It is booted before the rest of the library is evaluated (index.ts imports
 * this module first), so its boot overlaps the import; this module imports only what it needs.
 * A first start that goes to the hub instead (a pool's thread, a transferList, ...) and needs the
 * whole library tells it to load the library at once (firstWorkerLoadsLibrary), so that the load
 * overlaps the hub's boot: the hub gives that start to this worker once both have booted.
 */
import { MessageChannel, Worker } from "node:worker_threads";
import { boot, type Bootstrap, FIRST_LIBRARY, G, HUB_DEAD, HUB_READY, isRoot } from "../shared/runtime.js";
import { startWorker } from "../shared/exec-argv.js";
import { workerFile } from "../shared/paths.js";
import { awaitFirstParking, clear, docksWork, dockWord, notifyDock, preHand, preHandPending } from "./dock.js";
import type { FirstWorker } from "./hub.js";
import { idleWorkers } from "./pool-config.js";
import type { RunRequest } from "./thread.js";

export type { FirstWorker };

/** The first worker (main thread only), until the hub has died. */
let first: Worker | undefined;
/** The hub's ends of its ports, until the hub takes them (takeFirstWorker). */
let ends: FirstWorker | null = null;
/** The dock it parks itself in, until the first start() has waited for it (-1: none). */
let firstDock = -1;
/** The dock it parks itself in (-1: none), and when it was made (performance.now()). */
let bootDock = -1;
let bootAt = 0;

function bootFirstWorker(): void {
  const dock = docksWork && idleWorkers(false) > 0 ? 0 : -1;
  try {
    // Flags a Worker refuses are dropped from boot.execArgv here, before the hub copies it.
    first = startWorker(boot, (execArgv) => {
      const control = new MessageChannel();
      const hubPort = new MessageChannel();
      const threading: Bootstrap = { ...boot, execArgv, hubPort: hubPort.port2, slot: -1, ident: 0 };
      const made = new Worker(workerFile("threads/worker.js"), {
        workerData: { threading, control: control.port2, dock },
        transferList: [hubPort.port2, control.port2],
        execArgv,
        stdout: false,
        stderr: false,
        ...(boot.resourceLimits ? { resourceLimits: boot.resourceLimits } : {}),
      });
      ends = { control: control.port1, hubPort: hubPort.port1, dock };
      return made;
    });
  } catch {
    // No first worker: the hub boots its workers as usual, and reports what fails then.
    ends = null;
    return;
  }
  // A thread's errors are its own (worker.ts); an error here means the worker died, which the hub sees.
  first.on("error", () => {});
  // It says when it has booted (or it exits first): then the hub boots, unless a start made it already.
  first.once("message", () => afterBoot?.());
  first.once("exit", () => afterBoot?.());
  first.unref(); // after the listeners, which would ref it again
  firstDock = dock;
  bootDock = dock;
  bootAt = performance.now();
}

/**
 * Main thread: whether the first worker has booted as far as shared memory tells (it parked in its
 * dock, took the start handed to it there, or the dock was cleared as it died), or has had a second
 * to; true too when it has no dock. For a main thread that blocks before its event loop hears the
 * worker say so (hub-client.ts).
 */
export function firstWorkerLikelyBooted(): boolean {
  return bootDock < 0 || (dockWord(bootDock) !== 0n && !preHandPending(bootDock)) || performance.now() - bootAt > 1_000;
}

/** What the main thread does once the first worker has booted (hub-client.ts: start the hub). */
let afterBoot: (() => void) | undefined;

/**
 * Main thread, at import (hub-client.ts): runs `then` once the first worker has booted or exited,
 * from the event loop; at once if there is no first worker. True if deferred.
 */
export function afterFirstWorker(then: () => void): boolean {
  if (first === undefined) return false;
  afterBoot = then;
  return true;
}

/** For the hub being made (hub-client.ts): the hub's ends of the first worker's ports, once; null if none. */
export function takeFirstWorker(): FirstWorker | null {
  const taken = ends;
  ends = null;
  return taken;
}

/**
 * The hub could not be made (`unadopted`: the ends it did not take), or it has died: the first
 * worker goes too, as the hub's own workers die with it (it also exits by itself once its port to
 * the hub closes, but only when its event loop runs). Its dock is cleared first, so that it cannot
 * park there any more. Returns the thread of a start handed to it that the dock still held
 * ([slot, ident]; handToFirstWorker), or null: the caller fails it as START_LOST if it has not run.
 */
export function dropFirstWorker(unadopted: FirstWorker | null): [number, number] | null {
  let claim: [number, number] | null = null;
  if (unadopted) {
    if (unadopted.dock >= 0) claim = clear(unadopted.dock).claim;
    unadopted.control.close();
    unadopted.hubPort.close();
  }
  firstDock = -1;
  void first?.terminate();
  first = undefined;
  return claim;
}

/**
 * Main thread: a start that needs the whole library (a pool's thread, a module target, shared
 * objects among the arguments, ...) goes to the hub. The hub gives it to the first worker once it
 * has booted (and itself has), and that worker would load the library only then: it loads it now
 * instead (G[FIRST_LIBRARY]; woken if it waits in its dock for a start, worker.ts), while the hub
 * boots. Once; nothing for a first worker that is gone, or that loaded it already.
 */
export function firstWorkerLoadsLibrary(): void {
  if (first === undefined || Atomics.load(G, FIRST_LIBRARY) === 1) return;
  Atomics.store(G, FIRST_LIBRARY, 1);
  if (bootDock >= 0) notifyDock(bootDock);
}

/**
 * How long the main thread's first start() waits for the first worker to park, or to take the
 * start handed to it, before it asks the hub.
 */
const FIRST_PATIENCE_MS = 2_000;

/**
 * The main thread's first plain start() (one that may go through a dock), when no dock holds a
 * worker: hands `request` to the first worker while it boots (dock.ts preHand()): it runs the thread
 * as soon as it has booted, and the hub, which would boot beside it now, is left to boot after
 * (the caller's ensureHub once the thread runs: two Worker boots at once slow each). Should the
 * worker have parked meanwhile (or its dock changed otherwise), or the request not fit a dock:
 * false, once the worker has parked (waited for at most FIRST_PATIENCE_MS) or its dock changed
 * otherwise, and `parked` is set then: the caller tries the docks again. Once only. Not
 * `patient` (startAsync(), which may not block): no wait for the parking, false at once.
 */
export function handToFirstWorker(request: RunRequest, patient = true): { handed: boolean; parked: boolean } {
  if (firstDock < 0) return { handed: false, parked: false };
  const dock = firstDock;
  firstDock = -1;
  if (preHand(dock, request)) {
    handedAt = performance.now();
    return { handed: true, parked: false };
  }
  // (an async start does not block: it goes to the hub; the worker, once parked, serves later starts)
  if (!patient) return { handed: false, parked: false };
  const parked = awaitFirstParking(dock, FIRST_PATIENCE_MS, () => Atomics.load(G, HUB_READY) === HUB_DEAD);
  return { handed: false, parked };
}

/** When handToFirstWorker() handed the main thread's first start to the first worker (performance.now()). */
let handedAt = 0;

/**
 * Main thread, while its first start() waits for the thread it handed the first worker
 * (handToFirstWorker): true once that worker has not taken it for FIRST_PATIENCE_MS, the time a
 * first start waited for it to park before. The caller then fails the start as START_LOST and
 * sends it to the hub: the worker may have died as it booted, which nobody sees while the main
 * thread waits (the hub adopts its ports, but a port whose worker died before it was handed on
 * never says so). A worker that comes after all finds the start failed and parks (worker.ts).
 */
export function firstStartOverdue(): boolean {
  return bootDock >= 0 && preHandPending(bootDock) && performance.now() - handedAt >= FIRST_PATIENCE_MS;
}

if (isRoot) bootFirstWorker();
