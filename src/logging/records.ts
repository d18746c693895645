/**
 * Records: a log call's message and arguments made into one line (Python's `LogRecord.getMessage`
 * and `Formatter.format` with the configured %-style format) and written with one `write()` to
 * stderr, or stdout when basicConfig said so. A record that cannot be formatted prints
 * `--- Logging error ---` with the error, the message and its arguments, and the call returns
 * normally, as Python's `Handler.handleError` does.
 */
import { basename, extname } from "node:path";
import { boot, ownName } from "../shared/runtime.js";
import { type CallSite, captureCallSite, markOwnFile } from "./callsite.js";
import { configured, datefmt, format, toStdout, usesCallsite } from "./config.js";
import { type FormatArgs, percentFormat, repr, str } from "./format.js";
import { getLevelName, WARNING } from "./levels.js";
import { asctime } from "./strftime.js";

markOwnFile(import.meta.url);

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
  // (ms since the process started, the same in every thread: Bootstrap.startedAt)
  const relative = performance.timeOrigin + performance.now() - boot.startedAt;
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
        return ownName.current();
      case "thread":
        return boot.ident;
      case "asctime":
        return asctime(created, datefmt);
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

/**
 * Formats one record of the logger `name` and writes it (the caller has checked the logger's level,
 * refreshing the configuration). While logging is not configured (a named logger's call, or the
 * root logger's methods, before any basicConfig), records below WARNING are dropped, as Python's
 * last-resort handler (level WARNING) drops them: `getLogger("app").setLevel(DEBUG)` alone does
 * not make its debug() print.
 */
export function emit(name: string, level: number, msg: unknown, args: readonly unknown[]): void {
  if (!configured && level < WARNING) return;
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
