// A thread's worker may run the thread's code after the thread ended: the callbacks of operations
// it left in flight, while the worker settles (threads/worker.ts). A queue's lock held by such a
// callback belongs to a live holder: nobody may take it over as a dead one's
// (fixtures/leftover-marked.mjs, run as a plain program of the runtime, without tsx).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { scriptArgs, skipOn } from "../child.js";

test("a put from a callback run after its thread ended is not taken over by qsize() (a live holder)", {
  ...skipOn(
    ["bun"],
    "a thread's worker ends with it, never reused there (src/threads/reuse.ts), so no code of the thread runs after its end",
  ),
  timeout: 90_000,
}, () => {
  const fixture = fileURLToPath(new URL("../fixtures/leftover-marked.mjs", import.meta.url));
  const r = spawnSync(process.execPath, scriptArgs(fixture), { encoding: "utf8", timeout: 80_000 });
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line, `no result (exit ${r.status})\n${r.stderr.slice(-2000)}`);
  const got = JSON.parse(line.slice("RESULT ".length));
  assert.equal(got.reached, true, "the callback's put reached its release");
  assert.equal(got.returned, true, "the callback's put returned");
  // (before: qsize() took the live holder's lock over and published its put, then the holder's
  // own release published it again: two counted, one there)
  assert.equal(got.during, 0);
  assert.deepEqual(got, { reached: true, during: 0, returned: true, after: 1, got: 1, empty: true, end: 0 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
});
