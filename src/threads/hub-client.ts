/**
 * How a thread talks to the hub (hub.ts): one MessagePort per thread. The main thread starts the
 * hub on first use; every other thread received its port at creation.
 */
import { MessageChannel, type MessagePort, type TransferListItem, Worker } from "node:worker_threads";
import { boot, type Bootstrap, G, HUB_READY, isRoot } from "../shared/runtime.js";
import { awaitFirstParking, clear, docksWork } from "./dock.js";
import type { FirstWorker } from "./hub.js";
import { idleWorkers } from "./pool-config.js";
import { connectDirectory } from "../transport/directory.js";
import { libraryFile } from "../shared/paths.js";
import { RuntimeError } from "../errors.js";
import { hubDead, markHubDead } from "./table.js";
import { startWorker } from "../shared/exec-argv.js";
import type { TestMessage } from "./hub.js";

let hub: Worker | undefined;
/** The first thread worker (main thread only), a child of the main thread, not of the hub (see bootFirstWorker). */
let first: Worker | undefined;
/** The dock the first worker parks itself in, until the first start() has waited for it (-1: none). */
let firstDock = -1;

/**
 * Boots the first thread worker from the main thread, beside the hub rather than after it: a
 * program's first start() then waits for one Worker boot, not for the hub's and then a worker's
 * (the hub is a Worker too, and its workers are its children, so it could only boot one once it
 * ran). The hub adopts it (hub.ts PortWorker): it talks with it through `control`, and sees it exit
 * when that port closes. It parks itself in dock 0, kept for it, where the first start() of the
 * main thread hands it the thread without waiting for the hub (awaitFirstWorker). Returns the
 * hub's ends of its ports (transferred to the hub), or null if it could not be made.
 */
function bootFirstWorker(): FirstWorker | null {
  const dock = docksWork && idleWorkers(false) > 0 ? 0 : -1;
  let ends: FirstWorker | null = null;
  try {
    // Flags a Worker refuses are dropped from boot.execArgv here, before the hub copies it.
    first = startWorker(boot, (execArgv) => {
      const control = new MessageChannel();
      const hubPort = new MessageChannel();
      const threading: Bootstrap = { ...boot, execArgv, hubPort: hubPort.port2, slot: -1, ident: 0 };
      const made = new Worker(libraryFile("threads/worker.js"), {
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
    return null;
  }
  // A thread's errors are its own (worker.ts); an error here means the worker died, which the hub sees.
  first.on("error", () => {});
  first.unref();
  firstDock = dock;
  return ends;
}

/** How long the main thread's first start() waits for the first worker to park, before it asks the hub. */
const FIRST_PATIENCE_MS = 2_000;

/**
 * The main thread's first plain start() (one that may go through a dock), when no dock holds a
 * worker: waits, at most FIRST_PATIENCE_MS, for the first worker to park (bootFirstWorker). True if
 * it parked (or its dock changed otherwise): the caller tries the docks again. Once only.
 */
export function awaitFirstWorker(): boolean {
  if (firstDock < 0) return false;
  const dock = firstDock;
  firstDock = -1;
  return awaitFirstParking(dock, FIRST_PATIENCE_MS, hubDead);
}

function startHub(): void {
  let port1: MessagePort | undefined;
  const firstEnds = bootFirstWorker();
  // Flags a Worker refuses are dropped from boot.execArgv before the hub copies it (shared/exec-argv.ts).
  let made: Worker;
  try {
    made = startWorker(boot, (execArgv) => {
      const channel = new MessageChannel();
      port1 = channel.port1;
      const threading: Bootstrap = { ...boot, execArgv, hubPort: channel.port2, slot: -1, ident: 0 };
      const transfer: TransferListItem[] = [channel.port2];
      if (firstEnds) transfer.push(firstEnds.control, firstEnds.hubPort);
      return new Worker(libraryFile("threads/hub.js"), {
        workerData: { threading, first: firstEnds ?? undefined },
        transferList: transfer,
        name: "threading-hub",
        execArgv,
      });
    });
  } catch (e) {
    // No hub, so no first worker either: its dock is cleared (it cannot park there any more) and it goes.
    const ends = firstEnds as FirstWorker | null;
    if (ends) {
      if (ends.dock >= 0) clear(ends.dock);
      ends.control.close();
      ends.hubPort.close();
    }
    void first?.terminate();
    first = undefined;
    firstDock = -1;
    throw e;
  }
  hub = made;
  // The hub never keeps the process alive: the main thread's exit listener waits for
  // non-daemon threads instead (see lifetime.ts).
  made.on("error", (e) => {
    // Thread starts waiting on it fail with a RuntimeError (thread.ts); say why, once. A hub that
    // served has printed its own error as it died (hub.ts), also while this thread was blocked.
    if (Atomics.load(G, HUB_READY) !== 0) return;
    process.stderr.write(
      `threading: the hub worker failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
  });
  // Every thread's Worker died with it: end them in the table (the hub does it too if it can). The
  // first worker is the main thread's child: it goes too (it also exits as its port to the hub closes,
  // once its event loop runs).
  made.on("exit", () => {
    markHubDead();
    void first?.terminate();
  });
  made.unref();
  (port1 as MessagePort).unref();
  boot.hubPort = port1 as MessagePort;
}

/**
 * Starts the hub now, at the library's import in the main thread, so that a program's first
 * start() finds it (and its first worker) booting or booted; it never keeps the process alive. A hub
 * that cannot be made here is made, or reported, by the first start().
 */
export function startHubEarly(): void {
  if (!isRoot || boot.hubPort !== null || hubDead()) return;
  try {
    startHub();
  } catch {
    hub = undefined;
    boot.hubPort = null;
  }
}

/** Sends a control message to the hub; a RuntimeError once the hub has died. */
export function sendToHub(message: unknown, transfer: TransferListItem[] = []): void {
  if (hubDead()) {
    throw new RuntimeError(
      "the threading hub worker has died (see stderr): no thread can be started and no queue item holding shared memory can cross",
    );
  }
  if (boot.hubPort === null) startHub();
  (boot.hubPort as NonNullable<Bootstrap["hubPort"]>).postMessage(message, transfer);
}

connectDirectory((message) => sendToHub(message, []));

/** @internal Sends a test hook to the hub (see TestMessage in hub.ts). */
export function hubTestHook(message: TestMessage): void {
  sendToHub(message);
}

/** The hub Worker (main thread only), for tests and diagnostics. */
export function hubWorker(): Worker | undefined {
  return hub;
}
