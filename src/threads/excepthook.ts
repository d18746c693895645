/**
 * excepthook: what happens to an exception that ends a thread.
 *
 * The default hook prints "Exception in thread NAME:" and the stack to stderr, from the dying
 * thread itself. setExcepthook(fn) makes fn, a function of the thread that set it (the *owner*),
 * the hook for every thread in the process: a dying thread then posts the exception on a
 * BroadcastChannel that only the owner listens to, *before* it marks itself ended, and the owner
 * runs the hook from its event loop or from any blocking call of this library (runDuties), so
 * join() in the owner returns after the hook ran for that thread. setExcepthook() first runs the
 * outgoing hook for what already arrived: an exception goes to the hook in force when its thread
 * died, never to the next one. When the owner ends, the hook
 * goes with it: its worker delivers what already arrived, closes the channel and forgets the hook
 * before it runs another thread (onThreadReset), and dying threads fall back to the default.
 * A hook that throws is reported as CPython's threading does it ("Exception in threading.excepthook:"
 * and the hook's error on stderr, runHook): never thrown out of the owner's join() or event loop.
 */
import { BroadcastChannel, type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { boot, G, HOOK_OWNER, HOOK_OWNER_SLOT, isIdentAlive } from "../shared/runtime.js";
import { onThreadReset } from "../shared/thread-reset.js";
import { addBlockingDuty, removeBlockingDuty } from "../shared/wait.js";
import { decode } from "../transport/decode.js";
import { type Encoded, encode } from "../transport/encode.js";
import { writeAll } from "./output.js";
import { currentThread, type Thread, threadFor } from "./thread.js";

/** What an excepthook receives, as Python's `threading.ExceptHookArgs`. */
export interface ExceptHookArgs {
  /** The error's class name, e.g. "TypeError". */
  excType: string;
  /** The error (or whatever was thrown), a copy made in the dying thread. */
  excValue: unknown;
  /** The Thread whose error this is, as this thread holds it; null when no thread is known. */
  thread: Thread | null;
}

const CHANNEL = "threading:excepthook";

function typeName(value: unknown): string {
  if (value instanceof Error) return value.constructor?.name ?? value.name;
  if (value === null) return "null";
  return typeof value === "object" ? (value.constructor?.name ?? "Object") : typeof value;
}

/** The default hook: prints "Exception in thread NAME:" (the ident when `thread` is null) and the stack to stderr. */
export const excepthook = (args: ExceptHookArgs): void => {
  const { excValue, thread } = args;
  const text =
    excValue instanceof Error
      ? (excValue.stack ?? `${excValue.name}: ${excValue.message}`)
      : `${args.excType}: ${String(excValue)}`;
  // Without a thread, CPython names the calling thread's ident.
  const line = `Exception in thread ${thread?.name ?? boot.ident}:\n${text}\n`;
  if (boot.ident === 1) process.stderr.write(line);
  else writeAll(2, line);
};

/**
 * Calls `fn` (the hook in force) with `args`; an error it throws is printed after
 * "Exception in threading.excepthook:", as CPython's _invoke_excepthook does, and goes no further.
 */
function runHook(fn: (args: ExceptHookArgs) => void, args: ExceptHookArgs): void {
  try {
    fn(args);
  } catch (e) {
    const text = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : `${typeName(e)}: ${String(e)}`;
    const line = `Exception in threading.excepthook:\n${text}\n`;
    if (boot.ident === 1) process.stderr.write(line);
    else writeAll(2, line);
  }
}

let hook: ((args: ExceptHookArgs) => void) | null = null;
let channel: BroadcastChannel | undefined;

function deliver(message: unknown): void {
  const { excType, excValue, ident, slot } = message as {
    excType: string;
    excValue: Encoded;
    ident: number;
    slot: number;
  };
  const thread = threadFor(slot, ident);
  const args = { excType, excValue: decode(excValue.value, excValue.marked), thread };
  runHook(hook ?? excepthook, args);
}

/**
 * False where receiveMessageOnPort() cannot read a BroadcastChannel (Deno throws a TypeError; Bun
 * reads nothing): the hook then runs from the owner's event loop only (onmessage), so a join()
 * in the owner may return before it ran.
 */
let syncReceive = true;

function drain(): void {
  if (!channel || !syncReceive) return;
  const port = channel as unknown as MessagePort;
  let m: ReturnType<typeof receiveMessageOnPort>;
  try {
    m = receiveMessageOnPort(port);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    syncReceive = false;
    return;
  }
  for (; m; m = receiveMessageOnPort(port)) deliver(m.message);
}

// The thread ended: run the hook for what already arrived, then this worker's next thread owns nothing.
onThreadReset(() => {
  try {
    drain();
  } catch (e) {
    excepthook({ excType: typeName(e), excValue: e, thread: null });
  } finally {
    channel?.close();
    channel = undefined;
    hook = null;
    removeBlockingDuty(drain);
    Atomics.compareExchange(G, HOOK_OWNER, boot.ident, 0);
  }
});

/**
 * Replaces the excepthook for every thread of the process with `fn`, which runs in the calling
 * thread; `null` restores the default.
 */
export function setExcepthook(fn: ((args: ExceptHookArgs) => void) | null): void {
  if (fn !== null && typeof fn !== "function") throw new TypeError("setExcepthook(fn): fn must be a function or null");
  // What threads that died under the outgoing hook posted goes to that hook, not to `fn`.
  drain();
  hook = fn;
  if (fn === null) {
    if (Atomics.load(G, HOOK_OWNER) === boot.ident) Atomics.store(G, HOOK_OWNER, 0);
    return;
  }
  if (!channel) {
    channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = (event) => deliver((event as MessageEvent).data);
    (channel as unknown as { unref(): void }).unref();
    addBlockingDuty(drain);
  }
  Atomics.store(G, HOOK_OWNER_SLOT, boot.slot);
  Atomics.store(G, HOOK_OWNER, boot.ident);
}

/** Posts `error` of thread `ident` (in `slot`) to the hook's owner thread (see deliver()). */
function post(error: unknown, excType: string, slot: number, ident: number): void {
  let excValue: Encoded;
  try {
    excValue = encode(error, "exception");
  } catch {
    excValue = encode(String(error), "exception");
  }
  const out = new BroadcastChannel(CHANNEL);
  out.postMessage({ excType, excValue, ident, slot });
  out.close();
}

/**
 * Reports for thread `ident` (in `slot`), whose worker died under it (out of memory: the thread
 * could not report it itself), the error its worker died of; called by the hub before it marks
 * the thread ended. The hook set by a live thread other than the dead one gets it, else the default.
 */
export function reportDeath(slot: number, ident: number, error: unknown): void {
  const owner = Atomics.load(G, HOOK_OWNER);
  const excType = typeName(error);
  if (owner !== 0 && owner !== ident && isIdentAlive(Atomics.load(G, HOOK_OWNER_SLOT), owner)) {
    post(error, excType, slot, ident);
    return;
  }
  excepthook({ excType, excValue: error, thread: threadFor(slot, ident) });
}

/** Reports an exception that ends the calling thread to the hook in force. */
export function reportException(error: unknown): void {
  const owner = Atomics.load(G, HOOK_OWNER);
  const thread = currentThread();
  const excType = typeName(error);
  if (owner !== 0 && owner !== boot.ident && isIdentAlive(Atomics.load(G, HOOK_OWNER_SLOT), owner)) {
    post(error, excType, boot.slot, boot.ident);
    return;
  }
  runHook(owner === boot.ident && hook ? hook : excepthook, { excType, excValue: error, thread });
}
