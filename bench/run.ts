// `npm run bench`: every benchmark, each printing a table with ratios against its baselines,
// all measured in this one run (absolute times vary on a shared machine; ratios are the point).
import { existsSync } from "node:fs";
import { benchThreads } from "./threads.js";
import { printTable, type Row } from "./util.js";

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

if (want("threads")) {
  const rows: Row[] = [];
  await benchThreads(rows);
  printTable("Threads and Lock (issues 3, 14)", rows);
}
for (const [name, file] of [
  ["sync", "./sync.ts"],
  ["queue", "./queue.ts"],
  ["futures", "./futures.ts"],
  ["shared", "./shared.ts"],
  ["distributed", "./distributed.ts"],
] as const) {
  if (!want(name) || !existsSync(new URL(file, import.meta.url))) continue;
  const mod = (await import(file)) as { default?: () => Promise<void> | void; run?: () => Promise<void> | void };
  await (mod.run ?? mod.default)?.();
}
