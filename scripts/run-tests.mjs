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
let child;
let killed = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    try {
      process.kill(-child.pid, signal);
    } catch {}
    process.exit(1);
  });
}

/** One run of node's test runner over every file; resolves to its exit code. */
function runOnce() {
  return new Promise((resolve) => {
    // Its own process group, so the watchdog can end the runner and every test process it started.
    child = spawn(
      process.execPath,
      ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=120000", ...files],
      { cwd: root, stdio: "inherit", detached: true },
    );
    const watchdog = setTimeout(() => {
      console.error(`run-tests: the test run did not finish within ${watchdogSeconds} s (a test is blocked); killed`);
      killed = true;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
      resolve(1);
    }, watchdogSeconds * 1000);
    child.on("error", (e) => {
      console.error(`run-tests: ${e.message}`);
      clearTimeout(watchdog);
      resolve(1);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(watchdog);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

// A failed run is run once more (TEST_RETRIES=0 turns this off): a rare hang of one test file under
// load is a known open bug (see the README), and the second run tells it from a real failure, which
// fails again. Both runs are in the output; the closing summary is the last run's.
let code = await runOnce();
for (let retry = Number(process.env.TEST_RETRIES ?? 1); code !== 0 && retry > 0; retry--) {
  console.error("run-tests: the run FAILED (above); running every test once more to tell a flaky hang from a failure");
  killed = false;
  code = await runOnce();
}
if (code !== 0 && killed) console.log("0 passed, 1 failed"); // the runner was killed: no summary of its own
process.exit(code);
