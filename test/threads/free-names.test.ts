// Function targets that read variables of the enclosing scope are refused at start()/submit() with a
// TypeError naming them (src/transport/free-names.ts); valid code is never refused (the check is
// conservative); a CommonJS build's `threading_1.Lock` resolves in the thread.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as T from "threading";
import { Lock, Thread, ThreadPoolExecutor, Timer } from "threading";
import * as Q from "threading/queue";
import { checkFreeNames, freeNames } from "../../dist/internal.js";

const free = (source: string) => [...freeNames(source).keys()].sort();

test("free names: references that are not declared anywhere in the function", () => {
  assert.deepEqual(free("(a, b) => a + b + c"), ["c"]);
  assert.deepEqual(free("function f({ a, b: [c] }, ...d) { return a + c + d + e; }"), ["e"]);
  assert.deepEqual(free("() => { const { x, y: z } = o; let [p, q] = r; return x + z + p + q; }"), ["o", "r"]);
  assert.deepEqual(free("() => ({ a: 1, b, c() { return d; }, [f]: g })"), ["b", "d", "f", "g"]);
  assert.deepEqual(free("() => `${a}${b.c}`"), ["a", "b"]);
  assert.deepEqual(free("function* g() { yield h; }"), ["h"]);
  assert.deepEqual(free("() => { switch (x) { case Y: break; } }"), ["Y", "x"]);
  assert.deepEqual(free("() => a ? b : c"), ["a", "b", "c"]);
  const use = freeNames("() => (0, import_threading.currentThread)().name + new import_threading.Lock()");
  assert.deepEqual(use.get("import_threading"), { bare: false, members: new Set(["currentThread", "Lock"]) });
});

test("free names: no false positives on valid code", () => {
  const valid = [
    "() => { outer: for (const i of [1]) { if (i) continue outer; else break outer; } }",
    "() => class A { x = 1; static z = 2; #p = 3; m(p) { return p + this.x; } get g() { return 1; } static { this.z; } }",
    "() => typeof notDefinedAnywhere === 'undefined'",
    "() => { try { throw 1; } catch (err) { return [err, arguments.length, this]; } }",
    "() => { try {} catch { } finally { } }",
    // Node 24+ keeps `using` in a target's source (natively supported, not lowered by tsx).
    "(v) => { using _ = v.getLock(); await using held = v.other(); return [_, held]; }",
    "(x = 1, { y, z: [w] } = {}, ...rest) => x + y + w + rest.length",
    "async () => { for await (const v of []) void v; for (const k in {}) void k; for (let i = 0, j = 1; i < j; i++); }",
    "() => { var a = 1, b = [a], c = { d: a }; return a + b + c.d; }",
    "() => { function hoisted() { return later; } var later = 1; return hoisted(); }",
    "() => { const f = function named() { return named; }; return f; }",
    "() => ({ get x() { return 1; }, set x(v) {}, async *gen() {}, [Symbol.iterator]() {}, 'k': 1, 2: 3, if: 4 })",
    "() => new.target",
    "async () => (await import('./x.js')).default",
    "() => { const { a = 1, ...others } = { b: 2 }; return [a, others]; }",
    "(p) => p?.q?.[0]?.(1)",
    "() => /x/g.test('y') ? 'x:y' : `z:${1}`",
    "() => { label: { break label; } }",
    "() => new Promise((resolve, reject) => setTimeout(resolve, 1)).catch((e) => reject)",
    "() => [1, 2].map((v, i) => v * i).filter(n => n > 1)",
    "() => { class B {} class C extends B { constructor() { super(); } } return new C(); }",
    "function () { return arguments[0]; }",
    "() => { let x; x = 1; return x; }",
    "() => Math.max(globalThis.x ?? 0, Number.NaN, Infinity, undefined ?? 0)",
    "(a) => { switch (a) { case 1: return 'one'; default: return a; } }",
    "() => void process.stdout.write(Buffer.from('x'))",
    "() => { const o = { a: 1 }; const { a: renamed } = o; return renamed; }",
  ];
  for (const source of valid) assert.doesNotThrow(() => checkFreeNames(source, "target"), source);
});

test("start() refuses a target that reads a variable of the enclosing scope, naming it", () => {
  // (not literals: Bun's transpiler copies a const literal into the functions that read it, which then run)
  const greeting = String("hello");
  const count = Number("3");
  const t = new Thread({ target: () => console.log(greeting.repeat(count)) });
  assert.throws(
    () => t.start(),
    (e: Error) =>
      e instanceof TypeError &&
      /Thread Thread-\d+: target uses greeting and count from outside the function/.test(e.message) &&
      /pass them in args, or use a \{ module, export \} target/.test(e.message),
  );
  assert.equal(t.ident, null, "nothing started");
  // Passing them in args is the fix.
  const fixed = new Thread({ target: (g: string, n: number) => void g.repeat(n), args: [greeting, count] });
  fixed.start();
  fixed.join();
});

