#!/usr/bin/env node
// Runs every examples/*.ts, one after another, as `node --import tsx <file>` from the repo root,
// streaming its output under a header. An example fails on a non-zero exit, a signal, or when it
// runs longer than the timeout (EXAMPLE_TIMEOUT seconds, default 60). Exits non-zero if any failed.
// Usage: node scripts/run-examples.mjs [filter...]   (a filter keeps the files whose name contains it)
// EXAMPLES_RUNTIME=bun|deno (with EXAMPLES_RUNTIME_BIN, the runtime's executable, default its name)
// runs them on that runtime instead: `bun <file>`, `deno run -A <file>` (both run TypeScript).
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const timeoutSeconds = Number(process.env.EXAMPLE_TIMEOUT ?? 60);
const filters = process.argv.slice(2);
const runtime = process.env.EXAMPLES_RUNTIME ?? "node";
const runtimeBin = process.env.EXAMPLES_RUNTIME_BIN || runtime;
const commands = {
  node: (file) => [process.execPath, ["--import", "tsx", file]],
  bun: (file) => [runtimeBin, [file]],
  deno: (file) => [runtimeBin, ["run", "-A", file]],
};
if (!commands[runtime]) {
  console.error(`run-examples: unknown EXAMPLES_RUNTIME ${runtime} (node, bun or deno)`);
  process.exit(2);
}

let names = [];
try {
  names = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
} catch {}
names = names.sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (names.length === 0) {
  console.log("run-examples: no examples to run");
  process.exit(0);
}

let current = null;
function killGroup(child, signal = "SIGKILL") {
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (current) killGroup(current);
    process.exit(130);
  });
}

function run(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    // Its own process group, so a timeout also ends any process the example started.
    const [command, args] = commands[runtime](file);
    const child = spawn(command, args, { cwd: root, stdio: "inherit", detached: true });
    current = child;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutSeconds * 1000);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ ok: false, why: error.message, seconds: (Date.now() - started) / 1000 });
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      current = null;
      const seconds = (Date.now() - started) / 1000;
      if (timedOut) resolve({ ok: false, why: `timed out after ${timeoutSeconds} s`, seconds });
      else if (signal) resolve({ ok: false, why: `killed by ${signal}`, seconds });
      else if (code !== 0) resolve({ ok: false, why: `exit code ${code}`, seconds });
      else resolve({ ok: true, why: "ok", seconds });
    });
  });
}

const results = [];
for (const name of names) {
  const file = join("examples", name);
  console.log(`\n===== ${file} =====`);
  const result = await run(file);
  console.log(`----- ${file}: ${result.ok ? "ok" : `FAILED (${result.why})`} in ${result.seconds.toFixed(1)} s`);
  results.push({ file, ...result });
}

const failed = results.filter((r) => !r.ok);
console.log(
  `\n===== summary (${runtime}): ${results.length - failed.length} of ${results.length} examples passed =====`,
);
for (const r of results)
  console.log(`${r.ok ? "  ok    " : "  FAILED"} ${r.file} (${r.ok ? "" : `${r.why}, `}${r.seconds.toFixed(1)} s)`);
process.exit(failed.length > 0 ? 1 : 0);
