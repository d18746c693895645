// The public types: a target's args are checked against its parameters (test/types/api.ts holds
// the cases, with @ts-expect-error where the compiler must refuse).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { test } from "node:test";

test("TypeScript checks targets against their args", { timeout: 120_000 }, () => {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const project = new URL("./tsconfig.json", import.meta.url).pathname;
  const r = spawnSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
