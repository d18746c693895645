// Runs a snippet of TypeScript in a fresh Node process (under tsx), for what only a whole process
// shows: how it exits, what it prints, how long it lives.
import { spawnSync } from "node:child_process";

export interface ChildResult {
  stdout: string;
  stderr: string;
  status: number | null;
  ms: number;
}

export function runChild(code: string, timeoutMs = 30_000): ChildResult {
  const started = Date.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, ms: Date.now() - started };
}
