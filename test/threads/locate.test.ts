// Stack frames of function targets name the user's file and line (src/transport/locate.ts): under
// tsx (this suite), whose minified output is laid out again by its source map, and in plain
// JavaScript. An arrow target may call itself by its name. A class instance sent without its
// methods is a process warning naming the class and the methods.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { nodeOnly } from "../child.js";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setExcepthook, Thread, ThreadPoolExecutor } from "threading";

const T = { timeout: 60_000 };
/** Where a function starts comes from V8's inspector, which the library asks on Node only (README: on Bun and Deno frames read `eval at`). */
const LOCATED = {
  ...T,
  ...nodeOnly("function targets are located through node:inspector, which the library uses on Node only"),
};
const here = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
/** The 1-based line of this file that holds `marker` (in a string literal below, not here). */
const lineOf = (marker: string) => here.findIndex((l) => l.includes(`"${marker}"`)) + 1;

function work(job: { n: number }, scale: number): number {
  const total: number = job.n * scale;
  if (total > 1) {
    throw new Error("thread-marker");
  }
  return total;
}

test("a Thread target's stack names this file and the line of the throw", LOCATED, () => {
  const errors: Error[] = [];
  setExcepthook((a) => errors.push(a.excValue as Error));
  try {
    const t = new Thread({ target: work, args: [{ n: 2 }, 3] });
    t.start();
    t.join();
  } finally {
    setExcepthook(null);
  }
  assert.equal(errors.length, 1);
  const line = lineOf("thread-marker");
  assert.match(errors[0]?.stack ?? "", new RegExp(`at work \\(${import.meta.url}:${line}:\\d+\\)`));
});

class Failing extends Thread {
  constructor(readonly limit: number) {
    super();
  }
  override run(): void {
    if (this.limit > 0) {
      throw new RangeError("subclass-marker");
    }
  }
}

test("a Thread subclass sent as source: run()'s stack names this file and line", LOCATED, () => {
  const errors: Error[] = [];
  setExcepthook((a) => errors.push(a.excValue as Error));
  try {
    const t = new Failing(1);
    t.start();
    t.join();
  } finally {
    setExcepthook(null);
  }
  assert.equal(errors.length, 1);
  assert.match(errors[0]?.stack ?? "", new RegExp(`${import.meta.url}:${lineOf("subclass-marker")}:\\d+`));
});

test("a pool task's stack names this file and line; an arrow may call itself by name", LOCATED, async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    const f = pool.submit(async (x: number) => {
      await null;
      const o: { missing?: () => void } = {};
      if (x > 0) o.missing!(); // "pool-marker"
      return x;
    }, 1);
    const e = (await f.exceptionAsync()) as Error;
    assert.match(e.stack ?? "", new RegExp(`${import.meta.url}:${lineOf("pool-marker")}:\\d+`));
    const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
    assert.equal(await pool.submit(fact, 5), 120);
  } finally {
    pool.shutdown();
  }
});

test("plain JavaScript: the line and column of the throw", LOCATED, () => {
  const dir = mkdtempSync(join(tmpdir(), "threading-locate-"));
  try {
    const file = join(dir, "app.mjs");
    const lib = pathToFileURL(fileURLToPath(new URL("../../dist/index.js", import.meta.url))).href;
    writeFileSync(
      file,
      [
        `import { Thread } from ${JSON.stringify(lib)};`,
        "const obj = {",
        "  meth(a) {",
        '    throw new Error("m" + a);',
        "  },",
        "};",
        "new Thread({ target: obj.meth, args: [1] }).start();",
        "",
      ].join("\n"),
    );
    const r = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 30_000 });
    assert.match(r.stderr, new RegExp(`at meth \\(${pathToFileURL(file).href}:4:11\\)`), r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an instance of a class with methods: a warning at send time naming the class and its methods", T, async () => {
  class Person {
    constructor(readonly name: string) {}
    greet(): string {
      return `hi ${this.name}`;
    }
  }
  class Point {
    x = 1;
  }
  const warnings: Error[] = [];
  const listener = (w: Error) => warnings.push(w);
  process.on("warning", listener);
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    assert.equal(await pool.submit((p: { name: string }) => p.name, new Person("ann")), "ann");
    assert.equal(await pool.submit((p: { name: string }) => p.name, new Person("bob")), "bob");
    assert.equal(await pool.submit((p: { x: number }) => p.x, new Point()), 1);
    await new Promise((r) => setImmediate(r));
  } finally {
    pool.shutdown();
    process.off("warning", listener);
  }
  const ours = warnings.filter((w) => (w as Error & { code?: string }).code === "THREADING_METHODS_NOT_SENT");
  assert.equal(ours.length, 1, "once per class, none for a class without methods");
  assert.match(ours[0]?.message ?? "", /args\[0\] is an instance of class Person: .* without its methods \(greet\)/);
});
