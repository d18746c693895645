/**
 * The part of Python's `logging` module that threaded programs use: levels, loggers, `basicConfig`,
 * and records written to stderr with a %-style format.
 *
 * **Process-wide configuration.** The root logger's level and the `basicConfig` format live in the
 * global block (`G[LOG_*]`, see `shared/runtime.ts`), so a configuration made in any thread (usually
 * the main one) applies in every thread, also in threads already running. The words are:
 *
 *   G[LOG_VERSION]        a sequence number: odd while a writer changes the configuration, bumped
 *                         by 2 on every change; a thread re-reads its cached copy when it moves
 *   G[LOG_LEVEL]          the root logger's level (WARNING until configured)
 *   G[LOG_FORMAT_LENGTH]  length of the encoded configuration, 0 = not configured
 *   G[LOG_FORMAT ...]     the configuration as UTF-16 code units: JSON `{ format, datefmt?, stream? }`
 *
 * A log call costs one `Atomics.load` to see whether the cached configuration is current.
 *
 * **Per-thread state.** `Logger` objects and the levels set on named loggers with `setLevel` are
 * per thread (each thread has its own `getLogger("app")`); only the root logger's level
 * (`basicConfig({ level })`, `getLogger().setLevel()`) is process-wide. Level names added with
 * `addLevelName` are per thread too; a worker that runs one thread after another resets them for the next.
 *
 * **Differences from Python.** Module-level calls such as `logging.info()` do not call
 * `basicConfig()` implicitly, so a later `basicConfig` from the main thread always takes effect.
 * There are no handlers or filters: records go to stderr (or stdout with `stream: process.stdout`),
 * one `write()` per record. A record that cannot be formatted prints `--- Logging error ---` with
 * the error, the message and its arguments, and the call returns normally, as in Python.
 */
import { basename, extname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  boot,
  G,
  LOG_FORMAT,
  LOG_FORMAT_LENGTH,
  LOG_FORMAT_MAX,
  LOG_LEVEL,
  LOG_VERSION,
  readName,
} from "../shared/runtime.js";
import { onThreadReset } from "../shared/thread-reset.js";
import { type FormatArgs, percentFormat, repr, str } from "./format.js";

export const CRITICAL = 50;
export const FATAL = CRITICAL;
export const ERROR = 40;
export const WARNING = 30;
export const WARN = WARNING;
export const INFO = 20;
export const DEBUG = 10;
export const NOTSET = 0;

/** The format `basicConfig` uses when none is given, and the one in force before it is called. */
export const BASIC_FORMAT = "%(levelname)s:%(name)s:%(message)s";

const LEVEL_NAMES: [number, string][] = [
  [CRITICAL, "CRITICAL"],
  [ERROR, "ERROR"],
  [WARNING, "WARNING"],
  [INFO, "INFO"],
  [DEBUG, "DEBUG"],
  [NOTSET, "NOTSET"],
];
const NAME_LEVELS: [string, number][] = [
  ["CRITICAL", CRITICAL],
  ["FATAL", FATAL],
  ["ERROR", ERROR],
  ["WARN", WARNING],
  ["WARNING", WARNING],
  ["INFO", INFO],
  ["DEBUG", DEBUG],
  ["NOTSET", NOTSET],
];
const levelToName = new Map<number, string>(LEVEL_NAMES);
const nameToLevel = new Map<string, number>(NAME_LEVELS);

/** Names `level` (this thread only), as Python's `addLevelName`. */
export function addLevelName(level: number, levelName: string): void {
  levelToName.set(level, levelName);
  nameToLevel.set(levelName, level);
}

/**
 * The name of a level number (`"Level N"` when it has none), or the number of a level name,
 * as Python's `getLevelName`.
 */
export function getLevelName(level: number | string): string | number {
  if (typeof level === "number") return levelToName.get(level) ?? `Level ${level}`;
  return nameToLevel.get(level) ?? `Level ${level}`;
}

/** A copy of the level names and their numbers (Python 3.11 `getLevelNamesMapping`). */
export function getLevelNamesMapping(): Record<string, number> {
  return Object.fromEntries(nameToLevel);
}

