/**
 * Targets: what a thread runs, and how it travels there.
 *
 * JavaScript threads share no heap, so a function target travels as its source text and is
 * compiled again in the receiving thread, with every export of `threading` in scope under its own
 * name, plus the helpers esbuild (tsx) inserts into function bodies (`__name`, `__using`, ...).
 * A closure over the creating scope cannot travel: start()/submit() refuse a target that reads
 * such a name with a TypeError naming it (free-names.ts; what the check cannot tell fails in the
 * thread as a ReferenceError). A CommonJS build's `threading_1.Lock` / `import_threading.Lock` is
 * bound to the library in the thread. `import()` inside a target is rewritten so that relative
 * specifiers resolve against the file that created the thread: only real import expressions,
 * found by a tokenizer (js-tokens.ts), never text in strings, templates, regexes or comments.
 *
 * A module target `{ module, export }` is imported in the thread, with its full module scope.
 */
import { nodeModule, url, vm } from "../shared/builtins.js";
import { type FreeName, freeNames } from "./free-names.js";
import { esbuildHelpers } from "./esbuild-helpers.js";
import { rewriteImports } from "./js-tokens.js";
import { beforeUserImport } from "./loaders.js";
import { locate, namespaceImports, type SourceLocation } from "./locate.js";
import { distUrl } from "../shared/paths.js";

const { fileURLToPath, pathToFileURL } = url;

/** A function exported from a module, run in the thread: `{ module: "./work.ts", export: "crunch" }`. */
export type ModuleTarget = { module: string | URL; export?: string | undefined };
/** What a thread, a pool task or a Barrier action runs: a function (sent as source) or a module export. */
// biome-ignore lint/suspicious/noExplicitAny: targets accept any parameters
export type Target = ((...args: any[]) => unknown) | ModuleTarget;

/** A target in the form that crosses threads. */
export type TargetSpec =
  | {
      kind: "function";
      source: string;
      name: string;
      base: string;
      location?: SourceLocation;
      /**
       * False when the checked source reads no export of the library (nor a namespace alias or
       * `eval`, checkFreeNames()), and holds neither `import` nor `arguments`: a thread's worker
       * may then compile and run it before it has loaded the whole library (threads/worker.ts).
       * Absent: it may read it.
       */
      library?: boolean;
      /**
       * Names the source reads that its file binds to `threading`'s namespace (`import * as T from
       * "threading"`, namespaceImports()): the thread binds them to the library's exports.
       */
      namespaces?: string[];
    }
  | { kind: "module"; module: string; export: string; base?: string };

// The library's own files, as stack traces name them: dist/, or src/ when source maps are on (tsx).
const packageRoot = new URL("../", distUrl).href;
const libraryDirs = [`${packageRoot}dist/`, `${packageRoot}src/`];
/** The same as file paths, for stack frames that name a path (told apart before making a URL of it). */
const libraryPaths = packageRoot.startsWith("file:") ? libraryDirs.map((dir) => fileURLToPath(dir)) : [];

/**
 * Where callerFile() falls back to when no user file is on the stack: in a thread, the file its
 * target was written in (set by the thread's worker), else the working directory. A function
 * target compiled without a location (Bun, Deno, or where locate() could not check one) runs as
 * code that names no file, and a function written inside it and sent on from there (a nested
 * Thread, submit()) would resolve its relative import() against the working directory.
 */
let fallbackFile: string | undefined;

/** @internal In a thread's worker: callerFile()'s fallback while that thread runs (undefined between threads). */
export function setCallerFallback(file: string | undefined): void {
  fallbackFile = file || undefined;
}

/** How many frames callerFile() looks at first. */
const NEAR_FRAMES = 6;

/** Node's own Error.prepareStackTrace (Node 20-26 expose it under this name), which maps frames through source maps when they are on. */
type PrepareStackTrace = (error: Error, sites: NodeJS.CallSite[]) => unknown;

