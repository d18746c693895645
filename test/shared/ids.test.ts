// Process-wide ids never wrap nor alias (issue 9 item 9): shared-object ids and buffer directory refs
// are 64-bit counters; a test hook (setNextIds in dist/internal.js) starts them just below 2^31 and
// 2^32, where 32-bit ids wrapped (an id of -1 decoded as the main Thread, whose record is -ident).
// Thread idents stop with a clear RuntimeError instead of wrapping. Each case runs in a child process.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runChild as runChildOf } from "../child.js";

// The children are plain JavaScript, run by plain Node (Bun and Deno run them as before): what
// they check is the library in a fresh process, not tsx, which under tsx would load in each child
// (a second or more a child on a loaded machine).
const runChild = (code: string, timeoutMs?: number) => runChildOf(code, timeoutMs, { tsx: false });

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

test("thread idents are recycled past the last one, as in CPython, skipping those of live threads", T, () => {
  const r = runChild(`
    import { Event, Thread, activeCount, enumerate } from "threading";
    import { MAX_IDENT, setNextIds } from "${internal}";
    const hold = new Event();
    const first = new Thread({ target: (e) => e.wait(), args: [hold] }); // the lowest live ident
    first.start();
    setNextIds({ ident: MAX_IDENT - 1 });
    const ended = [];
    for (let i = 0; i < 2; i++) {
      const t = new Thread({ target: () => {} });
      t.start();
      t.join();
      ended.push(t);
    }
    const last = new Thread({ target: (e) => e.wait(), args: [hold] });
    last.start();
    const next = new Thread({ target: () => 42 });
    next.start();
    next.join();
    console.log(
      ended[0].ident === MAX_IDENT - 1, ended[1].ident === MAX_IDENT, last.ident !== first.ident,
      last.ident < first.ident + 3, next.ident === last.ident + 1,
    );
    // Every live thread has its own ident, and enumerate() returns each thread's own object.
    const live = enumerate();
    console.log(new Set(live.map((t) => t.ident)).size === live.length, live.includes(first), live.includes(last), activeCount());
    hold.set();
    first.join();
    last.join();
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "true true true true true\ntrue true true 3\n");
});
