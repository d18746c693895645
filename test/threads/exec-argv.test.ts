// Node flags and threads (src/shared/exec-argv.ts): which flags threads get, memory and stack
// flags as resourceLimits, and whole programs started with flags that Workers refuse.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import type { Worker } from "node:worker_threads";
import { RuntimeError } from "threading";
import { startWorker, threadFlags, tsxApi, withoutRejected } from "../../dist/internal.js";
import { nodeOnly, runChild } from "../child.js";

const T = { timeout: 120_000 };
/** A program started with Node's command-line flags (or node --test): Node only. */
const FLAGS = { ...T, ...nodeOnly("starts a program with Node's command-line flags") };
const program = fileURLToPath(new URL("../fixtures/flags-program.mjs", import.meta.url));
const underTest = fileURLToPath(new URL("../fixtures/under-node-test.mjs", import.meta.url));

// What `node --test` on Node 24 gives each test file (every default option, as flags).
const node24TestRunnerFlags = [
  "--test-coverage-functions=0",
  "--test-concurrency=0",
  "--inspect-publish-uid=stderr,http",
  "--inspect-port=127.0.0.1:9229",
  "--stack-trace-limit=10",
  "--report-signal=SIGUSR2",
  "--test-isolation=process",
  "--heap-prof-interval=524288",
  "--v8-pool-size=4",
  "--trace-event-file-pattern=node_trace.${rotation}.log",
  "--secure-heap-min=2",
  "--watch-kill-signal=SIGTERM",
  "--experimental-addon-modules",
  "--use-largepages=off",
  "--max-http-header-size=16384",
  "--test-timeout=0",
  "--node-snapshot",
  "--network-family-autoselection-attempt-timeout=250",
];

test("threads keep loaders, conditions, source maps, warnings and experimental switches", () => {
  const argv = [
    "--import",
    "./hooks.mjs",
    "--require=./hook.cjs",
    "-r",
    "dotenv/config",
    "--loader",
    "./l.mjs",
    "-C",
    "dev",
    "--conditions=browser",
    "--enable-source-maps",
    "--no-warnings",
    "--disable-warning=ExperimentalWarning",
    "--experimental-vm-modules",
    "--no-experimental-require-module",
    "--unhandled-rejections",
    "strict",
  ];
  assert.deepEqual(threadFlags(argv).execArgv, argv);
  assert.equal(threadFlags(argv).tsx, null);
  assert.equal(threadFlags(argv).resourceLimits, null);
});

test("the profilers' flags go to threads (each writes its own profile), not a profile's one name", () => {
  const argv = ["--cpu-prof", "--cpu-prof-dir", "prof", "--cpu-prof-interval=100", "--heap-prof", "--heap-prof-dir=h"];
  assert.deepEqual(threadFlags(argv).execArgv, argv);
  assert.deepEqual(threadFlags(["--cpu-prof", "--cpu-prof-name", "main.cpuprofile", "--heap-prof-name=h"]).execArgv, [
    "--cpu-prof",
  ]);
});

test("flags Workers refuse, and the main program's own, stay on the main thread", () => {
  const argv = [
    ...node24TestRunnerFlags,
    "--expose-gc",
    "--title=x",
    "--title",
    "y",
    "--abort-on-uncaught-exception",
    "--trace-gc",
    "--inspect",
    "--input-type=module",
    "-e",
    "--enable-source-maps is code here",
    "--eval=1",
    "-p",
    "2",
    "--test",
    "--env-file",
    ".env",
    "--experimental-test-coverage",
    "--experimental-sea-config",
    "sea.json",
  ];
  assert.deepEqual(threadFlags(argv).execArgv, []);
});

test("memory and stack flags become resourceLimits", () => {
  assert.deepEqual(threadFlags(["--max-old-space-size=2048"]).resourceLimits, { maxOldGenerationSizeMb: 2048 });
  assert.deepEqual(threadFlags(["--max_old_space_size", "512", "--max-semi-space-size=16"]).resourceLimits, {
    maxOldGenerationSizeMb: 512,
    maxYoungGenerationSizeMb: 48,
  });
  assert.deepEqual(threadFlags(["--stack-size=2000"]).resourceLimits, { stackSizeMb: (2000 + 192) / 1024 });
  assert.deepEqual(threadFlags(["--stack-size=2000"]).execArgv, []);
  // A value that is not a number is not guessed at.
  assert.equal(threadFlags(["--max-old-space-size=lots"]).resourceLimits, null);
});

