#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner (Node 20's --test takes no glob).
// Usage: node scripts/run-tests.mjs [filter...]   (a filter keeps the files whose path contains it)
// The runner's own summary is the last output; its exit code is ours.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function collect(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && !entry.name.startsWith(".")) out = out.concat(collect(path));
    } else if (entry.name.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect(join(root, "test"))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`run-tests: no test files found${filters.length ? ` matching ${filters.join(", ")}` : ""}`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=120000", ...files],
  { cwd: root, stdio: "inherit" },
);
if (result.error) {
  console.error(`run-tests: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
