/**
 * Which of the main thread's Node flags its threads run with.
 *
 * Every thread is a Worker, and a Worker accepts only some of Node's flags in its `execArgv`: one
 * rejected flag makes the constructor throw ERR_WORKER_INVALID_EXEC_ARGV. The flags a process
 * carries are often not chosen by the program: `node --test` on Node 24 hands its test files
 * every default option (`--stack-trace-limit=10`, `--v8-pool-size=4`, `--test-*`, ...), and
 * common flags such as `--max-old-space-size`, `--expose-gc`, `--stack-size`, `--title` or
 * `--trace-gc` are V8 or per-process options that Workers refuse.
 *
 * So threads get only flags from an allow-list of what matters inside a thread and Workers take:
 * loaders (`--import`, `--require`/`-r`, `--loader`, `--experimental-loader`), export conditions
 * (`--conditions`/`-C`), `--enable-source-maps`, warning and deprecation switches,
 * `--unhandled-rejections`, `--preserve-symlinks`, the profilers (`--cpu-prof`, `--heap-prof` and
 * their `-dir` / `-interval`: each thread writes its own profile, named by Node with its thread id;
 * not `--cpu-prof-name`, one file every thread would overwrite) and the `--experimental-*` /
 * `--no-experimental-*` feature switches. The memory and stack flags become the threads' `resourceLimits`:
 * `--max-old-space-size=N` -> maxOldGenerationSizeMb N, `--max-semi-space-size=N` ->
 * maxYoungGenerationSizeMb 3N (V8 sizes the young generation at three semi-spaces),
 * `--stack-size=N` (KiB of V8 stack) -> stackSizeMb for N KiB plus the thread's guard area.
 * Everything else stays on the main thread.
 *
 * Should the running Node still refuse one of the kept flags (an `--experimental-*` this version
 * does not have in workers), startWorker drops the flags the error names and tries again (or,
 * when it names a flag the process was not given, such as `--experimental-shadow-realm`'s
 * `--harmony-shadow-realm`, the experimental switches one at a time from the last); a Worker that
 * cannot be made at all is a RuntimeError, never a wait.
 */
import type { ResourceLimits, Worker } from "node:worker_threads";
import { RuntimeError } from "../errors.js";

/** Flags kept for threads that take a value (`--flag value` or `--flag=value`). */
const withValue = new Set([
  "--import",
  "--require",
  "-r",
  "--loader",
  "--experimental-loader",
  "--conditions",
  "-C",
  "--disable-warning",
  "--unhandled-rejections",
  "--experimental-default-type",
]);
/** Flags kept for threads that take no value. */
const plain = new Set([
  "--enable-source-maps",
  "--no-warnings",
  "--trace-warnings",
  "--pending-deprecation",
  "--no-deprecation",
  "--throw-deprecation",
  "--trace-deprecation",
  "--trace-uncaught",
  "--preserve-symlinks",
  "--no-addons",
]);
/**
 * The profilers' switches and their flags with a value, kept (in order) only when the switch is on:
 * `node --test` on Node 24 passes `--heap-prof-interval` to every test file, profiling nothing.
 */
const profilerFlags = new Map<string, "cpu" | "heap">([
  ["--cpu-prof", "cpu"],
  ["--cpu-prof-dir", "cpu"],
  ["--cpu-prof-interval", "cpu"],
  ["--heap-prof", "heap"],
  ["--heap-prof-dir", "heap"],
  ["--heap-prof-interval", "heap"],
]);
/** Flags that take a value and are not for threads: the value must be skipped with them. */
const skippedWithValue = new Set([
  "-e",
  "--eval",
  "-p",
  "--print",
  "--input-type",
  "--env-file",
  "--title",
  "--inspect-port",
  "--test-name-pattern",
  "--test-reporter",
  "--test-reporter-destination",
  "--watch-path",
  "--redirect-warnings",
  "--max-old-space-size",
  "--max-semi-space-size",
  "--stack-size",
  "--experimental-policy",
  "--experimental-sea-config",
  "--experimental-config-file",
  "--experimental-specifier-resolution",
  "--cpu-prof-name",
  "--heap-prof-name",
]);

/** The experimental switches that are not about a thread's code. */
const experimentalNotForThreads =
  /^--(no-)?experimental-(test|sea|permission|network-inspection|addon-modules|print-required-tla|default-config-file|config-file)/;

function isTsx(spec: string): boolean {
  return spec === "tsx" || /(^|[/\\])tsx([/\\]|$)/.test(spec);
}

/** What threads run with: their flags, resource limits, and tsx's loader, which they register on demand. */
export interface ThreadFlags {
  execArgv: string[];
  resourceLimits: ResourceLimits | null;
  tsx: string | null;
}

function number(value: string | undefined): number | null {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) return null;
  return Number(value);
}

/**
 * Sorts the main thread's `execArgv` into the flags its threads run with, and resource limits.
 * tsx's loader and require flags are taken out: tsx is returned apart, for a thread to register
 * through its API when it first imports a user module (transport/loaders.ts).
 */