test("tsx's loader and require flags are taken apart, on every Node (threads register tsx on demand)", () => {
  const r = threadFlags(["--import", "tsx", "--require", "tsx/cjs", "--import=./other.mjs", "--enable-source-maps"]);
  assert.deepEqual(r.execArgv, ["--import=./other.mjs", "--enable-source-maps"]);
  assert.equal(r.tsx, "tsx");
  // The tsx CLI's own flags (its preflight and its loader, by path and URL), and a loader named tsx's by path.
  const cli = threadFlags([
    "--require",
    "/opt/x/node_modules/tsx/dist/preflight.cjs",
    "--import",
    "file:///opt/x/node_modules/tsx/dist/loader.mjs",
    "--conditions",
    "tsx",
  ]);
  assert.deepEqual(cli.execArgv, ["--conditions", "tsx"]);
  assert.equal(cli.tsx, "file:///opt/x/node_modules/tsx/dist/loader.mjs");
  assert.deepEqual(threadFlags(["--loader=tsx", "-r", "tsx"]), { execArgv: [], resourceLimits: null, tsx: "tsx" });
  // tsx's CommonJS hooks alone: threads register tsx too (its loader, when given, names it).
  assert.equal(threadFlags(["--require", "tsx/cjs"]).tsx, "tsx/cjs");
  assert.equal(threadFlags(["-r", "tsx/cjs", "--import", "tsx/esm"]).tsx, "tsx/esm");
});

test("tsxApi finds tsx's register API from the loader the main thread was given", () => {
  const api = tsxApi("tsx");
  assert.match(api, /^file:\/\/.*\/tsx\/dist\/esm\/api\/index\.mjs$/);
  // By URL and by absolute path into tsx's package, whatever its file (the CLI's loader, tsx/esm),
  // from any working directory (the package itself need not be one it can resolve).
  const loader = new URL("../../loader.mjs", api).href;
  const esm = new URL("../index.mjs", api).href;
  const cwd = process.cwd();
  process.chdir(tmpdir());
  try {
    for (const spec of [loader, esm, fileURLToPath(loader), fileURLToPath(esm)]) assert.equal(tsxApi(spec), api, spec);
  } finally {
    process.chdir(cwd);
  }
});

/**
 * Runs, in `cwd`, a program under the loader `loader` (a path) that starts one thread on a `.ts`
 * module target (fixtures/work.ts double(cell, 21)), then prints "thread" and the cell.
 */
function runUnderLoader(loader: string, cwd: string): { status: number | null; stdout: string; stderr: string } {
  const lib = new URL("../../dist/index.js", import.meta.url).href;
  const fixtures = new URL("../fixtures/", import.meta.url).href;
  const code = `
    const { Thread } = await import("${lib}");
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const t = new Thread({ target: { module: "${fixtures}work.ts", export: "double" }, args: [cell, 21] });
    t.start();
    t.join();
    console.log("thread", cell[0]);`;
  return spawnSync(process.execPath, ["--import", loader, "--input-type=module", "-e", code], {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
  });
}

test("a program whose tsx loader is given by its path runs threads that import .ts modules, from any working directory", {
  ...T,
  ...nodeOnly("--import"),
}, () => {
  // (tsx's own ES module loader by absolute path, the program in a directory where no tsx can be resolved:
  // the threads' registration resolved tsx/esm/api from the working directory before, and failed)
  const r = runUnderLoader(fileURLToPath(new URL("../index.mjs", tsxApi("tsx"))), tmpdir());
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "thread 42\n");
});