function checkLevel(level: unknown): number {
  if (typeof level === "number" && Number.isInteger(level)) return level;
  if (typeof level === "string") {
    const n = nameToLevel.get(level);
    if (n === undefined) throw new RangeError(`Unknown level: ${repr(level)}`);
    return n;
  }
  throw new TypeError(`Level not an integer or a valid string: ${repr(level)}`);
}

// ---------------------------------------------------------------------------------------------
// The process-wide configuration, cached per thread

interface StoredConfig {
  format: string;
  datefmt?: string;
  stream?: "stdout" | "stderr";
}

let cachedVersion = -1;
let rootLevel = WARNING;
let configured = false;
let format = BASIC_FORMAT;
let datefmt: string | undefined;
let toStdout = false;
let usesCallsite = false;

const CALLSITE_FIELDS = /%\((pathname|filename|module|lineno|funcName)\)/;

/** Brings this thread's copy of the configuration up to date: one Atomics.load when it is. */
function refresh(): void {
  if (Atomics.load(G, LOG_VERSION) === cachedVersion) return;
  for (;;) {
    const version = Atomics.load(G, LOG_VERSION);
    if ((version & 1) !== 0) continue; // a writer is at work: its critical section is a few stores
    const level = Atomics.load(G, LOG_LEVEL);
    const length = Math.min(Atomics.load(G, LOG_FORMAT_LENGTH), LOG_FORMAT_MAX);
    const codes: number[] = new Array(length);
    for (let i = 0; i < length; i++) codes[i] = Atomics.load(G, LOG_FORMAT + i);
    if (Atomics.load(G, LOG_VERSION) !== version) continue;
    let stored: StoredConfig | null = null;
    if (length > 0) {
      try {
        stored = JSON.parse(String.fromCharCode(...codes)) as StoredConfig;
      } catch {
        stored = null;
      }
    }
    rootLevel = level;
    configured = stored !== null;
    format = stored?.format ?? BASIC_FORMAT;
    datefmt = stored?.datefmt;
    toStdout = stored?.stream === "stdout";
    usesCallsite = CALLSITE_FIELDS.test(format);
    cachedVersion = version;
    return;
  }
}

/** Runs `change` with the configuration words held (seqlock writer side), then publishes it. */
function writeConfig(change: () => void): void {
  let version: number;
  for (;;) {
    version = Atomics.load(G, LOG_VERSION);
    if ((version & 1) === 0 && Atomics.compareExchange(G, LOG_VERSION, version, version + 1) === version) break;
  }
  try {
    change();
  } finally {
    Atomics.store(G, LOG_VERSION, version + 2);
  }
}

function storeLevel(level: number): void {
  writeConfig(() => {
    Atomics.store(G, LOG_LEVEL, level);
  });
}

/** Options of `basicConfig`, as Python's keyword arguments. */
export interface BasicConfigOptions {
  /** The root logger's level, a number or a level name ("DEBUG"). */
  level?: number | string;
  /** The record format, Python %-style with `%(field)s` conversions. Default {@link BASIC_FORMAT}. */
  format?: string;
  /** A `strftime` format for `%(asctime)s`; default `"%Y-%m-%d %H:%M:%S,mmm"` (with milliseconds). */
  datefmt?: string;
  /** Only `"%"` is supported. */
  style?: "%";
  /** `process.stderr` (the default) or `process.stdout`. */
  stream?: NodeJS.WritableStream;
  /** Replace an existing configuration instead of doing nothing. */
  force?: boolean;
}

const BASIC_CONFIG_KEYS = new Set(["level", "format", "datefmt", "style", "stream", "force"]);

/**
 * Configures logging for the whole process (every thread, also threads already running), as
 * Python's `logging.basicConfig`: sets the format and the root logger's level. Does nothing if
 * logging is already configured, unless `force` is true. The format is checked here: an unknown
 * `%(field)` or a malformed conversion is a `RangeError`.
 */
