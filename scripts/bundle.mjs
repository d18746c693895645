#!/usr/bin/env node
// Bundles the built library so that a thread's Worker loads a handful of files instead of ~50
// modules: loading the library in a fresh worker goes from ~50 ms to ~25 ms, and every Thread is a
// fresh Worker. tsc has already written dist/ (with the .d.ts types); this replaces its entry
// files with bundle entries that share their code through dist/chunks/, so the library's own
// entries (index, queue, the hub, a thread's worker, Timer's and the pool's module targets) all
// load the very same module instances.
import { build } from "esbuild";

await build({
  entryPoints: [
    "src/index.ts",
    "src/internal.ts",
    "src/queue/index.ts",
    "src/threads/hub.ts",
    "src/threads/hub-entry.ts",
    "src/threads/worker.ts",
    "src/threads/worker-entry.ts",
    "src/futures/pool-thread.ts",
    "src/distributed/index.ts",
    "src/distributed/client-thread.ts",
    "src/distributed/run-task.ts",
    "src/distributed/cli.ts",
  ],
  outdir: "dist",
  outbase: "src",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: true,
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
  // Class and function names as written (`Lock.name === "Lock"`, `<Thread(...)>`): bundling renames a class
  // that refers to itself (`var Lock = class _Lock`).
  keepNames: true,
});
