// Code a thread leaves running after it ended (a callback it did not await, run by its worker
// after the thread's end: the worker is reused) that holds a queue's lock is a live holder: a
// waiter must not take the lock over from it as from a dead thread (the thread's ident is ended,
// but its worker, which runs that code, lives). The fixture (fixtures/leftover-driver.mjs, run as
// a plain program of the runtime, without tsx: a thread that loads a module through tsx is not
// reused) holds the lock in such code for 1.5 s; a put from the main thread must wait for it, not
// take the lock over within CHECK_MS (50 ms) and run its put alongside.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { scriptArgs, skipOn } from "../child.js";

const T = {
  timeout: 60_000,
  ...skipOn(
    ["bun"],
    "a thread's worker ends with it, never reused there (src/threads/reuse.ts), so no code of the thread runs after its end",
  ),
};
const driver = fileURLToPath(new URL("../fixtures/leftover-driver.mjs", import.meta.url));

for (const kind of ["Queue", "LifoQueue", "PriorityQueue"]) {
  for (const how of ["microtask", "io", "exit"]) {
    test(`${kind}: a lock held by code its thread left running (${how}) after it ended is not taken over`, T, () => {
      const r = spawnSync(process.execPath, scriptArgs(driver, kind, how), { encoding: "utf8", timeout: 50_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { ended: true, held: true, waited: true, items: [1, 2] });
    });
  }
}
