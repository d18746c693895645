#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner (Node 20's --test takes no glob).
// Usage: node scripts/run-tests.mjs [filter...]   (a filter keeps the files whose path contains it)
// The runner's own summary is the last output; its exit code is ours.
// A watchdog (TEST_WATCHDOG_SECONDS, default 900) kills the whole run if it hangs: a test blocked in
// Atomics.wait on a file's main thread stops that file's event loop, and so its per-test timeouts.
import { spawn } from "node:child_process";
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

const watchdogSeconds = Number(process.env.TEST_WATCHDOG_SECONDS ?? 900);
// Its own process group, so the watchdog can end the runner and every test process it started.
const child = spawn(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=120000", ...files],
  { cwd: root, stdio: "inherit", detached: true },
);
const watchdog = setTimeout(() => {
  console.error(`run-tests: the test run did not finish within ${watchdogSeconds} s (a test is blocked); killed`);
  console.log("0 passed, 1 failed");
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
  process.exit(1);
}, watchdogSeconds * 1000);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    try {
      process.kill(-child.pid, signal);
    } catch {}
    process.exit(1);
  });
}
child.on("error", (e) => {
  console.error(`run-tests: ${e.message}`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  clearTimeout(watchdog);
  process.exit(code ?? (signal ? 1 : 0));
});