export function basicConfig(options: BasicConfigOptions = {}): void {
  const unknown = Object.keys(options).filter((k) => !BASIC_CONFIG_KEYS.has(k));
  if (unknown.length > 0) throw new RangeError(`Unrecognised argument(s): ${unknown.join(", ")}`);
  if (options.style !== undefined && options.style !== "%") {
    throw new RangeError(`Style must be "%" (the only one supported), not ${repr(options.style)}`);
  }
  let stream: "stdout" | "stderr" | undefined;
  if (options.stream !== undefined) {
    if (options.stream === process.stdout) stream = "stdout";
    else if (options.stream === process.stderr) stream = "stderr";
    else throw new TypeError("basicConfig: stream must be process.stderr or process.stdout");
  }
  const fmt = options.format === undefined ? BASIC_FORMAT : options.format === "" ? "%(message)s" : options.format;
  if (typeof fmt !== "string") throw new TypeError(`basicConfig: format must be a string, not ${typeof fmt}`);
  validateFormat(fmt);
  if (options.datefmt !== undefined && typeof options.datefmt !== "string") {
    throw new TypeError(`basicConfig: datefmt must be a string, not ${typeof options.datefmt}`);
  }
  const level = options.level === undefined ? undefined : checkLevel(options.level);
  const stored: StoredConfig = { format: fmt };
  if (options.datefmt !== undefined) stored.datefmt = options.datefmt;
  if (stream === "stdout") stored.stream = stream;
  const text = JSON.stringify(stored);
  if (text.length > LOG_FORMAT_MAX) {
    throw new RangeError(`basicConfig: format too long (at most about ${LOG_FORMAT_MAX} characters)`);
  }
  writeConfig(() => {
    if (Atomics.load(G, LOG_FORMAT_LENGTH) > 0 && !options.force) return;
    for (let i = 0; i < text.length; i++) Atomics.store(G, LOG_FORMAT + i, text.charCodeAt(i));
    Atomics.store(G, LOG_FORMAT_LENGTH, text.length);
    if (level !== undefined) Atomics.store(G, LOG_LEVEL, level);
  });
}

const RECORD_FIELDS = new Set([
  "name",
  "msg",
  "args",
  "levelname",
  "levelno",
  "pathname",
  "filename",
  "module",
  "lineno",
  "funcName",
  "created",
  "msecs",
  "relativeCreated",
  "thread",
  "threadName",
  "process",
  "processName",
  "message",
  "asctime",
]);

