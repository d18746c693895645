/**
 * The pool-thread half of a RedisExecutor job: a worker process (worker.ts) submits every job it
 * has accepted to its local ThreadPoolExecutor as `runTask(kind, what, extra, mode, args)` (the
 * target's parts: "module", URL, export; or "source", source, base URL), so decoding the
 * arguments, running the task and encoding its outcome all happen on the pool thread, in parallel.
 *
 * The worker has already checked the target against its --allow policy and resolved a module
 * target to a URL; this file only runs what it is given. Each module export and each source is
 * compiled once per thread. Always returns an outcome (base64 text): a task's error is an outcome.
 */
// The whole library, so that the bundle keeps one shared chunk for all its entries (scripts/bundle.mjs).
import "../index.js";
import { evaluate } from "../transport/target.js";
import { beforeUserImport } from "../transport/loaders.js";
import { CHUNK, fromRemoteBytes, type Outcome, outcomeText } from "./protocol.js";

/** A target the worker accepted: a module URL and export, or a function's source. */
export type LocalTarget =
  | { kind: "module"; url: string; export: string }
  | { kind: "source"; source: string; base: string };

type Fn = (...args: unknown[]) => unknown;
const compiled = new Map<string, Fn>();

async function compile(kind: LocalTarget["kind"], what: string, extra: string): Promise<Fn> {
  const key = kind === "module" ? `m${what}#${extra}` : `s${what}`;
  let fn = compiled.get(key);
  if (fn !== undefined) return fn;
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
  compiled.set(key, fn);
  return fn;
}

/**
 * Runs one job's task in this pool thread; its outcome as base64 text. The target comes in parts,
 * `kind` "module" with its URL and export, or "source" with its text and base URL.
 */
export async function runTask(
  kind: LocalTarget["kind"],
  what: string,
  extra: string,
  mode: number,
  args: string,
): Promise<string> {
  let outcome: Outcome;
  try {
    const fn = await compile(kind, what, extra);
    const decoded = fromRemoteBytes(Buffer.from(args, "base64")) as unknown[];
    if (mode === CHUNK) {
      const results: unknown[] = [];
      for (const call of decoded as unknown[][]) results.push(await fn(...call));
      outcome = { ok: true, value: results };
    } else {
      outcome = { ok: true, value: await fn(...decoded) };
    }
  } catch (error) {
    outcome = { ok: false, error };
  }
  return outcomeText(outcome);
}