/**
 * The stack's frames, unformatted, captured as `new Error()` in callerFile() would see them, or
 * undefined where this cannot be done without changing what callerFile() finds: only with Node's
 * source maps on (tsx, --enable-source-maps) and Node's own Error.prepareStackTrace (not one a
 * program or a package installed).
 */
function rawFrames(prepare: unknown, skip: Function): NodeJS.CallSite[] | undefined {
  if ((process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled !== true) return undefined;
  if (typeof prepare !== "function" || prepare.name !== "ErrorPrepareStackTrace") return undefined;
  // (--frozen-intrinsics: Error.prepareStackTrace cannot be set; the stack's text is read instead)
  if (Object.isFrozen(Error)) return undefined;
  const holder: { stack?: unknown } = {};
  let stack: unknown;
  (Error as { prepareStackTrace?: unknown }).prepareStackTrace = (_: unknown, sites: NodeJS.CallSite[]) => sites;
  try {
    Error.captureStackTrace(holder, skip);
    // (V8 formats the stack when it is first read: with the prepareStackTrace set here)
    stack = holder.stack;
  } catch {
    return undefined;
  } finally {
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = prepare;
  }
  return Array.isArray(stack) ? (stack as NodeJS.CallSite[]) : undefined;
}

/** Whether a stack trace's line (unmapped) names a file of the library. */
function libraryFrame(line: string): boolean {
  const m = /\(?((?:file|data|node):[^\s)]+?|\/[^\s)]+?)(?::\d+)?(?::\d+)?\)?$/.exec(line.trim());
  if (!m) return false;
  const file = m[1] as string;
  if (file.startsWith("/")) return libraryPaths.some((dir) => file.startsWith(dir));
  return libraryDirs.some((dir) => file.startsWith(dir));
}

/**
 * The URL of the user file that called into the library (for relative imports), best effort: the
 * first frame of the stack that names a file outside the library (as the stack trace names it, so
 * under source maps the original file).
 *
 * With source maps on, the text of a stack maps every frame, and mapping the library's own frames
 * makes Node parse the library's source maps (a megabyte of JSON: 40-160 ms in the first start()
 * of a program run under tsx or with --enable-source-maps). Those frames are skipped in any case
 * (mapped, they name the library's src/), so the frames are read unmapped, and Node maps only the
 * others, one at a time, with its own Error.prepareStackTrace: the same file as from the whole
 * text. The frames are captured here, in callerFile() itself, so that they are the same frames
 * (`Error.stackTraceLimit` counts this one) as `new Error()` here would give.
 * `skip`: the library function the user called (a Thread constructor): the one frame below its
 * call is read first, alone (nearFile()), and the stack only if that is not a user file.
 */
