// Starts handed straight to a parked worker (src/threads/dock.ts): the races of the dock protocol,
// made to happen with hooks (a starter that stalls or is overtaken between its claim and its
// BUSY, a worker that exits as it takes a claim or after it parks itself again), and what must not
// go through a dock (shared memory among the arguments: it would arrive as a copy).
import assert from "node:assert/strict";
import { test } from "node:test";
import { runChild as runChildOf, skipOn } from "../child.js";

// The children are plain JavaScript, run by plain Node (Bun and Deno run them as before): what
// they check is the library in a fresh process, not tsx, which under tsx would load in each child
// (a second or more a child on a loaded machine).
const runChild = (code: string, timeoutMs?: number) => runChildOf(code, timeoutMs, { tsx: false });

// On Bun no start goes through a dock: it has no v8.Serializer (src/threads/dock-request.ts docksWork).
const T = { timeout: 60_000, ...skipOn(["bun"], "no start goes through a dock, Bun having no v8.Serializer") };
const internal = new URL("../../dist/internal.js", import.meta.url).href;

/**
 * Child prelude: `stats()` from the hub, `parked()` waits until a worker is parked. Threads say that
 * they ran on stdout: their arguments must hold no shared memory, or the start goes through the hub.
 */
const prelude = `
  const { Thread } = await import("threading");
  const { dockTestHooks, hubTestHook } = await import("${internal}");
  const stats = () => {
    const into = new SharedArrayBuffer(24);
    hubTestHook({ type: "test:stats", into });
    const out = new Int32Array(into);
    Atomics.wait(out, 5, 0, 10_000);
    return { idle: out[0], used: out[1], running: out[2], spawned: out[4] };
  };
  const parked = async () => {
    for (const until = Date.now() + 20_000; stats().used < 1 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const say = (what) => console.log(what);
  const warm = new Thread({ target: () => {} });
  warm.start();
  warm.join();
  await parked();
`;

test("a starter overtaken between its claim and its request: both threads run once", T, () => {
  const r = runChild(
    `${prelude}
    let nested;
    dockTestHooks.afterClaim = () => {
      dockTestHooks.afterClaim = undefined;
      // Another start while this one holds the dock CLAIMED: it must not take that worker.
      nested = new Thread({ target: say, args: ["nested ran"] });
      nested.start();
    };
    const t = new Thread({ target: say, args: ["t ran"] });
    t.start();
    t.join();
    nested.join();
    `,
    45_000,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split("\n").sort(), ["", "nested ran", "t ran"]);
});

test("a starter that stalls after its claim: the worker takes its dock back, the thread still runs once", T, () => {
  const r = runChild(
    `${prelude}
    dockTestHooks.afterClaim = () => {
      dockTestHooks.afterClaim = undefined;
      // Longer than the worker waits for the request of a claim (PATIENCE_MS).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
    };
    let hooked = false;
    const before = dockTestHooks.afterClaim;
    dockTestHooks.afterClaim = (d) => { hooked = true; before(d); };
    const t = new Thread({ target: say, args: ["t ran"] });
    t.start();
    t.join();
    // The worker that gave up is parked again, and runs the next start.
    await parked();
    const u = new Thread({ target: say, args: ["u ran"] });
    u.start();
    u.join();
    console.log("hooked", hooked);
    `,
    45_000,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "t ran\nu ran\nhooked true\n");
});

test("a parked worker that exits as it takes a start: the start runs elsewhere, start() does not fail", T, () => {
  const r = runChild(
    `${prelude}
    // The thread arms its own worker (parked again when it ends: the warmest): the next start it
    // takes from its dock, it exits first.
    const arm = new Thread({ target: () => { globalThis[Symbol.for("threading.test.worker")] = { exitOnClaim: true }; } });
    arm.start();
    arm.join();
    const t = new Thread({ target: say, args: ["t ran"] });
    t.start();
    t.join();
    console.log("alive", t.isAlive());
    `,
    45_000,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "t ran\nalive false\n");
  assert.match(r.stderr, /test hook exitOnClaim fired/);
});

