/**
 * The buffer directory: how a SharedArrayBuffer crosses through shared memory.
 *
 * Queues store items as bytes in shared memory, and bytes cannot hold a SharedArrayBuffer (the
 * memory of a Lock, an Event, a typed array over shared memory ...): only postMessage can hand one
 * to another thread. So the sender registers the buffer with the hub under a fresh ref
 * (`exportBuffer`, a message, no waiting) and writes the ref into the bytes; the receiver asks the
 * hub for the ref (`importBuffer`): it posts a request and sleeps on its thread slot's mailbox word
 * until the hub has posted the buffer back, then takes the reply with receiveMessageOnPort (no
 * event loop needed, so it works while the thread blocks). The hub drops its entry once taken, so
 * a buffer lives in the directory only while an item holding it is in flight. Each ref is taken
 * exactly once.
 *
 * Bound: entries of items put and never taken (a queue dropped with items in it) would stay in the
 * hub for ever. Their bytes are counted in G[DIRECTORY_KIB] (added by the putter before it posts,
 * subtracted by the hub before it hands the buffer out) and bounded by THREADING_DIRECTORY_MAX_MB
 * (default 1024 MiB): a put over the bound is a RuntimeError before the item is enqueued (the queue
 * is unchanged, what the item had registered is taken back). Chosen over freeing a dropped queue's
 * entries when it is collected in every thread, which needs a cross-thread count of every holder
 * and every marker in flight (an object decoded many times, e.g. Barrier actionArgs, breaks a
 * per-marker count and would free entries still needed: a get() that hangs). A buffer put in n
 * items counts n times (conservative); kept buffers (keepBuffer) are not counted.
 *
 * Why a registration always arrives: exportBuffer() posts it before the ref is written into the
 * queue, so once a taker has seen the ref the message is in the hub's queue for the sender's port;
 * the hub serves that port until the sender's worker has exited and then drains what is still
 * queued on it before closing it (hub.ts), so a thread that puts and ends at once loses nothing.
 */
import { receiveMessageOnPort } from "node:worker_threads";
import { RuntimeError } from "../errors.js";
import {
  boot,
  DIRECTORY_KIB,
  G,
  HUB_DEAD,
  HUB_READY,
  nextBufferRef,
  SLOT_MAILBOX,
  slotIndex,
} from "../shared/runtime.js";
import { beginBlocking, endBlocking } from "../shared/waiting.js";

/** Messages the hub understands for the directory. */
export type DirectoryMessage =
  | { type: "put"; ref: number; buffer: SharedArrayBuffer }
  | { type: "take"; ref: number; slot: number }
  | { type: "keep"; ref: number; buffer: SharedArrayBuffer }
  | { type: "peek"; ref: number; slot: number };

let send: (message: DirectoryMessage) => void = () => {
  throw new Error("threading: directory used before the hub connection exists");
};

/** @internal Wires the directory to the hub connection (threads/hub-client.ts). */
export function connectDirectory(sender: (message: DirectoryMessage) => void): void {
  send = sender;
}

/** Registers `buffer` for one importBuffer() by any thread; returns its ref. */
export function exportBuffer(buffer: SharedArrayBuffer): number {
  const kib = kibOf(buffer);
  const held = Atomics.add(G, DIRECTORY_KIB, kib) + kib;
  const limit = limitKib();
  if (held > limit) {
    Atomics.sub(G, DIRECTORY_KIB, kib);
    throw new RuntimeError(
      `queue item not put: ${Math.ceil((held - kib) / 1024)} MiB of shared memory already waits in queues to be taken ` +
        `(limit ${limit / 1024} MiB, THREADING_DIRECTORY_MAX_MB); items left in a queue that was dropped are never freed: ` +
        "take them, or call shutdown(true) before dropping the queue",
    );
  }
  const ref = nextBufferRef();
  try {
    send({ type: "put", ref, buffer });
  } catch (e) {
    Atomics.sub(G, DIRECTORY_KIB, kib);
    throw e;
  }
  return ref;
}

/** The default bound of the directory's put entries (MiB); THREADING_DIRECTORY_MAX_MB overrides it. */
export const DIRECTORY_MAX_MB = 1024;
let limit = 0;

/** The bound in KiB, read once per thread (the first put) from THREADING_DIRECTORY_MAX_MB. */
function limitKib(): number {
  if (limit === 0) {
    const mb = Number(process.env.THREADING_DIRECTORY_MAX_MB);
    limit = (Number.isFinite(mb) && mb > 0 ? Math.min(mb, 2 ** 20) : DIRECTORY_MAX_MB) * 1024;
  }
  return limit;
}

