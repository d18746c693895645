// RedisExecutor and `threading worker` on a Redis that checks who connects: a Redis ACL user with a
// password (redis://user:password@host:port), and TLS (rediss://) with a throwaway CA, a server
// certificate and a client certificate (the server asks for one, as redis-server does by default).
// Wrong or missing credentials and certificates that do not verify fail at once with an error
// saying so: the executor is broken before its connectTimeout, the worker exits 1. Skipped (saying
// why) without redis-server; the TLS part also without openssl or a redis-server built with TLS.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { RedisExecutor as RedisExecutorType } from "threading/distributed";
import {
  bin,
  type Certs,
  fixtures,
  makeCerts,
  missingRedis,
  type Redis,
  startRedis,
  startWorker,
  teardown,
  type Worker,
} from "./cluster.js";

const skip = missingRedis();
const { RedisExecutor } = (skip ? {} : await import("threading/distributed")) as {
  RedisExecutor: typeof RedisExecutorType;
};
const { BrokenExecutor } = await import("threading");
if (skip) console.log(`# distributed security tests skipped: ${skip}`);
const certs = skip ? skip : makeCerts();
const skipTls = typeof certs === "string" ? certs : undefined;
if (skipTls && !skip) console.log(`# distributed TLS tests skipped: ${skipTls}`);
const T = { timeout: 60_000 };
const work = (name: string) => ({ module: "./tasks/work.mjs", export: name });
const workerArgs = ["--threads", "1", "--allow", "./tasks/"];
// An ACL user that may use BullMQ's keys (prefix "bull") only; the default user is off.
const aclArgs = ["--user", "default", "off", "--user", "app", "on", ">s3cret", "~bull:*", "+@all"];
const withCredentials = (url: string, credentials: string) => url.replace("://", `://${credentials}@`);

/** Runs a few tasks through `ex` and checks their results. */
async function runs(ex: RedisExecutorType): Promise<void> {
  const results = await Promise.all([1, 2, 3, 4].map((i) => ex.submit<number>(work("double"), i).resultAsync(30)));
  assert.deepEqual(results, [2, 4, 6, 8]);
}

/**
 * The executor's first future fails with BrokenExecutor matching `message`, well before its
 * connectTimeout (30 s by default): a refusal is not waited out.
 */
async function refusedExecutor(ex: RedisExecutorType, message: RegExp): Promise<void> {
  const t0 = Date.now();
  await assert.rejects(ex.submit(work("double"), 1).resultAsync(60), (e: Error) => {
    assert.ok(e instanceof BrokenExecutor, String(e));
    assert.match(e.message, message);
    return true;
  });
  assert.ok(Date.now() - t0 < 20_000, `refused within 20 s, not after connectTimeout (${Date.now() - t0} ms)`);
  assert.throws(() => ex.submit(work("double"), 2), BrokenExecutor);
  await ex.shutdownAsync();
}

/** A worker refused by Redis exits 1 with `message` in its log (never waits for ever). */
async function refusedWorker(url: string, args: string[], message: RegExp): Promise<void> {
  await assert.rejects(startWorker(url, "q", args), (e: Error) => {
    assert.match(e.message, /exited \(1\) before it was ready/);
    assert.match(e.message, message);
    assert.doesNotMatch(e.message, /s3cret|wrong-pw/, "no password in the log");
    return true;
  });
}

