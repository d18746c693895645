// Process-wide ids never wrap nor alias (issue 9 item 9): shared-object ids and buffer directory refs
// are 64-bit counters; a test hook (setNextIds in dist/internal.js) starts them just below 2^31 and
// 2^32, where 32-bit ids wrapped (an id of -1 decoded as the main Thread, whose record is -ident).
// Thread idents stop with a clear RuntimeError instead of wrapping. Each case runs in a child process.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runChild } from "../child.js";

const T = { timeout: 60_000 };
const internal = new URL("../../dist/internal.js", import.meta.url).href;

test("shared objects and queued buffers made across 2^31 and 2^32 keep their identity", T, () => {
  const r = runChild(`
    import { Event, Lock, Queue, Thread, mainThread } from "threading";
    import { setNextIds } from "${internal}";
    const out = [];
    for (const start of [2 ** 31 - 3, 2 ** 32 - 3, 2 ** 53 - 200]) {
      setNextIds({ id: start });
      const q = new Queue();
      const back = new Queue();
      const locks = [];
      for (let i = 0; i < 6; i++) locks.push(new Lock());
      const t = new Thread({
        target: (q, back) => {
          for (;;) {
            const item = q.get();
            if (item === null) break;
            // Each item crosses the directory twice (refs counting on past the start point).
            back.put({ ...item, seen: typeof item.lock.locked });
          }
        },
        args: [q, back],
      });
      t.start();
      for (let i = 0; i < 6; i++) q.put({ lock: locks[i], ev: new Event(), arr: new Int32Array(new SharedArrayBuffer(8)).fill(i) });
      q.put(null);
      let same = 0;
      for (let i = 0; i < 6; i++) {
        const item = back.get();
        if (item.lock === locks[i] && item.seen === "function" && item.arr[1] === i && item.lock !== mainThread()) same++;
      }
      t.join();
      out.push(same);
    }
    console.log(out.join(" "));
    // Past 2^53 an id is an error, never a reuse.
    setNextIds({ id: 2 ** 53 });
    try { new Lock(); } catch (e) { console.log(e.name, e.message); }
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "6 6 6\nRuntimeError threading: shared object ids exhausted (2^53 handed out)\n");
});

test("thread idents never wrap: past the last one start() is a RuntimeError and nothing leaks", T, () => {
  const r = runChild(`
    import { Thread, activeCount } from "threading";
    import { MAX_IDENT, setNextIds } from "${internal}";
    setNextIds({ ident: MAX_IDENT - 1 });
    const idents = [];
    for (let i = 0; i < 2; i++) {
      const t = new Thread({ target: () => {} });
      t.start();
      idents.push(t.ident === MAX_IDENT - 1 + i);
      t.join();
    }
    const t = new Thread({ target: () => {} });
    try { t.start(); } catch (e) { console.log(e.name, e.message); }
    console.log(idents.join(" "), t.ident, t.isAlive(), activeCount());
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    r.stdout,
    `RuntimeError can't start new thread: thread idents exhausted (1073741823 threads started)\ntrue true null false 1\n`,
  );
});
