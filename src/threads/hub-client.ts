/**
 * How a thread talks to the hub (hub.ts): one MessagePort per thread. The main thread starts the
 * hub on first use; every other thread received its port at creation.
 */
import { MessageChannel, type MessagePort, type TransferListItem, Worker } from "node:worker_threads";
import { boot, type Bootstrap } from "../shared/runtime.js";
import { connectDirectory } from "../transport/directory.js";
import { libraryFile } from "../shared/paths.js";
import { startWorker } from "./exec-argv.js";
import type { TestMessage } from "./hub.js";

let hub: Worker | undefined;

function startHub(): void {
  let port1: MessagePort | undefined;
  // Flags a Worker refuses are dropped from boot.execArgv before the hub copies it (exec-argv.ts).
  const made = startWorker(boot, (execArgv) => {
    const channel = new MessageChannel();
    port1 = channel.port1;
    const threading: Bootstrap = { ...boot, execArgv, hubPort: channel.port2, slot: -1, ident: 0 };
    return new Worker(libraryFile("threads/hub.js"), {
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
    // Thread starts waiting on it fail with a RuntimeError (thread.ts); say why, once.
    process.stderr.write(
      `threading: the hub worker failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
  });
  made.unref();
  (port1 as MessagePort).unref();
  boot.hubPort = port1 as MessagePort;
}

/** Sends a control message to the hub. */
export function sendToHub(message: unknown, transfer: TransferListItem[] = []): void {
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
