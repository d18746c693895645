/**
 * The thread that talks to Redis for one RedisExecutor (executor.ts): it holds the BullMQ `Queue`
 * (jobs go in) and `QueueEvents` (outcomes come back), so futures settle while the executor's own
 * thread is blocked in `result()` or `wait()`, exactly as a pool thread's outcomes do
 * (futures/future.ts, futures/slots.ts): post the outcome on the port, then store FINISHED in the future's word and
 * ring the executor thread's doorbell.
 *
 * Jobs get ids `${tag}-${seq}`, the tag being this executor's, so the events of other clients of the
 * queue are told apart, and an outcome is never matched to the wrong future. Events are read from
 * the position the queue's event stream had before the first job was added, so none is missed.
 *
 * Future words (shared with the executor): PENDING -> RUNNING on the job's "active" event (a CAS
 * that the executor's cancel() races against, PENDING -> CANCELLED), -> FINISHED after posting.
 * A cancelled job is removed from Redis unless a worker holds it already (then it runs, and its
 * outcome is dropped).
 *
 * Lost events (a client far behind a trimmed stream, a Redis that lost its data): every few
 * seconds, jobs with no news for a while are looked up; one that finished settles from its stored
 * return value, one that no longer exists fails its future with a RuntimeError saying so.
 *
 * When it cannot go on: Redis out of reach for connectTimeout seconds (no PING answered, no other
 * news), at start or later, Redis refusing it (wrong credentials, a TLS certificate that does not
 * verify: at once, as no reconnection mends that), or its body failing, the thread posts [-1, BROKEN, reason] and ends;
 * the executor then fails every pending future (and later submits) with BrokenExecutor. Every wait
 * on Redis here (connecting, closing) is raced against that, so the thread always ends.
 */
import "../index.js";
import type { MessagePort } from "node:worker_threads";
import { loadBullMQ, redactedUrl, redisConnection, refusal } from "./connection.js";
import type { RemoteTarget } from "./protocol.js";
import { finish, start } from "../futures/slots.js";

/** Outcome kinds posted to the executor: [seq, kind, payload]. */
export const DONE = 0;
export const FAILED = 1;
export const GONE = 2;
/** The client thread cannot go on ([-1, BROKEN, reason]): every pending future fails with BrokenExecutor. */
export const BROKEN = 3;

/** Messages from the executor. */
export interface ClientBatch {
  /** The targets of this batch's jobs: [key, spec] (the client thread keeps none across batches). */
  f?: [number, RemoteTarget][];
  /** New slabs of future words: [slab number, words]. */
  s?: [number, Int32Array][];
  /** Jobs, JOB_FIELDS each: seq, key, mode, args (JSON text, or bytes to send as base64), slab, index, gen. */
  j?: unknown[];
  /** Cancelled seqs. */
  c?: number[];
  stop?: true;
}
export const JOB_FIELDS = 7;

export interface ClientOptions {
  redis: string | Record<string, unknown>;
  queue: string;
  prefix?: string;
  tag: string;
  defaultJobOptions: Record<string, unknown>;
  /** Seconds without news before a job is looked up in Redis. */
  sweepAfter: number;
  /**
   * Seconds the thread may go without reaching Redis (at start, or later without a break) before
   * the executor is broken (BrokenExecutor); Infinity = wait for ever.
   */
  connectTimeout: number;
  /** @internal Test hook: how the thread dies once its first jobs are added ("throw": its body throws; "listener": a callback throws, so the body never ends). */
  testCrash?: "throw" | "listener";
  /**
   * Test hook: the first this many addBulk calls add the first half of their batch and then fail
   * as a connection closing under the rest does (ioredis's AbortError).
   */
  testAbortAdds?: number;
}

interface Tracked {
  slab: number;
  index: number;
  gen: number;
  /** Last news of it (ms, this thread's clock). */
  seen: number;
  added: boolean;
}

/**
 * The thread's body. Resolves once stopped (after the executor has no futures left). If it fails,
 * it says why on the port ([-1, BROKEN, reason]) and rings the doorbell before the thread ends, so
 * the executor fails every pending future with BrokenExecutor instead of leaving it pending; a death
 * that skips this (an error thrown from a callback, the worker killed) is seen by the executor
 * watching the thread's slot in the thread table (executor.ts).
 */
