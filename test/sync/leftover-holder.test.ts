// Code a thread left running after it ended (a callback its settling worker runs) that holds a
// Barrier's internal lock — the Barrier action runs under it — is a live holder: a party waiting
// for that lock must not take it over as a dead thread's (fixtures/leftover-barrier.mjs, run by
// plain node: a thread that loads a module through tsx is not reused).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

test("a Barrier action run by a callback after its thread ended is not taken for a dead holder's", {
  timeout: 90_000,
}, () => {
  const fixture = fileURLToPath(new URL("../fixtures/leftover-barrier.mjs", import.meta.url));
  const r = spawnSync(process.execPath, [fixture], { encoding: "utf8", timeout: 80_000 });
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
