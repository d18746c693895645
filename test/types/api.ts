// Compile-time checks of the public types (checked by test/types/types.test.ts with tsc; never run).
import { Thread } from "threading";

function add(a: number, b: number): number {
  return a + b;
}

new Thread({ target: add, args: [1, 2] });
// @ts-expect-error args must fit the target's parameters
new Thread({ target: add, args: ["1", 2] });
// @ts-expect-error too few args
new Thread({ target: add, args: [1] });
new Thread({ target: { module: "./work.js", export: "run" }, args: [1, "x"] });
const threads: Thread[] = [
  new Thread({ target: add, args: [1, 2] }),
  new Thread({ target: (s: string) => s, args: ["x"] }),
];
void threads;

// Shared state (API.md "Shared state"): T is number unless given, values never narrow to literals.
import { SharedArray, Value } from "threading";
const counter = new Value("i", 0);
counter.value += 1;
const n: number = counter.value;
const big = new Value<bigint>("q", 0n);
big.value += 1n;
// @ts-expect-error a number Value does not take a bigint
new Value("i", 0n);
// @ts-expect-error a bigint Value does not take a number
new Value<bigint>("q", 1);
const arr = new SharedArray("d", [0.5, 1.5]);
const first: number = arr.at(0);
arr.set(1, 2.5);
for (const x of arr) void (x satisfies number);
new SharedArray<bigint>("Q", 4, { lock: false });
void [n, first];

// Executor options and per-task options (README "Executors"): results keep their types.
import { type ExecutorStats, type Future, ThreadPoolExecutor } from "threading";
const pool = new ThreadPoolExecutor({ maxWorkers: 2, maxQueue: 4, minWorkers: 1, idleTimeout: 5 });
new ThreadPoolExecutor({ resourceLimits: { maxOldGenerationSizeMb: 64 } });
const buf = new ArrayBuffer(8);
const moved: Future<number> = pool.submitWith(
  { transferList: [buf], signal: AbortSignal.timeout(1000), block: false, timeout: 1 },
  (b: ArrayBuffer) => b.byteLength,
  buf,
);
const later: Promise<string> = pool.submitAsync((s: string) => s.toUpperCase(), "a");
const laterWith: Promise<number> = pool.submitWithAsync({ signal: new AbortController().signal }, (x: number) => x, 1);
// @ts-expect-error submitWith checks args against the target's parameters
pool.submitWith({}, (x: number) => x, "not a number");
// @ts-expect-error submitAsync resolves to the result, not a Future
const notAFuture: Promise<Future<number>> = pool.submitAsync((x: number) => x, 1);
// @ts-expect-error maxQueue is a number
new ThreadPoolExecutor({ maxQueue: "4" });
const st: ExecutorStats = pool.stats();
const load: number = st.utilization + st.queued + st.running + st.waitTime.mean + st.runTime.max;
void [moved, later, laterWith, notAFuture, load];

import { KeyError, SharedDict } from "threading";
const counts = new SharedDict<string, number>();
const c1: number = counts.update("w", (n) => (n ?? 0) + 1);
const maybe: number | undefined = counts.get("w");
// @ts-expect-error keys are strings here
counts.set(1, 2);
// @ts-expect-error values are numbers here
counts.set("w", "x");
for (const [k, v] of counts) void [k satisfies string, v satisfies number];
const popped: number = counts.pop("w", 0);
const orZero: number = counts.get("w", 0); // Python's dict.get(key, default)
const orNull: number | null = counts.get("w", null);
// @ts-expect-error without a fallback it may be undefined
const notSure: number = counts.get("w");
void [c1, maybe, popped, orZero, orNull, notSure, KeyError];

import { SharedList } from "threading";
const results = new SharedList<{ id: number; ok: boolean }>();
results.append({ id: 1, ok: true });
// @ts-expect-error items must fit V
results.append({ id: "1" });
const item: { id: number; ok: boolean } = results.at(-1);
const all: { id: number; ok: boolean }[] = results.toArray();
for (const r of results) void (r.id satisfies number);
void [item, all];

// Timer and Barrier check their function against its args, as Thread does (API.md "Types").
import { Barrier, type Target, Timer } from "threading";
new Timer(1, (n: number, s: string) => n + s.length, [1, "x"]);
// @ts-expect-error a Timer's args must fit its function
new Timer(1, (n: number) => n, ["x"]);
new Timer(1, { module: "./work.js", export: "tick" }, [1, "x"]);
const anyTarget: Target = add;
new Timer(1, anyTarget, ["anything"]);
const timer: Timer = new Timer(0.5, () => {});
void timer;
const barrier = new Barrier(2, (n: number) => n, 5, [1]);
// @ts-expect-error a Barrier's actionArgs must fit its action
new Barrier(2, (n: number) => n, 5, ["x"]);
new Barrier(2, { module: "./work.js", export: "act" }, null, [1]);
new Barrier(3);
// A Barrier of any action is a Barrier: a thread's parameter typed Barrier takes it.
new Thread({ target: (b: Barrier) => b.wait(), args: [barrier] });