export async function clientThread(port: MessagePort, doorbell: Int32Array, o: ClientOptions): Promise<void> {
  try {
    await serve(port, doorbell, o);
  } catch (e) {
    const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    port.postMessage([-1, BROKEN, reason]);
    Atomics.add(doorbell, 0, 1);
    Atomics.notify(doorbell, 0);
  }
}

async function serve(port: MessagePort, doorbell: Int32Array, o: ClientOptions): Promise<void> {
  const { Queue, QueueEvents } = await loadBullMQ();
  // Every wait of this thread on Redis is raced against `failed`, which rejects when the thread
  // cannot go on (Redis unreachable for connectTimeout): then it ends, and the executor is broken.
  let failure: Error | undefined;
  let rejectFailed: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  failed.catch(() => {});
  const fail = (e: Error): void => {
    failure ??= e;
    rejectFailed(e);
  };
  const within = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failed]);
  const queue = new Queue(o.queue, {
    connection: redisConnection(o.redis, { maxRetriesPerRequest: null }),
    ...(o.prefix === undefined ? {} : { prefix: o.prefix }),
    defaultJobOptions: o.defaultJobOptions,
  });
  let lastError = 0;
  let lastMessage = "";
  const complain = (e: Error) => {
    const why = refusal(e);
    // No reconnection mends a refusal: the executor is broken at once, saying why.
    if (why !== undefined) fail(new Error(`cannot connect to Redis at ${redactedUrl(o.redis)}: ${why}`));
    lastMessage = String(e?.message ?? e);
    if (Date.now() - lastError < 5000) return;
    lastError = Date.now();
    process.stderr.write(`RedisExecutor (queue ${o.queue}): Redis: ${lastMessage}\n`);
  };
  queue.on("error", complain);
  // Reachability: a PING round trip every second (commands wait in ioredis while it reconnects, so
  // a pending one means Redis is out of reach), or any other news from it (an event, a batch of jobs
  // added); none for connectTimeout seconds breaks the executor.
  const connectMs = o.connectTimeout * 1000;
  let lastReached = Date.now();
  let pinging = false;
  /** When the PINGs began to go unanswered (undefined after an answer). */
  let unansweredSince: number | undefined;
  const health =
    connectMs === Number.POSITIVE_INFINITY
      ? undefined
      : setInterval(
          () => {
            const now = Date.now();
            if (!pinging) {
              pinging = true;
              unansweredSince ??= now;
              (queue.getBackend().client as Promise<{ ping(): Promise<unknown> }>)
                .then((c) => c.ping())
                .then(
                  () => {
                    lastReached = Date.now();
                    unansweredSince = undefined;
                  },
                  (e: unknown) => complain(e as Error),
                )
                .finally(() => {
                  pinging = false;
                });
            }
            // Out of reach: PINGs unanswered (pending, or failing) for connectTimeout, and no other news
            // that long (a PING sent only now, e.g. after the process was suspended, gets its full time).
            if (unansweredSince !== undefined && now - unansweredSince > connectMs && now - lastReached > connectMs) {
              fail(
                new Error(
                  `cannot reach Redis at ${redactedUrl(o.redis)} for ${o.connectTimeout} s (connectTimeout)` +
                    (lastMessage === "" ? "" : `: ${lastMessage}`),
                ),
              );
            }
          },
          Math.max(50, Math.min(1000, connectMs / 4)),
        );
  const slabs: Int32Array[] = [];
  const tracked = new Map<number, Tracked>();
  const prefix = `${o.tag}-`;
  const seqOf = (jobId: unknown): number => {
    if (typeof jobId !== "string" || !jobId.startsWith(prefix)) return -1;
    return Number(jobId.slice(prefix.length));
  };

  // Outcomes go out together at the end of each batch of events.
  let out: unknown[] = [];
  let finished: Tracked[] = [];
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (out.length === 0) return;
    port.postMessage(out);
    out = [];
    for (const t of finished) finish(slabs[t.slab] as Int32Array, t.index, t.gen);
    finished = [];
    Atomics.add(doorbell, 0, 1);
    Atomics.notify(doorbell, 0);
  };
  const settle = (seq: number, kind: number, payload: unknown) => {
    const t = tracked.get(seq);
    if (t === undefined) return;
    tracked.delete(seq);
    out.push(seq, kind, payload);
    finished.push(t);
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
  };

  // Read events from where the stream is now, before any job of ours exists.
  let lastEventId = "0-0";
  try {
    await within(queue.waitUntilReady());
    const client = await within(queue.getBackend().client as Promise<{ xrevrange(...a: unknown[]): Promise<unknown> }>);
    const last = (await within(client.xrevrange(queue.keys.events, "+", "-", "COUNT", 1))) as [string, unknown][];
    if (last.length > 0) lastEventId = (last[0] as [string, unknown])[0];
  } catch {
    if (failure !== undefined) {
      clearInterval(health);
      void queue.disconnect();
      throw failure;
    }
    // from the stream's start: older events are other clients' and are skipped
  }
  const events = new QueueEvents(o.queue, {
    connection: redisConnection(o.redis, { maxRetriesPerRequest: null }),
    ...(o.prefix === undefined ? {} : { prefix: o.prefix }),
    lastEventId,
  });
  events.on("error", complain);
  // Any news from Redis shows it is reachable (a PING may queue behind a long command).
  for (const name of ["active", "completed", "failed", "removed", "stalled", "waiting", "progress"]) {
    events.on(name, () => {
      lastReached = Date.now();
    });
  }
  events.on("active", ({ jobId }: { jobId: string }) => {
    const t = tracked.get(seqOf(jobId));
    if (t === undefined) return;
    t.seen = Date.now();
    start(slabs[t.slab] as Int32Array, t.index, t.gen);
  });
  events.on("stalled", ({ jobId }: { jobId: string }) => {
    const t = tracked.get(seqOf(jobId));
    if (t !== undefined) t.seen = Date.now();
  });
  events.on("completed", ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
    settle(seqOf(jobId), DONE, returnvalue);
  });
  events.on("failed", ({ jobId, failedReason }: { jobId: string; failedReason: string }) => {
    settle(seqOf(jobId), FAILED, failedReason);
  });
  events.on("removed", ({ jobId }: { jobId: string }) => {
    settle(seqOf(jobId), GONE, "the job was removed from the queue");
  });
  try {
    await within(events.waitUntilReady());
  } catch (e) {
    clearInterval(health);
    void queue.disconnect();
    void events.close().catch(() => {});
    throw e;
  }

  // Jobs to add go out in one addBulk per turn of this thread's event loop.
  //
  // A connection that closes under an addBulk (Redis restarting) aborts the part of its pipeline
  // not yet answered (ioredis: AbortError "Command aborted due to connection close"); Redis may
  // have added some of those jobs or none. So the batch is added again, its jobs not settled
  // meanwhile, once ioredis has reconnected (the command waits for it: no busy loop); adding a job whose id
  // exists changes nothing (BullMQ keeps the existing job), so each job is added once. Any other
  // error fails the batch's futures; Redis out of reach for good breaks the executor (`failed`), and
  // the executor fails every pending future.
  let abortsLeft = o.testAbortAdds ?? 0;
  const addAll = async (batch: { name: string; data: unknown; opts: { jobId: string } }[], seqs: number[]) => {
    for (;;) {
      try {
        if (abortsLeft > 0) {
          abortsLeft--;
          await queue.addBulk(batch.slice(0, batch.length >> 1));
          throw Object.assign(new Error("Command aborted due to connection close"), { name: "AbortError" });
        }
        await queue.addBulk(batch);
        return;
      } catch (e) {
        if ((e as Error)?.name !== "AbortError" || failure !== undefined) throw e;
        const left = seqs.map((seq) => tracked.has(seq));
        batch = batch.filter((_, k) => left[k]);
        seqs = seqs.filter((_, k) => left[k]);
        if (batch.length === 0) return;
      }
    }
  };
  let adds: { name: string; data: unknown; opts: { jobId: string } }[] = [];
  let addsSeqs: number[] = [];
  let adding = Promise.resolve();
  const sendAdds = () => {
    if (adds.length === 0) return;
    const batch = adds;
    const seqs = addsSeqs;
    adds = [];
    addsSeqs = [];
    adding = adding.then(async () => {
      try {
        await addAll(batch, seqs);
        lastReached = Date.now();
        if (o.testCrash === "throw") fail(new Error("test: the client thread fails"));
        else if (o.testCrash === "listener")
          setTimeout(() => {
            throw new Error("test: a callback of the client thread throws");
          });
        const now = Date.now();
        for (const seq of seqs) {
          const t = tracked.get(seq);
          if (t !== undefined) {
            t.added = true;
            t.seen = now;
          }
        }
      } catch (e) {
        for (const seq of seqs)
          settle(seq, FAILED, `the job could not be added to Redis: ${(e as Error)?.message ?? e}`);
      }
    });
  };
  let addQueued = false;

  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  port.on("message", (m: ClientBatch) => {
    // The targets of this batch's jobs come with it (none is kept across batches).
    const targets = new Map<number, RemoteTarget>(m.f);
    if (m.s) for (const [n, words] of m.s) slabs[n] = words;
    if (m.j) {
      const j = m.j;
      for (let i = 0; i < j.length; i += JOB_FIELDS) {
        const seq = j[i] as number;
        const spec = targets.get(j[i + 1] as number) as RemoteTarget;
        const bytes = j[i + 3] as Uint8Array | string;
        tracked.set(seq, {
          slab: j[i + 4] as number,
          index: j[i + 5] as number,
          gen: j[i + 6] as number,
          seen: Date.now(),
          added: false,
        });
        adds.push({
          name: spec.kind === "module" ? spec.export : spec.name || "anonymous",
          data: {
            t: spec,
            m: j[i + 2],
            a:
              typeof bytes === "string"
                ? bytes
                : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
          },
          opts: { jobId: `${prefix}${seq}` },
        });
        addsSeqs.push(seq);
      }
      if (!addQueued) {
        addQueued = true;
        setImmediate(() => {
          addQueued = false;
          sendAdds();
        });
      }
    }
    if (m.c) {
      for (const seq of m.c) {
        if (!tracked.delete(seq)) continue;
        const k = addsSeqs.indexOf(seq);
        if (k >= 0) {
          addsSeqs.splice(k, 1);
          adds.splice(k, 1);
        } else {
          // After the add (same connection, so in order); a job a worker holds is not removed.
          adding = adding.then(() => queue.remove(`${prefix}${seq}`).then(() => {}, complain));
        }
      }
    }
    if (m.stop) stop();
  });

  // The sweep for lost events.
  const sweepMs = o.sweepAfter * 1000;
  let sweeping = false;
  const sweep = setInterval(
    async () => {
      if (sweeping) return;
      sweeping = true;
      try {
        const now = Date.now();
        const old = [...tracked].filter(([, t]) => t.added && now - t.seen > sweepMs).slice(0, 200);
        await Promise.all(
          old.map(async ([seq, t]) => {
            const job = await queue.getJob(`${prefix}${seq}`);
            if (!tracked.has(seq)) return;
            t.seen = Date.now();
            if (job == null) settle(seq, GONE, "the job is no longer in Redis (its data was lost or removed)");
            else if (job.finishedOn && job.failedReason && job.returnvalue == null)
              settle(seq, FAILED, job.failedReason);
            else if (job.finishedOn) settle(seq, DONE, job.returnvalue);
          }),
        );
      } catch (e) {
        complain(e as Error);
      } finally {
        sweeping = false;
      }
    },
    Math.max(200, sweepMs / 2),
  );

  try {
    await within(stopped);
    clearInterval(sweep);
    sendAdds();
    await within(adding);
    await within(Promise.all([events.close(), queue.close()]));
  } catch (e) {
    void queue.disconnect();
    void events.close().catch(() => {});
    throw e;
  } finally {
    clearInterval(sweep);
    clearInterval(health);
  }
  port.close();
}
