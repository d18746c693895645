// A node:test reporter that writes only what failed: each failing test's file, name and error, so a
// long run's failures can be printed again at its very end (run-tests.mjs does, and .ci/run prints
// every runtime's at the end of CI, where a reader of the last lines sees them).
// Parents that failed only because a subtest did are left out: their failing subtest is listed.

import { relative } from "node:path";

function describe(error) {
  if (error == null) return "(no error)";
  // node:test wraps a test's error as { failureType, cause }.
  const cause = error.cause ?? error;
  const text = cause?.stack ?? cause?.message ?? String(cause);
  // The message, then the first few frames (the rest is node:test's own).
  const lines = String(text).split("\n");
  const firstFrame = lines.findIndex((line) => /^\s+at /.test(line));
  return (firstFrame < 0 ? lines : lines.slice(0, firstFrame + 4)).slice(0, 30).join("\n");
}

export default async function* failuresReporter(source) {
  const failed = [];
  for await (const event of source) {
    if (event.type !== "test:fail") continue;
    const { name, file, details } = event.data;
    if (details?.error?.failureType === "subtestsFailed") continue;
    failed.push({ name, file, error: details?.error });
  }
  for (const { name, file, error } of failed) {
    const where = file ? relative(process.cwd(), file) : "(unknown file)";
    yield `FAILED ${where} > ${name}\n${describe(error).replace(/^/gm, "    ")}\n`;
  }
}