test("a thread that cannot register the process's tsx fails its import saying so; the program goes on", {
  ...T,
  ...nodeOnly("--import"),
}, () => {
  // (a loader named as tsx's, in a directory where no tsx package can be resolved)
  const dir = mkdtempSync(join(tmpdir(), "threading-fake-"));
  try {
    mkdirSync(join(dir, "tsx"));
    const loader = join(dir, "tsx", "loader.mjs");
    writeFileSync(loader, "");
    const r = runUnderLoader(loader, dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "thread 0\n");
    assert.match(
      r.stderr,
      /Exception in thread Thread-\d+ \(double\):\nError: threading: this thread could not register tsx \(the process runs under .*loader\.mjs\) before importing a module: Cannot find module 'tsx\/cjs\/api'/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "under tsx, the hub runs without it and threads register it on demand: a program's first starts import .ts modules",
  T,
  () => {
    // (runChild runs under tsx: the threads register it on demand, transport/loaders.ts)
    const fixtures = new URL("../fixtures/", import.meta.url).href;
    const r = runChild(`
    import { Thread, ThreadPoolExecutor } from "threading";
    const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    console.log("pool", pool.submit({ module: "${fixtures}futures-work.ts", export: "add" }, 2, 3).result());
    pool.shutdown();
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const t = new Thread({ target: { module: "${fixtures}work.ts", export: "double" }, args: [cell, 21] });
    t.start();
    t.join();
    console.log("thread", cell[0]);
  `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "pool 5\nthread 42\n");
  },
);

test("withoutRejected takes out the flags Node names, with a value given apart", () => {
  const message = "Initiated Worker with invalid execArgv flags: --experimental-x, --conditions";
  assert.deepEqual(withoutRejected(["--experimental-x", "--conditions", "dev", "--import=a"], message), ["--import=a"]);
  assert.equal(withoutRejected(["--import=a"], message), null);
  assert.equal(withoutRejected(["--import=a"], "something else"), null);
});

test("startWorker drops refused flags and retries; a Worker it cannot make is a RuntimeError", () => {
  const invalid = (flags: string) =>
    Object.assign(new Error(`Initiated Worker with invalid execArgv flags: ${flags}`), {
      code: "ERR_WORKER_INVALID_EXEC_ARGV",
    });
  const flags = { execArgv: ["--experimental-a", "--enable-source-maps", "--experimental-b"] };
  const seen: string[][] = [];
  const made = startWorker(flags, (execArgv) => {
    seen.push(execArgv);
    if (execArgv.includes("--experimental-a")) throw invalid("--experimental-a, --experimental-b");
    return "worker" as unknown as Worker;
  });
  assert.equal(made, "worker");
  assert.deepEqual(seen, [["--experimental-a", "--enable-source-maps", "--experimental-b"], ["--enable-source-maps"]]);
  assert.deepEqual(flags.execArgv, ["--enable-source-maps"]);

  assert.throws(
    () =>
      startWorker({ execArgv: ["-C"] }, () => {
        throw Object.assign(new Error("Initiated Worker with invalid execArgv flags: -C requires an argument"), {
          code: "ERR_WORKER_INVALID_EXEC_ARGV",
        });
      }),
    (e: Error) => e instanceof RuntimeError && /cannot start a Worker for threads/.test(e.message),
  );
  assert.throws(
    () =>
      startWorker({ execArgv: [] }, () => {
        throw new Error("out of memory");
      }),
    (e: Error) => e instanceof RuntimeError && /out of memory/.test(e.message),
  );
});

test("startWorker: a refusal naming a flag the process was not given drops the experimental switches from the last", () => {
  // Node turns --experimental-shadow-realm into V8's --harmony-shadow-realm, and a Worker refuses
  // it under that name: withoutRejected() found nothing to drop, and every start() failed.
  const flags = {
    execArgv: [
      "--experimental-loader",
      "./l.mjs",
      "--experimental-shadow-realm",
      "--enable-source-maps",
      "--experimental-x=1",
    ],
  };
  const seen: string[][] = [];
  const made = startWorker(flags, (execArgv) => {
    seen.push(execArgv);
    if (execArgv.includes("--experimental-shadow-realm")) {
      throw Object.assign(new Error("Initiated Worker with invalid execArgv flags: --harmony-shadow-realm"), {
        code: "ERR_WORKER_INVALID_EXEC_ARGV",
      });
    }
    return "worker" as unknown as Worker;
  });
  assert.equal(made, "worker");
  assert.equal(seen.length, 3);
  // the loader and its value stay: only switches go
  assert.deepEqual(flags.execArgv, ["--experimental-loader", "./l.mjs", "--enable-source-maps"]);
  assert.throws(
    () =>
      startWorker({ execArgv: ["--experimental-loader=./l.mjs"] }, () => {
        throw Object.assign(new Error("Initiated Worker with invalid execArgv flags: --harmony-x"), {
          code: "ERR_WORKER_INVALID_EXEC_ARGV",
        });
      }),
    (e: Error) => e instanceof RuntimeError && /cannot start a Worker for threads/.test(e.message),
  );
});

test("a program started with --experimental-shadow-realm runs its threads and pool", T, async () => {
  // RuntimeError "can't start new thread: ... invalid execArgv flags: --harmony-shadow-realm" before.
  const r = await run(["--experimental-shadow-realm", program, "print"]);
  assert.equal(result(r, "--experimental-shadow-realm").sum, 5);
});

test(
  "a program run with --cpu-prof gets a CPU profile of each thread it ran, the thread's code in it",
  FLAGS,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "threading-cpu-prof-"));
    try {
      const code = `
      import { Thread } from "threading";
      function spinInThread() { const end = Date.now() + 200; let n = 0; while (Date.now() < end) n++; return n; }
      const t = new Thread({ target: spinInThread });
      t.start();
      t.join();
      console.log("RESULT done");`;
      const r = await run(["--cpu-prof", "--cpu-prof-dir", dir, "--input-type=module", "-e", code]);
      assert.equal(r.status, 0, r.stderr.slice(-2000));
      const profiles = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
      // The main thread's, and the thread's (Node names each by its thread id).
      const spun = profiles.filter((f) => readFileSync(join(dir, f), "utf8").includes('"functionName":"spinInThread"'));
      assert.ok(profiles.length >= 2, `profiles: ${profiles.join(", ")}`);
      assert.ok(
        spun.some((f) => !/\.0\.\d+\.cpuprofile$/.test(f)),
        `the thread's code is in no thread's profile: ${profiles}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  // Without the runner's context, so that a nested `node --test` reports on its own stdout.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: 90_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

function result(r: { status: number | null; stdout: string; stderr: string }, flag: string) {
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line, `${flag}: no result (exit ${r.status})\n${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 0, `${flag}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice("RESULT ".length)) as { limits: Record<string, number>; sum: number };
}

test(
  "--frozen-intrinsics under tsx (source maps on): submit(), start() and logging's caller fields work",
  FLAGS,
  async () => {
    // Before: submit() and start() threw "Cannot assign to read only property 'prepareStackTrace'"
    // (callerFile() set it to read the frames unmapped), as did a record with %(funcName)s.
    // (JavaScript: tsx does not compile an -e snippet under --frozen-intrinsics, but its source maps are on.)
    const code = `
    import { logging, Thread, ThreadPoolExecutor } from "threading";
    logging.basicConfig({ level: logging.DEBUG, format: "%(funcName)s:%(lineno)d %(message)s" });
    function caller() { logging.info("logged"); }
    caller();
    const ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const sum = ex.submit((a, b) => a + b, 2, 3).result();
    ex.shutdown();
    const t = new Thread({ target: (n) => console.log("thread " + n), args: [sum] });
    t.start();
    t.join();`;
    const r = await run(["--import", "tsx", "--frozen-intrinsics", "--input-type=module", "-e", code]);
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    assert.equal(r.stdout, "thread 5\n");
    assert.match(r.stderr, /^caller:4 logged$/m);
  },
);

test("a program started with flags Workers refuse runs its threads and pool", FLAGS, async () => {
  const flags = [
    "--max-old-space-size=2048",
    "--expose-gc",
    "--stack-size=2000",
    "--title=threading-flags",
    "--abort-on-uncaught-exception",
    "--trace-gc",
  ];
  const runs = await Promise.all(flags.map((flag) => run([flag, program, "print"])));
  const byFlag = new Map(flags.map((flag, i) => [flag, result(runs[i] as never, flag)]));
  for (const [flag, r] of byFlag) assert.equal(r.sum, 5, flag);
  assert.equal(byFlag.get("--max-old-space-size=2048")?.limits.maxOldGenerationSizeMb, 2048);
  assert.equal(byFlag.get("--stack-size=2000")?.limits.stackSizeMb, (2000 + 192) / 1024);
  // --trace-gc stays on the main thread: its lines are the main thread's only (quiet threads).
  assert.ok(!runs[flags.indexOf("--trace-gc")]?.stderr.includes("ERR_WORKER_INVALID_EXEC_ARGV"));
});

test(
  "--disallow-code-generation-from-strings: targets, subclasses, actions and tasks compile (node:vm), lines kept",
  FLAGS,
  async () => {
    // Before: start() threw "target cannot be sent to another thread: its source does not parse on its own".
    const fixture = fileURLToPath(new URL("../fixtures/no-codegen.mjs", import.meta.url));
    const r = await run(["--disallow-code-generation-from-strings", fixture]);
    const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
    assert.ok(line, `no result (exit ${r.status})\n${r.stderr.slice(-2000)}`);
    assert.deepEqual(JSON.parse(line.slice("RESULT ".length)), { out: 42, action: "action", sum: 6 });
    // The failing target's stack names its own line in the fixture (28: `throw new Error("where")`).
    assert.match(r.stderr, /Exception in thread failing:\nError: where\n\s+at target \(\S*no-codegen\.mjs:28:11\)/);
    assert.equal(r.status, 0);
  },
);

test("threads start in a test file run by node --test", FLAGS, async () => {
  const r = await run(["--test", "--test-reporter=tap", underTest]);
  assert.equal(r.status, 0, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /# pass 1/);
});
