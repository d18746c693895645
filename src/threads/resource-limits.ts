/**
 * Checks a `resourceLimits` option (Thread, ThreadPoolExecutor) before any worker is made from it.
 *
 * Node passes the numbers to V8 unchecked, and a heap too small for V8 to deserialize its startup
 * snapshot is not an error a Worker reports: V8 aborts the whole process ("Fatal JavaScript out of
 * memory: GC during deserialization", seen with 2 MB on Node 20-26). So a limit below
 * MIN_OLD_GENERATION_MB is refused here. A limit above it but still too small to load a thread's
 * code fails that start with RuntimeError("can't start new thread: ...") instead.
 *
 * Bun and Deno cannot keep the promise the option makes (a thread over its limits dies alone, and
 * whoever waits on it is told), so there it is a RuntimeError saying so, at the call that got it:
 * Bun's Workers ignore resourceLimits (a thread grows past any limit until the machine runs out of
 * memory); Deno's honour them, but a Worker that reaches its limit while running a message
 * handler or a promise continuation (where a thread's code runs) stalls without an "exit" or
 * "error" event (Deno 2.9), so nothing could tell its waiters.
 */
import type { ResourceLimits } from "node:worker_threads";
import { RuntimeError } from "../errors.js";

const UNSUPPORTED = {
  bun: "Bun (its Workers take no heap or stack limits): leave it out, or run on Node",
  deno:
    "Deno (a Worker that reaches its limits stalls there without telling its parent, so the thread's " +
    "waiters would wait for ever): leave it out, or run on Node",
};

/** The smallest `maxOldGenerationSizeMb` a Worker can boot with without aborting the process. */
export const MIN_OLD_GENERATION_MB = 4;

const KEYS = ["maxYoungGenerationSizeMb", "maxOldGenerationSizeMb", "codeRangeSizeMb", "stackSizeMb"] as const;

/**
 * Throws TypeError/RangeError, naming `where`, unless `limits` is a usable resourceLimits object;
 * then, on Bun and Deno, the RuntimeError above. Bad input is the same error on every runtime.
 */
export function checkResourceLimits(where: string, limits: unknown): asserts limits is ResourceLimits {
  if (typeof limits !== "object" || limits === null || Array.isArray(limits)) {
    throw new TypeError(`${where}: resourceLimits must be an object like { maxOldGenerationSizeMb: 256 }`);
  }
  for (const [key, value] of Object.entries(limits)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new TypeError(`${where}: unexpected resourceLimits option '${key}' (known: ${KEYS.join(", ")})`);
    }
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new TypeError(`${where}: resourceLimits.${key} must be a positive number of megabytes`);
    }
  }
  const old = (limits as ResourceLimits).maxOldGenerationSizeMb;
  if (old !== undefined && old < MIN_OLD_GENERATION_MB) {
    throw new RangeError(
      `${where}: resourceLimits.maxOldGenerationSizeMb must be at least ${MIN_OLD_GENERATION_MB} ` +
        "(below that V8 cannot boot a worker and aborts the whole process)",
    );
  }
  const unsupported = "Bun" in globalThis ? UNSUPPORTED.bun : "Deno" in globalThis ? UNSUPPORTED.deno : null;
  if (unsupported) throw new RuntimeError(`${where}: resourceLimits is not supported on ${unsupported}`);
}
