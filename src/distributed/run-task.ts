/**
 * The pool-thread half of a RedisExecutor job: a worker process (worker.ts) submits every job it
 * has accepted to its local ThreadPoolExecutor as `runTask(kind, what, extra, mode, args)` (the
 * target's parts: "module", URL, export; or "source", source, base URL), so decoding the
 * arguments, running the task and encoding its outcome all happen on the pool thread, in parallel.
 *
 * The worker has already checked the target against its --allow policy and resolved a module
 * target to a URL; this file only runs what it is given. Each module export and each source is
 * compiled once per thread. Returns an outcome (base64 text): a task's error is an outcome, except
 * a SystemExit (its process.exit()), which ends the pool thread as in any pool (runTask()).
 *
 * Tiny tasks: a call (not a map() chunk) whose function returned a value (not a promise) within
 * TINY_MS has its outcome marked (TINY prefixed), so the worker learns which module targets are
 * tiny and runs them on its own thread instead (`runInline`, see worker.ts): for those, the hand-off
 * to a pool thread and back costs more than the task.
 */
// The whole library, so that the bundle keeps one shared chunk for all its entries (scripts/bundle.mjs).
import "../index.js";
import { evaluate } from "../transport/target.js";
import { beforeUserImport } from "../transport/loaders.js";
import { thenable } from "../shared/thenable.js";
import { SystemExit } from "../errors.js";
import { argsOf, CHUNK, type Outcome, outcomeText } from "./protocol.js";

/** A target the worker accepted: a module URL and export, or a function's source. */
export type LocalTarget =
  | { kind: "module"; url: string; export: string }
  | { kind: "source"; source: string; base: string };

type Fn = (...args: unknown[]) => unknown;
/** Module exports, by URL and export: few, kept. */
const compiled = new Map<string, Fn>();
/** Function sources: a worker serves any number of clients for days, so the SOURCES_MAX used last. */
const compiledSources = new Map<string, Fn>();
const SOURCES_MAX = 256;

/** Prefixed to the outcome of a tiny call (base64 text never holds it). */
export const TINY = "~";
/** A call is tiny if its function returned a value (not a promise) in less than this (ms). */
export const TINY_MS = 0.1;

/** The function of a target, compiled (imported, or evaluated) once per thread. */
export async function targetFunction(kind: LocalTarget["kind"], what: string, extra: string): Promise<Fn> {
  const key = kind === "module" ? `${what}#${extra}` : `${extra}\u0000${what}`;
  const cache = kind === "module" ? compiled : compiledSources;
  let fn = cache.get(key);
  if (fn !== undefined) {
    if (cache === compiledSources) {
      cache.delete(key); // the most recently used last
      cache.set(key, fn);
    }
    return fn;
  }
  if (kind === "module") {
    await beforeUserImport();
    const mod = (await import(what)) as Record<string, unknown>;
    const f = mod[extra];
    if (typeof f !== "function") throw new TypeError(`module ${what} has no function export "${extra}"`);
    fn = f as Fn;
  } else {
    fn = evaluate(what, extra) as Fn;
    if (typeof fn !== "function") throw new TypeError("the task's source is not a function");
  }
  cache.set(key, fn);
  if (cache.size > SOURCES_MAX) cache.delete(cache.keys().next().value as string);
  return fn;
}

/** @internal For tests: how many module exports and function sources this thread holds compiled. */
export function compiledCounts(): { modules: number; sources: number } {
  return { modules: compiled.size, sources: compiledSources.size };
}

/**
 * Runs one job's task in this pool thread; its outcome as base64 text (TINY-prefixed for a tiny
 * call). The target comes in parts, `kind` "module" with its URL and export, or "source" with its
 * text and base URL.
 */
export async function runTask(
  kind: LocalTarget["kind"],
  what: string,
  extra: string,
  mode: number,
  args: string,
): Promise<string> {
  let outcome: Outcome;
  let tiny = false;
  try {
    const fn = await targetFunction(kind, what, extra);
    const decoded = argsOf(args);
    if (mode === CHUNK) {
      const results: unknown[] = [];
      for (const call of decoded as unknown[][]) results.push(await fn(...call));
      outcome = { ok: true, value: results };
    } else {
      const t0 = performance.now();
      const value = fn(...decoded);
      if (thenable(value)) outcome = { ok: true, value: await value };
      else {
        tiny = performance.now() - t0 < TINY_MS;
        outcome = { ok: true, value };
      }
    }
  } catch (error) {
    // The task's process.exit() (or its own SystemExit) ends this pool thread, as in any pool: the
    // pool fails the task's future with it, which the worker sends as the outcome, and replaces
    // the thread (futures/pool-thread.ts).
    if (error instanceof SystemExit) throw error;
    outcome = { ok: false, error };
  }
  const text = outcomeText(outcome);
  return tiny ? TINY + text : text;
}

/**
 * Runs a call of `fn` on this thread (a worker's own thread, for a target known to be tiny): its
 * outcome as base64 text, how long the function ran (ms; a promise it returned is awaited and
 * `async` is true), and whether it called process.exit(). That must not end the worker process, so
 * while the function runs process.exit() throws SystemExit instead (as it does in a thread), which
 * fails this task as a pool thread's exit fails its task; the worker then sends the target back to
 * the pool. (An async target calling it after its first `await` is not covered: a target returns a
 * promise on the pool first, and so never runs here, unless it changed its nature.)
 */
export async function runInline(
  fn: Fn,
  args: string,
): Promise<{ text: string; ms: number; async: boolean; exited: boolean }> {
  let outcome: Outcome;
  let ms = 0;
  let async = false;
  let exited = false;
  try {
    const decoded = argsOf(args);
    const realExit = process.exit;
    process.exit = ((code?: number | string | null) => {
      exited = true;
      throw new SystemExit(code, "in a task");
    }) as typeof process.exit;
    const t0 = performance.now();
    let value: unknown;
    try {
      value = fn(...decoded);
    } finally {
      ms = performance.now() - t0;
      process.exit = realExit;
    }
    if (thenable(value)) {
      async = true;
      outcome = { ok: true, value: await value };
    } else outcome = { ok: true, value };
  } catch (error) {
    outcome = { ok: false, error };
  }
  return { text: outcomeText(outcome), ms, async, exited };
}
