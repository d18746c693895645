// Shared by lone-order.test.ts and lone-order-deno.test.ts: test/fixtures/map-order.mjs, 30 rounds.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const T = { timeout: 180_000 };
const program = fileURLToPath(new URL("../fixtures/map-order.mjs", import.meta.url));

/** Runs map-order.mjs (30 rounds) with `cmd` and `args` before it; returns its output. */
export function mapOrder(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, [...args, program, "30"], { encoding: "utf8", timeout: 150_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