function validateFormat(fmt: string): void {
  if (!/%\(\w+\)[#0+ -]*(\*|\d+)?(\.(\*|\d+))?[diouxefgcrsa%]/i.test(fmt)) {
    throw new RangeError(`Invalid format ${repr(fmt)} for '%' style`);
  }
  try {
    percentFormat(fmt, {
      mapping: (key) => {
        if (!RECORD_FIELDS.has(key)) throw new RangeError(`unknown field %(${key}) in the format`);
        return 0;
      },
    });
  } catch (e) {
    throw new RangeError(`Invalid format ${repr(fmt)}: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Records

interface CallSite {
  pathname: string;
  lineno: number;
  funcName: string;
}

const thisFile = (() => {
  try {
    return fileURLToPath(import.meta.url);
  } catch {
    return import.meta.url;
  }
})();

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

function captureCallSite(): CallSite | undefined {
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
  const index = sites.findIndex((site) => fileOf(site) !== thisFile);
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

const p2 = (n: number) => String(n).padStart(2, "0");
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** `time.strftime` for a local time: the common directives. */
function strftime(fmt: string, d: Date): string {
  return fmt.replace(/%([a-zA-Z%])/g, (all, c: string) => {
    switch (c) {
      case "Y":
        return String(d.getFullYear());
      case "y":
        return p2(d.getFullYear() % 100);
      case "m":
        return p2(d.getMonth() + 1);
      case "d":
        return p2(d.getDate());
      case "e":
        return String(d.getDate()).padStart(2);
      case "H":
        return p2(d.getHours());
      case "I":
        return p2(d.getHours() % 12 || 12);
      case "M":
        return p2(d.getMinutes());
      case "S":
        return p2(d.getSeconds());
      case "p":
        return d.getHours() < 12 ? "AM" : "PM";
      case "a":
        return (DAYS[d.getDay()] as string).slice(0, 3);
      case "A":
        return DAYS[d.getDay()] as string;
      case "b":
      case "h":
        return (MONTHS[d.getMonth()] as string).slice(0, 3);
      case "B":
        return MONTHS[d.getMonth()] as string;
      case "j": {
        const start = new Date(d.getFullYear(), 0, 1);
        const day = Math.round(
          (new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - start.getTime()) / 864e5,
        );
        return String(day + 1).padStart(3, "0");
      }
      case "w":
        return String(d.getDay());
      case "z": {
        const off = -d.getTimezoneOffset();
        const a = Math.abs(off);
        return `${off < 0 ? "-" : "+"}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
      }
      case "Z":
        return (
          new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
            .formatToParts(d)
            .find((p) => p.type === "timeZoneName")?.value ?? ""
        );
      case "c":
        return `${(DAYS[d.getDay()] as string).slice(0, 3)} ${(MONTHS[d.getMonth()] as string).slice(0, 3)} ${String(d.getDate()).padStart(2)} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
      case "x":
        return `${p2(d.getMonth() + 1)}/${p2(d.getDate())}/${p2(d.getFullYear() % 100)}`;
      case "X":
        return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
      case "%":
        return "%";
      default:
        return all;
    }
  });
}

/** Python's default `asctime`: `2003-07-08 16:49:45,896`, local time. */
function asctime(ms: number): string {
  const d = new Date(ms);
  if (datefmt !== undefined) return strftime(datefmt, d);
  const y = String(d.getFullYear()).padStart(4, "0");
  const frac = String(Math.floor(ms) % 1000).padStart(3, "0");
  return `${y}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())},${frac}`;
}

/** A single non-empty mapping argument formats `%(key)s` in the message, as in Python. */
function messageArgs(args: readonly unknown[]): FormatArgs {
  if (args.length === 1) {
    const a = args[0];
    if (a instanceof Map && a.size > 0) {
      return {
        mapping: (key) => {
          if (!a.has(key)) throw new RangeError(`KeyError: ${repr(key)}`);
          return a.get(key);
        },
        whole: a,
      };
    }
    if (a !== null && typeof a === "object" && !Array.isArray(a)) {
      const proto = Object.getPrototypeOf(a);
      if ((proto === Object.prototype || proto === null) && Object.keys(a).length > 0) {
        const obj = a as Record<string, unknown>;
        return {
          mapping: (key) => {
            if (!Object.hasOwn(obj, key)) throw new RangeError(`KeyError: ${repr(key)}`);
            return obj[key];
          },
          whole: a,
        };
      }
    }
  }
  return { positional: args };
}

/** Python's `LogRecord.getMessage()`: `str(msg)`, then `% args` only when there are arguments. */
function getMessage(msg: unknown, args: readonly unknown[]): string {
  const text = str(msg);
  return args.length === 0 ? text : percentFormat(text, messageArgs(args));
}

function formatRecord(name: string, level: number, msg: unknown, args: readonly unknown[], site?: CallSite): string {
  const created = Date.now();
  const relative = process.uptime() * 1000;
  let message: string | undefined;
  const lookup = (key: string): unknown => {
    switch (key) {
      case "message":
        message ??= getMessage(msg, args);
        return message;
      case "name":
        return name;
      case "levelname":
        return getLevelName(level);
      case "levelno":
        return level;
      case "threadName":
        return readName(boot.slot);
      case "thread":
        return boot.ident;
      case "asctime":
        return asctime(created);
      case "created":
        return created / 1000;
      case "msecs":
        return created % 1000;
      case "relativeCreated":
        return relative;
      case "process":
        return process.pid;
      case "processName":
        return "MainProcess";
      case "msg":
        return msg;
      case "args":
        return args;
      case "pathname":
        return site?.pathname ?? "(unknown file)";
      case "filename":
        return site ? basename(site.pathname) : "(unknown file)";
      case "module":
        return site ? basename(site.pathname, extname(site.pathname)) : "Unknown module";
      case "lineno":
        return site?.lineno ?? 0;
      case "funcName":
        return site?.funcName ?? "(unknown function)";
      default:
        throw new RangeError(`KeyError: ${repr(key)}`);
    }
  };
  // Python formats the message first (Formatter.format), so a bad message is reported even
  // when the format does not show it.
  message = getMessage(msg, args);
  return percentFormat(format, { mapping: lookup });
}

function emit(name: string, level: number, msg: unknown, args: readonly unknown[]): void {
  let line: string;
  try {
    line = `${formatRecord(name, level, msg, args, usesCallsite ? captureCallSite() : undefined)}\n`;
  } catch (e) {
    const detail = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : str(e);
    line = `--- Logging error ---\n${detail}\nMessage: ${repr(msg)}\nArguments: ${repr(args)}\n`;
    process.stderr.write(line);
    return;
  }
  (toStdout ? process.stdout : process.stderr).write(line);
}

// ---------------------------------------------------------------------------------------------
// Loggers

const loggers = new Map<string, Logger>();

/**
 * A named logger, as Python's `logging.Logger`. Get one with {@link getLogger}; loggers form a
 * hierarchy by dotted names ("app.db" is a child of "app"), and a logger without its own level
 * uses its nearest ancestor's. Logger objects and their levels are per thread; the root
 * logger's level is process-wide.
 */
export class Logger {
  readonly name: string;
  #level = NOTSET;
  /** When true, the logger drops every record. */
  disabled = false;

  constructor(name: string, level: number | string = NOTSET) {
    this.name = name;
    this.#level = checkLevel(level);
  }

  /** This logger's own level (NOTSET: use the parent's). */
  get level(): number {
    return this.#level;
  }

  /** The nearest ancestor logger that exists in this thread (the root logger for top-level names). */
  get parent(): Logger | null {
    let name = this.name;
    for (let dot = name.lastIndexOf("."); dot > 0; dot = name.lastIndexOf(".")) {
      name = name.slice(0, dot);
      const found = loggers.get(name);
      if (found) return found;
    }
    return root;
  }

  /** Sets this logger's level (a number or a name such as "DEBUG"). Per thread, except on the root logger. */
  setLevel(level: number | string): void {
    this.#level = checkLevel(level);
  }

  /** The level that decides what this logger logs: its own, or its nearest ancestor's that is set. */
  getEffectiveLevel(): number {
    refresh();
    return this.effectiveLevel();
  }

  /** getEffectiveLevel() without refreshing the process-wide configuration. */
  protected effectiveLevel(): number {
    if (this.#level !== NOTSET) return this.#level;
    let name = this.name;
    for (let dot = name.lastIndexOf("."); dot > 0; dot = name.lastIndexOf(".")) {
      name = name.slice(0, dot);
      const parent = loggers.get(name);
      const level = parent === undefined ? NOTSET : parent.#level;
      if (level !== NOTSET) return level;
    }
    return rootLevel;
  }

  /** True when a record of `level` would be logged. */
  isEnabledFor(level: number): boolean {
    refresh();
    return !this.disabled && level >= this.effectiveLevel();
  }

  /** The logger named `${this.name}.${suffix}`. */
  getChild(suffix: string): Logger {
    return getLogger(this === root ? suffix : `${this.name}.${suffix}`);
  }

  /** Logs `msg % args` at `level`. */
  log(level: number, msg: unknown, ...args: unknown[]): void {
    if (typeof level !== "number" || !Number.isInteger(level)) throw new TypeError("level must be an integer");
    if (this.isEnabledFor(level)) emit(this.name, level, msg, args);
  }
  debug(msg: unknown, ...args: unknown[]): void {
    if (this.isEnabledFor(DEBUG)) emit(this.name, DEBUG, msg, args);
  }
  info(msg: unknown, ...args: unknown[]): void {
    if (this.isEnabledFor(INFO)) emit(this.name, INFO, msg, args);
  }
  warning(msg: unknown, ...args: unknown[]): void {
    if (this.isEnabledFor(WARNING)) emit(this.name, WARNING, msg, args);
  }
  /** @deprecated Python's old spelling of {@link Logger.warning}. */
  warn(msg: unknown, ...args: unknown[]): void {
    this.warning(msg, ...args);
  }
  error(msg: unknown, ...args: unknown[]): void {
    if (this.isEnabledFor(ERROR)) emit(this.name, ERROR, msg, args);
  }
  /** Logs at ERROR level (JavaScript has no "current exception" to append). */
  exception(msg: unknown, ...args: unknown[]): void {
    this.error(msg, ...args);
  }
  critical(msg: unknown, ...args: unknown[]): void {
    if (this.isEnabledFor(CRITICAL)) emit(this.name, CRITICAL, msg, args);
  }
  /** Python's alias of {@link Logger.critical}. */
  fatal(msg: unknown, ...args: unknown[]): void {
    this.critical(msg, ...args);
  }
}

/** The root logger: its level is the process-wide one in the global block. */
class RootLogger extends Logger {
  constructor() {
    super("root");
  }
  override get level(): number {
    refresh();
    return rootLevel;
  }
  /** Sets the root level for the whole process (every thread). */
  override setLevel(level: number | string): void {
    storeLevel(checkLevel(level));
  }
  protected override effectiveLevel(): number {
    return rootLevel;
  }
  override get parent(): Logger | null {
    return null;
  }
}

/** The root logger, named "root", whose level is process-wide. */
export const root: Logger = new RootLogger();

// What is per thread goes with the thread: the next thread on this worker (shared/thread-reset.ts)
// starts with no named loggers, the standard level names and an enabled root logger.
onThreadReset(() => {
  loggers.clear();
  levelToName.clear();
  for (const [level, name] of LEVEL_NAMES) levelToName.set(level, name);
  nameToLevel.clear();
  for (const [name, level] of NAME_LEVELS) nameToLevel.set(name, level);
  root.disabled = false;
});

/**
 * The logger named `name` in this thread (the same object for the same name), or the root logger
 * for no name or "root", as Python's `logging.getLogger`.
 */
export function getLogger(name?: string): Logger {
  if (name === undefined || name === "" || name === root.name) return root;
  if (typeof name !== "string") throw new TypeError("A logger name must be a string");
  let logger = loggers.get(name);
  if (logger === undefined) {
    logger = new Logger(name);
    loggers.set(name, logger);
  }
  return logger;
}

/** True once `basicConfig` has configured logging (in any thread). */
export function isConfigured(): boolean {
  refresh();
  return configured;
}

/** Logs on the root logger at DEBUG level: `msg`, %-formatted with `args` when there are any. */
export function debug(msg: unknown, ...args: unknown[]): void {
  if (root.isEnabledFor(DEBUG)) emit("root", DEBUG, msg, args);
}
/** Logs on the root logger at INFO level. */
export function info(msg: unknown, ...args: unknown[]): void {
  if (root.isEnabledFor(INFO)) emit("root", INFO, msg, args);
}
/** Logs on the root logger at WARNING level. */
export function warning(msg: unknown, ...args: unknown[]): void {
  if (root.isEnabledFor(WARNING)) emit("root", WARNING, msg, args);
}
/** @deprecated Python's old spelling of {@link warning}. */
export function warn(msg: unknown, ...args: unknown[]): void {
  if (root.isEnabledFor(WARNING)) emit("root", WARNING, msg, args);
}
/** Logs on the root logger at ERROR level. */
export function error(msg: unknown, ...args: unknown[]): void {
  if (root.isEnabledFor(ERROR)) emit("root", ERROR, msg, args);
}
/** Logs on the root logger at ERROR level (JavaScript has no "current exception" to append). */
export function exception(msg: unknown, ...args: unknown[]): void {
  if (root.isEnabledFor(ERROR)) emit("root", ERROR, msg, args);
}
/** Logs on the root logger at CRITICAL level. */
export function critical(msg: unknown, ...args: unknown[]): void {
  if (root.isEnabledFor(CRITICAL)) emit("root", CRITICAL, msg, args);
}
/** Python's alias of {@link critical}. */
export function fatal(msg: unknown, ...args: unknown[]): void {
  if (root.isEnabledFor(CRITICAL)) emit("root", CRITICAL, msg, args);
}
/** Logs on the root logger at `level`. */
export function log(level: number, msg: unknown, ...args: unknown[]): void {
  root.log(level, msg, ...args);
}
