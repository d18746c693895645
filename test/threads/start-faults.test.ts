// A thread killed inside Thread.start() (out of memory under resourceLimits, at a test hook of
// start()): the thread it was starting must not stay STARTING for ever, where a join() of it, the
// process's exit (which waits for non-daemon threads) and dumpThreads() would wait or mislead.
// Killed before it handed the start over, the thread is ended by the hub, never run; killed after
// it sent the start to the hub, the thread runs. Each case runs in a child process, whose exit is
// part of what is checked.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runChild } from "../child.js";

const T = { timeout: 90_000 };
const fixture = new URL("../fixtures/start-hooks.ts", import.meta.url).href;

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
