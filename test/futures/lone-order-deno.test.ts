// Lone outcomes on Deno (see lone-order.test.ts): test/fixtures/map-order.mjs run by Deno, when it
// is installed (~/.cache/threading-runtimes, as .ci/run installs it, or THREADING_DENO). The Node
// running this file only spawns Deno, so .ci/run runs it with one Node major (OWN_ONLY), not four.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { mapOrder, T } from "./lone-order.js";

const deno =
  process.env.THREADING_DENO ??
  join(homedir(), ".cache/threading-runtimes/deno/node_modules/@deno/linux-x64-glibc/deno");

test("map() then mapAsync() on Deno: every result comes to its own future, in order", {
  ...T,
  skip: existsSync(deno) ? false : `no Deno at ${deno} (THREADING_DENO)`,
}, () => {
  assert.match(mapOrder(deno, ["run", "-A"]), /out of order: 0 of 30/);
});
