// TypeScript run by Node itself (type stripping, no tsx): `node app.ts` (default on Node >= 23.6;
// Node 22 gets --experimental-strip-types), also under `node --test` with its default process
// isolation and with none, under `--watch`, and with the flags users start such programs with:
// --experimental-vm-modules, --no-experimental-global-navigator, --disable-wasm-trap-handler,
// --conditions, --permission (with and without --allow-worker), NODE_OPTIONS hooks (--require,
// --import). Each runs test/fixtures/strip-types/ copied into a project of its own, with this
// package linked as node_modules/threading, as a user's project has it. A function target, a .ts
// module target, a subclass imported from the .ts main module and a pool must all run, and a
// package of the project must import by name in a thread although the library is linked from
// elsewhere (src/shared/exec-argv.ts: which flags threads get; src/transport/target.ts: imports).
// Node only: Node's own type stripping and Node's command-line flags; scripts/run-tests-on.mjs does not run this file on Bun and Deno.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Outcome } from "../fixtures/strip-types/app.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixtures = fileURLToPath(new URL("../fixtures/strip-types/", import.meta.url));
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
// Type stripping: Node 22.6+ (behind --experimental-strip-types on 22), 23.6+ by default.
const strips = major >= 23 || (major === 22 && minor >= 6);
const T = { timeout: 180_000, skip: strips ? false : "this Node cannot run TypeScript itself (Node 22.6+)" };
/** The flag that turns type stripping on where it is not the default. */
const stripFlags = major === 22 ? ["--experimental-strip-types", "--no-warnings=ExperimentalWarning"] : [];

let dir = "";
before(() => {
  if (!strips) return;
  dir = mkdtempSync(join(tmpdir(), "threading-strip-types-"));
  cpSync(fixtures, dir, { recursive: true });
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(root, join(dir, "node_modules", "threading"), "dir");
  // A package of the project, which threads import by name (the library, linked, is not beside it).
  mkdirSync(join(dir, "node_modules", "greet"));
  const greet = { name: "greet", type: "module", exports: { ".": { import: "./index.js", default: "./index.js" } } };
  writeFileSync(join(dir, "node_modules", "greet", "package.json"), JSON.stringify(greet));
  writeFileSync(join(dir, "node_modules", "greet", "index.js"), 'export const hello = (who) => "hello " + who;\n');
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs Node with `args` in the project; with `until`, ends it (its process group) once its stdout
 * matches (for --watch, which never exits by itself).
 */
function node(args: string[], env: Record<string, string> = {}, until?: RegExp): Promise<Run> {
  // Without the runner's context, so that a nested `node --test` reports on its own stdout.
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  delete childEnv.NODE_TEST_CONTEXT;
  delete childEnv.NODE_OPTIONS;
  if (env.NODE_OPTIONS) childEnv.NODE_OPTIONS = env.NODE_OPTIONS;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: dir,
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
      detached: until !== undefined,
    });
    let stdout = "";
    let stderr = "";
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {}
    };
    const timer = setTimeout(end, 120_000);
    child.stdout.on("data", (d) => {
      stdout += d;
      if (until?.test(stdout)) end();
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function outcome(r: Run, what: string): Outcome {
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line, `${what}: no result (exit ${r.status})\n${r.stdout.slice(-1000)}\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice("RESULT ".length)) as Outcome;
}

/** What app.ts gives when every target ran. */
function assertRan(o: Outcome, what: string): void {
  assert.deepEqual(o.fn, ["typed:6"], what);
  assert.deepEqual(o.module, [15], what);
  assert.equal(o.subclass, 42, what);
  assert.deepEqual(o.pool, [5, 12], what);
  // Bare import() in a function target and a bare module target: the project's package, found
  // from the file that made the thread (before: ERR_MODULE_NOT_FOUND, looked up beside the library).
  assert.deepEqual(o.bare, ["hello fn", "hello module"], what);
}

test("node app.ts: function, .ts module and subclass targets and a pool run", T, async () => {
  const r = await node([...stripFlags, "app.ts", "print"]);
  assertRan(outcome(r, "node app.ts"), "node app.ts");
  assert.equal(r.status, 0, r.stderr);
});

test("node --test runs a .ts test file's threads, with process isolation and without", T, async () => {
  const none = major >= 23 ? "--test-isolation=none" : "--experimental-test-isolation=none";
  const runs = await Promise.all([
    node([...stripFlags, "--test", "--test-reporter=tap", "app-under-test.ts"]),
    node([...stripFlags, "--test", none, "--test-reporter=tap", "app-under-test.ts"]),
  ]);
  for (const [i, r] of runs.entries()) {
    const what = i === 0 ? "node --test" : `node --test ${none}`;
    assert.match(r.stdout, /# pass 1\n/, `${what}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    assert.equal(r.status, 0, what);
  }
});

test("node --watch app.ts runs its threads (the program runs under the watcher's child)", T, async () => {
  const r = await node([...stripFlags, "--watch", "app.ts", "print"], {}, /RESULT .*\n|(Completed|Failed) running/);
  assertRan(outcome(r, "--watch"), "--watch");
});

test("flags users start a .ts program with: its threads run, and get the conditions", T, async () => {
  const flagSets = [
    ["--experimental-vm-modules"],
    ["--no-experimental-global-navigator"],
    ["--disable-wasm-trap-handler"],
    ["--conditions=development"],
    ["-C", "development"],
    ["--permission", "--allow-worker", "--allow-fs-read=*"],
  ];
  const runs = await Promise.all(
    flagSets.map((flags) => node([...stripFlags, "--no-warnings", ...flags, "app.ts", "print"])),
  );
  for (const [i, flags] of flagSets.entries()) {
    const what = flags.join(" ");
    const o = outcome(runs[i] as Run, what);
    assertRan(o, what);
    const conditions = flags.includes("development") || flags.includes("--conditions=development");
    assert.deepEqual(o.mode, conditions ? ["development", "development"] : ["default", "default"], what);
  }
});

test("NODE_OPTIONS --require and --import hooks run in every thread", T, async () => {
  const r = await node([...stripFlags, "app.ts", "print"], {
    NODE_OPTIONS: "--require ./hook.cjs --import ./hook.mjs",
  });
  const o = outcome(r, "NODE_OPTIONS hooks");
  assertRan(o, "NODE_OPTIONS hooks");
  assert.deepEqual(o.hooks, ["cjs=1 mjs=1", "cjs=1 mjs=1"]);
});

test(
  "--permission without --allow-worker: start(), startAsync() and pool tasks fail at once, saying what to use",
  T,
  async () => {
    // Before, a pool task's result() and exception() waited for ever: the start's failure came only
    // as a rejection, which a blocking wait on the main thread never sees.
    const r = await node([...stripFlags, "--no-warnings", "--permission", "--allow-fs-read=*", "app.ts", "refusals"]);
    const line = r.stdout.split("\n").find((l) => l.startsWith("REFUSALS "));
    assert.ok(line, `no result (exit ${r.status})\n${r.stderr.slice(-2000)}`);
    const said = JSON.parse(line.slice("REFUSALS ".length)) as string[];
    assert.equal(said.length, 4, said.join("\n"));
    for (const s of said) assert.match(s, /^RuntimeError: can't start new thread: .*Use --allow-worker/);
    assert.equal(r.status, 0, r.stderr);
  },
);
