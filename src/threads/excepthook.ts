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
 *
 * Bun and Deno: receiveMessageOnPort() cannot read a BroadcastChannel there (Deno throws a
 * TypeError, Bun reads nothing), so the owner could run the hook only from its event loop, after
 * its join() had returned. There (VIA_HUB) the owner instead gives the hub one end of a
 * MessageChannel ("hook"), and a dying thread sends its exception to the hub ("excepthook"), which
 * forwards it on that channel and only then answers; the dying thread waits for the answer before
 * it marks itself ended, so the owner's join() reads the exception from its end synchronously
 * (drain) and runs the hook before it returns, as on Node. An exception sent before the hub has the
 * owner's channel (the two messages come on different ports) waits in the hub for it.
 */
import { clearInterval, setInterval } from "node:timers";
import { BroadcastChannel, MessageChannel, type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { boot, G, HOOK_OWNER, HOOK_OWNER_SLOT, isIdentAlive, nextBufferRef } from "../shared/runtime.js";
import { thenable } from "../shared/thenable.js";
import { onThreadReset } from "../shared/thread-reset.js";
import { addBlockingDuty, removeBlockingDuty, setAsideWaits } from "../shared/wait.js";
import { decode } from "../transport/decode.js";
import { awaitAnswer } from "../transport/directory.js";
import { type Encoded, encode } from "../transport/encode.js";
import { sendToHub } from "./hub-client.js";
import { writeAll } from "./output.js";
import { currentThread, type Thread, threadFor } from "./thread.js";
import { unrefOwn } from "../shared/own-unref.js";

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
 * So is the rejection of a promise it returns (an async hook), when it comes: it was an unhandled
 * rejection, which ended the hook's thread (the process, when that is main).
 */
function runHook(fn: (args: ExceptHookArgs) => void, args: ExceptHookArgs): void {
  try {
    const result: unknown = fn(args);
    if (thenable(result)) result.then(undefined, hookFailed);
  } catch (e) {
    hookFailed(e);
  }
}

function hookFailed(e: unknown): void {
  const text = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : `${typeName(e)}: ${String(e)}`;
  const line = `Exception in threading.excepthook:\n${text}\n`;
  if (boot.ident === 1) process.stderr.write(line);
  else writeAll(2, line);
}

let hook: ((args: ExceptHookArgs) => void) | null = null;
let channel: BroadcastChannel | undefined;

/**
 * Exceptions go to the hook's owner through the hub (file comment): where a BroadcastChannel
 * cannot be read synchronously (Bun, Deno), or when THREADING_EXCEPTHOOK_VIA_HUB=1 (tests, on Node).
 */
const VIA_HUB = "Bun" in globalThis || "Deno" in globalThis || process.env.THREADING_EXCEPTHOOK_VIA_HUB === "1";
/** VIA_HUB, in the owner: its end of the channel whose other end the hub holds. */
let inbox: MessagePort | undefined;
/** VIA_HUB, in the owner: how often its event loop looks at `inbox` (blocking calls look at once). */
const POLL_MS = 50;
let poll: ReturnType<typeof setInterval> | undefined;

/** drain() from the event loop: an error there goes to the default hook, as in onThreadReset. */
function drainFromLoop(): void {
  try {
    drain();
  } catch (e) {
    excepthook({ excType: typeName(e), excValue: e, thread: null });
  }
}

/** What a dying thread posts to the hook's owner. */
interface Report {
  excType: string;
  excValue: Encoded;
  ident: number;
  slot: number;
  /** The ident of the hook's owner it is for. */
  owner: number;
}

/** In the hub (VIA_HUB): each owner's channel end, by the owner's ident. */
const hookPorts = new Map<number, MessagePort>();
/** In the hub: reports that came before their owner's channel, with the answer each waits for. */
const early = new Map<number, { report: Report; answer: () => void }[]>();

/**
 * @internal In the hub (hub.ts): `owner` gave its channel end (`port`), or gave it up (null, its
 * thread ended): the reports that waited for it go on, or are answered and dropped.
 */
export function hubHookPort(owner: number, port: MessagePort | null): void {
  hookPorts.get(owner)?.close();
  hookPorts.delete(owner);
  if (port !== null) hookPorts.set(owner, port);
  const waiting = early.get(owner) ?? [];
  early.delete(owner);
  for (const { report, answer } of waiting) {
    port?.postMessage(report);
    answer();
  }
}

/**
 * @internal In the hub: forwards `report` to `owner`'s channel, then calls `answer` (which lets the
 * dying thread go on: the owner can read the report by then); keeps both until the channel comes.
 */
export function hubForward(owner: number, report: Report, answer: () => void): void {
  const port = hookPorts.get(owner);
  if (port === undefined) {
    early.set(owner, [...(early.get(owner) ?? []), { report, answer }]);
    return;
  }
  port.postMessage(report);
  answer();
}

/** Set in the hub (hub.ts): reports of deaths it sees go straight to hubForward. */
let inHub = false;

/** @internal Called once by the hub worker. */
export function excepthookInHub(): void {
  inHub = true;
}

function deliver(message: unknown): void {
  const { excType, excValue, ident, slot, owner } = message as Report;
  // (a BroadcastChannel reaches every thread that ever set a hook: only the owner it was sent to
  // runs it; another one, whose hook is null now, printed it with the default hook as well)
  if (owner !== boot.ident) return;
  setAsideWaits(() => {
    const thread = threadFor(slot, ident);
    const args = { excType, excValue: decode(excValue.value, excValue.marked), thread };
    runHook(hook ?? excepthook, args);
  });
}

/**
 * False where receiveMessageOnPort() cannot read a BroadcastChannel (Deno throws a TypeError; Bun
 * reads nothing): the hook then runs from the owner's event loop only (onmessage), so a join()
 * in the owner may return before it ran.
 */
let syncReceive = true;

function drain(): void {
  if (inbox) for (let m = receiveMessageOnPort(inbox); m; m = receiveMessageOnPort(inbox)) deliver(m.message);
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
    if (inbox) {
      clearInterval(poll);
      poll = undefined;
      inbox.close();
      inbox = undefined;
      try {
        sendToHub({ type: "hook", owner: boot.ident, port: null });
      } catch {}
    }
    hook = null;
    removeBlockingDuty(drain);
    Atomics.compareExchange(G, HOOK_OWNER, boot.ident, 0);
  }
});

