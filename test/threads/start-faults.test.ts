// A thread killed inside Thread.start() (out of memory under resourceLimits, at a test hook of
// start()): the thread it was starting must not stay STARTING for ever, where a join() of it, the
// process's exit (which waits for non-daemon threads) and dumpThreads() would wait or mislead.
// Killed before it handed the start over, the thread is ended by the hub, never run; killed after
// it sent the start to the hub, the thread runs. Each case runs in a child process, whose exit is
// part of what is checked.
// Node only: kills threads by running them out of memory under resourceLimits, which Bun and Deno refuse (README, Runtimes and flags); scripts/run-tests-on.mjs does not run this file there.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runChild as runChildOf } from "../child.js";

// The children are plain JavaScript (their module target too, fixtures/start-hooks.mjs), run by
// plain Node: what they check is the library in a fresh process, not tsx, which under tsx would
// load in each child.
const runChild = (code: string, timeoutMs?: number) => runChildOf(code, timeoutMs, { tsx: false });

const T = { timeout: 90_000 };
const fixture = new URL("../fixtures/start-hooks.mjs", import.meta.url).href;

/** The child's program: a thread killed at `point` of its start of "orphan"; prints what main saw. */
const program = (point: string) => `
  import { dumpThreads, enumerate, Thread } from "threading";
  const s = new Int32Array(new SharedArrayBuffer(16));
  const t = new Thread({
    target: { module: ${JSON.stringify(fixture)}, export: "dieInStart" },
    args: [${JSON.stringify(point)}, s],
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  });
  t.start();
  t.join();
  // the orphan, if it is still in the table: joined (bounded) through its handle
  const orphan = enumerate().find((x) => x.name === "orphan");
  orphan?.join(20);
  const out = {
    killed: Atomics.load(s, 0) === 1 && !t.isAlive(),
    orphanAlive: orphan?.isAlive() ?? false,
    ran: Atomics.load(s, 3) === 1,
    listed: enumerate().map((x) => x.name).filter((n) => n !== "MainThread"),
    dumped: /orphan/.test(dumpThreads()),
  };
  console.log(JSON.stringify(out));
`;

test(
  "a thread killed inside start() before handing the start over: the thread it started ends without running",
  T,
  () => {
    const r = runChild(program("claimed"), 80_000);
    // Before: orphan.join(20) timed out (STARTING for ever), it stayed listed and dumped, and the
    // process never exited (its non-daemon count kept the exit wait going): killed by the timeout.
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr.slice(-2000)}`);
    assert.deepEqual(JSON.parse(r.stdout), { killed: true, orphanAlive: false, ran: false, listed: [], dumped: false });
  },
);

test("a thread killed inside start() after sending the start to the hub: the thread runs", T, () => {
  const r = runChild(program("handed"), 80_000);
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out, { killed: true, orphanAlive: false, ran: true, listed: [], dumped: false });
});

const internal = new URL("../../dist/internal.js", import.meta.url).href;

test("a thread's worker that dies before the thread runs: it runs elsewhere, or its start() fails saying so", T, () => {
  // (test:exitAtRun: the worker handed the next start through the hub exits before marking it RUNNING)
  const r = runChild(
    `
    import { Thread } from "threading";
    import { hubTestHook } from ${JSON.stringify(internal)};
    const out = {};
    // arguments with shared memory: a start through the hub; nothing moved, so another worker runs it
    const s = new Int32Array(new SharedArrayBuffer(4));
    hubTestHook({ type: "test:exitAtRun" });
    const a = new Thread({ target: (s) => { s[0] = 1; }, args: [s] });
    a.start();
    a.join();
    out.rerun = s[0] === 1;
    // a transferList: what it moved went with the worker, so the thread cannot run anywhere
    hubTestHook({ type: "test:exitAtRun" });
    const { port1, port2 } = new MessageChannel();
    const b = new Thread({ target: (p) => { p.postMessage("ran"); p.close(); }, args: [port2], transferList: [port2] });
    try {
      b.start();
      b.join();
      out.moved = "start() returned";
    } catch (e) {
      out.moved = e.message;
    }
    out.movedAlive = b.isAlive();
    port1.close();
    console.log(JSON.stringify(out));
  `,
    80_000,
  );
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stderr.slice(-2000)}`);
  assert.equal(r.stderr.match(/test hook exitAtRun fired/g)?.length, 2, r.stderr);
  const out = JSON.parse(r.stdout);
  // Before: the second start() returned as if its thread had run (its slot went STARTING -> ENDED).
  assert.deepEqual(
    { ...out, moved: out.moved.replace(/\(Thread Thread-\d+ \(anonymous\)\)|\(Thread Thread-\d+\)/, "(Thread X)") },
    {
      rerun: true,
      moved: "can't start new thread: its worker died before the thread ran (see stderr) (Thread X)",
      movedAlive: false,
    },
  );
});

