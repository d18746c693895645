// Real parts for the distributed tests and benchmark: a redis-server on a free local port
// (127.0.0.1 only, its files in a temporary directory) and `threading worker` processes.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../", import.meta.url));
export const bin = join(root, "bin/threading.js");
/** The workers' working directory: module targets `./tasks/...` resolve here. */
export const fixtures = join(root, "test/fixtures/distributed");

/** Why the distributed tests cannot run here (no redis-server, or no bullmq/ioredis installed), or undefined. */
export function missingRedis(): string | undefined {
  for (const name of ["bullmq", "ioredis"]) {
    try {
      createRequire(import.meta.url).resolve(name);
    } catch {
      return `the optional peer dependency ${name} is not installed (npm install, or npm ci)`;
    }
  }
  const r = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    return "redis-server is not installed (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)";
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function waitForLine(proc: ChildProcess, pattern: RegExp, what: string, ms = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms} ms:\n${text}`)), ms);
    const on = (chunk: Buffer) => {
      text += chunk.toString();
      if (pattern.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout?.on("data", on);
    proc.stderr?.on("data", on);
    // "close", not "exit": a process's last output can still be unread when "exit" comes (Node's
    // child_process docs), and a refused worker's last line says why.
    proc.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${text}`));
    });
  });
}

export interface Redis {
  /** `redis://127.0.0.1:PORT`, or `rediss://` when started with TLS. */
  url: string;
  port: number;
  /** The running redis-server's process id. */
  pid(): number | undefined;
  /** Stops it (SIGTERM: it writes its append-only file) and starts it again on the same port and data. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface RedisOptions {
  /** More configuration, as redis-server's command line takes it (e.g. `["--user", "app on >pw ~* &* +@all"]`). */
  args?: string[];
  /** TLS only (no plain port), with these files (see {@link makeCerts}); clients must show a certificate of the CA. */
  tls?: Certs;
}

let setpriv: boolean | undefined;

/**
 * Spawns `command` so that it ends with this process, also when this process is killed (a test file
 * the runner kills for a timeout would otherwise leave its redis-server running): through util-linux's
 * `setpriv --pdeathsig TERM`, which then execs it (same pid), where that exists (Linux); plainly elsewhere.
 */
function withParentDeath(command: string, args: string[]): ChildProcess {
  setpriv ??= spawnSync("setpriv", ["--version"]).status === 0;
  const stdio: ["ignore", "pipe", "pipe"] = ["ignore", "pipe", "pipe"];
  return setpriv
    ? spawn("setpriv", ["--pdeathsig", "TERM", command, ...args], { stdio })
    : spawn(command, args, { stdio });
}

/** A redis-server with an append-only file (so a restart keeps the queue), on a free port. */
export async function startRedis(options: RedisOptions = {}): Promise<Redis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "threading-redis-"));
  const { tls } = options;
  const listen = tls
    ? ["--port", "0", "--tls-port", String(port), "--tls-cert-file", tls.serverCert, "--tls-key-file", tls.serverKey]
    : ["--port", String(port)];
  if (tls) listen.push("--tls-ca-cert-file", tls.ca, "--tls-auth-clients", "yes");
  let proc: ChildProcess;
  const launch = async () => {
    const argv = [
      ...listen,
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--save",
      "",
      ...(options.args ?? []),
    ];
    proc = withParentDeath("redis-server", argv);
    await waitForLine(proc, /Ready to accept connections|ready to accept/i, "redis-server");
  };
  const halt = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });
  await launch();
  return {
    url: `${tls ? "rediss" : "redis"}://127.0.0.1:${port}`,
    port,
    pid: () => proc.pid,
    async restart(downMs = 300) {
      await halt();
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Files of a test CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
export interface Certs {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * Makes a throwaway CA and certificates with `openssl` in a new temporary directory, or returns
 * why it cannot (no openssl, or a redis-server built without TLS).
 */
export function makeCerts(): Certs | string {
  const version = spawnSync("openssl", ["version"], { encoding: "utf8" });
  if (version.error || version.status !== 0) return "openssl is not installed";
  // A redis-server built without TLS stops at the tls-port line; one with it, at the unknown directive after.
  const probe = spawnSync("redis-server", ["--tls-port", "0", "--port", "0", "--threading-probe", "yes"], {
    encoding: "utf8",
    timeout: 10_000,
  });
  if (/>>> 'tls-port/.test(`${probe.stdout}${probe.stderr}`)) return "this redis-server was built without TLS support";
  const dir = mkdtempSync(join(tmpdir(), "threading-certs-"));
  const f = (name: string) => join(dir, name);
  const run = (args: string[]) => {
    const r = spawnSync("openssl", args, { encoding: "utf8", cwd: dir });
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed:\n${r.stderr}`);
  };
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run([
    "req",
    "-x509",
    ...key,
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=threading test CA",
  ]);
  for (const [who, ext] of [
    ["server", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
    ["client", "extendedKeyUsage=clientAuth"],
  ] as const) {
    writeFileSync(f(`${who}.ext`), `${ext}\n`);
    run(["req", ...key, "-keyout", f(`${who}.key`), "-out", f(`${who}.csr`), "-subj", `/CN=threading test ${who}`]);
    run([
      "x509",
      "-req",
      "-in",
      f(`${who}.csr`),
      "-CA",
      f("ca.crt"),
      "-CAkey",
      f("ca.key"),
      "-CAcreateserial",
      "-out",
      f(`${who}.crt`),
      "-days",
      "2",
      "-extfile",
      f(`${who}.ext`),
    ]);
  }
  return {
    dir,
    ca: f("ca.crt"),
    serverCert: f("server.crt"),
    serverKey: f("server.key"),
    clientCert: f("client.crt"),
    clientKey: f("client.key"),
  };
}

export interface Worker {
  proc: ChildProcess;
  /** Everything it printed so far. */
  log(): string;
  /** Its exit code, once it has exited and all its output has been read (log() is then complete). */
  exited: Promise<number | null>;
}

/** A `threading worker` process on `queue`, started in the fixtures directory; resolves once it takes jobs. */
export async function startWorker(
  url: string,
  queue: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Worker> {
  const proc = spawn(process.execPath, [bin, "worker", "--redis", url, "--queue", queue, ...args], {
    cwd: fixtures,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  proc.stdout?.on("data", (c: Buffer) => {
    text += c.toString();
  });
  proc.stderr?.on("data", (c: Buffer) => {
    text += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once("close", (code) => resolve(code)));
  await waitForLine(proc, /worker on queue/, `threading worker (${args.join(" ")})`);
  return { proc, log: () => text, exited };
}

/** Stops workers (SIGKILL) and redis. */
export async function teardown(redis: Redis | undefined, workers: Worker[]): Promise<void> {
  for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.exited));
  await redis?.stop();
}
