#!/usr/bin/env node
// The soak run: `npm run soak -- --minutes N [--seed S] [--round-timeout SECONDS]`.
// Runs soak rounds (scripts/soak-round.mjs), each in a fresh process with its own seed, until N minutes
// have passed. Seeds follow from the run's seed (printed first), so `--seed S` replays a whole run and
// `node scripts/soak-round.mjs --seed R` one round. A round that fails a count fails the run; a round
// that does not finish within the round timeout (default 120 s) is hung: its hang report (SIGUSR2,
// threading's dumpThreads()) is printed, it is killed, and the run fails. Exit code 0 only when every
// round passed.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const minutes = arg("minutes", 1);
const runSeed = arg("seed", (Date.now() ^ (process.pid << 8)) >>> 0) >>> 0;
const roundTimeout = arg("round-timeout", 120);
const reportDir = mkdtempSync(join(tmpdir(), "threading-soak-"));
console.log(`soak: ${minutes} min, seed ${runSeed} (replay: npm run soak -- --minutes ${minutes} --seed ${runSeed})`);

let s = runSeed;
const nextSeed = () => {
  s = (Math.imul(s ^ (s >>> 16), 0x45d9f3b) + 0x9e3779b9) >>> 0;
  return s;
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs one round; resolves to "ok", "failed" or "hung". */
function round(seed) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(here, "soak-round.mjs"), "--seed", String(seed)], {
      stdio: ["ignore", "inherit", "pipe"],
      env: { ...process.env, THREADING_HANG_REPORT_DIR: reportDir },
    });
    // Passed on as it comes, and kept: a bad round's stderr is printed again at the end of the run.
    let stderr = "";
    child.stderr.on("data", (d) => {
      process.stderr.write(d);
      stderr = (stderr + d).slice(-20_000);
    });
    let hung = false;
    const watchdog = setTimeout(async () => {
      hung = true;
      console.error(`soak: round ${seed} did not finish within ${roundTimeout} s: HUNG; its hang report (stderr):`);
      child.kill("SIGUSR2");
      writeFileSync(join(reportDir, `${child.pid}.request`), ""); // Node 24+: the hub answers this file
      const file = join(reportDir, `${child.pid}.txt`);
      for (let i = 0; i < 50 && !existsSync(file); i++) await sleep(100);
      await sleep(300); // the round's own stderr (inherited) carries the report
      if (!existsSync(file)) console.error("soak: (no hang report arrived)");
      child.kill("SIGKILL");
    }, roundTimeout * 1000);
    child.on("exit", (code, signal) => {
      clearTimeout(watchdog);
      const outcome = hung ? "hung" : code === 0 ? "ok" : "failed";
      if (outcome !== "ok") stderrOf.set(seed, stderr);
      resolve(outcome);
      if (!hung && code !== 0) console.error(`soak: round ${seed} FAILED (exit ${code ?? signal})`);
    });
  });
}

const until = Date.now() + minutes * 60_000;
const tally = { ok: 0, failed: 0, hung: 0 };
const bad = [];
const stderrOf = new Map();
const t0 = Date.now();
do {
  const seed = nextSeed();
  const r = await round(seed);
  tally[r]++;
  if (r !== "ok") bad.push(`${seed} (${r})`);
} while (Date.now() < until);
rmSync(reportDir, { recursive: true, force: true });
const took = ((Date.now() - t0) / 60_000).toFixed(1);
console.log(
  `soak: ${tally.ok + tally.failed + tally.hung} rounds in ${took} min: ${tally.ok} ok, ${tally.failed} failed, ${tally.hung} hung (seed ${runSeed})`,
);
for (const [seed, text] of stderrOf) {
  console.log(`\nsoak: stderr of round ${seed} (last 60 lines):`);
  console.log(text.split("\n").slice(-60).join("\n"));
}
if (bad.length > 0) {
  console.log(`soak: replay a round with: node scripts/soak-round.mjs --seed R, for R in ${bad.join(", ")}`);
  process.exit(1);
}
