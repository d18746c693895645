/**
 * The hub: one worker, parent of every thread's Worker.
 *
 * Why: a Node Worker's child Workers die with it, but a Python thread outlives the thread that
 * started it; and the main thread may be blocked (in join(), acquire(), a CPU loop) exactly when
 * another thread wants to start one. The hub's event loop does nothing but serve, so starting a
 * thread, and noticing that a thread died, never waits for any user thread.
 *
 * It keeps SPARES booted workers ready (a Worker boot costs tens of milliseconds; handing a run
 * request to a ready one costs a message), forwards each start request to one, and ends in the
 * thread table every thread whose worker exits without having ended itself (process.exit(),
 * out of memory, a crash), which wakes everyone who joins it.
 */
// The whole library, so that the bundle keeps one shared chunk for all its entries (scripts/bundle.mjs).
import "../index.js";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  type ResourceLimits,
  Worker,
  workerData,
} from "node:worker_threads";
import { type Bootstrap, boot, G, HUB_READY, SLOT_MAILBOX, slotIndex } from "../shared/runtime.js";
import { type DirectoryMessage, releaseKib } from "../transport/directory.js";
import { writeAll } from "./output.js";
import { markEnded, markFailed, markHubDead } from "./table.js";
import { type RunRequest, transferListOf } from "./thread.js";
import { libraryFile } from "../shared/paths.js";
import { listenInHub } from "./dump-signal.js";

const SPARES = 2;

listenInHub();
const workerUrl = libraryFile("threads/worker.js");
const root = (workerData as { threading: Bootstrap }).threading;

const ready: Worker[] = [];
let booting = 0;
const waiting: RunRequest[] = [];
const running = new Map<Worker, { slot: number; ident: number }>();
/** The hub's end of each worker's port. */
const ports = new Map<Worker, MessagePort>();

/** Workers that failed to boot in a row; at MAX_BOOT_FAILURES the waiting starts fail. */
let bootFailures = 0;
const MAX_BOOT_FAILURES = 3;
let lastBootError = "";

/**
 * Boots a worker. A spare goes to `ready` when booted; a worker made for one request (one with its
 * own resourceLimits) gets that request as soon as it is booted.
 */
function spawn(forRequest?: RunRequest): boolean {
  const { port1, port2 } = new MessageChannel();
  const threading: Bootstrap = { ...boot, hubPort: port2, slot: -1, ident: 0 };
  const limits = workerLimits(forRequest);
  let worker: Worker;
  try {
    if (failingSpawns) throw new Error("test: spawn refused (EAGAIN)");
    worker = new Worker(workerUrl, {
      workerData: { threading },
      transferList: [port2],
      execArgv: boot.execArgv,
      stdout: false,
      stderr: false,
      ...(limits ? { resourceLimits: limits } : {}),
    });
  } catch (e) {
    // The Worker cannot be made (bad limits, no memory): the starts it was for fail, none waits.
    // (A spare that cannot be made fails the waiting starts only when no worker is coming for them.)
    port1.close();
    const reason = e instanceof Error ? e.message : String(e);
    if (forRequest) failStart(forRequest, reason);
    else if (ready.length + booting === 0) for (const request of waiting.splice(0)) failStart(request, reason);
    return false;
  }
  let booted = false;
  if (!forRequest) booting++;
  ports.set(worker, port1);
  worker.once("message", () => {
    booted = true;
    bootFailures = 0;
    if (forRequest) {
      run(worker, forRequest);
      return;
    }
    booting--;
    if (failingSpawns) {
      void worker.terminate();
      return;
    }
    ready.push(worker);
    dispatch();
  });
  worker.on("error", (e) => {
    // A thread reports its own errors; an error here means the worker died, and "exit" follows.
    if (!booted) lastBootError = e instanceof Error ? (e.stack ?? e.message) : String(e);
  });
  worker.on("exit", () => {
    ports.delete(worker);
    // What the thread posted last (a directory registration, a start request) may still be queued
    // on its port when the hub's loop gets here: it was posted before the worker exited, so it is
    // in the port's queue now. Serve it before closing, or a taker / a child waits for ever.
    drain(port1);
    port1.close();
    const h = held.indexOf(port1);
    if (h >= 0) held.splice(h, 1);
    const job = running.get(worker);
    running.delete(worker);
    if (job) {
      markEnded(job.slot, job.ident);
      return;
    }
    const idle = ready.indexOf(worker);
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

/** The main thread's memory and stack flags (exec-argv.ts), overridden by the thread's own limits. */
function workerLimits(request?: RunRequest): ResourceLimits | null {
  if (!boot.resourceLimits && !request?.resourceLimits) return null;
  return { ...boot.resourceLimits, ...request?.resourceLimits };
}

/** Where each start request not yet handed to a worker came from (by ident): its failure goes back there. */
const origins = new Map<number, MessagePort>();

/**
 * Fails a start that no worker will run: the reason is posted to the thread that asked first, then
 * the slot is ended as failed, so its start() finds the reason when it sees the end (thread.ts).
 */
function failStart(request: RunRequest, reason: string): void {
  const origin = origins.get(request.ident);
  origins.delete(request.ident);
  try {
    origin?.postMessage({ type: "start-failed", ident: request.ident, reason });
  } catch {
    // that thread is gone
  }
  markFailed(request.slot, request.ident);
}

function run(worker: Worker, request: RunRequest): void {
  origins.delete(request.ident);
  running.set(worker, { slot: request.slot, ident: request.ident });
  // A worker posts to the hub only once it runs a thread: its port is served from then on.
  const port = ports.get(worker) as MessagePort;
  if (holding) held.push(port);
  else serve(port);
  worker.postMessage(request, transferListOf(request));
}

function dispatch(): void {
  while (waiting.length > 0 && ready.length > 0) run(ready.shift() as Worker, waiting.shift() as RunRequest);
  while (ready.length + booting < waiting.length) if (!spawn()) break;
  // Refill the spares a moment later: booting a Worker takes a core for tens of milliseconds, and
  // the thread just handed out should get going first.
  if (!refill) refill = setTimeout(topUp, 5);
}

let refill: ReturnType<typeof setTimeout> | undefined;
function topUp(): void {
  refill = undefined;
  while (ready.length + booting < SPARES + waiting.length) if (!spawn()) break;
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

type HubMessage = { type: "start"; request: RunRequest } | DirectoryMessage | TestMessage;

/** @internal Test hooks (src/internal.ts): make the races of a busy hub reproducible. */
export type TestMessage =
  | { type: "test:hold"; hold: boolean }
  | { type: "test:failSpawns"; fail: boolean }
  | { type: "test:crash" };

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
      origins.set(request.ident, port);
      if (request.resourceLimits) spawn(request);
      else {
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
    case "test:hold": {
      holding = message.hold;
      if (!holding) for (const port of held.splice(0)) serve(port);
      break;
    }
    case "test:crash":
      setImmediate(() => {
        throw new Error("test: the hub crashes");
      });
      break;
    case "test:failSpawns": {
      failingSpawns = message.fail;
      if (failingSpawns) for (const worker of ready.splice(0)) void worker.terminate();
      else dispatch();
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
topUp();
Atomics.store(G, HUB_READY, 1);
Atomics.notify(G, HUB_READY);