/** What a buffer counts against the bound: its size in KiB, at least 1. */
function kibOf(buffer: SharedArrayBuffer): number {
  return Math.max(1, Math.ceil(buffer.byteLength / 1024));
}

/** @internal The hub has handed out a put entry: it no longer counts against the bound (hub.ts). */
export function releaseKib(buffer: SharedArrayBuffer): void {
  Atomics.sub(G, DIRECTORY_KIB, kibOf(buffer));
}

const arrived = new Map<number, SharedArrayBuffer>();
const startFailures = new Map<number, string>();

/** Takes every reply the hub has posted to this thread (buffers, failed starts). */
function pumpReplies(): void {
  const port = boot.hubPort;
  if (port === null) return;
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const reply = m.message as {
      type?: string;
      ident: number;
      reason: string | null;
      ref: number;
      buffer: SharedArrayBuffer;
    };
    // (A null reason: the hub lost that start's slot to another party, table.ts markFailed.)
    if (reply.type === "start-failed") {
      if (reply.reason === null) startFailures.delete(reply.ident);
      else startFailures.set(reply.ident, reply.reason);
    } else arrived.set(reply.ref, reply.buffer);
  }
}

/** @internal Why the hub could not start the thread `ident` (posted before it ended the slot), if it said. */
export function startFailure(ident: number): string | undefined {
  pumpReplies();
  const reason = startFailures.get(ident);
  startFailures.delete(ident);
  return reason;
}

/*
 * Kept buffers: for stores that are read many times (SharedDict / SharedList values holding shared
 * objects). `keepBuffer` registers a buffer for good (the hub holds it until the process ends) and
 * returns the same ref for the same buffer object in this thread; `peekBuffer` fetches it without
 * taking it, once per thread (then from this thread's cache).
 */
const keptRefs = new WeakMap<SharedArrayBuffer, number>();
const keptBuffers = new Map<number, WeakRef<SharedArrayBuffer>>();

/** Registers `buffer` for any number of peekBuffer() calls by any thread; returns its ref. */
export function keepBuffer(buffer: SharedArrayBuffer): number {
  let ref = keptRefs.get(buffer);
  if (ref === undefined) {
    ref = nextBufferRef();
    send({ type: "keep", ref, buffer });
    keptRefs.set(buffer, ref);
    keptBuffers.set(ref, new WeakRef(buffer));
  }
  return ref;
}

/** The buffer kept under `ref` (asks the hub the first time in this thread). */
export function peekBuffer(ref: number): SharedArrayBuffer {
  const known = keptBuffers.get(ref)?.deref();
  if (known !== undefined) return known;
  const buffer = fetchBuffer(ref, "peek");
  keptRefs.set(buffer, ref);
  keptBuffers.set(ref, new WeakRef(buffer));
  return buffer;
}

/** The buffer registered under `ref` (waits briefly for the hub; each ref can be taken once). */
export function importBuffer(ref: number): SharedArrayBuffer {
  return fetchBuffer(ref, "take");
}

function fetchBuffer(ref: number, type: "take" | "peek"): SharedArrayBuffer {
  return awaitAnswer(ref, () => send({ type, ref, slot: boot.slot }));
}

/**
 * @internal Calls `ask` (which posts a request naming `ref` and this thread's slot to the hub), then
 * waits, blocking, until the hub has answered it (hub.ts answer(): a reply on this thread's port
 * and a bump of its mailbox word); returns the reply's buffer. A RuntimeError once the hub has died.
 */
export function awaitAnswer(ref: number, ask: () => void): SharedArrayBuffer {
  const mailbox = slotIndex(boot.slot, SLOT_MAILBOX);
  let seen = Atomics.load(G, mailbox);
  ask();
  let prev: ReturnType<typeof beginBlocking> | null = null;
  try {
    for (;;) {
      pumpReplies();
      const buffer = arrived.get(ref);
      if (buffer) {
        arrived.delete(ref);
        return buffer;
      }
      if (Atomics.load(G, HUB_READY) === HUB_DEAD) {
        throw new RuntimeError(
          "a queue item holding shared memory cannot be received: the threading hub worker, which held its buffers, has died",
        );
      }
      prev ??= beginBlocking(G, mailbox);
      Atomics.wait(G, mailbox, seen, 1000);
      seen = Atomics.load(G, mailbox);
    }
  } finally {
    if (prev !== null) endBlocking(prev);
  }
}
