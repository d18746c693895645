/**
 * The part of Python's `logging` module that threaded programs use: levels, loggers, `basicConfig`,
 * and records written to stderr with a %-style format. This module is the `logging` namespace; the
 * parts live beside it:
 *
 *   levels.ts    level numbers and names (addLevelName, getLevelName)
 *   config.ts    the process-wide configuration (root level, basicConfig), published under a
 *                sequence lock in the global block; a log call costs one Atomics.load to see
 *                whether its thread's copy is current
 *   callsite.ts  the caller's frame, for %(filename)s, %(lineno)d and the like
 *   strftime.ts  %(asctime)s
 *   records.ts   a record formatted (getMessage, the format) and written
 *   loggers.ts   Logger, the root logger, getLogger, and the module-level debug()…critical()
 *
 * **Per thread and process-wide.** Only the configuration made by `basicConfig` and the root
 * logger's level are process-wide (made in any thread, they apply in every thread, also in threads
 * already running). `Logger` objects, the levels of named loggers and names added with
 * `addLevelName` are per thread; a worker that runs one thread after another resets them for the
 * next (shared/thread-reset.ts).
 *
 * **As Python:** the module-level calls (`logging.debug()` … `logging.critical()`, `log`,
 * `exception`) call `basicConfig()` first while logging is not configured, whatever the level, so a
 * `basicConfig()` after them (without `force`) does nothing; a named logger's calls do not.
 *
 * **Differences from Python.** There are no handlers or filters: records go to stderr (or stdout with `stream: process.stdout`),
 * one `write()` per record. A record that cannot be formatted prints `--- Logging error ---` with
 * the error, the message and its arguments, and the call returns normally, as in Python.
 */
export { BASIC_FORMAT, type BasicConfigOptions, basicConfig, isConfigured } from "./config.js";
export {
  addLevelName,
  CRITICAL,
  DEBUG,
  ERROR,
  FATAL,
  getLevelName,
  getLevelNamesMapping,
  INFO,
  NOTSET,
  WARN,
  WARNING,
} from "./levels.js";
export {
  critical,
  debug,
  error,
  exception,
  fatal,
  getLogger,
  info,
  Logger,
  log,
  root,
  warn,
  warning,
} from "./loggers.js";
