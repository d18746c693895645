/**
 * A worker process of RedisExecutor (`npx threading worker ...`, see cli.ts): a BullMQ `Worker` on
 * the queue that runs each job it takes on a local ThreadPoolExecutor, so one process uses all the
 * cores it is given.
 *
 * Per job: check the target against the worker's --allow policy (allow.ts): a refused job
 * completes with a failed outcome and runs nothing. Otherwise submit `runTask` (run-task.ts) to
 * the pool, which decodes the arguments, runs the task and encodes the outcome on the pool thread.
 *
 * Tiny tasks run on this thread (unless `inline: false`): a module target whose last INLINE_AFTER
 * calls on the pool each returned a value (not a promise) in under TINY_MS (run-task.ts) is called
 * here, where the hand-off to a pool thread and back (two thread wake-ups) would cost more than the
 * task. Each such call is timed: one that runs INLINE_MAX_MS or more (a long call, or this thread
 * preempted on a busy machine) sends its target back to the pool until twice as many calls in a row
 * are tiny there (so a task whose time depends on its arguments blocks this thread at most once per
 * doubling); one that returns a promise or runs NEVER_MS or more, for the worker's life (logged
 * either way). map() chunks and function targets always run on the pool. Per target, its state
 * (Inline) is the count of tiny calls in a row on the pool, the count it needs, and its function
 * once imported here (the module is read for a guard and imported once, not per call). A process.exit()
 * in a call here fails that task (SystemExit, as on a pool thread) and sends its target to the pool
 * for good; the worker goes on. A target whose module names mainThread (a main-program guard, which
 * is true on this thread) is never run here: its module is not imported on this thread (mainGuarded).
 *
 * Faults: BullMQ holds a lock on each active job, renewed from this process's event loop (blocked
 * here only by a tiny task run on this thread: under INLINE_MAX_MS, but a call that runs long
 * anyway, up to NEVER_MS or for ever, holds back renewals and signals as long; `--no-inline` keeps
 * every task on the pool threads). A worker that dies (SIGKILL, power loss) stops renewing;
 * after the lock expires another worker's stalled-job check puts the job back in the queue and it
 * runs again (at least once). A pool thread that dies in a task (process.exit(), a crash) fails
 * that task only (with its SystemExit, for a process.exit() the task's stack unwound), and the pool
 * replaces the thread. SIGTERM (see cli.ts) closes the BullMQ worker, which takes no new job and waits for the
 * running ones, then shuts the pool down. Once no job is running, the close waits at most
 * CLOSE_GRACE_MS for Redis (a Redis gone for good would hold a stopping worker for ever).
 */
import { readFileSync } from "node:fs";
import { ThreadPoolExecutor } from "../futures/executor.js";
import * as logging from "../logging/logging.js";
import { libraryFile } from "../shared/paths.js";
import type { Policy } from "./allow.js";
import { loadBullMQ, redactedUrl, redisConnection, refusal } from "./connection.js";
import { CALL, type JobData, outcomeText } from "./protocol.js";
import { type LocalTarget, runInline, TINY, targetFunction } from "./run-task.js";

/** Options of a worker process. */
export interface WorkerOptions {
  redis: string | Record<string, unknown>;
  queue: string;
  /** Pool threads (default: the machine's available parallelism). */
  threads: number;
  /** Jobs taken from Redis at once (default 2 per thread, so the next one is ready when a task ends). */
  concurrency?: number;
  policy: Policy;
  /** BullMQ lock duration and stalled-job check interval (ms); lower means faster recovery of lost jobs. */
  lockDuration?: number;
  stalledInterval?: number;
  maxStalledCount?: number;
  /** BullMQ key prefix (default "bull"). */
  prefix?: string;
  /** Run tiny module targets on the worker's own thread (default true; see above). */
  inline?: boolean;
}

/** Calls on the pool, each tiny, before a target runs on the worker's thread (the first time). */
const INLINE_AFTER = 8;
/** A call on the worker's thread that runs this long (ms) sends its target back to the pool. */
const INLINE_MAX_MS = 2;
/** ... and this long (ms), for good. */
const NEVER_MS = 1000;

