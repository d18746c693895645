/**
 * Where the hub's Worker starts on a runtime with a module compile cache: as worker-entry.ts does
 * for a thread's worker, turns the cache on for the hub's Worker, then loads the hub (hub.ts). Also
 * where it starts in a program run under tsx, which the hub runs without (threads/hub-client.ts):
 * it turns source maps on first, as tsx did in the main thread, so that the library's frames in
 * what the hub prints are named as there.
 */
import module from "node:module";
import { workerData } from "node:worker_threads";

if ((workerData as { sourceMaps?: boolean } | null)?.sourceMaps === true) process.setSourceMapsEnabled(true);

try {
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  // The hub compiles without a cache.
}
// Not awaited, nor anything at the top level of hub.ts: see worker-entry.ts.
import("./hub.js").catch((e: unknown) =>
  process.nextTick(() => {
    throw e;
  }),
);
