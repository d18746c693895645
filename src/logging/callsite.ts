/**
 * The caller's position for the `%(pathname)s`, `%(filename)s`, `%(module)s`, `%(lineno)d` and
 * `%(funcName)s` fields: the first frame of the stack that is not in this module's files (Python's
 * `Logger.findCaller`). Captured only when the format shows one of them (config.ts `usesCallsite`).
 */
import { fileURLToPath } from "node:url";
import { distUrl } from "../shared/paths.js";

/** Where a record was logged from. */
export interface CallSite {
  pathname: string;
  lineno: number;
  funcName: string;
}

function pathOf(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}

/**
 * The files whose frames are logging's own: every module between a log call and captureCallSite()
 * adds itself with markOwnFile(import.meta.url). Bundled, they are all one file.
 */
const ownFiles = new Set<string>([pathOf(import.meta.url)]);

/**
 * Logging's sources, as a call site names them where the runtime maps call sites through the
 * library's source maps (Deno: `src/logging/records.ts`, not the bundle that runs).
 */
const ownSources = pathOf(new URL("../src/logging/", distUrl).href);

/** Whether `file` (a call site's) is one of logging's own files. */
function isOwn(file: string): boolean {
  return ownFiles.has(file) || file.startsWith(ownSources);
}

/** Marks the module at `url` as logging's own: its frames are skipped when finding the caller. */
export function markOwnFile(url: string): void {
  ownFiles.add(pathOf(url));
}

function fileOf(site: NodeJS.CallSite): string {
  const f = site.getFileName() ?? "<unknown>";
  if (f.startsWith("file:")) {
    try {
      return fileURLToPath(f);
    } catch {
      return f;
    }
  }
  return f;
}

/** "file:line:col" of a V8 stack line: `at fn (loc)`, `at loc`, `at eval (eval at f (loc), <anonymous>:l:c)`. */
function frameLocation(frame: string): string {
  let loc = frame.trim().replace(/^at\s+/, "");
  if (loc.endsWith(")")) {
    const open = loc.indexOf("(");
    if (open >= 0) loc = loc.slice(open + 1, -1);
  }
  const comma = loc.lastIndexOf(", ");
  return comma >= 0 ? loc.slice(comma + 2) : loc;
}

/**
 * The first frame outside logging's own files, by the stack's text alone: where Error cannot be
 * changed (--frozen-intrinsics), so that neither call sites nor a longer stack can be asked for.
 */
function callSiteFromText(): CallSite | undefined {
  for (const frame of (new Error().stack ?? "").split("\n").slice(1)) {
    const m = /^(.*):(\d+):\d+$/.exec(frameLocation(frame));
    if (!m) continue;
    let file = m[1] as string;
    if (file.startsWith("file:")) {
      try {
        file = fileURLToPath(file);
      } catch {}
    }
    if (isOwn(file)) continue;
    const name = /^\s*at\s+(?:async\s+)?([^\s(]+)\s+\(/.exec(frame);
    return { pathname: file, lineno: Number(m[2]), funcName: name ? (name[1] as string) : "<module>" };
  }
  return undefined;
}

/** The first frame outside logging's own files, or undefined when there is none. */
export function captureCallSite(): CallSite | undefined {
  if (Object.isFrozen(Error)) return callSiteFromText();
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const sitesHolder: { stack?: NodeJS.CallSite[] } = {};
  const textHolder: { stack?: string } = {};
  let sites: NodeJS.CallSite[] | undefined;
  let text: string | undefined;
  try {
    Error.stackTraceLimit = 30;
    // The call sites say which frames are ours (by the file actually running); the default stack
    // text gives the caller's position after source maps (tsx), which call sites do not apply.
    Error.prepareStackTrace = (_e, sites) => sites;
    Error.captureStackTrace(sitesHolder);
    sites = sitesHolder.stack; // formatted on first access
    Error.prepareStackTrace = prepare;
    Error.captureStackTrace(textHolder);
    text = textHolder.stack;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  if (!Array.isArray(sites)) return undefined;
  const index = sites.findIndex((site) => !isOwn(fileOf(site)));
  if (index < 0) return undefined;
  const site = sites[index] as NodeJS.CallSite;
  const result = {
    pathname: fileOf(site),
    lineno: site.getLineNumber() ?? 0,
    funcName: site.getFunctionName() ?? "<module>",
  };
  const frame = typeof text === "string" ? text.split("\n")[index + 1] : undefined;
  const location = frame === undefined ? undefined : frameLocation(frame);
  const m = location === undefined ? null : /^(.*):(\d+):\d+$/.exec(location);
  if (m) {
    let file = m[1] as string;
    if (file.startsWith("file:")) {
      try {
        file = fileURLToPath(file);
      } catch {}
    }
    result.pathname = file;
    result.lineno = Number(m[2]);
  }
  return result;
}