/**
 * The child's program for a starter killed with table slot `slot` claimed for its new thread:
 * `target` (fixtures/start-hooks.mjs) runs in a thread that dies; then main waits (10 s at most) for
 * the slot to be given back and starts a thread there; prints what it saw.
 */
const slotProgram = (target: string, args: unknown[], slot: number) => `
  import { activeCount, Thread } from "threading";
  import { G, SLOT_IDENT, SLOT_STATE, slotIndex, stateOf, tableTestHooks } from ${JSON.stringify(internal)};
  const s = new Int32Array(new SharedArrayBuffer(16));
  const t = new Thread({
    target: { module: ${JSON.stringify(fixture)}, export: ${JSON.stringify(target)} },
    args: [...${JSON.stringify(args)}, s, ${slot}],
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  });
  t.start();
  t.join();
  const state = () => stateOf(Atomics.load(G, slotIndex(${slot}, SLOT_STATE)));
  // (ENDED = 3: given back; CLAIMING = 4, FAILED = 5: left so)
  const left = state();
  for (let n = 0; n < 200 && state() !== 3; n++) Atomics.wait(s, 1, 0, 50);
  const after = state();
  tableTestHooks.claimFrom = ${slot};
  const again = new Thread({ target: () => {} });
  again.start();
  tableTestHooks.claimFrom = undefined;
  const reclaimed = Atomics.load(G, slotIndex(${slot}, SLOT_IDENT)) === again.ident;
  again.join();
  console.log(JSON.stringify({ killed: Atomics.load(s, 0) === 1 && !t.isAlive(), left, after, reclaimed, ran: Atomics.load(s, 3) === 1, active: activeCount() }));
`;

for (const point of ["claimed", "counted"]) {
  test(`a thread killed inside claimSlot() (${point}): its slot is given back, and the process exits`, T, () => {
    const r = runChild(slotProgram("dieInClaim", [point], 4000), 60_000);
    // Before: the slot stayed CLAIMING for ever (the new thread went elsewhere) and, counted, the
    // orphan kept the process's exit wait going for ever (killed by the timeout: status null).
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr.slice(-2000)}`);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      { ...out, left: undefined },
      { killed: true, left: undefined, after: 3, reclaimed: true, ran: false, active: 1 },
    );
  });
}

test("a starter killed before it took its start's failure: the FAILED slot is given back", T, () => {
  const r = runChild(slotProgram("dieBeforeTakingFailure", [], 4001), 60_000);
  // Before: the slot stayed FAILED (5) for ever, never claimed again.
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(
    { ...out, left: undefined },
    { killed: true, left: undefined, after: 3, reclaimed: true, ran: false, active: 1 },
  );
});

test("a live non-daemon count left one too high: the exit waits for the live non-daemon threads only", T, () => {
  // As a thread killed between counting a thread it started and publishing it, or between ending
  // one and counting it out, leaves it (the hub alive). Before: the exit wait hung for ever.
  const r = runChild(
    `
    import { Thread } from "threading";
    import { ALIVE_NON_DAEMON, G } from ${JSON.stringify(internal)};
    Atomics.add(G, ALIVE_NON_DAEMON, 1);
    new Thread({
      target: () => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
        console.log("the non-daemon thread ran to its end");
      },
    }).start();
    new Thread({ daemon: true, target: () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0) }).start();
  `,
    50_000,
  );
  assert.equal(r.status, 0, `exit ${r.status} (null: the exit wait hung)\n${r.stderr.slice(-1500)}`);
  assert.equal(r.stdout, "the non-daemon thread ran to its end\n");
});