/**
 * VIA_HUB: gives the hub one end of a new channel for this thread's reports and keeps the other
 * (inbox). Nothing if the hub has died: no report can come through it then (a dying thread's
 * post() fails and it prints with the default hook), and the hook still runs for this thread's own.
 */
function openInbox(): void {
  const { port1, port2 } = new MessageChannel();
  // (Before HOOK_OWNER names this thread: a dying thread that reads it finds the message queued
  // for the hub, or the hub keeps its report until the channel comes.)
  try {
    sendToHub({ type: "hook", owner: boot.ident, port: port2 }, [port2]);
  } catch {
    port1.close();
    return;
  }
  // No "message" listener: Deno's takes each message off the port as it comes, so that
  // receiveMessageOnPort() finds none (a joinAsync() resolved before the hook ran, which ran
  // later). The event loop looks every POLL_MS instead (unref'd: it keeps nothing alive).
  unrefOwn(port1);
  inbox = port1;
  poll = setInterval(drainFromLoop, POLL_MS);
  poll.unref();
  addBlockingDuty(drain);
}

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
  if (VIA_HUB) {
    if (!inbox) openInbox();
  } else if (!channel) {
    channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = (event) => deliver((event as MessageEvent).data);
    unrefOwn(channel as unknown as { unref(): void });
    addBlockingDuty(drain);
  }
  Atomics.store(G, HOOK_OWNER_SLOT, boot.slot);
  Atomics.store(G, HOOK_OWNER, boot.ident);
}

/**
 * Posts `error` of thread `ident` (in `slot`) to the hook's owner thread `owner` (see deliver());
 * through the hub where VIA_HUB, waiting until the hub has forwarded it. Throws (a RuntimeError)
 * if the hub has died: the caller then reports with the default hook.
 */
function post(error: unknown, excType: string, slot: number, ident: number, owner: number): void {
  let excValue: Encoded;
  try {
    excValue = encode(error, "exception", { lenientErrors: true });
  } catch {
    excValue = encode(String(error), "exception");
  }
  const report: Report = { excType, excValue, ident, slot, owner };
  if (VIA_HUB) {
    if (inHub) hubForward(owner, report, () => {});
    else {
      const ref = nextBufferRef();
      awaitAnswer(ref, () => sendToHub({ type: "excepthook", owner, report, ref, slot: boot.slot }));
    }
    return;
  }
  const out = new BroadcastChannel(CHANNEL);
  out.postMessage(report);
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
    post(error, excType, slot, ident, owner);
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
    try {
      post(error, excType, boot.slot, boot.ident, owner);
      return;
    } catch {
      // (the hub died: nobody can forward it; the default hook prints it here)
    }
  }
  runHook(owner === boot.ident && hook ? hook : excepthook, { excType, excValue: error, thread });
}
