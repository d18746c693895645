// A thread's first Queue or SimpleQueue runs a few items of each common kind through a scratch ring
// of its own (src/queue/fifo.ts warmEngine(), after codec.ts warmCodec()), so that V8's feedback of
// the put and get paths covers every kind before they are optimized. What it must not do: touch the
// queue being made, run a test hook set before it, or leave anything another thread could see.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { evalArgs } from "../child.js";

const T = { timeout: 60_000 };
const internal = new URL("../../dist/internal.js", import.meta.url).href;

/** Runs `body` (an ES module snippet with threading and the internal hooks imported) in a fresh process (plain Node, no tsx). */
function child(body: string, env: Record<string, string> = {}): string {
  const r = spawnSync(
    process.execPath,
    evalArgs(
      `import { Queue, SimpleQueue, Thread } from "threading";\nimport { fifoHooks } from ${JSON.stringify(internal)};\n${body}`,
      { tsx: false },
    ),
    { encoding: "utf8", timeout: 30_000, env: { ...process.env, ...env } },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test(
  "the first queue of a thread: a hook set before it runs only for its own puts and gets; the queue starts empty",
  T,
  () => {
    for (const warm of ["1", "0"]) {
      const out = child(
        `
      const seen = [];
      fifoHooks.beforeRelease = (side) => seen.push(side);
      const q = new Queue();
      const before = seen.length;
      q.put("item 1"); q.put({ id: 1 }); q.put(2.5);
      const got = [q.get(), q.get(), q.get()];
      const s = new SimpleQueue();
      s.put(1);
      // in a thread too: its own first queue (the one it was given)
      const t = new Thread({
        target: async (q) => {
          const { fifoHooks } = await import(${JSON.stringify(internal)});
          const seen = [];
          fifoHooks.beforeRelease = (side) => seen.push(side);
          const mine = new Queue();
          const before = seen.length;
          mine.put(1);
          q.put([before, mine.get(), seen.includes("P"), seen.includes("C")]);
        },
        args: [q],
      });
      t.start();
      t.join();
      console.log(JSON.stringify({ before, got, size: q.qsize() - 1, s: s.get(), inThread: q.get() }));
      `,
        { THREADING_QUEUE_WARM: warm },
      );
      assert.deepEqual(JSON.parse(out), {
        before: 0,
        got: ["item 1", { id: 1 }, 2.5],
        size: 0,
        s: 1,
        inThread: [0, 1, true, true],
      });
    }
  },
);