export function callerFile(skip?: Function): string {
  if (skip !== undefined) {
    const near = nearFile(skip);
    if (near !== undefined) return near;
  }
  const prepare = (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
  const sites = rawFrames(prepare, rawFrames);
  if (sites !== undefined) {
    const error = new Error();
    for (const site of sites) {
      if (libraryFrame(String(site))) continue;
      const text = String((prepare as PrepareStackTrace)(error, [site]));
      const file = userFileIn(`\n${text.slice(text.lastIndexOf("\n") + 1)}`);
      if (file !== undefined) return file;
    }
    return fallbackFile ?? pathToFileURL(`${process.cwd()}/`).href;
  }
  // The user's frame is nearly always within the first few: a stack of those first (its frames
  // formatted, with source maps looked up under tsx, are most of the cost), the whole one if not.
  const limit = Error.stackTraceLimit;
  if (typeof limit === "number" && limit > NEAR_FRAMES) {
    let near = "";
    try {
      Error.stackTraceLimit = NEAR_FRAMES;
      near = new Error().stack ?? "";
    } catch {
      // (a non-writable Error.stackTraceLimit: the whole stack below)
    } finally {
      if (Error.stackTraceLimit !== limit) Error.stackTraceLimit = limit;
    }
    const found = userFileIn(near);
    if (found !== undefined) return found;
  }
  return userFileIn(new Error().stack ?? "") ?? fallbackFile ?? pathToFileURL(`${process.cwd()}/`).href;
}

/**
 * The file of the code that called `skip` (the frame just below its topmost call), if it is a user
 * file: callerFile()'s cheap case, one frame captured and formatted (a stack trace costs some
 * microseconds a frame), read as callerFile() reads its frames.
 */
function nearFile(skip: Function): string | undefined {
  const limit = Error.stackTraceLimit;
  if (typeof limit !== "number" || limit < 1) return undefined;
  const prepare = (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
  try {
    Error.stackTraceLimit = 1;
  } catch {
    return undefined; // (a non-writable Error.stackTraceLimit)
  }
  try {
    const sites = rawFrames(prepare, skip);
    if (sites !== undefined) {
      const site = sites[0];
      if (site === undefined || libraryFrame(String(site))) return undefined;
      Error.stackTraceLimit = 0;
      const text = String((prepare as PrepareStackTrace)(new Error(), [site]));
      return userFileIn(`\n${text.slice(text.lastIndexOf("\n") + 1)}`);
    }
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, skip);
    return typeof holder.stack === "string" ? userFileIn(holder.stack) : undefined;
  } catch {
    return undefined;
  } finally {
    if (Error.stackTraceLimit !== limit) Error.stackTraceLimit = limit;
  }
}

/** The first file of `stack` (an Error's) outside Node and this library, as a URL. */
function userFileIn(stack: string): string | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const m = /\(?((?:file|data|node):[^\s)]+?|\/[^\s)]+?)(?::\d+)?(?::\d+)?\)?$/.exec(line.trim());
    if (!m) continue;
    let file = m[1] as string;
    if (file.startsWith("node:")) continue;
    if (file.startsWith("/")) {
      if (libraryPaths.some((dir) => file.startsWith(dir))) continue;
      file = pathToFileURL(file).href;
    }
    if (libraryDirs.some((dir) => file.startsWith(dir))) continue;
    return file;
  }
  return undefined;
}

/** True for `{ module, export }`. */
export function isModuleTarget(target: unknown): target is ModuleTarget {
  return typeof target === "object" && target !== null && "module" in target;
}

function resolveModule(module: string | URL, base: string): string {
  const spec = module instanceof URL ? module.href : module;
  if (spec.startsWith("./") || spec.startsWith("../")) return new URL(spec, base).href;
  if (spec.startsWith("/")) return pathToFileURL(spec).href;
  return spec;
}

