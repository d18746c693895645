/**
 * Where a function target was written, so that its stack frames in the thread name the user's file
 * and line (target.ts compiles the source there with `//# sourceURL=` and that many lines of
 * padding). Best effort, never wrong on purpose: a location is returned only when it is checked.
 *
 * V8 knows where each function's code starts (the inspector's `[[FunctionLocation]]`: script id,
 * line, column in the code V8 ran). Mapping the script id to its URL would need the inspector's
 * Debugger domain (expensive), so the file is taken to be the one that called start()/submit()
 * (callerFile) and the guess is verified:
 *  - under a loader with source maps (tsx), the file's source map (module.findSourceMap) maps the
 *    position to the original file; the original text there must start with the function's first
 *    tokens (its parameter list or `function`/`async`), else the function came from another file;
 *  - without one (plain JavaScript, Node's type stripping), the file's text at that position must
 *    be the function's source itself (spaces where types were stripped).
 * Node only (process.getBuiltinModule, node:inspector); elsewhere, and on any failure, undefined.
 */
import { fs, url } from "../shared/builtins.js";
import { closing, tokenize } from "./js-tokens.js";

const { readFileSync } = fs;
const { fileURLToPath } = url;

/** A position in a user's file: 1-based line and column, as stack traces print them. */
export interface SourceLocation {
  url: string;
  line: number;
  column: number;
}

interface InspectorSession {
  connect(): void;
  // biome-ignore lint/suspicious/noExplicitAny: the inspector protocol's answers, read defensively below
  post(method: string, params: object, callback: (err: Error | null, result: any) => void): void;
}
interface SourceMapLike {
  findEntry(
    line: number,
    column: number,
  ): {
    generatedLine?: number;
    generatedColumn?: number;
    originalSource?: string;
    originalLine?: number;
    originalColumn?: number;
  };
  payload?: { sourcesContent?: (string | null)[]; sources?: string[] };
}

let session: InspectorSession | null | undefined;
const slot = Symbol.for("threading.locate");
const located = new WeakMap<Function, Located | null>();
const locatedSources = new Map<string, Located | null>();
const texts = new Map<string, string | null>();

function builtin<T>(name: string): T | undefined {
  try {
    return (process as unknown as { getBuiltinModule?: (n: string) => T }).getBuiltinModule?.(name);
  } catch {
    return undefined;
  }
}

function connect(): InspectorSession | null {
  if (session !== undefined) return session;
  session = null;
  try {
    const inspector = builtin<{ Session: new () => InspectorSession }>("node:inspector");
    if (inspector && typeof inspector.Session === "function" && !("Bun" in globalThis) && !("Deno" in globalThis)) {
      const s = new inspector.Session();
      s.connect();
      session = s;
    }
  } catch {
    session = null;
  }
  return session;
}

/** V8's 0-based position of `fn`'s code (synchronous: a same-thread inspector session answers at once). */
function functionLocation(fn: Function): { line: number; column: number } | undefined {
  const s = connect();
  if (!s) return undefined;
  let out: { line: number; column: number } | undefined;
  const g = globalThis as Record<symbol, unknown>;
  g[slot] = fn;
  try {
    s.post("Runtime.evaluate", { expression: 'globalThis[Symbol.for("threading.locate")]' }, (err, r) => {
      const objectId = r?.result?.objectId;
      if (err || !objectId) return;
      s.post("Runtime.getProperties", { objectId, ownProperties: true }, (e, p) => {
        const loc = e
          ? undefined
          : p?.internalProperties?.find((x: { name: string }) => x.name === "[[FunctionLocation]]");
        const v = loc?.value?.value;
        if (v && typeof v.lineNumber === "number") out = { line: v.lineNumber, column: v.columnNumber };
      });
      s.post("Runtime.releaseObject", { objectId }, () => {});
    });
  } catch {
    out = undefined;
  } finally {
    delete g[slot];
  }
  return out;
}

function fileText(url: string): string | null {
  let text = texts.get(url);
  if (text === undefined) {
    try {
      text = readFileSync(url.startsWith("file:") ? fileURLToPath(url) : url, "utf8");
    } catch {
      text = null;
    }
    if (texts.size >= 64) texts.clear();
    texts.set(url, text);
  }
  return text;
}

