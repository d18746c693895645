// Shared helpers for the benchmarks: result rows, the table, CPython measurements.
import { spawnSync } from "node:child_process";

export interface Row {
  what: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
  /**
   * The round-by-round ratios (threading / baseline, each round's two runs side by side in time),
   * where `value` and `baseline` are the medians of alternating rounds (see {@link alternate}).
   */
  rounds?: number[];
}

/**
 * The order of two (or more) sides in round `r` of a comparison measured in alternating rounds:
 * as given in even rounds, reversed in odd ones (A B, B A, A B, ...), so that each side runs first
 * as often as the other and a machine whose load drifts during the rounds favours neither.
 */
export function alternate<T>(r: number, sides: readonly T[]): T[] {
  return r % 2 === 0 ? [...sides] : [...sides].reverse();
}

/** The ratios a / b, round by round. */
export function ratios(a: number[], b: number[]): number[] {
  return a.map((x, i) => x / (b[i] as number));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Runs a Python snippet that prints one number per line; NaN for each when python3 is missing. */
export function python(code: string): number[] {
  const r = spawnSync("python3", ["-c", code], { encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) return [Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN];
  return r.stdout.trim().split("\n").map(Number);
}

function fmt(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return "-";
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3);
}

/**
 * Prints a markdown table of `rows`. Where a row has `rounds`, its threading and baseline figures are
 * medians of alternating rounds and its ratio the ratio of those medians; a last column then lists
 * the ratio of each round, so the spread from round to round shows.
 */
export function printTable(title: string, rows: Row[]): void {
  const byRound = rows.some((r) => r.rounds !== undefined);
  console.log(`\n## ${title}\n`);
  console.log(
    `| measure | threading | unit | baseline | value | threading / baseline |${byRound ? " round by round |" : ""}`,
  );
  console.log(`|---|---:|---|---|---:|---:|${byRound ? "---|" : ""}`);
  for (const r of rows) {
    const ratio = r.baseline === undefined || Number.isNaN(r.baseline) ? "-" : (r.value / r.baseline).toFixed(2);
    const each = byRound ? ` ${r.rounds?.map((x) => (Number.isNaN(x) ? "-" : x.toFixed(2))).join(", ") ?? "-"} |` : "";
    console.log(
      `| ${r.what} | ${fmt(r.value)} | ${r.unit} | ${r.baselineName ?? "-"} | ${fmt(r.baseline)} | ${ratio} |${each}`,
    );
  }
}

/**
 * Round trip (µs) of a bare Atomics.wait/notify ping-pong between two threads, in a fresh process:
 * the limit for any ping-pong built on futex words.
 */
export function bareAtomicsPingPong(rounds: number): number {
  const script = `
    const { Worker } = require("node:worker_threads");
    const sab = new SharedArrayBuffer(8); const c = new Int32Array(sab);
    const w = new Worker(\`
      const { workerData } = require("node:worker_threads");
      const c = new Int32Array(workerData);
      for (let i = 0; i < ${rounds}; i++) {
        while (Atomics.load(c, 0) !== 1) Atomics.wait(c, 0, 0);
        Atomics.store(c, 0, 0); Atomics.store(c, 1, 1); Atomics.notify(c, 1);
      }\`, { eval: true, workerData: sab });
    setTimeout(() => {
      const t0 = performance.now();
      for (let i = 0; i < ${rounds}; i++) {
        Atomics.store(c, 0, 1); Atomics.notify(c, 0);
        while (Atomics.load(c, 1) !== 1) Atomics.wait(c, 1, 0);
        Atomics.store(c, 1, 0);
      }
      console.log((performance.now() - t0) / ${rounds} * 1000);
    }, 300);`;
  return Number(spawnSync(process.execPath, ["-e", script], { encoding: "utf8" }).stdout.trim());
}
