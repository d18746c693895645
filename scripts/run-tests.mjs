#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner (Node 20's --test takes no glob).
// Usage: node scripts/run-tests.mjs [filter...]   (a filter keeps the files whose path contains it;
// a filter "!part" leaves out the files whose path contains `part`)
// The runner's summary (spec reporter), then what failed again with its errors (failures-reporter.mjs),
// are the last output; the runner's exit code is ours. A failure or a hang fails the
// run: nothing is retried.
//
// Watchdogs: a test blocked in Atomics.wait on a file's main thread stops that file's event loop,
// and so node:test's per-test timeouts. So this script watches the processes itself:
//  - a test file's process that runs longer than TEST_FILE_WATCHDOG_SECONDS (default 300) and
//  - a run in which no test file has started or ended for TEST_WATCHDOG_SECONDS (default 900: the
//    runner stuck with no file running, e.g. waiting for output a leftover grandchild holds open)
// get the hang report first (SIGUSR2 and a `<pid>.request` file: threading's dumpThreads() of every thread of that process,
// written to THREADING_HANG_REPORT_DIR, see src/threads/dump-signal.ts), which is printed with
// the file's name, and are then killed (a killed file fails the run). The whole run is not given a
// bound of its own: its length is the sum of its files' (each bounded) divided among the cores, and
// on a loaded machine a healthy run took past 900 s (the 'whole run' bound it had then killed it as
// "blocked" while its files were passing). Each file's duration, as this script saw it (every 2 s),
// is printed at the end, the slowest first.
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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

const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith("!"));
const excluded = args.filter((a) => a.startsWith("!")).map((a) => a.slice(1));
const files = collect(join(root, "test"))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .filter((f) => !excluded.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`run-tests: no test files found${args.length ? ` matching ${args.join(", ")}` : ""}`);
  process.exit(1);
}

const watchdogSeconds = Number(process.env.TEST_WATCHDOG_SECONDS ?? 900);
const fileWatchdogSeconds = Number(process.env.TEST_FILE_WATCHDOG_SECONDS ?? 300);
// node:test applies --test-timeout to each file as a whole (a file is one test of the runner), and
// a file's tests without a timeout of their own inherit it. It was 120 s: on a loaded machine whole
// files that pass took longer (compat/commonjs, distributed/executor and faults in a landing run at
// load ~30; threads/reuse and thread at load ~27) and failed as "test timed out after 120000ms".
// A file is bounded by the file watchdog, which prints its hang report first; this bound only
// comes after it. (Tests whose event loop runs have their own timeouts, mostly 60 s.)
const testTimeoutMs = (fileWatchdogSeconds + 60) * 1000;
const reportDir = mkdtempSync(join(tmpdir(), "threading-hang-"));
// What failed, written by failures-reporter.mjs and printed again as the last lines of the run.
const failuresFile = join(reportDir, "failures.txt");
/** The hang reports printed during the run (their first lines), printed again at its end. */
const hangReports = [];
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

/** [pid, ppid] of every process (Linux /proc); empty elsewhere. */
function processes() {
  const out = [];
  let names;
  try {
    names = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.push([Number(name), Number(fields[1])]);
    } catch {}
  }
  return out;
}

/** `pid` and all its descendants. */
function tree(pid, all = processes()) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [p, pp] of all) if (pp === out[i]) out.push(p);
  return out;
}

function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return `pid ${pid}`;
  }
}

const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms));

/** Asks every process of `pids` for its hang report, prints what arrives within a few seconds, kills them. */
async function reportAndKill(pids, why) {
  const names = new Map(pids.map((p) => [p, commandLine(p)]));
  console.error(`run-tests: ${why}; asking for the hang report (SIGUSR2) of:`);
  for (const [p, cmd] of names) console.error(`  ${p}: ${cmd}`);
  for (const p of pids) {
    try {
      process.kill(p, "SIGUSR2");
      // Node 24+ workers cannot hear signals: the hub answers this file instead (dump-signal.ts).
      writeFileSync(join(reportDir, `${p}.request`), "");
    } catch {}
  }
  const until = Date.now() + 5000;
  while (Date.now() < until && !pids.every((p) => existsSync(join(reportDir, `${p}.txt`)))) await sleepMs(100);
  await sleepMs(300);
  for (const p of pids) {
    const file = join(reportDir, `${p}.txt`);
    if (!existsSync(file)) continue;
    const report = readFileSync(file, "utf8");
    console.error(`run-tests: hang report of ${p} (${names.get(p)}):`);
    console.error(report);
    hangReports.push(`${why}: hang report of ${names.get(p)}:\n${report.split("\n").slice(0, 80).join("\n")}`);
  }
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {}
  }
}

