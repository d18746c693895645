// Module targets: `{ module, export }` runs a module's export in the thread, imported there with
// its full scope (its own imports, constants and helpers), which a function target sent as source
// cannot have. Relative specifiers resolve against this file; TypeScript modules work under tsx,
// Node's type stripping, Bun and Deno. A function target may import modules itself, too.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Thread, ThreadPoolExecutor } from "threading";

const crunch = { module: "./modules/crunch.ts", export: "hash" };
{
  using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const words = ["alpha", "beta", "gamma", "delta"];
  const hashes = [...pool.map<string>(crunch, words)];
  for (const [i, word] of words.entries()) console.log(`${word}: ${hashes[i]?.slice(0, 16)}...`);

  // The default export, with the result type given.
  const total = await pool.submit<number>({ module: "./modules/crunch.ts" }, 1000);
  console.log(`sumOfSquares(1000) = ${total}`);
  assert.equal(total, 332_833_500);

  // A function target that imports the module itself (relative to this file, too).
  const viaImport = await pool.submit(async (w: string) => {
    const mod = await import("./modules/crunch.ts");
    return mod.hash(w);
  }, "alpha");
  assert.equal(viaImport, hashes[0]);

  // Checked here against the same computation on the main thread.
  let h = "beta";
  for (let i = 0; i < 200; i++) h = createHash("sha256").update(h).digest("hex");
  assert.equal(hashes[1], h);
}

// A Thread runs a module target as well.
const t = new Thread({ target: { module: "./modules/crunch.ts" }, args: [10] });
t.start();
t.join();
console.log(`${t.name} ran sumOfSquares in its own thread`);
