// Lone outcomes (a pool thread's primitive result posted alone, its handle in a ring: protocol.ts)
// are matched to their futures by their order among the lone messages. On Deno a message taken off
// the port for a "message" event is read after later ones that a blocking wait's drain reads first,
// so there a pool thread has one lone outcome in flight at a time (LONE_OUTCOMES_IN_FLIGHT).
// Before: map() then mapAsync() on Deno gave results to the wrong futures in 2-5 rounds of 30
// ([0, 10, 20, 30, 40, 50] came as [10, 20, 30, 40, 50, 0]).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const T = { timeout: 180_000 };
const program = fileURLToPath(new URL("../fixtures/map-order.mjs", import.meta.url));
const deno =
  process.env.THREADING_DENO ??
  join(homedir(), ".cache/threading-runtimes/deno/node_modules/@deno/linux-x64-glibc/deno");

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 150_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test("map() then mapAsync(): every result comes to its own future, in order (Node)", T, () => {
  assert.match(run(process.execPath, [program, "30"]), /out of order: 0 of 30/);
});

test("map() then mapAsync() on Deno: every result comes to its own future, in order", {
  ...T,
  skip: existsSync(deno) ? false : `no Deno at ${deno} (THREADING_DENO)`,
}, () => {
  assert.match(run(deno, ["run", "-A", program, "30"]), /out of order: 0 of 30/);
});
