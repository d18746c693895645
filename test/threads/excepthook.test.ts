// The excepthook's delivery to its owner thread (src/threads/excepthook.ts), each case in a child
// process: on Node through a BroadcastChannel, and on Bun and Deno (whose BroadcastChannel cannot
// be read synchronously) through the hub, which THREADING_EXCEPTHOOK_VIA_HUB=1 selects here on Node.
// Either way join() and joinAsync() in the owner return after the hook ran, a death the hub reports
// (out of memory) reaches the hook, a hook owned by a thread gets the exceptions of the threads
// it starts, and only the owner runs it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { evalArgs, runtime } from "../child.js";

const T = { timeout: 120_000 };

function child(
  code: string,
  env: Record<string, string> = {},
): { stdout: string; stderr: string; status: number | null } {
  // Plain JavaScript, run by plain Node (Bun and Deno as before): tsx would load in the child,
  // which is not what these cases check.
  const r = spawnSync(process.execPath, evalArgs(code, { tsx: false }), {
    encoding: "utf8",
    timeout: 90_000,
    env: { ...process.env, ...env },
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

const SCENARIO = `
  import { Thread, setExcepthook } from "threading";
  const out = [];
  let got = [];
  setExcepthook((a) => got.push([a.excType, a.excValue.message, a.thread]));
  // the first thread dies right after setExcepthook (its report may reach the hub before the hook's channel)
  const t = new Thread({ name: "one", target: () => { throw new RangeError("r1"); } });
  t.start(); t.join();
  out.push(["join", got.length, got[0]?.[0], got[0]?.[1], got[0]?.[2] === t].join(" "));
  got = [];
  const t2 = new Thread({ target: () => { throw new Error("r2"); } });
  t2.start(); await t2.joinAsync();
  out.push(["joinAsync", got.length].join(" "));
  got = [];
  // (a death by resourceLimits: Node only, as Bun and Deno refuse the option)
  if (!("Bun" in globalThis) && !("Deno" in globalThis)) {
    const hog = new Thread({ name: "hog", resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
      target: () => { const a = []; for (;;) a.push(new Array(100000).fill(1)); } });
    hog.start(); hog.join(60);
    out.push(["oom", got.length, got[0]?.[2]?.name].join(" "));
  }
  setExcepthook(null);
  // a hook owned by a thread, for a thread it starts (on a worker docked after the hog's death)
  const cell = new Int32Array(new SharedArrayBuffer(8));
  const owner = new Thread({ target: (cell) => {
    const seen = [];
    setExcepthook((a) => seen.push(a.excValue.message));
    const b = new Thread({ target: () => { throw new Error("inner"); } });
    b.start(); b.join();
    cell[0] = seen.length;
    cell[1] = seen[0] === "inner" ? 1 : 0;
  }, args: [cell] });
  owner.start(); owner.join();
  out.push(["owner thread", cell[0], cell[1]].join(" "));
  // its owner ended: the default hook prints, in the dying thread
  const t5 = new Thread({ name: "five", target: () => { throw new Error("after owner"); } });
  t5.start(); t5.join();
  console.log(out.join("\\n"));
`;
const EXPECTED = `join 1 RangeError r1 true\njoinAsync 1\n${runtime === "node" ? "oom 1 hog\n" : ""}owner thread 1 1\n`;

for (const [name, env] of [
  ["BroadcastChannel (Node)", {}],
  ["through the hub (Bun, Deno; THREADING_EXCEPTHOOK_VIA_HUB=1)", { THREADING_EXCEPTHOOK_VIA_HUB: "1" }],
] as const) {
  test(
    `excepthook ${name}: join/joinAsync after the hook, out of memory, a thread's own hook, only the owner runs it`,
    T,
    () => {
      const r = child(SCENARIO, env);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, EXPECTED, r.stderr);
      // Printed once, by the default hook: the exception of the thread that died after its owner
      // ended. Before, main (which had set a hook, then null) printed "inner" too, as its
      // BroadcastChannel heard every report; through the hub, the owner thread's b hung (its
      // worker's port was served only once its thread ended).
      assert.equal(r.stderr.match(/Exception in thread/g)?.length, 1, r.stderr);
      assert.match(r.stderr, /Exception in thread five:\nError: after owner/);
    },
  );
}

test(
  "through the hub, after the hub died: setExcepthook() does not throw; the hook runs for its own thread, others print",
  T,
  () => {
    const internal = new URL("../../dist/internal.js", import.meta.url).href;
    const r = child(
      `
    import { Thread, setExcepthook, excepthook } from "threading";
    import { hubTestHook } from "${internal}";
    hubTestHook({ type: "test:crash" });
    const t0 = Date.now();
    // (a start() fails once the hub has died: wait for that)
    for (;;) {
      try { new Thread({ target: () => {} }).start(); } catch { break; }
      if (Date.now() - t0 > 20000) throw new Error("the hub did not die");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    const got = [];
    setExcepthook((a) => got.push(a.excValue.message));
    console.log("set", got.length);
  `,
      { THREADING_EXCEPTHOOK_VIA_HUB: "1" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "set 0\n", r.stderr);
  },
);

test("an async hook that rejects is reported as 'Exception in threading.excepthook:', as a hook that throws", T, () => {
  // Its rejection was an unhandled one, which ended the process (the hook's owner is main here).
  const r = child(`
    import { Thread, setExcepthook } from "threading";
    setExcepthook(async (a) => { await null; throw new Error("async hook fails for " + a.thread.name); });
    const t = new Thread({ name: "dies", target: () => { throw new Error("x"); } });
    t.start(); t.join();
    await new Promise((res) => setTimeout(res, 50));
    console.log("main goes on");
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "main goes on\n");
  assert.match(r.stderr, /Exception in threading\.excepthook:\nError: async hook fails for dies/);
});
