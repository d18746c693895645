// A results list filled by a pool: each task appends its result to one SharedList, which every pool
// thread sees as the same list (Python's `results.append(...)` from threads). Appends from all
// threads at once are atomic, so none is lost; the main thread reads the list when the pool is done.
import assert from "node:assert/strict";
import { SharedList, ThreadPoolExecutor } from "threading";

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

function scan(results: SharedList<{ from: number; primes: number }>, from: number, to: number): void {
  let primes = 0;
  for (let n = from; n < to; n++) {
    let prime = n >= 2;
    for (let d = 2; prime && d * d <= n; d++) if (n % d === 0) prime = false;
    if (prime) primes++;
  }
  results.append({ from, primes });
}

const results = new SharedList<{ from: number; primes: number }>();
const CHUNK = 20_000;
{
  using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
  const futures = Array.from({ length: 10 }, (_, i) => pool.submit(scan, results, i * CHUNK, (i + 1) * CHUNK));
  for (const f of futures) f.result();
}

const all = results.toArray().sort((a, b) => a.from - b.from);
for (const r of all) console.log(`[${r.from}, ${r.from + CHUNK}): ${r.primes} primes`);
const total = all.reduce((s, r) => s + r.primes, 0);
console.log(`${results.length} results, ${total} primes below ${10 * CHUNK}`);
let check = 0;
for (let n = 0; n < 10 * CHUNK; n++) if (isPrime(n)) check++;
assert.equal(total, check);
assert.equal(results.length, 10);
