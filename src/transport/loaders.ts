/**
 * Loaders given on the command line (`node --import tsx app.ts`, the tsx CLI) must be active in every
 * thread, so that a thread can import `.ts` modules as the main thread does. Other `--import`
 * loaders stay in the threads' flags (shared/exec-argv.ts threadFlags), so Node imports them in
 * every worker. tsx's flags do not: a thread registers tsx through its API on its first import of
 * a user module (beforeUserImport: a module target, a Thread subclass's module, the modules a
 * function target's namespaces come from, an `import()` in a function target). Function targets
 * (already compiled in the main thread) and the library's own modules never need it, and tsx
 * registering itself costs each worker's boot hundreds of milliseconds and megabytes: on Node >= 22,
 * which carries `--import` hooks into workers, a program under tsx that starts threads in a loop
 * took twice the time, most of it the first start (0.36 s, against 0.07 s without tsx). On Node 20
 * the flags would only load tsx's code into each worker, without registering it.
 */
import { createRequire } from "node:module";
import { path, url } from "../shared/builtins.js";
import { boot } from "../shared/runtime.js";

const { pathToFileURL } = url;

/**
 * The URL of tsx's register API for ES modules (`esm`: tsx/esm/api) or CommonJS (`cjs`: tsx/cjs/api),
 * found from `spec`, the loader the main thread was given: a file URL or an absolute path into
 * tsx's package (the tsx CLI passes its loader's URL, from wherever tsx is installed) resolves
 * from there; a package specifier (`tsx`, `tsx/esm`) or a relative path from the working
 * directory, as Node resolved it for the main thread.
 */
export function tsxApi(spec: string, kind: "esm" | "cjs" = "esm"): string {
  const from = spec.startsWith("file:")
    ? spec
    : path.isAbsolute(spec)
      ? pathToFileURL(spec).href
      : pathToFileURL(`${process.cwd()}/`).href;
  const require = createRequire(from);
  return pathToFileURL(require.resolve(`tsx/${kind}/api`)).href.replace(/index\.cjs$/, "index.mjs");
}

let tsxDone: Promise<void> | undefined;

/**
 * Call before importing a user module in this thread: registers tsx first if the process uses it,
 * both hooks `--import tsx` installs in the main thread: `require()` of a `.ts` file (from a
 * CommonJS module, a `.cts` target) and `import` of one.
 */
export function beforeUserImport(): Promise<void> | undefined {
  const spec = boot.tsx;
  if (spec === null || boot.ident === 1) return undefined;
  tsxDone ??= (async () => {
    try {
      const [cjs, esm] = (await Promise.all([import(tsxApi(spec, "cjs")), import(tsxApi(spec, "esm"))])) as {
        register: () => unknown;
      }[];
      cjs?.register();
      esm?.register();
    } catch (e) {
      throw new Error(
        `threading: this thread could not register tsx (the process runs under ${spec}) before importing a module: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  })();
  return tsxDone;
}
