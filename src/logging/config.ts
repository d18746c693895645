/**
 * The process-wide logging configuration: the root logger's level and what `basicConfig` set
 * (format, datefmt, stream), published in the global block (`G[LOG_*]`, see `shared/runtime.ts`)
 * under a sequence lock, so that a configuration made in any thread (usually the main one) applies
 * in every thread, also in threads already running. Each thread keeps a cached copy (the `let`s
 * below) and re-reads it when the sequence number moves.
 *
 *   G[LOG_VERSION]        the sequence number: odd while a writer changes the configuration, bumped
 *                         by 2 on every change (1 to take it, 1 to publish)
 *   G[LOG_LEVEL]          the root logger's level (WARNING until configured)
 *   G[LOG_FORMAT_LENGTH]  length of the encoded configuration, 0 = not configured
 *   G[LOG_FORMAT ...]     the configuration as UTF-16 code units: JSON `{ format, datefmt?, stream? }`
 *
 * Writer (`basicConfig`, `root.setLevel`): CAS LOG_VERSION from an even value v to v+1, store the
 * words, store v+2 (in a `finally`). Writers exclude each other by that CAS.
 * Reader (every log call): one `Atomics.load` of LOG_VERSION; when it equals the cached version,
 * nothing else. Otherwise it waits (spinning) while the version is odd, reads the words, and keeps
 * them only if LOG_VERSION did not move meanwhile; else it reads again.
 *
 * A writer that stops mid-write:
 *  - by an exception (a stack overflow on entering its change): the `finally` publishes v+2 with
 *    what was stored so far. The level is one store (old or new); the encoded configuration's
 *    length is stored after its text, and a text that does not parse as JSON is read as "not
 *    configured" (BASIC_FORMAT) until the next basicConfig.
 *  - killed inside the critical section (its worker terminated, or out of memory, between the CAS
 *    and the last store: a few stores for a level, about a thousand for basicConfig): LOG_VERSION
 *    stays odd. The writer records itself (G[LOG_WRITER_SLOT], G[LOG_WRITER_IDENT]) right after
 *    its CAS and clears that before publishing; a reader or writer that finds the version odd
 *    checks, every few thousand spins, whether that thread is still alive. When it is not, it takes
 *    the writer's place by one CAS (odd v -> v+1) and publishes what the dead writer had stored, as
 *    after an exception above. When no writer is recorded (killed between its CAS and recording
 *    itself, a few instructions), an odd version that has not moved for WRITER_GONE_MS is taken
 *    over the same way.
 * A writer killed anywhere else leaves nothing behind.
 */
import {
  boot,
  G,
  isIdentAlive,
  LOG_FORMAT,
  LOG_FORMAT_LENGTH,
  LOG_FORMAT_MAX,
  LOG_LEVEL,
  LOG_VERSION,
  LOG_WRITER_IDENT,
  LOG_WRITER_SLOT,
} from "../shared/runtime.js";
import { percentFormat, repr } from "./format.js";
import { checkLevel, WARNING } from "./levels.js";

/** The format `basicConfig` uses when none is given, and the one in force before it is called. */
export const BASIC_FORMAT = "%(levelname)s:%(name)s:%(message)s";

interface StoredConfig {
  format: string;
  datefmt?: string;
  stream?: "stdout" | "stderr";
}

// This thread's copy of the configuration, current as of the last refresh().
let cachedVersion = -1;
/** The root logger's level. */
export let rootLevel = WARNING;
/** True once basicConfig has run (in any thread). */
export let configured = false;
/** The record format. */
export let format = BASIC_FORMAT;
/** The `strftime` format of `%(asctime)s`, or undefined for Python's default. */
export let datefmt: string | undefined;
/** Records go to stdout instead of stderr. */
export let toStdout = false;
/** The format shows a call-site field, so each record captures the caller's frame. */
export let usesCallsite = false;

const CALLSITE_FIELDS = /%\((pathname|filename|module|lineno|funcName)\)/;

