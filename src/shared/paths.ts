/**
 * Where the built library lives. The build bundles the library (scripts/bundle.mjs), so a module's
 * code may run from `dist/<dir>/<file>.js` or from a shared chunk in `dist/chunks/`; files that are
 * started by path (the hub, a thread's worker, Timer's and the pool's module targets) are therefore
 * named from the `dist/` directory itself, found in this module's own URL.
 */
import module from "node:module";

const here = import.meta.url;
const at = here.lastIndexOf("/dist/");

/** The URL of the package's `dist/` directory (or of this file's directory when run from source). */
export const distUrl: string = at >= 0 ? here.slice(0, at + "/dist/".length) : new URL("../", here).href;

/** Whether a Worker can turn on Node's module compile cache for itself (Node >= 22.8). */
const compileCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === "function";

/**
 * The file a library Worker starts from, for its module `file`: where the runtime has a module
 * compile cache, the `-entry` twin that turns it on for the Worker first (threads/worker-entry.ts),
 * else `file` itself.
 */
export function workerFile(file: "threads/worker.js" | "threads/hub.js"): URL {
  return libraryFile(compileCache ? file.replace(/\.js$/, "-entry.js") : file);
}

/** The URL of a file of the built library, e.g. `libraryFile("threads/hub.js")`. */
export function libraryFile(path: string): URL {
  return new URL(path, distUrl);
}