/** A module target's way to the worker's thread: tiny calls in a row on the pool, and how many it needs (Infinity: never). */
interface Inline {
  tiny: number;
  need: number;
  /** The target's function, imported on this thread the first time it runs here. */
  fn?: (...args: unknown[]) => unknown;
}

const runner = { module: libraryFile("distributed/run-task.js"), export: "runTask" };

/**
 * True if the module at `url` may guard a main program (README: an entry script used as a module
 * target guards it with `if (currentThread() === mainThread())`): its text names mainThread or
 * isMainThread. Imported on this thread, the worker's main thread, such a guard would be true and
 * the main program would run in the worker; so its targets stay on the pool. (A module it imports
 * is not read: the README says so.)
 */
function mainGuarded(url: string): boolean {
  try {
    return /\b(?:mainThread|isMainThread)\b/.test(readFileSync(new URL(url), "utf8"));
  } catch {
    return true; // unreadable here: the pool, which reports what is wrong with it
  }
}

export const log = logging.getLogger("threading.worker");

/**
 * How long a stopping worker waits, once its running jobs have finished, for BullMQ to store their
 * outcomes and disconnect (seconds in THREADING_WORKER_CLOSE_GRACE, default 10): past it Redis is
 * taken to be out of reach and the worker exits anyway.
 */
const CLOSE_GRACE_MS = Number(process.env.THREADING_WORKER_CLOSE_GRACE ?? 10) * 1000;

/** A running worker: `close()` stops taking jobs, waits for the running ones and ends the pool. */
export interface RunningWorker {
  close(): Promise<void>;
  readonly done: Promise<void>;
}