/** Brings this thread's copy of the configuration up to date: one Atomics.load when it is. */
export function refresh(): void {
  if (Atomics.load(G, LOG_VERSION) === cachedVersion) return;
  for (;;) {
    const version = Atomics.load(G, LOG_VERSION);
    if ((version & 1) !== 0) {
      waitForWriter(version); // a writer is at work: its critical section is a few stores
      continue;
    }
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
    if ((version & 1) !== 0) waitForWriter(version);
    else if (Atomics.compareExchange(G, LOG_VERSION, version, version + 1) === version) break;
  }
  Atomics.store(G, LOG_WRITER_SLOT, boot.slot);
  Atomics.store(G, LOG_WRITER_IDENT, boot.ident);
  try {
    configTestHooks.inWrite?.();
    change();
  } finally {
    Atomics.store(G, LOG_WRITER_IDENT, 0);
    Atomics.store(G, LOG_WRITER_SLOT, 0);
    Atomics.store(G, LOG_VERSION, version + 2);
  }
}

/** @internal Test hooks (src/internal.ts): `inWrite` runs inside the writer's critical section. */
export const configTestHooks: { inWrite?: () => void } = {};

/** How long an odd version with no writer recorded may stay unchanged before it is taken over. */
const WRITER_GONE_MS = 1000;

/**
 * Spins while the configuration's version is still the odd `version`; takes over for a writer that
 * died in its critical section (see the file comment). Returns when the version has moved.
 */
function waitForWriter(version: number): void {
  let since = 0;
  for (let n = 1; Atomics.load(G, LOG_VERSION) === version; n++) {
    if ((n & 4095) !== 0) continue;
    const ident = Atomics.load(G, LOG_WRITER_IDENT);
    const slot = Atomics.load(G, LOG_WRITER_SLOT);
    let dead: boolean;
    if (ident !== 0) dead = !isIdentAlive(slot, ident);
    else {
      since ||= performance.now();
      dead = performance.now() - since > WRITER_GONE_MS;
    }
    if (dead && Atomics.compareExchange(G, LOG_VERSION, version, version + 1) === version) {
      Atomics.compareExchange(G, LOG_WRITER_IDENT, ident, 0);
      return;
    }
  }
}

/** Sets the root logger's level for the whole process. */
export function storeLevel(level: number): void {
  writeConfig(() => {
    Atomics.store(G, LOG_LEVEL, level);
  });
}

/** True once `basicConfig` has configured logging (in any thread). */
export function isConfigured(): boolean {
  refresh();
  return configured;
}

/** Options of `basicConfig`, as Python's keyword arguments. */
export interface BasicConfigOptions {
  /** The root logger's level, a number or a level name ("DEBUG"). */
  level?: number | string | undefined;
  /** The record format, Python %-style with `%(field)s` conversions. Default {@link BASIC_FORMAT}. */
  format?: string | undefined;
  /** A `strftime` format for `%(asctime)s`; default `"%Y-%m-%d %H:%M:%S,mmm"` (with milliseconds). */
  datefmt?: string | undefined;
  /** Only `"%"` is supported. */
  style?: "%" | undefined;
  /** `process.stderr` (the default) or `process.stdout`. */
  stream?: NodeJS.WritableStream | undefined;
  /** Replace an existing configuration instead of doing nothing. */
  force?: boolean | undefined;
}

const BASIC_CONFIG_KEYS = new Set(["level", "format", "datefmt", "style", "stream", "force"]);

/**
 * Configures logging for the whole process (every thread, also threads already running), as
 * Python's `logging.basicConfig`: sets the format and the root logger's level. Does nothing if
 * logging is already configured, unless `force` is true. The format is checked here: an unknown
 * `%(field)` or a malformed conversion is a `RangeError`.
 */
export function basicConfig(options: BasicConfigOptions = {}): void {
  // Python's keywords are one options object: a positional value is no configuration (it was
  // taken as none, silently, as Object.keys(5) is []; Python: "takes 0 positional arguments").
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    const what = options === null ? "null" : Array.isArray(options) ? "an array" : typeof options;
    throw new TypeError(`basicConfig(): options must be an object like { level, format }, not ${what}`);
  }
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

/** The fields a record format may name (Python's LogRecord attributes that exist here). */
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