/** A package name or subpath import (`lodash`, `@scope/pkg/sub`, `#internal`), not a URL or a path. */
function isBare(spec: string): boolean {
  return /^[@#\w]/.test(spec) && !/^[a-zA-Z][a-zA-Z\d+.-]*:/.test(spec);
}

/**
 * import() of `spec` (as resolveModule() left it) in a thread. A bare specifier resolves from the
 * library's own files, where a package of the user's project is found when the library sits in
 * the same node_modules. Where that finds nothing (the library linked from elsewhere: `npm link`,
 * a `file:` dependency, a workspace; or a `#subpath` import of the user's package), it is resolved
 * again from `base`, the file that made the thread, as require() there would resolve it
 * (conditions "require", "node", "default" and --conditions): a package that exports only an
 * "import" entry is still not found that way, and the first error stands.
 */
export async function importFrom(spec: string, base: string | undefined): Promise<unknown> {
  try {
    return await import(spec);
  } catch (e) {
    const again = base !== undefined ? fromBase(spec, base, e) : null;
    if (again === null) throw e;
    return import(again);
  }
}

function fromBase(spec: string, base: string, error: unknown): string | null {
  if ((error as { code?: unknown } | null)?.code !== "ERR_MODULE_NOT_FOUND") return null;
  if (!isBare(spec) || !base.startsWith("file:")) return null;
  try {
    return pathToFileURL(nodeModule.createRequire(base).resolve(spec)).href;
  } catch {
    return null;
  }
}

/** False once `new Function` was refused (--disallow-code-generation-from-strings). */
let codeGeneration = true;

/**
 * `new Function(...params, body)`. Under --disallow-code-generation-from-strings, which refuses
 * `eval` and `new Function` (EvalError) but not node:vm's compilers, the same function from
 * vm.compileFunction(), its body on the same line (the third) as new Function puts it.
 */
export function makeFunction(params: string[], body: string): Function {
  if (codeGeneration) {
    try {
      return new Function(...params, body);
    } catch (e) {
      if (!(e instanceof EvalError)) throw e;
      codeGeneration = false;
    }
  }
  return vm.compileFunction(`\n\n${body}`, params);
}

/** Turns the source of a function into an expression that evaluates to it (methods become functions). */
export function functionExpression(fn: Function, what: string, text?: string): string {
  const source = text ?? Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new TypeError(
      `${what} cannot be sent to another thread: it is a native or bound function (pass a plain function)`,
    );
  }
  if (/^class\b/.test(source)) throw new TypeError(`${what} must be a function, not a class`);
  for (const candidate of [source, source.replace(/^(async\s+)?(\*?\s*)/, "$1function $2")]) {
    try {
      makeFunction([], `return (${candidate});`);
      return candidate;
    } catch {
      // try the next form
    }
  }
  throw new TypeError(`${what} cannot be sent to another thread: its source does not parse on its own`);
}

/** Function targets described (describeTarget), by check, file, name and source: read-only, shared by every request. */
const described = new Map<string, TargetSpec>();

/**
 * Function targets whose description does not depend on the file that made the thread: checked,
 * located (so `base` is the file the function is written in, verified by locate()), with no
 * `import` in their source (relative specifiers resolve against the file that made the thread)
 * and reading no namespace import of that file. By the function object: a `new Thread` of one of
 * them needs no callerFile() (a stack trace, most of the cost of a Thread's constructor).
 */
const placed = new WeakMap<Function, TargetSpec & { kind: "function" }>();

/**
 * The file a `new Thread` of function `target` may take as the file that made it without reading
 * the stack (see `placed`), or undefined: then callerFile().
 */
export function placedBase(target: Function): string | undefined {
  return placedSpec(target)?.base;
}

/** `target`'s description in `placed`, unless its name was changed since. */
function placedSpec(target: Function): (TargetSpec & { kind: "function" }) | undefined {
  const spec = placed.get(target);
  return spec !== undefined && spec.name === target.name ? spec : undefined;
}

/** describeTarget() of a function whose source (Function.prototype.toString) is `raw`. */
function describeFunction(target: Function, raw: string, where: string, base: string, check: boolean): TargetSpec {
  let source = functionExpression(target, where, raw);
  const namespaces = namespacesRead(source, base, ownName(target.name));
  // A source with import() may load the library (or anything) as it runs: it gets it first. An
  // arrow's `arguments` (which free-names.ts lets through) would be the compiled wrapper's.
  const library =
    !check ||
    checkFreeNames(source, where, ownName(target.name), namespaces) ||
    namespaces.length > 0 ||
    source.includes("import") ||
    source.includes("arguments");
  const spec: TargetSpec = { kind: "function", source, name: target.name, base };
  if (!library) spec.library = false;
  if (namespaces.length > 0) spec.namespaces = namespaces;
  const found = locate(target, raw, base);
  if (found) {
    // Laid out as in the user's file; functionExpression() may put `function ` before a method.
    source = functionExpression(target, where, found.source);
    const column = Math.max(1, found.location.column - (source.length - found.source.length));
    Object.assign(spec, { source, location: { ...found.location, column } });
  }
  return spec;
}

/**
 * The names `source` may read (in any scope: binding one the source declares itself is harmless)
 * that its file `base` binds to `threading`'s namespace (`import * as T from "threading"`:
 * namespaceImports()), unless they are `known` or globals. @internal
 */
