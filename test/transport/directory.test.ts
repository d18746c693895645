// The buffer directory (src/transport/directory.ts): entries of items not yet taken are bounded;
// over the bound a put is a RuntimeError that leaves the queue unchanged, and taking frees room.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runChild as runChildOf } from "../child.js";

// The children are plain JavaScript, run by plain Node (Bun and Deno run them as before): what
// they check is the library in a fresh process, not tsx, which under tsx would load in each child
// (a second or more a child on a loaded machine).
const runChild = (code: string, timeoutMs?: number) => runChildOf(code, timeoutMs, { tsx: false });

test("items never taken (dropped queues) are bounded: a put over the bound is a RuntimeError", {
  timeout: 60_000,
}, () => {
  const r = runChild(`
    import { Lock, Queue, Thread } from "threading";
    process.env.THREADING_DIRECTORY_MAX_MB = "4"; // read at the first put
    const MiB = 1024 * 1024;
    let dropped = 0;
    let error;
    for (let i = 0; i < 10 && !error; i++) {
      const q = new Queue();
      try {
        q.put(new Uint8Array(MiB)); // an item over 64 KiB: its own buffer, in the directory until taken
        dropped++; // the queue is dropped with its item
      } catch (e) {
        error = e;
        console.log(e.name, /4 MiB/.test(e.message), q.qsize());
      }
    }
    console.log("dropped", dropped);
    // An item holding a shared object and a large part fails whole (nothing left registered).
    const q = new Queue();
    try { q.put({ lock: new Lock(), big: new Uint8Array(MiB) }); } catch (e) { console.log("whole", e.name, q.qsize()); }
    // Room is left for one half-MiB item (not two): taking one frees its room for the next.
    const half = new Uint8Array(MiB / 2);
    q.put(half);
    try { q.put(half); } catch (e) { console.log("full", e.name, q.qsize()); }
    let moved = 0;
    for (let i = 0; i < 20; i++) { q.get(); q.put(half); moved++; }
    const t = new Thread({ target: (q, n) => { for (let i = 0; i < n; i++) { q.get(); q.put(new Uint8Array(512 * 1024)); } }, args: [q, 20] });
    t.start();
    t.join();
    console.log("moved", moved, q.qsize());
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "RuntimeError true 0\ndropped 3\nwhole RuntimeError 0\nfull RuntimeError 1\nmoved 20 1\n");
});
