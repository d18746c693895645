/**
 * The body of a pool thread (what each ThreadPoolExecutor thread runs, see executor.ts).
 *
 * It receives batches of tasks on its MessagePort and runs them one at a time, in order (an async
 * task is awaited before the next starts). For each task: CAS its future's word PENDING -> RUNNING
 * (a cancelled future fails the CAS and is skipped), run it, post the outcome to the submitting
 * thread, then store FINISHED and ring that thread's doorbell. Outcomes of consecutive quick tasks
 * are posted together (one message), but never held across a task that is not known to be quick,
 * nor across an await.
 *
 * A task that calls process.exit(): if that ends the thread, the exit handler below posts the
 * outcomes held, then sets EXITED (the executor fails the running task and moves the rest); if it
 * unwinds the task instead (a SystemExit-style error), that error is the task's outcome and the
 * thread serves on, as a CPython pool thread survives sys.exit() in a task.
 *
 * The thread keeps its globals and module instances across tasks (so a `local` gives it one
 * namespace for all its tasks), and compiles each function target once.
 */
// The whole library, so that the bundle keeps one shared chunk for all its entries (scripts/bundle.mjs).
import "../index.js";
import type { MessagePort } from "node:worker_threads";
import { BrokenExecutor } from "../errors.js";
import { afterMs } from "../shared/wait.js";
import { decode } from "../transport/decode.js";
import { encode } from "../transport/encode.js";
import { compileTarget, type TargetSpec } from "../transport/target.js";
import {
  BROKEN,
  BROKEN_MESSAGE,
  BUSY_SINCE,
  CALL,
  COMPLETED,
  EXIT_CODE,
  EXITED,
  FAILED,
  LIVE,
  OK,
  OUTCOME_FIELDS,
  OUTSTANDING,
  RETIRED,
  RUN_MAX,
  RUN_TOTAL,
  TASK_FIELDS,
  type TaskBatch,
  WAIT_MAX,
  WAIT_TOTAL,
} from "./protocol.js";
import { finish, start } from "./slots.js";

/** Functions run quicker than this (ms) may have their outcomes posted together. */
const QUICK_MS = 0.02;
const MAX_HELD = 256;

function thenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === "object" || typeof v === "function") &&
    v !== null &&
    typeof (v as { then?: unknown }).then === "function"
  );
}

