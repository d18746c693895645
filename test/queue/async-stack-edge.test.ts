// A stack overflow (RangeError, raised by V8 at any call) inside an async put or get. The async
// twins drive their slow path with shared/wait.ts driveAsync(), whose first steps run at once, on
// the caller's stack and under the queue's lock; an overflow there rejected the driver's promise,
// which the call returned without awaiting, so its catch ("Exceptions" in fifo.ts and core.ts:
// give the lock up) never saw it, and the lock stayed held by a thread that lives on, which no
// waiter takes over: every later put and get of the queue hung. A child process calls getAsync() /
// putAsync() at every depth near the stack's limit, so that the overflow lands at each call in
// turn, and counts how it left the queue's locks (fixtures/async-stack-edge.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { runChild } from "../child.js";

const T = { timeout: 120_000 };
const fixture = new URL("../fixtures/async-stack-edge.ts", import.meta.url).href;

for (const kind of ["Queue", "LifoQueue"] as const) {
  for (const op of ["getAsync", "putAsync"] as const) {
    test(`${kind}.${op}() overflowing the stack anywhere leaves its locks free or given up`, T, () => {
      const r = runChild(
        `import { scan } from ${JSON.stringify(fixture)}; await scan(${JSON.stringify(kind)}, ${JSON.stringify(op)}); process.exit(0);`,
        100_000,
      );
      const line = r.stdout.split("\n").find((l) => l.startsWith("{"));
      assert.ok(line !== undefined, `the scan ended (status ${r.status}): ${r.stderr.slice(-500)}`);
      const seen = JSON.parse(line) as { free: number; "given up": number; held: number; usable: boolean };
      assert.equal(seen.held, 0, `a lock left held by the live thread: ${line}`);
      assert.ok(seen["given up"] > 0, `the overflow never landed under the lock: ${line}`);
      assert.equal(seen.usable, true, `another thread used the queue after its lock was given up: ${line}`);
    });
  }
}
