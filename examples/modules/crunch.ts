// A module used by examples/module-targets.ts: its exports run in pool threads and threads, imported
// there with this module's full scope (its imports, its constants, its helpers).
import { createHash } from "node:crypto";

const ROUNDS = 200;

function digest(text: string): string {
  let h = text;
  for (let i = 0; i < ROUNDS; i++) h = createHash("sha256").update(h).digest("hex");
  return h;
}

/** The digest of `text` after ROUNDS rounds of SHA-256. */
export function hash(text: string): string {
  return digest(text);
}

/** The default export: the sum of the squares below n. */
export default function sumOfSquares(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += i * i;
  return s;
}
