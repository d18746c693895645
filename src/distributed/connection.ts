/**
 * Loading BullMQ (an optional peer dependency: the core of `threading` has no runtime
 * dependencies) and describing the Redis connection.
 *
 * A connection is a URL — `redis://[user:password@]host:port[/db]`, or `rediss://...` for TLS —
 * or an options object of ioredis (host, port, username, password for Redis ACL users, tls, db,
 * ...), which BullMQ hands to ioredis as it is; the object may also hold a `url`, whose parts the
 * other options complete (`{ url: "rediss://...", tls: { ca } }`).
 *
 * Errors of a connection are retried (ioredis reconnects: Redis restarting, out of reach), except
 * a refusal (see `refusal`): wrong credentials, or a TLS certificate that does not verify, which no
 * retry mends.
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
  if (typeof redis === "string") return redis.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
  if (typeof redis.url === "string") return redactedUrl(redis.url);
  return `${String(redis.host ?? "localhost")}:${String(redis.port ?? 6379)}`;
}

/** Certificate errors of Node's TLS (the server's certificate does not verify, or the server refused ours). */
const CERTIFICATE_CODES =
  /^(ERR_TLS_CERT|ERR_SSL_.*(CERTIFICATE|UNKNOWN_CA|BAD_CERT)|.*SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|CERT_|DEPTH_ZERO)/;

/**
 * Why Redis refused this client for good, in a sentence, or undefined for an error a reconnection
 * may mend (Redis restarting or out of reach). Refusals: wrong or missing credentials (Redis's
 * WRONGPASS and NOAUTH replies) and TLS certificates that do not verify, either way.
 */
export function refusal(e: unknown): string | undefined {
  const message = String((e as Error)?.message ?? e);
  if (/^(WRONGPASS|NOAUTH)\b/.test(message)) {
    return `authentication failed: Redis refused the credentials (check the user name and password): ${message}`;
  }
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string" && CERTIFICATE_CODES.test(code)) {
    return `TLS failed: a certificate did not verify (check the CA, and the client certificate if the server asks for one): ${message} (${code})`;
  }
  return undefined;
}