const namespaceNames = new Map<string, ReadonlySet<string>>();
const namespaceImport =
  /\bimport\s*\*\s*as\s+([A-Za-z_$][\w$]*)\s+from\s*["']threading(?:\/queue)?["']|\b([A-Za-z_$][\w$]*)\s*=\s*(?:[\w$.]+\()?\s*require\(\s*["']threading(?:\/queue)?["']\s*\)/g;

/**
 * The local names the user file `file` (a URL) gives a namespace of `threading` (or `threading/queue`):
 * `import * as T from "threading"`, or CommonJS's `const T = require("threading")` (also through
 * tsc's `__importStar(...)` or esbuild's `__toESM(...)`). A function target written there may read
 * `T.Lock`: the thread binds T to the library (target.ts). Read from the file's text, as locate()
 * reads it; a file that cannot be read has none.
 */
export function namespaceImports(file: string): ReadonlySet<string> {
  let out = namespaceNames.get(file);
  if (out === undefined) {
    const names = new Set<string>();
    const text = file.startsWith("file:") || file.startsWith("/") ? fileText(file) : null;
    if (text?.includes("threading")) {
      for (const m of text.matchAll(namespaceImport)) names.add((m[1] ?? m[2]) as string);
    }
    out = names;
    if (namespaceNames.size >= 64) namespaceNames.clear();
    namespaceNames.set(file, out);
  }
  return out;
}

/** Offset of 0-based (line, column) in `text`, or -1. */
function offsetOf(text: string, line: number, column: number): number {
  let at = 0;
  for (let l = 0; l < line; l++) {
    at = text.indexOf("\n", at);
    if (at < 0) return -1;
    at++;
  }
  return at + column <= text.length ? at + column : -1;
}

/** 1-based line and column of `offset` in `text`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/** The text at `at` is `source`, with blanks where `source` has blanks (stripped types). */
function sameCode(text: string, at: number, source: string): boolean {
  if (at < 0 || at + source.length > text.length) return false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c !== text[at + i] && !/\s/.test(c)) return false;
  }
  return true;
}

/**
 * Where V8's position of a function falls in its source: its parameter list (`(`, or the single
 * parameter of `x => ...`), after `function name`, `async function`, a method's name; the start
 * of an async arrow function.
 */
function paramsAt(source: string): number {
  if (/^class\b/.test(source)) return constructorAt(source);
  const tokens = tokenize(source.slice(0, 400));
  const [a, b, c] = tokens;
  if (a?.type === "name" && b?.value === "=>") return a.start;
  // V8 puts an async arrow function at its `async`.
  if (a?.value === "async" && b?.type === "name" && c?.value === "=>") return 0;
  if (a?.value === "async" && b?.value === "(" && tokens[closing(tokens, 1) + 1]?.value === "=>") return 0;
  return tokens.find((t) => t.value === "(")?.start ?? -1;
}

