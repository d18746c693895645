// Code a thread leaves running after it ended (a callback it did not await, run by its worker after
// the thread's end: the worker is reused) holds a SharedDict entry's lock inside update(): another
// thread's update of that entry must wait for it — neither run alongside it (the lock taken as if
// free) nor take it over as from a dead thread. The fixture (fixtures/leftover-dict-driver.mjs, a
// plain program of the runtime, without tsx: a thread that loads a module through tsx is not
// reused) holds the lock 1.5 s.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { scriptArgs, skipOn } from "../child.js";
import { fileURLToPath } from "node:url";

const T = {
  timeout: 60_000,
  ...skipOn(
    ["bun"],
    "a thread's worker ends with it, never reused there (src/threads/reuse.ts), so no code of the thread runs after its end",
  ),
};
const driver = fileURLToPath(new URL("../fixtures/leftover-dict-driver.mjs", import.meta.url));

for (const how of ["microtask", "io"]) {
  test(`SharedDict: an entry locked by code its thread left running (${how}) after it ended is waited for`, T, () => {
    const r = spawnSync(process.execPath, scriptArgs(driver, how), { encoding: "utf8", timeout: 50_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { ended: true, held: true, waited: true, value: 11 });
  });
}