/**
 * Starts a worker; resolves once it is connected and taking jobs. Rejects if Redis refuses it
 * (wrong credentials, a TLS certificate that does not verify); waits while Redis is out of reach.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { Worker } = await loadBullMQ();
  const { policy } = options;
  const pool = new ThreadPoolExecutor({ maxWorkers: options.threads, threadNamePrefix: "worker" });
  let taken = 0;
  const inline = options.inline ?? true;
  /** Per module target (URL#export) run by calls. */
  const inlines = new Map<string, Inline>();
  /** Jobs this worker is running now, and what to call when that falls to 0 (close(): see below). */
  let running = 0;
  let onIdle: (() => void) | undefined;
  const processor = async (job: { id?: string; name: string; data: JobData }): Promise<string> => {
    running++;
    try {
      return await runJob(job);
    } finally {
      if (--running === 0) onIdle?.();
    }
  };
  const runJob = async (job: { id?: string; name: string; data: JobData }): Promise<string> => {
    taken++;
    const data = job.data;
    const verdict = policy.check(data?.t);
    if (!verdict.ok) {
      log.warning("refused job %s (%s): %s", job.id, job.name, verdict.reason);
      const { RuntimeError } = await import("../errors.js");
      return outcomeText({ ok: false, error: new RuntimeError(`worker refused the job: ${verdict.reason}`) });
    }
    try {
      const t = verdict.target as LocalTarget;
      let state: Inline | undefined;
      if (inline && t.kind === "module" && data.m === CALL) {
        const key = `${t.url}#${t.export}`;
        state = inlines.get(key);
        if (state === undefined) inlines.set(key, (state = { tiny: 0, need: INLINE_AFTER }));
        if (state.tiny >= state.need) {
          let fn = state.fn;
          if (fn === undefined) {
            // Once per target: its module read for a main-program guard, then imported here.
            const guarded = mainGuarded(t.url);
            if (guarded) log.info("task %s stays on the pool threads: its module mentions mainThread", job.name);
            fn = guarded ? undefined : await targetFunction("module", t.url, t.export).catch(() => undefined);
            if (fn === undefined)
              state.need = Number.POSITIVE_INFINITY; // it cannot be imported here: the pool
            else state.fn = fn;
          }
          if (fn !== undefined) {
            const run = await runInline(fn, data.a);
            if (run.async || run.exited || run.ms >= INLINE_MAX_MS) {
              state.tiny = 0;
              state.need =
                run.async || run.exited || run.ms >= NEVER_MS
                  ? Number.POSITIVE_INFINITY
                  : Math.min(2 ** 30, state.need * 2);
              log.info(
                "task %s took %s ms on the worker's thread%s: it runs on the pool threads %s",
                job.name,
                run.ms.toFixed(1),
                run.exited ? " and called process.exit()" : run.async ? " and returned a promise" : "",
                state.need === Number.POSITIVE_INFINITY
                  ? "from now on"
                  : `until ${state.need} calls in a row are tiny there`,
              );
            }
            return run.text;
          }
        }
      }
      // Plain strings and numbers only: the pool hands them to its thread without encoding them.
      const [what, extra] = t.kind === "module" ? [t.url, t.export] : [t.source, t.base];
      const text = (await pool.submit<string>(runner, t.kind, what, extra, data.m, data.a)) as string;
      const tiny = text.startsWith(TINY);
      if (state !== undefined) state.tiny = tiny ? state.tiny + 1 : 0;
      return tiny ? text.slice(TINY.length) : text;
    } catch (error) {
      // The pool thread ended in the task (its process.exit(): the SystemExit; a crash): that task's failure.
      return outcomeText({ ok: false, error });
    }
  };
  const settings: Record<string, unknown> = {
    connection: redisConnection(options.redis, { maxRetriesPerRequest: null }),
    concurrency: options.concurrency ?? options.threads * 2,
    autorun: false,
  };
  // Only what was given: BullMQ's defaults stand for the rest.
  for (const key of ["prefix", "lockDuration", "stalledInterval", "maxStalledCount"] as const) {
    if (options[key] !== undefined) settings[key] = options[key];
  }
  const worker = new Worker(options.queue, processor, settings);
  // Until it is ready, a refusal (wrong credentials, a certificate that does not verify) ends the
  // start: no reconnection mends it. Other errors (Redis not up yet) are retried, as later on.
  let refuse: (e: Error) => void = () => {};
  const refused = new Promise<never>((_, reject) => {
    refuse = reject;
  });
  refused.catch(() => {});
  worker.on("error", (e: Error) => {
    const why = refusal(e);
    if (why !== undefined) refuse(new Error(`cannot connect to Redis at ${redactedUrl(options.redis)}: ${why}`));
    log.error("BullMQ worker: %s", e?.message ?? e);
  });
  worker.on("stalled", (id: string) => log.warning("job %s had stalled (its worker was lost): running it again", id));
  void worker.run().catch((e: Error) => log.error("worker stopped: %s", e?.message ?? e));
  try {
    await Promise.race([worker.waitUntilReady(), refused]);
  } catch (e) {
    void worker.close(true).catch(() => {});
    pool.shutdown(false);
    throw e;
  }
  log.info(
    "worker on queue %s: %d threads, concurrency %d, running %s",
    options.queue,
    options.threads,
    options.concurrency ?? options.threads * 2,
    policy.describe(),
  );
  let closing: Promise<void> | undefined;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  return {
    done,
    close() {
      closing ??= (async () => {
        log.info("stopping: no new jobs, finishing the running ones");
        const closed = worker.close().then(
          () => true,
          () => true,
        );
        // Once its jobs have finished, BullMQ only stores their outcomes and disconnects: with
        // Redis out of reach it would wait for ever (the jobs run again elsewhere: at least once).
        const idle = new Promise<void>((resolve) => {
          onIdle = resolve;
          if (running === 0) resolve();
        });
        const gaveUp = idle.then(() => new Promise<false>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS, false)));
        if (!(await Promise.race([closed, gaveUp]))) {
          log.warning(
            "stopping: the running jobs have finished but Redis has not answered for %d s: exiting without it (a job whose outcome it did not store runs again)",
            CLOSE_GRACE_MS / 1000,
          );
          void worker.close(true).catch(() => {});
        }
        await pool.shutdownAsync();
        log.info("stopped after %d jobs", taken);
        resolveDone();
      })();
      return closing;
    },
  };
}