test("a start its worker cannot read ends that thread through the excepthook; the worker runs the next", T, () => {
  const r = runChild(
    `${prelude}
    const { setExcepthook, RuntimeError } = await import("threading");
    const seen = [];
    setExcepthook((a) => seen.push([a.excType, a.excValue instanceof RuntimeError, a.excValue.message, a.thread?.name]));
    // The thread arms its own worker (parked again when it ends: the warmest): the next start it
    // takes from its dock, it cannot read.
    const arm = new Thread({ target: () => { globalThis[Symbol.for("threading.test.worker")] = { unreadableRequest: true }; } });
    arm.start();
    arm.join();
    await parked();
    const t = new Thread({ target: say, args: ["t ran"], name: "lost" });
    t.start();
    t.join(20);
    const u = new Thread({ target: say, args: ["u ran"] });
    u.start();
    u.join(20);
    console.log("alive", t.isAlive(), u.isAlive());
    console.log(JSON.stringify(seen));
    `,
    45_000,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /test hook unreadableRequest fired/);
  const [ran, alive, seen] = r.stdout.trim().split("\n");
  assert.equal(ran, "u ran");
  assert.equal(alive, "alive false false");
  assert.deepEqual(JSON.parse(seen as string), [
    ["RuntimeError", true, "thread lost: its start could not be read: test hook unreadableRequest", "lost"],
  ]);
  assert.doesNotMatch(r.stderr, /could not be read/);
});

test("a worker that exits after parking itself again, before its thread is ENDED: join() returns", T, () => {
  const r = runChild(
    `${prelude}
    // The hook fires as this very thread ends: its worker exits between parking and ENDED.
    const arm = new Thread({ target: () => { globalThis[Symbol.for("threading.test.worker")] = { exitAfterRepark: true }; } });
    arm.start();
    arm.join(20);
    const t = new Thread({ target: say, args: ["t ran"] });
    t.start();
    t.join(20);
    console.log("alive", arm.isAlive(), t.isAlive());
    `,
    45_000,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "t ran\nalive false false\n");
  assert.match(r.stderr, /test hook exitAfterRepark fired/);
});

test("shared memory among the arguments stays shared (such a start goes through the hub)", T, () => {
  const r = runChild(
    `${prelude}
    const view = new Float64Array(new SharedArrayBuffer(16));
    for (let i = 1; i <= 3; i++) {
      const t = new Thread({ target: (v, n) => { v[0] = n; v[1] = v[1] + 1; }, args: [view, i] });
      t.start();
      t.join();
    }
    const plain = new Float64Array(2);
    const t = new Thread({ target: (v) => { v[0] = 9; }, args: [plain] });
    t.start();
    t.join();
    console.log(view[0], view[1], plain[0]);
    `,
    45_000,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "3 3 0\n");
});

test(
  "the first worker, booted by the main thread beside the hub: its exit is seen, a join and the next start do not hang",
  T,
  () => {
    // The program's first threads, no warm-up: they run on the worker the main thread booted at
    // import (hub-client.ts), which the hub did not make; the hub sees it exit when its port closes.
    const r = runChild(
      `
    const { Thread } = await import("threading");
    const say = (what) => console.log(what);
    const first = new Thread({ target: () => { globalThis[Symbol.for("threading.test.worker")] = { exitOnClaim: true }; } });
    first.start();
    first.join(20);
    // Its worker parked again and exits as this start claims it: the start runs elsewhere.
    const t = new Thread({ target: say, args: ["t ran"] });
    t.start();
    t.join(20);
    console.log("alive", first.isAlive(), t.isAlive());
    `,
      45_000,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "t ran\nalive false false\n");
    assert.match(r.stderr, /test hook exitOnClaim fired/);
    const again = runChild(
      `
    const { Thread } = await import("threading");
    const arm = new Thread({ target: () => { globalThis[Symbol.for("threading.test.worker")] = { exitAfterRepark: true }; } });
    arm.start();
    arm.join(20);
    const t = new Thread({ target: () => console.log("t ran") });
    t.start();
    t.join(20);
    console.log("alive", arm.isAlive(), t.isAlive());
    `,
      45_000,
    );
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, "t ran\nalive false false\n");
    assert.match(again.stderr, /test hook exitAfterRepark fired/);
  },
);

