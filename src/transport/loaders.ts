/**
 * Loaders given on the command line (`node --import tsx app.ts`, the tsx CLI) must be active in every
 * thread, so that a thread can import `.ts` modules as the main thread does. Node 20 does not carry
 * `--import` hooks into workers, and tsx registers itself only on the main thread, so a thread
 * registers tsx through its API, on its first import of a user module (beforeUserImport): function
 * targets (already compiled) and the library's own modules never need it, and registering costs a
 * worker hundreds of milliseconds. Other `--import` loaders stay in the threads' flags
 * (shared/runtime.ts, threadFlags), so Node imports them in every worker. On Node >= 22 tsx's flags
 * stay there too and tsx registers itself in each worker.
 */
import { createRequire } from "node:module";
import { url } from "../shared/builtins.js";
import { boot } from "../shared/runtime.js";

const { pathToFileURL } = url;

function tsxApi(spec: string): string {
  if (spec.startsWith("file:")) return new URL("./esm/api/index.mjs", spec).href;
  const require = createRequire(pathToFileURL(`${process.cwd()}/`));
  return pathToFileURL(require.resolve("tsx/esm/api")).href.replace(/index\.cjs$/, "index.mjs");
}

let tsxDone: Promise<void> | undefined;

/** Call before importing a user module in this thread: registers tsx first if the process uses it. */
export function beforeUserImport(): Promise<void> | undefined {
  const spec = boot.tsx;
  if (spec === null || boot.ident === 1) return undefined;
  tsxDone ??= (async () => {
    const { register } = (await import(tsxApi(spec))) as { register: () => unknown };
    register();
  })();
  return tsxDone;
}
