/**
 * How a thread talks to the hub (hub.ts): one MessagePort per thread. The main thread starts the
 * hub on first use; every other thread received its port at creation.
 */
import { MessageChannel, type MessagePort, type TransferListItem, Worker } from "node:worker_threads";
import { boot, type Bootstrap, G, HUB_READY, isRoot } from "../shared/runtime.js";
import { connectDirectory } from "../transport/directory.js";
import { libraryFile } from "../shared/paths.js";
import { RuntimeError } from "../errors.js";
import { hubDead, markHubDead } from "./table.js";
import { startWorker } from "../shared/exec-argv.js";
import type { TestMessage } from "./hub.js";

let hub: Worker | undefined;

function startHub(): void {
  let port1: MessagePort | undefined;
  // Flags a Worker refuses are dropped from boot.execArgv before the hub copies it (shared/exec-argv.ts).
  const made = startWorker(boot, (execArgv) => {
    const channel = new MessageChannel();
    port1 = channel.port1;
    const threading: Bootstrap = { ...boot, execArgv, hubPort: channel.port2, slot: -1, ident: 0 };
    return new Worker(libraryFile("threads/hub-boot.js"), {
      workerData: { threading },
      transferList: [channel.port2],
      name: "threading-hub",
      execArgv,
    });
  });
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
  // Every thread's Worker died with it: end them in the table (the hub does it too if it can).
  made.on("exit", () => markHubDead());
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
