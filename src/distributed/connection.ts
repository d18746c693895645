/**
 * Loading BullMQ (an optional peer dependency: the core of `threading` has no runtime
 * dependencies) and describing the Redis connection.
 *
 * A connection is a URL — `redis://[user:password@]host:port[/db]`, or `rediss://...` for TLS —
 * or an options object of ioredis (host, port, username, password for Redis ACL users, tls, db,
 * ...), which BullMQ hands to ioredis as it is.
 */

// biome-ignore lint/suspicious/noExplicitAny: BullMQ's module, typed where it is used
type BullMQ = any;

let bullmq: Promise<BullMQ> | undefined;

/** The message for a missing BullMQ, naming what to install. */
export const MISSING =
  "threading/distributed needs the packages bullmq and ioredis, which are optional peer dependencies of threading: npm install bullmq ioredis";

/** Imports bullmq (and checks ioredis, which it loads lazily), or throws an Error saying what to install. */
export function loadBullMQ(): Promise<BullMQ> {
  bullmq ??= (async () => {
    // Specifiers in variables: the library builds (tsc) without these optional packages installed.
    const [ioredis, bull] = ["ioredis", "bullmq"];
    try {
      await import(ioredis);
      return await import(bull);
    } catch (e) {
      const code = (e as { code?: string })?.code;
      if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") throw new Error(MISSING, { cause: e });
      throw e;
    }
  })();
  return bullmq;
}

/** BullMQ's `connection` option for `redis` (a URL or ioredis options), with `extra` options added. */
export function redisConnection(
  redis: string | Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  if (typeof redis === "string") {
    if (!/^rediss?:\/\//.test(redis)) {
      throw new TypeError(`redis: ${JSON.stringify(redis)} is not a redis:// or rediss:// URL`);
    }
    return { url: redis, ...extra };
  }
  if (typeof redis !== "object" || redis === null) {
    throw new TypeError("redis must be a redis:// or rediss:// URL or an object of connection options");
  }
  return { ...redis, ...extra };
}

/** The URL with its password hidden, for logs. */
export function redactedUrl(redis: string | Record<string, unknown>): string {
  if (typeof redis !== "string") return `${String(redis.host ?? "localhost")}:${String(redis.port ?? 6379)}`;
  return redis.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
