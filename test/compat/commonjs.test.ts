// A CommonJS consumer project ("type": "commonjs", as `npm init -y` makes it) with this package
// linked into its node_modules, no network: require("threading") (Node's require(esm)), TypeScript
// compiled by tsc to CommonJS (`threading_1.Lock` inside function targets), and the same file run
// by tsx (`import_threading.Lock`).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const require = createRequire(import.meta.url);
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
// require() of an ES module: Node 20.19+, 22.12+, 23+.
const requireEsm = major >= 23 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);
const T = { timeout: 120_000, skip: requireEsm ? false : "this Node cannot require() an ES module" };

let dir = "";

const appTs = `import { Lock, Queue, Thread, ThreadPoolExecutor, currentThread } from "threading";
import * as threading from "threading";

const q = new Queue<string>();
const lock = new Lock();
const t = new Thread({
  target: (queue: Queue<string>, l: Lock) => {
    const mine = new threading.Lock();
    mine.acquire();
    queue.put(\`\${currentThread().name}:\${l.locked()}:\${mine.locked()}\`);
  },
  args: [q, lock],
  name: "worker",
});
t.start();
t.join();
const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
const n: number = pool.submit((x: number) => x * 2 + Number(new Lock().locked()), 20).result();
pool.shutdown();
console.log(JSON.stringify({ fromThread: q.get(), n }));
`;

const requireJs = `"use strict";
const threading = require("threading");
const { Thread, Queue } = require("threading");
const { LifoQueue } = require("threading/queue");
const q = new Queue();
const t = new Thread({ target: (q) => q.put(new threading.Lock().locked()), args: [q] });
t.start();
t.join();
console.log(JSON.stringify({ locked: q.get(), lifo: typeof LifoQueue }));
`;

const closureJs = `"use strict";
const { Thread } = require("threading");
const greeting = "hi";
try {
  new Thread({ target: () => console.log(greeting) }).start();
} catch (e) {
  console.log(e.name + ": " + e.message);
}
`;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "threading-cjs-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "commonjs" }));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(root, join(dir, "node_modules", "threading"), "dir");
  symlinkSync(join(root, "node_modules", "@types"), join(dir, "node_modules", "@types"), "dir");
  writeFileSync(join(dir, "app.ts"), appTs);
  writeFileSync(join(dir, "main.js"), requireJs);
  writeFileSync(join(dir, "closure.js"), closureJs);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): string {
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, `node ${args.join(" ")}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

test(
  "require('threading') and require('threading/queue') in a CommonJS project; `threading.Lock` in a target",
  T,
  () => {
    assert.deepEqual(JSON.parse(run(["main.js"])), { locked: false, lifo: "function" });
  },
);

test("a CommonJS target that reads a variable of its module is refused at start(), naming it", T, () => {
  assert.match(run(["closure.js"]), /^TypeError: .*target uses greeting from outside the function/);
});

test("TypeScript compiled by tsc to CommonJS (threading_1.Lock in targets) type-checks and runs", T, () => {
  const tsc = require.resolve("typescript/bin/tsc");
  // --skipLibCheck: app.ts is checked against the published types, which are not checked themselves
  // here (test/types/consumer.test.ts does, for these module setups too, with skipLibCheck false).
  // Checking them and @types/node was 3/4 of each compile's CPU (5.7 s -> 1.6 s): under a landing's
  // load a compile outlasted run()'s 60 s hang bound (status null).
  const common = ["--strict", "--skipLibCheck", "--target", "es2022", "--types", "node", "app.ts"];
  run([tsc, "--module", "commonjs", "--outDir", "out", ...common]);
  // TypeScript >= 5.8 models Node's require(esm) under --module nodenext.
  run([tsc, "--module", "nodenext", "--noEmit", ...common]);
  assert.deepEqual(JSON.parse(run(["out/app.js"])), { fromThread: "worker:false:true", n: 40 });
});

test("the same TypeScript run by tsx in the CommonJS project (import_threading.Lock in targets)", T, () => {
  const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");
  assert.deepEqual(JSON.parse(run([tsx, "app.ts"])), { fromThread: "worker:false:true", n: 40 });
});
