// The public types, compiled with tsc under `strict` (never run): test/types/user-code.ts is user
// code as docs/API.md shows it, using every export; api.ts holds more cases. The lines marked with
// ts-expect-error are what the compiler must refuse (tsc fails if one of them compiles).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { test } from "node:test";

test("TypeScript checks targets against their args; user code as API.md shows it compiles under strict", {
  timeout: 120_000,
}, () => {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const project = new URL("./tsconfig.json", import.meta.url).pathname;
  const r = spawnSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("every API.md name as user code compiles against dist/*.d.ts under strict and every stricter flag (tsconfig.strict.json)", {
  timeout: 120_000,
}, () => {
  // test/types/strict.ts (with api.ts and user-code.ts): explicit `undefined` in an option is "omitted",
  // as API.md says of timeouts; RedisExecutor takes ioredis's RedisOptions and BullMQ's JobsOptions.
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const project = new URL("./tsconfig.strict.json", import.meta.url).pathname;
  const r = spawnSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