/** A class: V8 puts it at its explicit constructor's parameter list, else at its start. */
function constructorAt(source: string): number {
  const tokens = tokenize(source);
  let j = 1;
  while (j < tokens.length && tokens[j]?.value !== "{")
    j = /^[([]$/.test(tokens[j]?.value ?? "") ? closing(tokens, j) + 1 : j + 1;
  const end = closing(tokens, j);
  for (let m = j + 1; m < end; m++) {
    const t = tokens[m] as (typeof tokens)[number];
    if (t.type === "name" && t.value === "constructor" && tokens[m + 1]?.value === "(" && tokens[m - 1]?.value !== ".")
      return (tokens[m + 1] as (typeof tokens)[number]).start;
    if (/^[([{]$/.test(t.value) && t.type === "punct") m = closing(tokens, m);
  }
  return 0;
}

/** `text` at `at` starts with the first token of `source`, and its next two follow soon (types may sit between). */
function sameStart(text: string, at: number, source: string): boolean {
  const want = tokenize(source.slice(0, 200))
    .slice(0, 3)
    .map((t) => t.value);
  const have = tokenize(text.slice(at, at + 200)).map((t) => t.value);
  if (want.length === 0 || have[0] !== want[0]) return false;
  let k = 0;
  for (const v of have) {
    if (v === want[k]) k++;
    if (k === want.length) return true;
  }
  return false;
}

/** Names after which a line break would end the statement (ASI): no break is put after them. */
const noBreakAfter = new Set([
  "return",
  "throw",
  "break",
  "continue",
  "yield",
  "async",
  "get",
  "set",
  "static",
  "let",
  "accessor",
]);

/**
 * `source` (code a loader generated, e.g. tsx's whitespace-minified output) with line breaks and
 * spaces put between its tokens so that each token the source map maps sits at its line (and,
 * where it can, column) of the original file, starting from (line0, col0), 0-based. Only
 * whitespace between tokens is added, never where a line break would insert a semicolon.
 */
function reline(
  source: string,
  genLine: number,
  genCol: number,
  map: SourceMapLike,
  url: string,
  line0: number,
  col0: number,
): string {
  const tokens = tokenize(source);
  let out = "";
  let at = 0;
  let line = line0;
  let col = col0;
  let genL = genLine;
  let genC = genCol;
  let scanned = 0;
  const advance = (text: string): void => {
    const nl = text.lastIndexOf("\n");
    if (nl < 0) col += text.length;
    else {
      line += text.split("\n").length - 1;
      col = text.length - nl - 1;
    }
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as (typeof tokens)[number];
    // Generated position of the token.
    for (; scanned < t.start; scanned++) {
      if (source[scanned] === "\n") {
        genL++;
        genC = 0;
      } else genC++;
    }
    const gap = source.slice(at, t.start);
    const e = map.findEntry(genL, genC);
    const exact =
      e?.generatedLine === genL &&
      e?.generatedColumn === genC &&
      (e.originalSource ?? url) === url &&
      typeof e.originalLine === "number" &&
      typeof e.originalColumn === "number";
    out += gap;
    advance(gap);
    if (exact && k > 0) {
      const ol = e.originalLine as number;
      const oc = e.originalColumn as number;
      const prev = tokens[k - 1];
      const breakable =
        !(prev?.type === "name" && noBreakAfter.has(prev.value)) &&
        !(t.type === "punct" && (t.value === "=>" || t.value === "++" || t.value === "--"));
      if (ol > line && breakable) {
        out += "\n".repeat(ol - line) + " ".repeat(oc);
        line = ol;
        col = oc;
      } else if (ol === line && oc > col) {
        out += " ".repeat(oc - col);
        col = oc;
      }
    }
    out += t.value;
    advance(t.value);
    at = t.end;
  }
  return out + source.slice(at);
}

/** Where a function target was written; `source` is its code laid out as the original (see reline). */
export interface Located {
  location: SourceLocation;
  source: string;
}

/** Where `fn` (whose source is `source`) was written, if `file` (the caller's URL) holds it. */
export function locate(fn: Function, source: string, file: string): Located | undefined {
  const known = located.get(fn);
  if (known !== undefined) return known ?? undefined;
  // A new function with a source already located from this file (a loop making the same inline arrow
  // for each thread) takes that location without asking V8 again: in the rare file holding two
  // identical functions, the second's frames may then name the first's line.
  const sourceKey = `${file}\u0000${source}`;
  const bySource = locatedSources.get(sourceKey);
  if (bySource !== undefined) {
    located.set(fn, bySource);
    return bySource ?? undefined;
  }
  let out: Located | null = null;
  try {
    const pos = file.startsWith("file:") ? functionLocation(fn) : undefined;
    const params = paramsAt(source);
    if (pos && params >= 0 && !source.slice(0, params).includes("\n")) {
      const module = builtin<{ findSourceMap?: (p: string) => SourceMapLike | undefined }>("node:module");
      const map = module?.findSourceMap?.(fileURLToPath(file)) ?? module?.findSourceMap?.(file);
      if (map) {
        const e = map.findEntry(pos.line, pos.column);
        if (typeof e?.originalLine === "number" && typeof e.originalColumn === "number") {
          const url = e.originalSource ?? file;
          const i = map.payload?.sources?.indexOf(url) ?? -1;
          const text = (i >= 0 ? map.payload?.sourcesContent?.[i] : null) ?? fileText(url);
          // The mapping found may start a little before the parameter list: look ahead on its line.
          const from = text ? offsetOf(text, e.originalLine, e.originalColumn) : -1;
          const end = text && from >= 0 ? text.indexOf("\n", from) : -1;
          for (let at = from; text && at >= 0 && at < (end < 0 ? text.length : end); at++) {
            if (sameStart(text, at, source.slice(params))) {
              const lc = lineColumn(text, at);
              const column = Math.max(1, lc.column - params);
              const relined = reline(source, pos.line, pos.column - params, map, url, lc.line - 1, column - 1);
              out = { location: { url, line: lc.line, column }, source: relined };
              break;
            }
          }
        }
      } else {
        const text = fileText(file);
        const at = text === null ? -1 : offsetOf(text, pos.line, pos.column) - params;
        if (text !== null && sameCode(text, at, source))
          out = { location: { url: file, ...lineColumn(text, at) }, source };
      }
    }
  } catch {
    out = null;
  }
  located.set(fn, out);
  if (locatedSources.size >= 256) locatedSources.clear();
  locatedSources.set(sourceKey, out);
  return out ?? undefined;
}
