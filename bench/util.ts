// Shared helpers for the benchmarks: result rows, the table, CPython measurements.
import { spawnSync } from "node:child_process";

export interface Row {
  what: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
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

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n## ${title}\n`);
  console.log("| measure | threading | unit | baseline | value | threading / baseline |");
  console.log("|---|---:|---|---|---:|---:|");
  for (const r of rows) {
    const ratio = r.baseline === undefined || Number.isNaN(r.baseline) ? "-" : (r.value / r.baseline).toFixed(2);
    console.log(
      `| ${r.what} | ${fmt(r.value)} | ${r.unit} | ${r.baselineName ?? "-"} | ${fmt(r.baseline)} | ${ratio} |`,
    );
  }
}
