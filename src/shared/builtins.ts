/**
 * Node's builtin modules that the library's Workers load as they boot, taken as the module objects
 * `require()` returns rather than through `import ... from "node:fs"`.
 *
 * Each builtin imported as an ES module gets an ES module facade, whose making reads every export:
 * `node:fs`'s lazy `promises`, `ReadStream`, ... getters then load their modules (fs/promises,
 * fs/streams, readline), which a thread's worker otherwise loads only when it needs them. And
 * under a loader (tsx, `--import` hooks) every import is resolved and loaded through the loader's
 * hooks, one round trip each. A thread's worker boots on the first start()'s path (cold start):
 * these are a few milliseconds of it, tens under tsx. The objects are the same as the facades'
 * default exports; a name taken from one here is read once, as the library loads (as the facade
 * would have read it then).
 */
import module from "node:module";

const load: (id: string) => unknown =
  (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.bind(process) ??
  module.createRequire(import.meta.url);

export const fs = load("node:fs") as typeof import("node:fs");
export const timers = load("node:timers") as typeof import("node:timers");
export const util = load("node:util") as typeof import("node:util");
export const url = load("node:url") as typeof import("node:url");
export const vm = load("node:vm") as typeof import("node:vm");
export const v8 = load("node:v8") as typeof import("node:v8");
export const nodeConsole = load("node:console") as typeof import("node:console");
export const nodeModule = load("node:module") as typeof import("node:module");
export const path = load("node:path") as typeof import("node:path");