export function namespacesRead(source: string, base: string, known: readonly string[]): string[] {
  const names = namespaceImports(base);
  if (names.size === 0) return [];
  const read = new Set<string>();
  freeNames(source, read);
  const out: string[] = [];
  for (const name of read) {
    if (names.has(name) && !known.includes(name) && !globals().has(name) && !(lib && name in lib)) out.push(name);
  }
  return out;
}

/**
 * Checks a module target's keys and types (its export, "default" if none, is returned): a
 * misspelt key (`{ module, exports: "f" }`) or an empty module is a TypeError here, not a thread
 * that fails importing the default export, or the package named "".
 */
export function checkModuleTarget(target: ModuleTarget, where: string): string {
  for (const key of Object.keys(target)) {
    if (key !== "module" && key !== "export") {
      throw new TypeError(`${where}: unexpected key '${key}' in a module target (it is { module, export })`);
    }
  }
  const exp = target.export ?? "default";
  if (typeof exp !== "string") throw new TypeError(`${where}.export must be a string`);
  if (typeof target.module !== "string" && !(target.module instanceof URL)) {
    throw new TypeError(`${where}.module must be a string or URL`);
  }
  if (target.module === "") throw new TypeError(`${where}.module must not be empty`);
  return exp;
}

/**
 * Describes `target` for sending; `where` names it in errors. A function target whose source uses
 * names the thread will not have is a TypeError naming them (checkFreeNames), unless `check` is
 * false (a pool whose initializer may define globals).
 */
export function describeTarget(target: unknown, where: string, base = callerFile(), check = true): TargetSpec {
  if (typeof target === "function") {
    // A loop starting threads with one inline arrow describes the same source again and again: its
    // spec depends only on the source text, the name, the file and the check (locate() too keys its
    // guess by file and source), so it is made once (two compiles of the source, the location).
    const mine = check ? placedSpec(target) : undefined;
    if (mine !== undefined && mine.base === base) return mine;
    const raw = Function.prototype.toString.call(target);
    const key = `${check ? "1" : "0"}${base}\u0000${target.name}\u0000${raw}`;
    const known = described.get(key);
    if (known !== undefined) return known;
    const spec = describeFunction(target, raw, where, base, check);
    if (described.size >= 256) described.clear();
    described.set(key, spec);
    if (check && spec.kind === "function" && spec.location !== undefined && spec.namespaces === undefined) {
      if (!raw.includes("import")) placed.set(target, spec);
    }
    return spec;
  }
  if (isModuleTarget(target)) {
    const exp = checkModuleTarget(target, where);
    const module = resolveModule(target.module, base);
    return { kind: "module", module, export: exp, ...(isBare(module) ? { base } : {}) };
  }
  throw new TypeError(
    `${where} must be a function or { module, export }, not ${target === null ? "null" : typeof target}`,
  );
}

/**
 * The names a CommonJS build gives `threading`'s namespace (`const threading_1 = require("threading")`
 * from tsc, `var import_threading = require("threading")` from esbuild/tsx, also for
 * "threading/queue") and an ESM `import * as threading`: a function target compiled so reads
 * `threading_1.Lock`, and in the thread that name is bound to the library's exports.
 */
const namespaceAlias = /^(?:import_)?(?:threading|queue)(?:_?\d+)?$/;

function isNamespaceAlias(name: string, use: FreeName): boolean {
  return !use.bare && use.members.size > 0 && namespaceAlias.test(name);
}

let globalNames: Set<string> | undefined;

/** Every name the global object has here (own and inherited), the JavaScript and Node.js globals. */
function globals(): Set<string> {
  if (!globalNames) {
    globalNames = new Set();
    for (let o: object | null = globalThis; o; o = Object.getPrototypeOf(o)) {
      for (const name of Object.getOwnPropertyNames(o)) globalNames.add(name);
    }
  }
  return globalNames;
}