/** Runs in the pool thread: serves tasks until the executor sends `stop`. */
export async function poolThread(
  port: MessagePort,
  state: Int32Array,
  bell: Int32Array,
  shared: Int32Array,
  init: TargetSpec | null,
  initargs: unknown[],
  stats: Float64Array,
  idleMs: number,
  minWorkers: number,
): Promise<void> {
  const origin = performance.timeOrigin;
  const targets = new Map<number, TargetSpec>();
  const compiled = new Map<number, ((...args: unknown[]) => unknown) | Promise<(...args: unknown[]) => unknown>>();
  /** Longest run seen per target (ms); unknown targets are not assumed quick. */
  const longest = new Map<number, number>();
  const slabs: Int32Array[] = [];
  const batches: TaskBatch[] = [];
  let cursor = 0;
  let stopping = false;
  let pumping = false;
  let initError: unknown;
  let initFailed = false;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });

  // Outcomes run but not yet posted, and the words to mark FINISHED once they are.
  let held: unknown[] = [];
  let heldWords: Int32Array[] = [];
  let heldIndex: number[] = [];
  let heldGen: number[] = [];
  let running = false;

  const post = (): void => {
    if (held.length === 0) return;
    port.postMessage(held);
    for (let i = 0; i < heldWords.length; i++) {
      finish(heldWords[i] as Int32Array, heldIndex[i] as number, heldGen[i] as number);
    }
    held = [];
    heldWords = [];
    heldIndex = [];
    heldGen = [];
    Atomics.add(bell, 0, 1);
    Atomics.notify(bell, 0);
  };

  // A task that ends the thread (process.exit()): post what is done, then say how it ended.
  process.on("exit", (code) => {
    if (!running) return;
    try {
      post();
    } catch {
      // the port may be closing; the executor still sees EXITED
    }
    Atomics.store(state, EXIT_CODE, code ?? 0);
    Atomics.store(state, EXITED, 1);
    Atomics.add(bell, 0, 1);
    Atomics.notify(bell, 0);
  });

  const outcome = (id: unknown, ok: boolean, value: unknown): void => {
    let encoded: { value: unknown; marked: boolean };
    try {
      encoded = encode(value, ok ? "result" : "exception");
    } catch (e) {
      ok = false;
      encoded = encode(e, "exception");
    }
    held.push(id, ok ? OK : FAILED, encoded.value, encoded.marked);
  };

  const target = (key: number): ((...args: unknown[]) => unknown) | Promise<(...args: unknown[]) => unknown> => {
    let fn = compiled.get(key);
    if (fn === undefined) {
      const spec = targets.get(key);
      if (spec === undefined) throw new Error(`threading: pool thread has no target #${key}`);
      const p = compileTarget(spec);
      compiled.set(key, p);
      p.then(
        (f) => compiled.set(key, f),
        () => compiled.delete(key),
      );
      fn = p;
    }
    return fn;
  };

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      for (;;) {
        const batch = batches[0];
        if (batch === undefined) break;
        if (batch.f) for (const [key, spec] of batch.f) targets.set(key, spec);
        if (batch.s) for (const [no, words] of batch.s) slabs[no] = words;
        batch.f = undefined;
        batch.s = undefined;
        const t = batch.t;
        if (t === undefined || cursor >= t.length) {
          batches.shift();
          cursor = 0;
          if (batches.length === 0) post();
          continue;
        }
        const at = cursor;
        cursor += TASK_FIELDS;
        const id = t[at];
        const word = slabs[t[at + 1] as number] as Int32Array;
        const index = t[at + 2] as number;
        const gen = t[at + 3] as number;
        const key = t[at + 4] as number;
        const mode = t[at + 5] as number;
        const args = t[at + 6];
        const marked = t[at + 7] as boolean;
        t[at + 6] = undefined;
        if (!start(word, index, gen)) {
          // cancelled before it started
          Atomics.sub(state, OUTSTANDING, 1);
          continue;
        }
        const quick = (longest.get(key) ?? Number.POSITIVE_INFINITY) < QUICK_MS;
        if (!quick || held.length >= MAX_HELD * OUTCOME_FIELDS) post();
        running = true;
        const started = performance.now();
        const waited = origin + started - (t[at + 8] as number);
        stats[WAIT_TOTAL] += waited;
        if (waited > (stats[WAIT_MAX] as number)) stats[WAIT_MAX] = waited;
        stats[BUSY_SINCE] = origin + started;
        let ok = true;
        let value: unknown;
        try {
          if (initFailed || Atomics.load(shared, BROKEN) === 1) {
            throw Object.assign(new BrokenExecutor(BROKEN_MESSAGE), initFailed ? { cause: initError } : {});
          }
          let fn = target(key);
          if (thenable(fn)) {
            post();
            fn = await fn;
          }
          const raw = decode(args, marked) as unknown[];
          if (mode === CALL) {
            value = fn(...raw);
            if (thenable(value)) {
              post();
              value = await value;
            }
          } else {
            const out: unknown[] = [];
            for (const a of raw as unknown[][]) {
              let v = fn(...a);
              if (thenable(v)) {
                post();
                v = await v;
              }
              out.push(v);
            }
            value = out;
          }
        } catch (e) {
          ok = false;
          value = e;
        }
        running = false;
        const took = performance.now() - started;
        if (!(took <= (longest.get(key) ?? 0))) longest.set(key, took);
        stats[RUN_TOTAL] += took;
        if (took > (stats[RUN_MAX] as number)) stats[RUN_MAX] = took;
        stats[COMPLETED] += 1;
        stats[BUSY_SINCE] = 0;
        Atomics.sub(state, OUTSTANDING, 1);
        outcome(id, ok, value);
        heldWords.push(word);
        heldIndex.push(index);
        heldGen.push(gen);
        if (held.length >= MAX_HELD * OUTCOME_FIELDS) post();
      }
      post();
      if (stopping) {
        port.close();
        finished();
      } else armIdle();
    } finally {
      pumping = false;
    }
  };

  // Idle threads past idleTimeout retire, while more than minWorkers are alive.
  // (afterMs: an idleTimeout longer than one setTimeout takes, 24.8 days, is chained, never early)
  let cancelIdle: (() => void) | undefined;
  const armIdle = (): void => {
    if (idleMs === Number.POSITIVE_INFINITY || cancelIdle !== undefined) return;
    cancelIdle = afterMs(idleMs, retire);
  };
  const retire = (): void => {
    cancelIdle = undefined;
    if (stopping || batches.length > 0 || Atomics.load(state, OUTSTANDING) !== 0) return;
    for (;;) {
      const live = Atomics.load(shared, LIVE);
      if (live <= minWorkers) {
        armIdle(); // look again later: another thread may have started meanwhile
        return;
      }
      if (Atomics.compareExchange(shared, LIVE, live, live - 1) === live) break;
    }
    if (Atomics.compareExchange(state, OUTSTANDING, 0, RETIRED) !== 0) {
      Atomics.add(shared, LIVE, 1); // a task is on its way: its batch arms the timer again
      return;
    }
    stopping = true;
    port.close();
    finished();
  };

  port.on("message", (batch: TaskBatch) => {
    if (cancelIdle !== undefined) {
      cancelIdle();
      cancelIdle = undefined;
    }
    if (batch.stop) stopping = true;
    batches.push(batch);
    if (ready) void pump();
  });

  let ready = false;
  if (init !== null) {
    try {
      const fn = await compileTarget(init);
      await fn(...initargs);
    } catch (e) {
      initFailed = true;
      initError = e;
      Atomics.store(shared, BROKEN, 1);
      const text = e instanceof Error ? (e.stack ?? String(e)) : String(e);
      process.stderr.write(`Exception in initializer:\n${text}\n`);
    }
  }
  ready = true;
  void pump();
  return done;
}