test("submit(), map() and Timer refuse such targets; threading's exports and globals are in scope", async () => {
  // (not literals: Bun's transpiler copies a const literal into the functions that read it, which then run)
  const factor = Number("2");
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    assert.throws(() => pool.submit((x: number) => x * factor, 1), /submit\(\): fn uses factor from outside/);
    assert.throws(() => pool.map((x: number) => x * factor, [1]), /fn uses factor from outside/);
    assert.throws(() => new Timer(0, () => factor), /Timer function uses factor/);
    assert.throws(() => pool.submit(() => require("node:fs")), /use await import\(\)/);
    const ok = pool.submit(() => new Lock().locked() === false && typeof Math.max === "function" && Number(1));
    assert.equal(await ok, 1);
  } finally {
    pool.shutdown();
  }
});

test("a pool with an initializer (which may define globals) checks nothing at submit()", async () => {
  const pool = new ThreadPoolExecutor({
    maxWorkers: 1,
    initializer: () => {
      (globalThis as Record<string, unknown>).poolGlobal = 21;
    },
  });
  try {
    // @ts-expect-error poolGlobal is defined by the initializer, in the thread
    assert.equal(await pool.submit(() => poolGlobal * 2), 42);
  } finally {
    pool.shutdown();
  }
});

test("CommonJS builds: `threading_1.Lock` / `import_threading.Lock` resolve to threading's exports in the thread", async () => {
  const threading_1 = await import("threading");
  const import_threading = threading_1;
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    const r = await pool.submit(
      () => new threading_1.Lock().locked() === false && (0, import_threading.currentThread)().name.length > 0,
    );
    assert.equal(r, true);
    assert.throws(
      () => pool.submit(() => (threading_1 as Record<string, unknown>).NotAnExport),
      /threading_1.NotAnExport, which is not an export of threading/,
    );
  } finally {
    pool.shutdown();
  }
});

test('`import * as T from "threading"` (or "threading/queue"): a target written in that file reads T.Lock in the thread', async () => {
  const q = new Q.Queue<string>();
  const t = new T.Thread({
    target: (out: Q.Queue<string>) => {
      const lock = new T.Lock();
      lock.acquire();
      out.put(`${T.currentThread().name} ${lock.locked()} ${new Q.LifoQueue().qsize()}`);
    },
    args: [q],
    name: "ns",
  });
  t.start();
  t.join();
  assert.equal(q.get(true, 30), "ns true 0");
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    assert.equal(await pool.submit(() => T.currentThread().name.startsWith("ThreadPoolExecutor")), true);
    assert.equal(await pool.submit((n: number) => new T.Semaphore(n).acquire(false), 1), true);
    assert.throws(
      () => pool.submit(() => (T as Record<string, unknown>).NotAnExport),
      /T.NotAnExport, which is not an export of threading/,
    );
  } finally {
    pool.shutdown();
  }
  // A Barrier action and a Timer function written here read it too.
  const b = new T.Barrier(1, (out: Q.Queue<string>) => out.put(T.currentThread().name), undefined, [q]);
  b.wait(30);
  assert.equal(q.get(true, 30), "MainThread");
  const timer = new T.Timer(0, (out: Q.Queue<string>) => out.put(typeof T.Event), [q]);
  timer.start();
  timer.join();
  assert.equal(q.get(true, 30), "function");
  // So does a Thread subclass written here.
  class Worker extends T.Thread {
    constructor(readonly out: Q.Queue<string>) {
      super({ name: "sub" });
    }
    override run() {
      this.out.put(`${T.currentThread().name} ${new T.RLock().locked()}`);
    }
  }
  const w = new Worker(q);
  w.start();
  w.join();
  assert.equal(q.get(true, 30), "sub false");
});

test("a name that reads threading's exports but is not a namespace import: the TypeError says to import them by name", () => {
  const lib = T;
  assert.throws(
    () => new Thread({ target: () => new lib.Lock() }).start(),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message.includes("uses lib from outside the function") &&
      /lib\.Lock reads threading's exports through a name the thread has only when the file that starts it says import \* as lib from/.test(
        e.message,
      ) &&
      e.message.includes('import { Lock } from "threading"'),
  );
});
