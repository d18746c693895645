#!/usr/bin/env node
// Runs the test suite's node:test files on Bun or Deno, each file in a process of its own, as a user
// of that runtime runs tests: `bun test <file>` (Bun's runner takes node:test's test()/describe()),
// `deno test -A --no-check --sloppy-imports <file>` (Deno's node:test).
// Usage: node scripts/run-tests-on.mjs bun|deno [filter...]
//   RUNTIME_BIN: the runtime's executable (default: its name on the PATH)
//   A filter keeps the files whose path contains it; without one, every file of DIRS.
// Deno's flags: --no-check, since in this repository `threading` is the package itself (a
// self-reference), whose .d.ts files Deno's checker reads as the .js files beside them (an install
// in node_modules type-checks: README, Runtimes); --sloppy-imports, for the suite's `./helpers.js`
// imports of .ts files (tsx's convention). Tests that need what only Node has say so and skip
// themselves there (test/child.ts nodeOnly()), and a file whose every test does has a header line
// `// Node only: why`, and is not run; children a test spawns run on the same runtime
// (test/child.ts evalArgs/scriptArgs).
// Two files run at a time (the machine's cores, as scripts/run-tests.mjs). A file running longer than
// TEST_FILE_WATCHDOG_SECONDS (default 300) is hung: it gets SIGUSR2 (the main thread's hang report,
// dumpThreads(), on stderr), then is killed, and fails the run. Nothing is retried.
import { spawn } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The parts of the suite run here: everything but what needs Node's CLI, tsx, Redis or tsc. */
const DIRS = ["test/sync", "test/queue", "test/futures", "test/threads", "test/state", "test/shared", "test/logging"];
const runtime = process.argv[2];
const filters = process.argv.slice(3);
const bin = process.env.RUNTIME_BIN || runtime;
const commands = {
  bun: (file) => [bin, ["test", "--timeout", "120000", file]],
  deno: (file) => [bin, ["test", "-A", "--no-check", "--sloppy-imports", file]],
};
if (!commands[runtime]) {
  console.error("usage: node scripts/run-tests-on.mjs bun|deno [filter...]");
  process.exit(2);
}
const fileWatchdogSeconds = Number(process.env.TEST_FILE_WATCHDOG_SECONDS ?? 300);

function collect(dir) {
  let out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && !entry.name.startsWith(".")) out = out.concat(collect(path));
    } else if (entry.name.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out;
}
const all = DIRS.flatMap((d) => collect(join(root, d)))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
/** Files whose every test needs Node say so in a line of their header, `// Node only: why`: not run here. */
const nodeOnly = new Map();
for (const f of all) {
  const why = /^\/\/ Node only: (.*)$/m.exec(readFileSync(join(root, f), "utf8").slice(0, 4000));
  if (why) nodeOnly.set(f, why[1]);
}
const files = all.filter((f) => !nodeOnly.has(f));
if (files.length === 0) {
  console.error(`run-tests-on: no test files${filters.length ? ` matching ${filters.join(", ")}` : ""}`);
  process.exit(1);
}

const running = new Set();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const child of running) killGroup(child, "SIGKILL");
    process.exit(130);
  });
}
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** Runs one file; resolves to { file, ok, why, seconds, output }. */
function run(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const [command, args] = commands[runtime](file);
    // Its own process group, so a hung file is ended with every process it started.
    const child = spawn(command, args, {
      cwd: root,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    running.add(child);
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    let hung = false;
    const watchdog = setTimeout(() => {
      hung = true;
      try {
        process.kill(child.pid, "SIGUSR2"); // the hang report, printed by the main thread
      } catch {}
      setTimeout(() => killGroup(child, "SIGKILL"), 5000);
    }, fileWatchdogSeconds * 1000);
    const done = (ok, why) => {
      clearTimeout(watchdog);
      running.delete(child);
      resolve({ file, ok, why, seconds: (Date.now() - started) / 1000, output });
    };
    child.on("error", (e) => done(false, e.message));
    child.on("close", (code, signal) => {
      if (hung) done(false, `ran longer than ${fileWatchdogSeconds} s (hung; its hang report is above)`);
      else if (signal) done(false, `killed by ${signal}`);
      else if (code !== 0) done(false, `exit code ${code}`);
      else done(true, "ok");
    });
  });
}

const version = await new Promise((resolve) => {
  const child = spawn(bin, ["--version"], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.on("error", () => resolve("?"));
  child.on("close", () => resolve(out.split("\n")[0].trim()));
});
console.log(`run-tests-on: ${files.length} test files on ${runtime} ${version}, 2 at a time`);
for (const [f, why] of nodeOnly) console.log(`skip ${f}: ${why.replace(/;.*$/, "")}`);
const started = Date.now();
const results = [];
let next = 0;
async function lane() {
  while (next < files.length) {
    const r = await run(files[next++]);
    results.push(r);
    console.log(`${r.ok ? "ok  " : "FAIL"} ${r.file} (${r.seconds.toFixed(1)} s)${r.ok ? "" : `: ${r.why}`}`);
    if (!r.ok) console.log(r.output.replace(/\n*$/, "\n"));
  }
}
await Promise.all([lane(), lane()]);
const failed = results.filter((r) => !r.ok);
const seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(
  `\nrun-tests-on ${runtime}: ${results.length - failed.length} files passed, ${failed.length} failed (${seconds} s)`,
);
if (failed.length > 0) {
  const text = failed.map((r) => `${r.file}: ${r.why}\n${r.output.split("\n").slice(-60).join("\n")}`).join("\n");
  console.log(
    `\nrun-tests-on: what failed (${runtime} ${version}):\n${failed.map((r) => `  ${r.file}: ${r.why}`).join("\n")}`,
  );
  // .ci/run collects these to print them at the end of the whole CI run.
  if (process.env.TEST_FAILURES_FILE)
    appendFileSync(process.env.TEST_FAILURES_FILE, `${runtime} ${version}:\n${text}\n\n`);
  process.exit(1);
}
