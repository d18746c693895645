/**
 * Where the hub's Worker starts on a runtime with a module compile cache: as worker-entry.ts does
 * for a thread's worker, turns the cache on for the hub's Worker, then loads the hub (hub.ts).
 */
import module from "node:module";

try {
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  // The hub compiles without a cache.
}
await import("./hub.js");