/** Each test file's process seen by the watchdog: its file, when first seen, when seen gone (ms). */
const timings = new Map();

/** The test file a runner's child runs (the last .test.ts of its command line), or its command line. */
function testFileOf(pid) {
  const cmd = commandLine(pid);
  const file = / (\S+\.test\.ts)$/.exec(cmd)?.[1];
  return file ? relative(root, file) : cmd.slice(0, 120);
}

/** The files' durations, slowest first, as seconds (a file still running at the end counts up to now). */
function durationsReport() {
  const now = Date.now();
  const rows = [...timings.values()]
    .map((t) => ({ file: t.file, s: ((t.end ?? now) - t.start) / 1000, open: t.end === undefined }))
    .sort((a, b) => b.s - a.s);
  if (rows.length === 0) return "";
  const total = rows.reduce((sum, r) => sum + r.s, 0);
  const lines = rows
    .slice(0, 15)
    .map((r) => `  ${r.s.toFixed(0).padStart(4)} s  ${r.file}${r.open ? " (not ended)" : ""}`);
  return `run-tests: the slowest test files (of ${rows.length}, ${total.toFixed(0)} s in all; seen every 2 s):\n${lines.join("\n")}`;
}

/** One run of node's test runner over every file; resolves to its exit code. */
function runOnce() {
  return new Promise((resolve) => {
    // Its own process group, so the watchdog can end the runner and every test process it started.
    child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--test",
        "--test-concurrency=2",
        `--test-timeout=${testTimeoutMs}`,
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        `--test-reporter=${join(root, "scripts", "failures-reporter.mjs")}`,
        `--test-reporter-destination=${failuresFile}`,
        ...files,
      ],
      { cwd: root, stdio: "inherit", detached: true, env: { ...process.env, THREADING_HANG_REPORT_DIR: reportDir } },
    );
    // Per test file: the runner's children, each timed from when it is first seen.
    const firstSeen = new Map();
    let checking = false;
    let watchdog;
    const stuck = async () => {
      clearInterval(perFile);
      killed = true;
      const pids = tree(child.pid).slice(1);
      await reportAndKill(pids, `no test file started or ended for ${watchdogSeconds} s (the run is blocked)`);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
      resolve(1);
    };
    // Re-armed whenever a test file starts or ends (the run's progress).
    const progressed = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(stuck, watchdogSeconds * 1000);
    };
    progressed();
    const perFile = setInterval(async () => {
      if (checking) return;
      checking = true;
      try {
        const all = processes();
        const now = Date.now();
        const children = new Set();
        for (const [pid, ppid] of all) {
          if (ppid !== child.pid) continue;
          children.add(pid);
          if (!firstSeen.has(pid)) {
            firstSeen.set(pid, now);
            timings.set(pid, { file: testFileOf(pid), start: now, end: undefined });
            progressed();
          } else if (now - firstSeen.get(pid) > fileWatchdogSeconds * 1000) {
            firstSeen.set(pid, Number.POSITIVE_INFINITY);
            await reportAndKill(tree(pid, all), `a test file ran longer than ${fileWatchdogSeconds} s (hung)`);
          }
        }
        for (const [pid, t] of timings) {
          if (t.end === undefined && !children.has(pid)) {
            t.end = now;
            progressed();
          }
        }
      } finally {
        checking = false;
      }
    }, 2000);
    child.on("error", (e) => {
      console.error(`run-tests: ${e.message}`);
      clearTimeout(watchdog);
      clearInterval(perFile);
      resolve(1);
    });
    child.on("exit", (code, signal) => {
      for (const t of timings.values()) t.end ??= Date.now();
      clearTimeout(watchdog);
      clearInterval(perFile);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const code = await runOnce();
const report = durationsReport();
if (report) console.log(`\n${report}`);
const failures = [existsSync(failuresFile) ? readFileSync(failuresFile, "utf8").trim() : "", ...hangReports]
  .filter(Boolean)
  .join("\n");
if (failures) {
  console.log(`\nrun-tests: what failed (node ${process.version}):\n${failures}`);
  // .ci/run collects these to print them at the end of the whole CI run.
  if (process.env.TEST_FAILURES_FILE)
    appendFileSync(process.env.TEST_FAILURES_FILE, `node ${process.version}:\n${failures}\n\n`);
}
rmSync(reportDir, { recursive: true, force: true });
if (code !== 0 && killed) console.log("0 passed, 1 failed"); // the runner was killed: no summary of its own
process.exit(code);
