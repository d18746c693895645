/**
 * Logging levels: the numbers, their names, and the checks that turn a level argument (a number or
 * a name such as "DEBUG") into a number, as Python's `logging` does. The name tables are per thread
 * (`addLevelName` in one thread names the level in that thread only); the next thread on a worker
 * starts with the standard names.
 */
import { onThreadReset } from "../shared/thread-reset.js";
import { repr } from "./format.js";

/** Level 50: a serious error; the program may not go on. */
export const CRITICAL = 50;
/** Python's alias of CRITICAL. */
export const FATAL = CRITICAL;
/** Level 40: a function could not do its job. */
export const ERROR = 40;
/** Level 30 (the root logger's default): something unexpected; the program goes on. */
export const WARNING = 30;
/** Python's old alias of WARNING. */
export const WARN = WARNING;
/** Level 20: confirmation that things work as expected. */
export const INFO = 20;
/** Level 10: detail for diagnosing problems. */
export const DEBUG = 10;
/** Level 0: a logger with it uses its ancestor's level (the root logger: logs everything). */
export const NOTSET = 0;

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

/** addLevelName() was called in this thread: the names are not the standard ones. */
let named = false;

// Level names go with the thread: the next thread on this worker (shared/thread-reset.ts) starts
// with the standard ones (rebuilt only when a thread named a level: this runs at every thread's end).
onThreadReset(() => {
  if (!named) return;
  named = false;
  levelToName.clear();
  for (const [level, name] of LEVEL_NAMES) levelToName.set(level, name);
  nameToLevel.clear();
  for (const [name, level] of NAME_LEVELS) nameToLevel.set(name, level);
});

/** Names `level` (this thread only), as Python's `addLevelName`. */
export function addLevelName(level: number, levelName: string): void {
  named = true;
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

/** A level argument as a number (Python's `_checkLevel`): an integer, or a known level name. */
export function checkLevel(level: unknown): number {
  if (typeof level === "number" && Number.isInteger(level)) return level;
  if (typeof level === "string") {
    const n = nameToLevel.get(level);
    if (n === undefined) throw new RangeError(`Unknown level: ${repr(level)}`);
    return n;
  }
  throw new TypeError(`Level not an integer or a valid string: ${repr(level)}`);
}