/**
 * Sources (with their known names) whose free names were all found in the thread's scope, and
 * whether they read the library (checkFreeNames' result).
 */
const passed = new Map<string, boolean>();

const commonJsNames = new Set(["require", "module", "exports", "__dirname", "__filename"]);

/**
 * What `import(` becomes in a compiled function target (withImporter), bound by evaluate(). A
 * function written inside a target carries it in its source: sent on from that thread (a nested
 * Thread, submit(), a Barrier action), it is bound again where it lands, so it is a known name.
 */
const IMPORTER = "__threadingImport";

function list(names: string[]): string {
  return names.length === 1 ? (names[0] as string) : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/**
 * Refuses a function target that reads names of the scope around it: they do not exist in the
 * thread, which gets the source only. Known names: the globals (of this thread), `threading`'s
 * exports, esbuild's helpers, `known` (e.g. the classes of a subclass chain), and the namespace
 * aliases of a CommonJS build (whose members must be exports). Conservative (free-names.ts): what
 * it cannot tell is let through, and fails in the thread as a ReferenceError naming it.
 * Returns whether the source may read the library: it names one of its exports (also one a global
 * shares, as `Event`), a namespace alias or `eval` anywhere, in any scope, declared or not (for
 * TargetSpec's `library`: a false "no" would leave the thread without a name it reads).
 */
export function checkFreeNames(
  source: string,
  where: string,
  known: readonly string[] = [],
  namespaces: readonly string[] = [],
): boolean {
  // The same source is checked again and again (a loop starting threads with one inline arrow).
  const key = `${known.join(",")}\u0000${namespaces.join(",")}\u0000${source}`;
  const before = passed.get(key);
  if (before !== undefined) return before;
  const missing: string[] = [];
  const notExports: string[] = [];
  // Without the library's exports at hand (never seen: whoever starts a thread has it), say it may.
  let library = !lib;
  // Every name the source could read in some scope, free or not: the free names are conservative
  // the other way (a name declared anywhere in the source counts as declared everywhere; defaults,
  // class fields and `typeof` operands are skipped), so `library` is decided on these.
  const read = new Set<string>();
  const uses = freeNames(source, read);
  for (const [name, use] of uses) {
    if (known.includes(name)) continue;
    if (globals().has(name) || name in esbuildHelpers || name === IMPORTER || (lib && name in lib)) continue;
    if (isNamespaceAlias(name, use) || namespaces.includes(name)) {
      for (const m of use.members) if (lib && !(m in lib)) notExports.push(`${name}.${m}`);
      continue;
    }
    missing.push(name);
  }
  // The library's names win over globals of the same name (Event); eval could read any; a name
  // written with an escape (`L\u006fck`) may be one of them.
  for (const name of read) {
    if (library) break;
    if (known.includes(name)) continue;
    library = (lib !== undefined && name in lib) || name === "eval" || namespaceAlias.test(name) || name.includes("\\");
  }
  if (notExports.length > 0) {
    throw new TypeError(
      `${where} uses ${list(notExports)}, which ${notExports.length === 1 ? "is not an export" : "are not exports"} of threading`,
    );
  }
  if (missing.length === 0) {
    if (passed.size >= 1024) passed.clear();
    passed.set(key, library);
    return library;
  }
  const one = missing.length === 1;
  const hints: string[] = [];
  const cjs = missing.filter((m) => commonJsNames.has(m));
  if (cjs.length > 0)
    hints.push(`${list(cjs)} ${cjs.length === 1 ? "is" : "are"} CommonJS's: in a thread, use await import()`);
  const helpers = missing.filter((m) => /^__[a-z]/i.test(m) && !commonJsNames.has(m));
  // `T.Lock` with T a namespace of threading whose import was not found in the caller's file.
  const namespaceLike = missing.filter((m) => {
    const use = uses.get(m);
    return use !== undefined && !use.bare && use.members.size > 0 && [...use.members].every((x) => lib && x in lib);
  });
  if (namespaceLike.length > 0) {
    const reads = namespaceLike.map((m) => `${m}.${[...(uses.get(m) as FreeName).members][0]}`);
    const example = [...(uses.get(namespaceLike[0] as string) as FreeName).members][0];
    hints.push(
      `${list(reads)} ${reads.length === 1 ? "reads" : "read"} threading's exports through a name the thread has ` +
        `only when the file that starts it says import * as ${namespaceLike[0]} from "threading": otherwise ` +
        `import them by name (import { ${example} } from "threading") and write ${example}, as every export of ` +
        "threading is in scope in the thread under its own name",
    );
  }
  if (helpers.length > 0)
    hints.push(
      `${list(helpers)} ${helpers.length === 1 ? "looks like a compiler helper" : "look like compiler helpers"}: compile with target ES2017 or later`,
    );
  throw new TypeError(
    `${where} uses ${list(missing)} from outside the function, which ${one ? "does" : "do"} not exist in the thread ` +
      `(a function target travels as source text, without the variables around it): ` +
      `pass ${one ? "it" : "them"} in args, or use a { module, export } target that imports what it needs` +
      (hints.length > 0 ? ` (${hints.join("; ")})` : ""),
  );
}

/** For each source compiled here: the namespace aliases it uses (see namespaceAlias). */
const aliasesOf = new Map<string, string[]>();

function aliases(source: string): string[] {
  // An alias is named threading... or queue... (namespaceAlias): a source without either has none,
  // and skips the tokenizer (a thread's first target compiles before the tokenizer has warmed up).
  if (!source.includes("threading") && !source.includes("queue")) return [];
  let out = aliasesOf.get(source);
  if (out === undefined) {
    out = [];
    for (const [name, use] of freeNames(source)) if (isNamespaceAlias(name, use)) out.push(name);
    if (aliasesOf.size >= 256) aliasesOf.clear();
    aliasesOf.set(source, out);
  }
  return out;
}

let scope: { names: string[]; values: unknown[] } | undefined;
/** The scope of a source that reads no library name: esbuild's helpers only. */
let helperScope: { names: string[]; values: unknown[] } | undefined;
let lib: Record<string, unknown> | undefined;

function scopeOf(namespace: Record<string, unknown>): { names: string[]; values: unknown[] } {
  const entries = Object.entries(namespace);
  return { names: entries.map(([k]) => k), values: entries.map(([, v]) => v) };
}

/**
 * @internal The library's entry hands its own namespace here once it has loaded (a static import
 * of index.js from this file would be a cycle that breaks class initialization order).
 */
export function provideLibrary(namespace: Record<string, unknown>): void {
  lib = namespace;
  scope = undefined;
}

/** Rewritten sources, by source: a pool thread compiles the same task function again and again. */
const rewritten = new Map<string, string>();

/** `source` with its real `import(...)` expressions (not text in strings, comments, regexes) rewritten. */
function withImporter(source: string): string {
  if (!source.includes("import")) return source;
  let out = rewritten.get(source);
  if (out === undefined) {
    out = rewriteImports(source, IMPORTER);
    if (rewritten.size >= 256) rewritten.clear();
    rewritten.set(source, out);
  }
  return out;
}

/**
 * Evaluates the expression `source` in the scope a function target gets: every export of
 * `threading` under its own name, esbuild's helpers, `import()` resolved against `base`, and the
 * `extra` names (which win over the others). Synchronous, so a blocking call (Barrier.wait(),
 * reviving a local subclass) can compile source too.
 */
/** `[name]` if `name` can be bound to the function in the thread (see evaluate's `name`), else []. */
export function ownName(name: string): string[] {
  return /^[A-Za-z_$][\w$]*$/.test(name) && !reserved.has(name) ? [name] : [];
}
const reserved = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await arguments eval undefined"
  ).split(" "),
);

