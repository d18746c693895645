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
// Not awaited, nor anything at the top level of the modules it loads (worker.ts): a module that
// awaits at its top level is evaluated asynchronously, and V8 can abort the whole process when a
// Worker is terminated, as every worker is at the process's exit, while such an evaluation runs
// ("Check failed: (location_) != nullptr" in SourceTextModule::ExecuteAsyncModule: Node issues
// 43182, 53238, 62114; seen once here, Node 20, a process.exit() in the main thread while its pool's
// threads and the hub's spares booted). A failure to load is thrown as an uncaught exception of
// this worker, as the await threw it (an unhandled rejection could be only a warning, by a flag).
import("./worker.js").catch((e: unknown) =>
  process.nextTick(() => {
    throw e;
  }),
);
