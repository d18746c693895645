/**
 * The `threading` command (the package's `bin`):
 *
 *   threading worker --redis URL --queue NAME [--threads N] --allow DIR_OR_PACKAGE... [--allow-source]
 *                    [--concurrency N] [--lock-duration S] [--stalled-interval S] [--max-stalled N] [--prefix P]
 *                    [--no-inline] [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]
 *
 * runs a RedisExecutor worker process (worker.ts) until SIGTERM or SIGINT, which stop it gracefully
 * (a second one exits at once). `--redis` may be left out in favour of the REDIS_URL environment
 * variable, which keeps a password off the command line. The --tls-* files (PEM) are read at start
 * and given to ioredis's `tls` options, with a rediss:// URL only. Exit codes: 0 after a graceful
 * stop, 2 for bad usage, 1 when the worker cannot start (Redis refused it: wrong credentials, a
 * certificate that does not verify; while Redis is only out of reach, it keeps trying).
 */
import "../index.js";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import * as logging from "../logging/logging.js";
import { Policy } from "./allow.js";
import { redactedUrl } from "./connection.js";
import { log, startWorker, type WorkerOptions } from "./worker.js";

const USAGE = `usage: threading worker --redis URL --queue NAME [--threads N] --allow DIR_OR_PACKAGE [--allow ...] [--allow-source]
                        [--concurrency N] [--lock-duration SECONDS] [--stalled-interval SECONDS] [--max-stalled N] [--prefix P]
                        [--no-inline] [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]

  --redis URL            redis://[user:password@]host:port[/db], or rediss://... for TLS (default: $REDIS_URL);
                         user:password are a Redis ACL user's (or just :password for requirepass)
  --queue NAME           the RedisExecutor's queue (default "threading")
  --threads N            pool threads running tasks (default: available parallelism, ${availableParallelism()} here)
  --allow DIR|PACKAGE    run module targets under this directory, or of this package (repeatable)
  --allow-source         also run functions sent as source text: ANYONE WHO CAN WRITE TO THE QUEUE RUNS ANY CODE HERE
  --concurrency N        jobs taken at once (default 2 x threads)
  --lock-duration S      BullMQ job lock (default 30); a lost worker's jobs run again after about this long
  --stalled-interval S   how often to look for jobs of lost workers (default 30)
  --max-stalled N        times a job may be lost with its worker before it fails (default 1)
  --prefix P             BullMQ key prefix (default "bull")
  --no-inline            run every task on the pool threads (by default a module target whose calls take well
                         under 0.1 ms runs on the worker's main thread, cheaper than a hand-off to a pool thread)
  --tls-ca FILE          with rediss://: trust this CA (PEM) for the server's certificate (instead of Node's CAs)
  --tls-cert FILE        with rediss://: this client certificate (PEM), for servers that ask for one
  --tls-key FILE         its private key (PEM)`;

class Usage extends Error {}

function parse(argv: string[]): WorkerOptions {
  const allow: string[] = [];
  let allowSource = false;
  const tls: Record<string, string> = {};
  const pem = (flag: string, file: string): string => {
    try {
      return readFileSync(file, "utf8");
    } catch (e) {
      throw new Usage(`${flag}: cannot read ${file}: ${(e as Error).message}`);
    }
  };
  const o: Partial<WorkerOptions> & { redis?: string } = { queue: "threading" };
  const number = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) throw new Usage(`${flag} needs a number >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const [name, inline] = flag.includes("=")
      ? [flag.slice(0, flag.indexOf("=")), flag.slice(flag.indexOf("=") + 1)]
      : [flag];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Usage(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case "--redis":
        o.redis = value();
        break;
      case "--queue":
        o.queue = value();
        if (o.queue === "" || o.queue.includes(":"))
          throw new Usage(`--queue ${JSON.stringify(o.queue)}: a queue name is not empty and has no ":"`);
        break;
      case "--threads":
        o.threads = Math.floor(number(name, value(), 1));
        break;
      case "--concurrency":
        o.concurrency = Math.floor(number(name, value(), 1));
        break;
      case "--allow":
        allow.push(value());
        break;
      case "--allow-source":
        allowSource = true;
        break;
      case "--lock-duration":
        o.lockDuration = number(name, value(), 0.1) * 1000;
        break;
      case "--stalled-interval":
        o.stalledInterval = number(name, value(), 0.1) * 1000;
        break;
      case "--max-stalled":
        o.maxStalledCount = Math.floor(number(name, value(), 0));
        break;
      case "--prefix":
        o.prefix = value();
        break;
      case "--no-inline":
        o.inline = false;
        break;
      case "--tls-ca":
        tls.ca = pem(name, value());
        break;
      case "--tls-cert":
        tls.cert = pem(name, value());
        break;
      case "--tls-key":
        tls.key = pem(name, value());
        break;
      default:
        throw new Usage(`unknown option ${flag}`);
    }
  }
  o.redis ??= process.env.REDIS_URL;
  if (!o.redis) throw new Usage("--redis URL is required (or set REDIS_URL)");
  let redis: WorkerOptions["redis"] = o.redis;
  if (Object.keys(tls).length > 0) {
    if (!/^rediss:\/\//.test(o.redis)) throw new Usage("--tls-ca, --tls-cert and --tls-key need a rediss:// URL");
    if ((tls.cert === undefined) !== (tls.key === undefined)) throw new Usage("--tls-cert and --tls-key go together");
    redis = { url: o.redis, tls };
  }
  if (allow.length === 0 && !allowSource) {
    throw new Usage("nothing to run: give --allow DIR_OR_PACKAGE (and/or --allow-source)");
  }
  let policy: Policy;
  try {
    policy = new Policy(allow, allowSource);
  } catch (e) {
    throw new Usage((e as Error).message);
  }
  return { ...(o as WorkerOptions), redis, threads: o.threads ?? availableParallelism(), policy };
}

/** Runs the command line `argv` (without node and the script). */
export async function main(argv: string[]): Promise<void> {
  logging.basicConfig({
    level: logging.INFO,
    format: "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s",
  });
  let options: WorkerOptions;
  try {
    if (argv[0] !== "worker") throw new Usage(argv[0] === undefined ? "" : `unknown command ${argv[0]}`);
    if (argv.includes("--help") || argv.includes("-h")) {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    options = parse(argv.slice(1));
  } catch (e) {
    if (!(e instanceof Usage)) throw e;
    process.stderr.write(`${e.message ? `threading: ${e.message}\n` : ""}${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (options.policy.allowSource) {
    const line = "!".repeat(100);
    log.warning(
      "%s\n--allow-source: this worker runs ANY function sent as source text to queue %s. Anyone who can write to that Redis queue can run any code on this machine, as this user.\n%s",
      line,
      options.queue,
      line,
    );
  }
  log.info("connecting to %s", redactedUrl(options.redis));
  let worker: Awaited<ReturnType<typeof startWorker>>;
  try {
    worker = await startWorker(options);
  } catch (e) {
    log.error("cannot start: %s", (e as Error)?.message ?? e);
    // Connections of a refused start may still be closing: nothing else is left to do here.
    process.exit(1);
  }
  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) {
      log.warning("%s again: exiting now", signal);
      process.exit(1);
    }
    log.info("%s: stopping gracefully (send it again to exit at once)", signal);
    void worker.close();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  await worker.done;
  process.exit(0);
}

await main(process.argv.slice(2));
