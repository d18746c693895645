// The first thread of a process (issue 14, cold start): its worker, booted as the library's import
// begins, loads only what runs a thread and parks; the rest of the library loads when a thread needs
// it (a function target that reads one of its names, shared objects among the arguments, a
// subclass, a module target) or once the first thread has ended. Whatever loaded, a thread sees
// what it would have seen with the whole library loaded first.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkFreeNames } from "../../dist/internal.js";
import { runChild } from "../child.js";

test("checkFreeNames says whether a source may read the library", () => {
  assert.equal(checkFreeNames("(n) => Math.sqrt(n) + [1].length", "t"), false);
  assert.equal(checkFreeNames("() => { const Lock = 1; return Lock; }", "t"), false);
  assert.equal(checkFreeNames("() => new Lock()", "t"), true);
  // A library export that a global shares: the thread binds the library's.
  assert.equal(checkFreeNames("() => new Event()", "t"), true);
  assert.equal(checkFreeNames("() => (0, import_threading.currentThread)().name", "t"), true);
  assert.equal(checkFreeNames("() => eval('1')", "t"), true);
  // Its own name is its own, not the library's.
  assert.equal(checkFreeNames("() => wait", "t", ["wait"]), false);
});

test("the first thread runs without the whole library, and the next ones on its worker have it", () => {
  const r = runChild(`
    import { Event, Lock, Thread } from "threading";
    const run = (target, args = []) => { const t = new Thread({ target, args }); t.start(); t.join(); };
    run((n) => console.log("first " + (n + 1)), [1]);
    run(() => console.log("event " + (typeof new Event().isSet)));
    const lock = new Lock();
    run((l) => { l.acquire(); console.log("lock " + l.locked()); l.release(); }, [lock]);
    run(() => console.log("current " + currentThread().name));
    run(async () => console.log("import " + (await import("threading")).currentThread().name));
    run(function () { console.log("arguments " + arguments.length); });
    console.log("lock after " + lock.locked());
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.deepEqual(r.stdout.trim().split("\n"), [
    "first 2",
    "event function",
    "lock true",
    "current Thread-4",
    "import Thread-5",
    "arguments 0",
    "lock after false",
  ]);
});

test("a first thread that reads the library gets it before it runs", () => {
  const r = runChild(`
    import { Thread } from "threading";
    const t = new Thread({ target: () => console.log(currentThread().name + " " + typeof Lock + " " + typeof new Event().wait) });
    t.start();
    t.join();
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "Thread-1 function function");
});

test("a first start that comes late finds the whole library loaded", () => {
  const r = runChild(`
    import { Lock, sleep, Thread } from "threading";
    sleep(0.3);
    const lock = new Lock();
    const t = new Thread({ target: (l) => { l.acquire(); console.log("held " + l.locked()); l.release(); }, args: [lock] });
    t.start();
    t.join();
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "held true");
});
