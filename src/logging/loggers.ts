/**
 * Loggers: `Logger` (named, in a dotted hierarchy), the root logger, `getLogger`, and the
 * module-level `debug`…`critical`/`log`/`exception`, which log on the root logger as Python's do.
 *
 * `Logger` objects and the levels set on named loggers with `setLevel` are per thread (each thread
 * has its own `getLogger("app")`); only the root logger's level (`basicConfig({ level })`,
 * `getLogger().setLevel()`) is process-wide (config.ts). A worker that runs one thread after
 * another resets them for the next.
 */
import { onThreadReset } from "../shared/thread-reset.js";
import { markOwnFile } from "./callsite.js";
import { basicConfig, configured, refresh, rootLevel, storeLevel } from "./config.js";
import { CRITICAL, checkLevel, DEBUG, ERROR, INFO, NOTSET, WARNING } from "./levels.js";
import { emit } from "./records.js";

markOwnFile(import.meta.url);

const loggers = new Map<string, Logger>();

/**
 * A named logger, as Python's `logging.Logger`. Get one with {@link getLogger}; loggers form a
 * hierarchy by dotted names ("app.db" is a child of "app"), and a logger without its own level
 * uses its nearest ancestor's. Logger objects and their levels are per thread; the root
 * logger's level is process-wide.
 */
export class Logger {
  /** The dotted name given to getLogger() ("root" for the root logger). */
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
  /** Logs `msg % args` at DEBUG level. */
  debug(msg: unknown, ...args: unknown[]): void {
    if (this.isEnabledFor(DEBUG)) emit(this.name, DEBUG, msg, args);
  }
  /** Logs `msg % args` at INFO level. */
  info(msg: unknown, ...args: unknown[]): void {
    if (this.isEnabledFor(INFO)) emit(this.name, INFO, msg, args);
  }
  /** Logs `msg % args` at WARNING level. */
  warning(msg: unknown, ...args: unknown[]): void {
    if (this.isEnabledFor(WARNING)) emit(this.name, WARNING, msg, args);
  }
  /** @deprecated Python's old spelling of {@link Logger.warning}. */
  warn(msg: unknown, ...args: unknown[]): void {
    this.warning(msg, ...args);
  }
  /** Logs `msg % args` at ERROR level. */
  error(msg: unknown, ...args: unknown[]): void {
    if (this.isEnabledFor(ERROR)) emit(this.name, ERROR, msg, args);
  }
  /** Logs at ERROR level (JavaScript has no "current exception" to append). */
  exception(msg: unknown, ...args: unknown[]): void {
    this.error(msg, ...args);
  }
  /** Logs `msg % args` at CRITICAL level. */
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
// starts with no named loggers and an enabled root logger (levels.ts resets the level names).
onThreadReset(() => {
  loggers.clear();
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

/**
 * Python's module-level functions call `basicConfig()` first when the root logger has no handlers
 * (here: when logging is not configured yet, in any thread), whatever the level, so a later
 * `basicConfig()` without `force` does nothing. Once configured, one load of a boolean.
 */
function configureIfNot(): void {
  if (configured) return;
  refresh();
  if (!configured) basicConfig();
}

// The module-level functions log on the root logger, as Python's do.

/** Logs on the root logger at DEBUG level: `msg`, %-formatted with `args` when there are any. */
export function debug(msg: unknown, ...args: unknown[]): void {
  configureIfNot();
  root.debug(msg, ...args);
}
/** Logs on the root logger at INFO level. */
export function info(msg: unknown, ...args: unknown[]): void {
  configureIfNot();
  root.info(msg, ...args);
}
/** Logs on the root logger at WARNING level. */
export function warning(msg: unknown, ...args: unknown[]): void {
  configureIfNot();
  root.warning(msg, ...args);
}
/** @deprecated Python's old spelling of {@link warning}. */
export function warn(msg: unknown, ...args: unknown[]): void {
  warning(msg, ...args);
}
/** Logs on the root logger at ERROR level. */
export function error(msg: unknown, ...args: unknown[]): void {
  configureIfNot();
  root.error(msg, ...args);
}
/** Logs on the root logger at ERROR level (JavaScript has no "current exception" to append). */
export function exception(msg: unknown, ...args: unknown[]): void {
  configureIfNot();
  root.exception(msg, ...args);
}
/** Logs on the root logger at CRITICAL level. */
export function critical(msg: unknown, ...args: unknown[]): void {
  configureIfNot();
  root.critical(msg, ...args);
}
/** Python's alias of {@link critical}. */
export function fatal(msg: unknown, ...args: unknown[]): void {
  critical(msg, ...args);
}
/** Logs on the root logger at `level`. */
export function log(level: number, msg: unknown, ...args: unknown[]): void {
  configureIfNot();
  root.log(level, msg, ...args);
}
