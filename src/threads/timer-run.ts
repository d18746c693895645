/** The body of a Timer's thread (see timer.ts); imported by the thread as a module target. */
// The whole library, so that the bundle keeps one shared chunk for all its entries (scripts/bundle.mjs).
import "../index.js";
import type { Event } from "../sync/event.js";
import { compileTarget, type TargetSpec } from "../transport/target.js";

export async function runTimer(interval: number, spec: TargetSpec, args: unknown[], finished: Event): Promise<void> {
  const fn = await compileTarget(spec);
  finished.wait(interval);
  if (!finished.isSet()) await fn(...args);
  finished.set();
}