/** How a function target's source is compiled: the name it had, where it was written. */
export interface EvaluateOptions {
  /** The function's own name, bound to it (an arrow `const f = () => f()` may call itself). */
  name?: string;
  /** Where the source was written: stack frames then name that file and line (`//# sourceURL`). */
  location?: SourceLocation;
  /** False: the source reads no library name (TargetSpec's `library`), and may compile without it. */
  library?: boolean;
  /** Names bound to the library's exports (TargetSpec's `namespaces`: `import * as T from "threading"`). */
  namespaces?: readonly string[] | undefined;
}

export function evaluate(
  source: string,
  base: string,
  extra: Record<string, unknown> = {},
  options: EvaluateOptions = {},
): unknown {
  // A source that reads no library name (options.library false) compiles before the library has loaded.
  let from: { names: string[]; values: unknown[] };
  if (!lib && options.library === false) {
    helperScope ??= scopeOf(esbuildHelpers);
    from = helperScope;
  } else {
    if (!lib) throw new Error("threading: evaluate() before the library's entry has loaded");
    scope ??= scopeOf({ ...esbuildHelpers, ...lib });
    from = scope;
  }
  const names: string[] = [];
  const values: unknown[] = [];
  from.names.forEach((name, i) => {
    if (!(name in extra)) {
      names.push(name);
      values.push(from.values[i]);
    }
  });
  const importer = async (spec: string) => {
    await beforeUserImport();
    return typeof spec === "string" ? importFrom(resolveModule(spec, base), base) : import(spec);
  };
  // CommonJS builds read the library as `threading_1.Lock`: bind such names to its exports.
  for (const alias of [...aliases(source), ...(options.namespaces ?? [])]) {
    if (lib && !(alias in extra) && !(alias in lib)) extra = { ...extra, [alias]: lib };
  }
  const extraNames = Object.keys(extra);
  const make = (body: string) => makeFunction([...names, IMPORTER, ...extraNames], body);
  const expression = withImporter(source);
  const { location } = options;
  const [name] = ownName(options.name ?? "");
  // new Function puts the body on the script's third line: pad it so the function starts at its
  // line and column in the user's file, and name that file. (A function on the file's first three
  // lines starts on the body's first line, after `head`: its column still counts, its line cannot.)
  const pad = (head: string): string => {
    if (!location) return "";
    const lines = location.line - 3;
    return lines > 0
      ? "\n".repeat(lines) + " ".repeat(location.column - 1)
      : " ".repeat(Math.max(0, location.column - 1 - head.length));
  };
  const url = location ? `\n//# sourceURL=${location.url}` : "";
  let compiled: Function | undefined;
  if (name !== undefined) {
    const head = `"use strict";{const ${name}=(`;
    try {
      compiled = make(`${head}${pad(head)}${expression}\n);return ${name};}${url}`);
    } catch {
      compiled = undefined;
    }
  }
  const head = `"use strict";return(`;
  compiled ??= make(`${head}${pad(head)}${expression}\n);${url}`);
  return compiled(...values, importer, ...extraNames.map((k) => extra[k]));
}

/** Turns a spec back into a callable in this thread. */
export async function compileTarget(spec: TargetSpec): Promise<(...args: unknown[]) => unknown> {
  if (spec.kind === "function") {
    const options: EvaluateOptions = { name: spec.name, location: spec.location, namespaces: spec.namespaces };
    if (spec.library === false) options.library = false;
    return evaluate(spec.source, spec.base, {}, options) as (...args: unknown[]) => unknown;
  }
  // The library's own modules (Timer's body, ...) are JavaScript: no need to register tsx for them.
  if (!libraryDirs.some((dir) => spec.module.startsWith(dir))) await beforeUserImport();
  const mod = (await importFrom(spec.module, spec.base)) as Record<string, unknown>;
  const fn = mod[spec.export];
  if (typeof fn !== "function") {
    throw new TypeError(`module ${spec.module} has no function export "${spec.export}"`);
  }
  return fn as (...args: unknown[]) => unknown;
}
