/**
 * The hub's entry (hub-client.ts starts it): boots the first thread worker before anything else,
 * then loads the hub (hub.ts) with the library.
 *
 * A program's first start() waits for the hub and for a thread's worker. Made one after the other
 * (the hub loaded the library, then booted a worker, which loaded it too) they cost two Worker
 * boots in a row; started here, first thing, the worker boots while the hub loads. So this file
 * imports nothing of the library (a static import would be loaded before its first line runs):
 * only worker_threads, and the worker's path next to this file (dist/threads/).
 */
import { MessageChannel, type MessagePort, Worker, workerData } from "node:worker_threads";

/** The worker booted here, for hub.ts to take as its first spare. */
export interface FirstWorker {
  worker: Worker;
  /** The hub's end of the worker's port. */
  port: MessagePort;
}

const FIRST = Symbol.for("threading.hub.firstWorker");
const root = (workerData as { threading: { execArgv: string[]; resourceLimits: object | null } }).threading;

try {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL("./worker.js", import.meta.url), {
    workerData: { threading: { ...root, hubPort: port2, slot: -1, ident: 0 } },
    transferList: [port2],
    execArgv: root.execArgv,
    stdout: false,
    stderr: false,
    ...(root.resourceLimits ? { resourceLimits: root.resourceLimits } : {}),
  });
  // hub.ts attaches its listeners within this turn of the event loop, before any event can come.
  worker.on("error", () => {});
  (globalThis as Record<symbol, FirstWorker>)[FIRST] = { worker, port: port1 };
} catch {
  // No worker now: the hub boots its spares as usual, and reports what fails then.
}

await import("./hub.js");
