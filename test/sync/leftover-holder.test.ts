// Code a thread left running after it ended (a callback its settling worker runs) that holds a
// Barrier's internal lock — the Barrier action runs under it — is a live holder: a party waiting
// for that lock must not take it over as a dead thread's (fixtures/leftover-barrier.mjs, run as a
// plain program of the runtime, without tsx: a thread that loads a module through tsx is not
// reused). Such code waits on a Condition or a Barrier, and holds a Lock or an RLock, under its
// ended thread's ident and slot (lockOwner), which hold while its worker runs
// (fixtures/leftover-sync-driver.mjs).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { scriptArgs, skipOn } from "../child.js";
import { fileURLToPath } from "node:url";

/** On Bun a thread's worker ends with it: no code of the thread runs after its end. */
const LEFT = {
  timeout: 90_000,
  ...skipOn(
    ["bun"],
    "a thread's worker ends with it, never reused there (src/threads/reuse.ts), so no code of the thread runs after its end",
  ),
};

test("a Barrier action run by a callback after its thread ended is not taken for a dead holder's", LEFT, () => {
  const fixture = fileURLToPath(new URL("../fixtures/leftover-barrier.mjs", import.meta.url));
  const r = spawnSync(process.execPath, scriptArgs(fixture), { encoding: "utf8", timeout: 80_000 });
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line, `no result (exit ${r.status})\n${r.stderr.slice(-2000)}`);
  // Before: the waiting party took the lock over 50 ms into the 600 ms action ("thread 2 died running
  // the barrier's action"), both rounds were broken, and the live holder's release then failed
  // ('release unlocked lock', its worker exiting).
  const got = JSON.parse(line.slice("RESULT ".length));
  assert.deepEqual(
    { reached: got.reached, round1: got.round1, broken: got.broken },
    { reached: true, round1: "index 0", broken: false },
  );
  // (round 2: u and main, in either order)
  assert.deepEqual([got.round2, `index ${got.u - 1}`].sort(), ["index 0", "index 1"]);
  assert.doesNotMatch(r.stderr, /release unlocked lock|left behind/);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
});

const driver = fileURLToPath(new URL("../fixtures/leftover-sync-driver.mjs", import.meta.url));

/** Runs the driver for `kind` and `how`; returns what it printed. */
function drive(kind: string, how: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, scriptArgs(driver, kind, how), { encoding: "utf8", timeout: 80_000 });
  assert.equal(r.status, 0, `exit ${r.status}, signal ${r.signal}\n${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout);
}

for (const how of ["microtask", "io"]) {
  test(`Condition: code its thread left running (${how}) after it ended is notified`, LEFT, () => {
    // Before: its wait node named ident 0 / slot -1 (microtask, a clean worker) or its ended thread
    // (io, a settling worker); notify() took it for a dead waiter's, freed it and skipped it: the
    // wait timed out ("timed out").
    assert.deepEqual(drive("Condition", how), { ended: true, waiting: true, leftover: "notified" });
  });

  test(`Barrier: code its thread left running (${how}) after it ended waits as a live party`, LEFT, () => {
    // Before (microtask): it arrived under slot -1 (no occupant entry: its exit never counted it
    // out, DRAINING never ended) and the child hung; (io) it arrived as its ended thread, whose
    // wait main's arrival swept as a dead one's: both rounds broken.
    assert.deepEqual(drive("Barrier", how), {
      ended: true,
      rounds: [
        [1, 2],
        [1, 2],
      ],
      broken: false,
    });
  });
}

test("RLock: code left running by two threads that ended holds it as two owners", LEFT, () => {
  // Before: both ran (on clean workers) as ident 0, one owner: the second took the RLock held by
  // the first ("took it too").
  assert.deepEqual(drive("RLock", "microtask"), { warm: true, second: "did not take it" });
});