describe("Redis ACL credentials", { skip, timeout: 120_000 }, () => {
  let redis: Redis;
  const workers: Worker[] = [];
  before(async () => {
    redis = await startRedis({ args: aclArgs });
  });
  after(() => teardown(redis, workers));

  test("an ACL user with a password in the URL: workers and the executor connect and run tasks", T, async () => {
    const url = withCredentials(redis.url, "app:s3cret");
    const w = await startWorker(url, "acl", workerArgs);
    workers.push(w);
    assert.match(w.log(), /connecting to redis:\/\/app:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(w.log(), /s3cret/);
    const ex = new RedisExecutor({ redis: url, queue: "acl" });
    await runs(ex);
    await ex.shutdownAsync();
    // The same credentials as ioredis options.
    const ex2 = new RedisExecutor({
      redis: { host: "127.0.0.1", port: redis.port, username: "app", password: "s3cret" },
      queue: "acl",
    });
    await runs(ex2);
    await ex2.shutdownAsync();
  });

  test("a wrong password: the executor is broken at once saying authentication failed", T, async () => {
    await refusedExecutor(
      new RedisExecutor({ redis: withCredentials(redis.url, "app:wrong-pw"), queue: "acl" }),
      /cannot connect to Redis at redis:\/\/app:\*\*\*@127\.0\.0\.1:\d+: authentication failed: .*WRONGPASS/,
    );
  });

  test("no credentials where Redis asks for them: the executor is broken at once saying so", T, async () => {
    await refusedExecutor(new RedisExecutor({ redis: redis.url, queue: "acl" }), /authentication failed: .*NOAUTH/);
  });

  test("a wrong password: the worker exits 1 saying authentication failed", T, async () => {
    await refusedWorker(
      withCredentials(redis.url, "app:wrong-pw"),
      workerArgs,
      /cannot start: cannot connect to Redis at redis:\/\/app:\*\*\*@.*authentication failed.*WRONGPASS/,
    );
  });
});

describe("TLS (rediss://) with a CA and a client certificate", { skip: skip ?? skipTls, timeout: 120_000 }, () => {
  const c = certs as Certs;
  let redis: Redis;
  const workers: Worker[] = [];
  let url: string;
  const tls = () => ({
    ca: readFileSync(c.ca, "utf8"),
    cert: readFileSync(c.clientCert, "utf8"),
    key: readFileSync(c.clientKey, "utf8"),
  });
  const tlsArgs = () => ["--tls-ca", c.ca, "--tls-cert", c.clientCert, "--tls-key", c.clientKey];
  before(async () => {
    redis = await startRedis({ tls: c, args: aclArgs });
    url = withCredentials(redis.url, "app:s3cret");
  });
  after(async () => {
    await teardown(redis, workers);
    rmSync(c.dir, { recursive: true, force: true });
  });

  test("a worker (--tls-ca/--tls-cert/--tls-key) and the executor (tls options) run tasks over TLS", T, async () => {
    assert.match(url, /^rediss:\/\//);
    workers.push(await startWorker(url, "tls", [...workerArgs, ...tlsArgs()]));
    const ex = new RedisExecutor({ redis: { url, tls: tls() }, queue: "tls" });
    await runs(ex);
    await ex.shutdownAsync();
    // CA bytes as a Buffer work too (they reach the executor's Redis thread as a Uint8Array).
    const ex2 = new RedisExecutor({ redis: { url, tls: { ...tls(), ca: readFileSync(c.ca) } }, queue: "tls" });
    await runs(ex2);
    await ex2.shutdownAsync();
  });

  test("the server's certificate does not verify (no CA given): refused at once, saying why", T, async () => {
    const { ca: _, ...noCa } = tls();
    await refusedExecutor(
      new RedisExecutor({ redis: { url, tls: noCa }, queue: "tls" }),
      /cannot connect to Redis at rediss:\/\/app:\*\*\*@127\.0\.0\.1:\d+: TLS failed: a certificate did not verify/,
    );
    await refusedWorker(
      url,
      [...workerArgs, "--tls-cert", c.clientCert, "--tls-key", c.clientKey],
      /cannot start: .*TLS failed: a certificate did not verify/,
    );
  });

  test("no client certificate where the server asks for one: broken after connectTimeout, not a hang", T, async () => {
    // The server drops the connection (ECONNRESET, no certificate error to tell a refusal from a
    // network fault), so this one is waited out as an unreachable Redis is.
    const { ca } = tls();
    const ex = new RedisExecutor({ redis: { url, tls: { ca } }, queue: "tls", connectTimeout: 3 });
    await assert.rejects(ex.submit(work("double"), 1).resultAsync(60), (e: Error) => {
      assert.ok(e instanceof BrokenExecutor, String(e));
      assert.match(
        e.message,
        /cannot (reach Redis at rediss:\/\/app:\*\*\*@\S+ for 3 s \(connectTimeout\)|connect to Redis at rediss:\/\/app:\*\*\*@\S+: TLS failed)/,
      );
      return true;
    });
    await ex.shutdownAsync();
  });

  test("threading worker: --tls-* need a rediss:// URL and readable files (usage, exit 2)", T, () => {
    for (const args of [
      ["--redis", "redis://127.0.0.1:1", "--tls-ca", c.ca],
      ["--redis", url, "--tls-ca", `${c.dir}/missing.crt`],
      ["--redis", url, "--tls-cert", c.clientCert],
    ]) {
      const r = spawnSync(process.execPath, [bin, "worker", ...args, "--allow", "./tasks/"], {
        encoding: "utf8",
        cwd: fixtures,
      });
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /threading: --tls-(ca|cert).*\n.*usage: threading worker/s);
    }
  });
});
