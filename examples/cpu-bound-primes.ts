// CPU-bound work on real threads: count the primes below 6,000,000 in ranges, on 1 thread and on
// N threads (one per core) with a ThreadPoolExecutor, and print the speedup. Unlike Python's
// threads (one at a time under the GIL), these run in parallel.
import { availableParallelism } from "node:os";
import { ThreadPoolExecutor } from "threading";

const LIMIT = 6_000_000;
const CHUNKS = 32;

function countPrimes(from: number, to: number): number {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

const ranges = Array.from({ length: CHUNKS }, (_, i) => [
  Math.floor((i * LIMIT) / CHUNKS),
  Math.floor(((i + 1) * LIMIT) / CHUNKS),
]);

function timed(threads: number): { total: number; seconds: number } {
  using pool = new ThreadPoolExecutor({ maxWorkers: threads });
  // start the threads first, so thread start-up is not in the measurement
  for (const f of Array.from({ length: threads }, () => pool.submit(countPrimes, 0, 1000))) f.result();
  const t = performance.now();
  const futures = ranges.map(([a, b]) => pool.submit(countPrimes, a as number, b as number));
  const total = futures.reduce((sum, f) => sum + f.result(), 0);
  return { total, seconds: (performance.now() - t) / 1000 };
}

const n = availableParallelism();
const one = timed(1);
console.log(`1 thread:  ${one.total} primes below ${LIMIT} in ${one.seconds.toFixed(2)} s`);
const many = timed(n);
console.log(`${n} threads: ${many.total} primes below ${LIMIT} in ${many.seconds.toFixed(2)} s`);
console.log(`speedup: ${(one.seconds / many.seconds).toFixed(2)}x on ${n} cores`);
