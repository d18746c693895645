// `npm run bench`: every benchmark, each printing a table with ratios against its baselines,
// all measured in this one run (absolute times vary on a shared machine; ratios are the point).
import { existsSync } from "node:fs";
import { benchThreads, ROUNDS as threadRounds } from "./threads.js";
import { printTable, type Row } from "./util.js";

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

/** Sections that failed: each is reported where it failed, the others still run. */
const failed: string[] = [];
async function section(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    failed.push(name);
    console.log(`\n## ${name}: FAILED\n`);
    console.error(e);
  }
}

if (want("threads")) {
  await section("threads", async () => {
    const rows: Row[] = [];
    await benchThreads(rows);
    printTable(
      `Threads and Lock (issues 3, 14); rows with a round-by-round ratio: medians of ${threadRounds} alternating rounds`,
      rows,
    );
  });
}
for (const [name, file] of [
  ["sync", "./sync.ts"],
  ["queue", "./queue.ts"],
  ["futures", "./futures.ts"],
  ["shared", "./shared.ts"],
  ["distributed", "./distributed.ts"],
] as const) {
  if (!want(name) || !existsSync(new URL(file, import.meta.url))) continue;
  await section(name, async () => {
    const mod = (await import(file)) as { default?: () => Promise<void> | void; run?: () => Promise<void> | void };
    await (mod.run ?? mod.default)?.();
  });
}
// (only when named: the queue section ends with the same rows)
if (only.includes("handoff")) {
  await section("handoff", async () => {
    const { handoff } = await import("./queue.js");
    await handoff();
  });
}
if (failed.length > 0) {
  console.error(`\nnpm run bench: ${failed.length} section(s) failed: ${failed.join(", ")}`);
  // What a failed section left (a connection, a timer) must not keep the process alive.
  process.exit(1);
}
