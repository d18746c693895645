/**
 * Where a thread's Worker starts on a runtime with a module compile cache (Node >= 22.8,
 * module.enableCompileCache(); see workerFile() in shared/paths.ts): turns the cache on for
 * this worker, then loads the worker proper (worker.ts) and, through it, the library. From a
 * program's second run on, a thread's worker then takes the library's compiled code from the cache
 * instead of parsing it again (a third of its boot to its first thread, here). The cache is Node's
 * own: in the directory NODE_COMPILE_CACHE names, else os.tmpdir()/node-compile-cache, one entry
 * per file compiled (module targets imported in threads too), rewritten only when a file changes;
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off. It is for this worker only (the main thread's, and
 * the environment passed on to child processes, are untouched), and it never fails a worker: a
 * directory Node cannot write leaves the worker compiling as before.
 */
import module from "node:module";

try {
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  // The worker compiles without a cache.
}
await import("./worker.js");
