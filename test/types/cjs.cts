// CommonJS user code: the package is ESM, and a CommonJS program require()s it (Node >= 20.19 and
// >= 22.12 load ES modules with require()). TypeScript allows it under `module: nodenext` (5.8+) and
// with `module: commonjs` (node10 resolution, where the subpaths' types come from typesVersions).
// Compiled (never run) by test/types/consumer.test.ts.
import threading = require("threading");
import queue = require("threading/queue");
import distributed = require("threading/distributed");
import type { Future, ModuleTarget } from "threading";

const lock = new threading.Lock();
{
  using _held = lock.hold(1);
}
const t = new threading.Thread({ target: (n: number) => n * 2, args: [21] });
t.start();
t.join();
const q: threading.Queue<string> = new queue.Queue<string>();
q.put("x");
const item: string = q.get();
const pool = new threading.ThreadPoolExecutor({ maxWorkers: 2 });
const f: Future<number> = pool.submit((a: number, b: number) => a + b, 1, 2);
const target: ModuleTarget = { module: "./work.js", export: "run" };
const remote: Future<string> = new distributed.RedisExecutor({ redis: "redis://localhost" }).submit<string>(target);
try {
  q.getNowait();
} catch (e) {
  if (e instanceof queue.Empty) void e.message;
}
threading.logging.basicConfig({ level: threading.logging.INFO });
pool.shutdown();
void [item, f, remote];
// @ts-expect-error args must fit the target's parameters
new threading.Thread({ target: (n: number) => n, args: ["21"] });
// @ts-expect-error items must fit T
q.put(1);