test(
  "starts while every parked worker runs a thread that blocks: they run elsewhere, none waits for the blocked ones",
  T,
  () => {
    const r = runChild(
      `${prelude}
    const { Event } = await import("threading");
    const go = new Event();
    // Parked workers taken by threads that block until the end: later starts find every dock busy.
    const blocked = Array.from({ length: 3 }, () => new Thread({ target: (e) => e.wait(), args: [go] }));
    for (const t of blocked) t.start();
    const quick = Array.from({ length: 6 }, (_, i) => new Thread({ target: say, args: ["quick " + i] }));
    for (const t of quick) t.start();
    for (const t of quick) t.join();
    console.log("blocked alive", blocked.every((t) => t.isAlive()));
    go.set();
    for (const t of blocked) t.join();
    `,
      45_000,
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.deepEqual(
      lines.filter((l) => l.startsWith("quick")).sort(),
      [0, 1, 2, 3, 4, 5].map((i) => `quick ${i}`),
    );
    assert.equal(lines.at(-2), "blocked alive true");
  },
);

test("spares wait parked too; an isolated start takes only one that ran nothing", T, () => {
  const r = runChild(
    `${prelude}
    const { Event } = await import("threading");
    // Plain threads leave a mark on the workers they run on (parked ones, spares among them).
    const go = new Event();
    const marking = Array.from({ length: 3 }, () => new Thread({ target: (e) => { globalThis.mark = 1; e.wait(); }, args: [go] }));
    for (const t of marking) t.start();
    go.set();
    for (const t of marking) t.join();
    for (let i = 0; i < 3; i++) {
      const iso = new Thread({ target: () => console.log("isolated sees " + String(globalThis.mark)), isolated: true });
      iso.start();
      iso.join();
    }
    `,
    45_000,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "isolated sees undefined\n".repeat(3));
});

test("a start handed over in a dock arrives as sent: arguments, name, daemon flag, target (dock-request.ts)", T, () => {
  const say = new URL("../fixtures/say.mjs", import.meta.url).href;
  const r = runChild(
    `${prelude}
    const { currentThread } = await import("threading");
    let claims = 0;
    dockTestHooks.afterClaim = () => { claims++; };
    // Prints what it got (strings as their UTF-16 code units): the main thread's own call prints the line expected.
    const show = (...a) => {
      const me = currentThread();
      console.log("me " + JSON.stringify([me.name, me.daemon]));
      console.log(JSON.stringify([a.length, a.map((v) => [typeof v,
        Object.is(v, -0) ? "-0" : typeof v === "number" ? String(v) : typeof v === "string" ? [...Array(v.length).keys()].map((k) => v.charCodeAt(k)) :
        v instanceof Error ? v.name + ": " + v.message : v instanceof Map ? [...v] : v === undefined ? "undefined" : v])]));
    };
    const sets = [
      [undefined, null, true, false, 0, -0, NaN, -Infinity, -1.5, 2 ** 53, 1e-300],
      ["", "h\u00e9llo \u{1F600}", String.fromCharCode(0xd800) + " lone " + String.fromCharCode(0xdfff), "x".repeat(512)],
      ["x".repeat(513), 1],
      [{ a: [1, { b: 2 }] }, new Map([[1, "one"]]), [undefined, , 3]],
      [new RangeError("bad")],
      [],
    ];
    const names = ["plain", "n\u00e4me \u{1F600}", "long ".repeat(24), undefined, "\ufeff" + String.fromCharCode(0xdc00) + " lone"];
    let i = 0;
    const expected = [];
    for (const args of sets) {
      for (const daemon of [false, true]) {
        const name = names[i++ % names.length];
        const t = new Thread({ target: show, args, name, daemon });
        t.start();
        t.join();
        const log = console.log;
        console.log = (line) => expected.push(line.startsWith("me ") ? "me " + JSON.stringify([t.name, t.daemon]) : line);
        show(...args);
        console.log = log;
      }
    }
    for (const line of expected) console.log("expected", line);
    // Another function target, started twice (its spec is known by id the second time).
    for (let k = 0; k < 2; k++) {
      const u = new Thread({ target: (x) => console.log("other", x), args: [k] });
      u.start();
      u.join();
    }
    const none = new Thread();
    none.start();
    none.join();
    console.log("claims", claims);
    // Too big for a dock: through the hub.
    const big = new Thread({ target: (s) => console.log("big", s.length), args: ["y".repeat(10_000)] });
    big.start();
    big.join();
    console.log("claims", claims);
    // A module target, twice.
    for (let k = 0; k < 2; k++) {
      const m = new Thread({ target: { module: ${JSON.stringify(say)}, export: "say" }, args: ["module", k] });
      m.start();
      m.join();
    }
    `,
    60_000,
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  const got = lines.filter((l) => l.startsWith("[") || l.startsWith("me "));
  const expected = lines.filter((l) => l.startsWith("expected ")).map((l) => l.slice("expected ".length));
  assert.equal(got.length, 24, r.stdout);
  assert.deepEqual(got, expected);
  assert.deepEqual(
    lines.filter((l) => !l.startsWith("[") && !l.startsWith("me ") && !l.startsWith("expected ")),
    ["other 0", "other 1", "claims 15", "big 10000", "claims 15", "module 0", "module 1"],
  );
});