export function threadFlags(execArgv: readonly string[]): ThreadFlags {
  const out: string[] = [];
  const limits: ResourceLimits = {};
  let tsx: string | null = null;
  const profiling = { cpu: { on: false, flags: [] as string[] }, heap: { on: false, flags: [] as string[] } };
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    // Node and V8 read --max_old_space_size as --max-old-space-size.
    const name = (eq >= 0 ? arg.slice(0, eq) : arg).replace(/_/g, "-");
    const profiler = profilerFlags.get(name);
    if (profiler !== undefined) {
      const p = profiling[profiler];
      if (name === `--${profiler}-prof`) p.on = true;
      else if (eq >= 0) p.flags.push(arg);
      else if (i + 1 < execArgv.length) p.flags.push(arg, execArgv[++i] as string);
      continue;
    }
    let value: string | undefined;
    if (withValue.has(name) || skippedWithValue.has(name)) {
      if (eq >= 0) value = arg.slice(eq + 1);
      else value = execArgv[++i];
    }
    if (name === "--max-old-space-size") {
      const mb = number(value);
      if (mb !== null) limits.maxOldGenerationSizeMb = mb;
      continue;
    }
    if (name === "--max-semi-space-size") {
      const mb = number(value);
      if (mb !== null) limits.maxYoungGenerationSizeMb = 3 * mb;
      continue;
    }
    if (name === "--stack-size") {
      const kib = number(value);
      // A Worker's V8 stack limit is its stackSizeMb less a 192 KiB guard area.
      if (kib !== null) limits.stackSizeMb = (kib + 192) / 1024;
      continue;
    }
    if (withValue.has(name)) {
      if (value === undefined) continue;
      const loader = name === "--import" || name === "--loader" || name === "--experimental-loader";
      if ((loader || name === "--require" || name === "-r") && isTsx(value)) {
        // (its loader names it best; `-r tsx/cjs` alone still makes threads register tsx)
        if (loader || tsx === null) tsx = value;
        continue;
      }
      if (eq >= 0) out.push(arg);
      else out.push(arg, value);
      continue;
    }
    if (plain.has(name)) {
      out.push(arg);
      continue;
    }
    if (/^--(no-)?experimental-/.test(name) && !experimentalNotForThreads.test(name) && !skippedWithValue.has(name)) {
      out.push(arg);
    }
  }
  for (const which of ["cpu", "heap"] as const) {
    if (profiling[which].on) out.push(`--${which}-prof`, ...profiling[which].flags);
  }
  return { execArgv: out, resourceLimits: Object.keys(limits).length > 0 ? limits : null, tsx };
}

/**
 * The flags an ERR_WORKER_INVALID_EXEC_ARGV error names ("... invalid execArgv flags: --a, --b"),
 * taken out of `execArgv` (with the value that follows a flag given apart from its value).
 * Returns null when the error names none of them.
 */
export function withoutRejected(execArgv: readonly string[], message: string): string[] | null {
  const at = message.indexOf("flags:");
  if (at < 0) return null;
  const rejected = new Set(
    message
      .slice(at + "flags:".length)
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const out: string[] = [];
  let dropped = false;
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    if (rejected.has(arg)) {
      dropped = true;
      if (withValue.has(arg) && !arg.includes("=")) i++;
      continue;
    }
    out.push(arg);
  }
  return dropped ? out : null;
}

/**
 * `execArgv` without its last `--experimental-*` / `--no-experimental-*` switch, or null if it has
 * none: for a refusal that names a flag the process was not given (Node turns
 * `--experimental-shadow-realm` into V8's `--harmony-shadow-realm`, which Workers refuse under
 * that name), the switches are dropped one at a time, from the last, until a Worker takes the rest.
 */
export function withoutLastExperimental(execArgv: readonly string[]): string[] | null {
  for (let i = execArgv.length - 1; i >= 0; i--) {
    const arg = execArgv[i] as string;
    // (not a loader, --experimental-loader, nor a value: only a switch)
    if (
      /^--(no-)?experimental-/.test(arg) &&
      !withValue.has(arg.split("=")[0] as string) &&
      !withValue.has(execArgv[i - 1] as string)
    ) {
      return [...execArgv.slice(0, i), ...execArgv.slice(i + 1)];
    }
  }
  return null;
}

/**
 * Makes a Worker with `flags.execArgv`; when Node refuses some of them, drops those from
 * `flags.execArgv` (so later Workers do not try them again) and tries again. A Worker that still
 * cannot be made is a RuntimeError that says why.
 */
export function startWorker(flags: { execArgv: string[] }, make: (execArgv: string[]) => Worker): Worker {
  for (;;) {
    try {
      return make(flags.execArgv);
    } catch (e) {
      const error = e as { code?: string; message?: string };
      if (error?.code === "ERR_WORKER_INVALID_EXEC_ARGV") {
        const rest = withoutRejected(flags.execArgv, String(error.message)) ?? withoutLastExperimental(flags.execArgv);
        if (rest !== null) {
          flags.execArgv = rest;
          continue;
        }
      }
      throw new RuntimeError(
        `threading: cannot start a Worker for threads (Node flags ${JSON.stringify(flags.execArgv)}): ${error?.message ?? String(e)}`,
        { cause: e },
      );
    }
  }
}
