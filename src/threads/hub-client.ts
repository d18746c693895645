/**
 * How a thread talks to the hub (hub.ts): one MessagePort per thread. The main thread starts the
 * hub on first use; every other thread received its port at creation.
 */
import { MessageChannel, type MessagePort, type TransferListItem, Worker } from "node:worker_threads";
import { boot, type Bootstrap, G, HUB_READY, isRoot } from "../shared/runtime.js";
import { afterFirstWorker, dropFirstWorker, firstWorkerLikelyBooted, takeFirstWorker } from "./first-worker.js";
import { addBlockingDuty, removeBlockingDuty } from "../shared/wait.js";
import { connectDirectory } from "../transport/directory.js";
import { libraryFile, workerFile } from "../shared/paths.js";
import { RuntimeError } from "../errors.js";
import { hubDead, markFailed, markHubDead, START_LOST } from "./table.js";
import { startWorker } from "../shared/exec-argv.js";
import type { TestMessage } from "./hub.js";
import { unrefOwn } from "../shared/own-unref.js";

let hub: Worker | undefined;

function startHub(): void {
  let port1: MessagePort | undefined;
  const firstEnds = takeFirstWorker();
  // Flags a Worker refuses are dropped from boot.execArgv before the hub copies it (shared/exec-argv.ts).
  let made: Worker;
  try {
    made = startWorker(boot, (execArgv) => {
      const channel = new MessageChannel();
      port1 = channel.port1;
      // The threads' flags, which the hub starts its workers with and runs with itself: without tsx
      // (shared/exec-argv.ts; the hub imports no user module), with source maps on as tsx turned
      // them on in the main thread, so that the library's frames in what the hub prints are named
      // as there.
      const threading: Bootstrap = { ...boot, execArgv, hubPort: channel.port2, slot: -1, ident: 0 };
      const sourceMaps = boot.tsx !== null && (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled === true;
      const transfer: TransferListItem[] = [channel.port2];
      if (firstEnds) transfer.push(firstEnds.control, firstEnds.hubPort);
      return new Worker(sourceMaps ? libraryFile("threads/hub-entry.js") : workerFile("threads/hub.js"), {
        workerData: { threading, first: firstEnds ?? undefined, sourceMaps },
        transferList: transfer,
        name: "threading-hub",
        execArgv,
      });
    });
  } catch (e) {
    // No hub, so no first worker either: a start handed to it that it has not run starts elsewhere
    // (its start() sends it to the hub, which fails it with this error).
    const claim = dropFirstWorker(firstEnds);
    if (claim !== null) markFailed(claim[0], claim[1], START_LOST);
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
    dropFirstWorker(null);
  });
  unrefOwn(made);
  unrefOwn(port1 as MessagePort);
  boot.hubPort = port1 as MessagePort;
}

/**
 * At the library's import in the main thread: starts the hub once the first thread worker has
 * booted (first-worker.ts), so the two Worker boots do not share the cores, or at once if there is
 * no first worker; a start() before that starts it itself (ensureHub). It never keeps the process
 * alive. A hub that cannot be made here is made, or reported, by the first start().
 */
export function startHubEarly(): void {
  if (!isRoot) return;
  if (!afterFirstWorker(ensureHub)) {
    ensureHub();
    return;
  }
  // A main thread that blocks in a wait of this library before its event loop turns (a deadlock
  // right after the import) still gets its hub (which answers the hang report), from the wait.
  const duty = (): void => {
    if (boot.hubPort !== null || hubDead()) removeBlockingDuty(duty);
    else if (firstWorkerLikelyBooted()) {
      removeBlockingDuty(duty);
      ensureHub();
    }
  };
  addBlockingDuty(duty);
}

/**
 * Main thread: starts the hub if it is not running yet (a start() handed to the first worker
 * calls it right away: the hub sees that worker exit, and serves what its thread asks).
 */
export function ensureHub(): void {
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
