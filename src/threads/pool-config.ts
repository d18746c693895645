/**
 * The bounds of the pool of idle thread workers, from the environment: read by the hub (hub.ts),
 * which says once on stderr when a value is not understood, and by the main thread (hub-client.ts),
 * which decides from them whether the first thread worker parks itself in a dock.
 */
import { writeAll } from "./output.js";

/** A count from the environment (a non-negative integer), or `fallback`. */
function envCount(name: string, fallback: number, warn: boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    if (warn) writeAll(2, `threading: ${name}=${raw} is not a non-negative integer; using ${fallback}\n`);
    return fallback;
  }
  return n;
}

/** A number of seconds from the environment (non-negative), in ms, or `fallback` ms. */
function envMs(name: string, fallback: number, warn: boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!(n >= 0) || n === Number.POSITIVE_INFINITY) {
    if (warn) writeAll(2, `threading: ${name}=${raw} is not a number of seconds; using ${fallback / 1000}\n`);
    return fallback;
  }
  return n * 1000;
}

/** The default of THREADING_IDLE_WORKERS. */
export const DEFAULT_IDLE_WORKERS = 16;

/** How many workers that ran a thread are kept idle for the next ones (0: no reuse). */
export function idleWorkers(warn: boolean): number {
  return envCount("THREADING_IDLE_WORKERS", DEFAULT_IDLE_WORKERS, warn);
}

/** How long an idle worker beyond the spares lives (ms). */
export function idleMs(warn: boolean): number {
  return envMs("THREADING_IDLE_SECONDS", 5_000, warn);
}
