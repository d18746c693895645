// Runs a snippet of TypeScript, or a script, in a fresh process of the runtime that runs the tests,
// for what only a whole process shows: how it exits, what it prints, how long it lives. On Node a
// snippet runs under tsx (`node --import tsx --input-type=module -e`); under `bun test` as
// `bun -e`, under `deno test` as `deno eval --ext=ts` (both run TypeScript themselves), so the
// child is a program of the same runtime as the test (scripts/run-tests-on.mjs).
import { spawnSync } from "node:child_process";

export interface ChildResult {
  stdout: string;
  stderr: string;
  status: number | null;
  ms: number;
}

/** The runtime running this process: "bun", "deno" or "node". */
export const runtime: "bun" | "deno" | "node" =
  (process.versions as Record<string, string | undefined>).bun !== undefined
    ? "bun"
    : (process.versions as Record<string, string | undefined>).deno !== undefined
      ? "deno"
      : "node";

/**
 * Arguments of process.execPath that run `code` (TypeScript, an ES module) as this runtime's
 * program; `tsx: false` for JavaScript run by plain Node, without tsx's hooks in its threads.
 */
export function evalArgs(code: string, { tsx = true } = {}): string[] {
  if (runtime === "bun") return ["-e", code];
  if (runtime === "deno") return ["eval", "--ext=ts", code];
  return tsx ? ["--import", "tsx", "--input-type=module", "-e", code] : ["--input-type=module", "-e", code];
}

/** Arguments of process.execPath that run the JavaScript file `file` with `args` as this runtime's program. */
export function scriptArgs(file: string, ...args: string[]): string[] {
  return runtime === "deno" ? ["run", "-A", file, ...args] : [file, ...args];
}

/**
 * Runs `code` in a child (see the top of the file). `tsx: false` runs plain JavaScript in plain Node,
 * without loading tsx in the child (when every thread's worker also registered tsx at its boot on
 * Node >= 22, futures/exit's executor-in-a-thread child, 6 workers, took 12-18 s under tsx against
 * 3 s plain, Node 22 at load ~30).
 */
export function runChild(code: string, timeoutMs = 30_000, { tsx = true } = {}): ChildResult {
  const started = Date.now();
  const r = spawnSync(process.execPath, evalArgs(code, { tsx }), {
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, ms: Date.now() - started };
}

/**
 * node:test options for a test of what only Node does: `{ skip }` with `why` on Bun and Deno
 * (scripts/run-tests-on.mjs runs the suite there), nothing on Node. `why` names the Node feature
 * the test needs (README, "Runtimes and flags", says what the other runtimes do instead).
 */
export function nodeOnly(why: string): { skip?: string } {
  return runtime === "node" ? {} : { skip: `Node only: ${why}` };
}

/** node:test options for a test that cannot run on the runtimes `on`: `{ skip }` with `why` there, else nothing. */
export function skipOn(on: readonly ("bun" | "deno")[], why: string): { skip?: string } {
  return runtime !== "node" && on.includes(runtime) ? { skip: `not on ${runtime}: ${why}` } : {};
}
