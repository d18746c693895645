/**
 * The entry of every thread's Worker (started by the hub). It boots, tells the hub it is ready,
 * and waits for one run request (see RunRequest in thread.ts). Then it becomes that thread:
 * publishes RUNNING (start() returns in the creator), builds the thread's object (a subclass
 * instance gets its fields copied in, without its constructor running again, as in Python the
 * object is the same), runs run(), reports an uncaught exception to the excepthook, sends the
 * fields back, marks the thread ENDED, and exits, dropping whatever timers the thread left.
 * In the thread, process.exit() throws SystemExit (below): the thread's stack unwinds and the
 * thread ends silently; only finish() ends the worker itself.
 */
// The whole library, so that the bundle keeps one shared chunk for all its entries (scripts/bundle.mjs).
import "../index.js";
import { readlinkSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { boot } from "../shared/runtime.js";
import { decode } from "../transport/decode.js";
import { encode } from "../transport/encode.js";
import { actionsLoading } from "../sync/action.js";
import { reportException } from "./excepthook.js";
import { beforeUserImport } from "./loaders.js";
import { installDirectOutput, writeAll } from "./output.js";
import { markEnded, markRunning } from "./table.js";
import { compileTarget, evaluate } from "./target.js";
import { adoptSelf, libraryClasses, type RunRequest, type Thread } from "./thread.js";

installDirectOutput();

function kernelThreadId(): number {
  try {
    return Number(readlinkSync("/proc/thread-self").split("/").pop()) || 0;
  } catch {
    return 0;
  }
}

async function threadClass(request: RunRequest): Promise<Function> {
  let C = lib[request.base] as Function;
  if (!libraryClasses.has(C)) throw new TypeError(`unknown library class ${request.base}`);
  if (request.classModule) {
    await beforeUserImport();
    const mod = (await import(request.classModule)) as Record<string, unknown>;
    const name = request.classes[0]?.name;
    const found = Object.values(mod).find((v) => typeof v === "function" && v.name === name);
    if (!found) throw new TypeError(`module ${request.classModule} exports no class ${name}`);
    return found as Function;
  }
  const scope: Record<string, unknown> = {};
  for (const { name, source } of request.classes) {
    scope[request.base] = C;
    C = evaluate(source, request.origin, { ...scope }) as Function;
    if (name) scope[name] = C;
  }
  return C;
}

let finished = false;
let self: Thread | undefined;

/**
 * What process.exit() throws inside a thread: Python's SystemExit. It unwinds the stack it is
 * thrown on, so `finally` blocks and `using` disposals run (a lock released there is free), and
 * the run loop below ends the thread silently when it reaches it. Guarantees, as in Python:
 *  - code that catches everything (`catch (e) {}`) catches it too, and the thread goes on;
 *  - a process.exit() inside a `finally` or a disposal replaces the one being unwound;
 *  - thrown from a callback (a timer, a listener), it unwinds that callback's stack only, then
 *    ends the thread (as an uncaught exception does, without the report): the frames of an async
 *    target suspended in an `await` are not resumed, so their `finally` blocks do not run.
 * A pool task's process.exit() fails that task's future with this error (pool-thread.ts).
 */
class SystemExit extends Error {
  override name = "SystemExit";
  constructor(readonly code: number | string | null | undefined) {
    super(`process.exit(${code ?? ""}) in a thread`);
  }
}

function isSystemExit(e: unknown): boolean {
  return e instanceof SystemExit;
}

const realExit = process.exit.bind(process);

function finish(request: RunRequest): never {
  if (!finished) {
    finished = true;
    if (request.copyBack && self) {
      const own: Record<string, unknown> = {};
      for (const key of Object.keys(self)) {
        const value = (self as unknown as Record<string, unknown>)[key];
        try {
          encode(value, key);
          own[key] = value;
        } catch (e) {
          writeAll(2, `threading: field ${key} of ${self.name} is not copied back: ${(e as Error).message}\n`);
        }
      }
      request.copyBack.postMessage(encode(own, "field"));
    }
    markEnded(request.slot, request.ident);
  }
  return realExit(0);
}

async function run(request: RunRequest): Promise<void> {
  boot.slot = request.slot;
  boot.ident = request.ident;
  const adoption = { slot: request.slot, ident: request.ident, name: request.name, daemon: request.daemon };
  process.on("uncaughtException", (e) => {
    if (!isSystemExit(e)) reportException(e);
    finish(request);
  });
  process.on("unhandledRejection", (e) => {
    if (!isSystemExit(e)) reportException(e);
    finish(request);
  });
  process.exit = ((code?: number | string | null) => {
    throw new SystemExit(code);
  }) as typeof process.exit;
  self = adoptSelf(lib.Thread as Function, adoption);
  markRunning(request.slot, request.ident, kernelThreadId());
  try {
    const target = request.target ? await compileTarget(request.target) : undefined;
    const args = decode(request.args.value, request.args.marked) as unknown[];
    // Barriers among the arguments start importing their module actions on arrival; let them
    // finish, so a blocking wait() in the target finds its action ready.
    await actionsLoading();
    if (request.classes.length > 0 || request.base !== "Thread") {
      const C = await threadClass(request);
      self = adoptSelf(C, { ...adoption, target, args });
      if (request.fields) Object.assign(self, decode(request.fields.value, request.fields.marked));
      await actionsLoading();
    } else {
      self = adoptSelf(lib.Thread as Function, { ...adoption, target, args });
    }
    await self.run();
  } catch (e) {
    if (!isSystemExit(e)) reportException(e);
  }
  finish(request);
}

// Load the whole library now, while the worker is a spare, so a run request finds it ready.
const lib = (await import("../index.js")) as Record<string, unknown>;
parentPort?.once("message", (request: RunRequest) => {
  void run(request);
});
parentPort?.postMessage("ready");
