// Real parts for the distributed tests and benchmark: a redis-server on a free local port
// (127.0.0.1 only, its files in a temporary directory) and `threading worker` processes.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
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
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${text}`));
    });
  });
}

export interface Redis {
  url: string;
  port: number;
  /** Stops it (SIGTERM: it writes its append-only file) and starts it again on the same port and data. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server with an append-only file (so a restart keeps the queue), on a free port. */
export async function startRedis(): Promise<Redis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "threading-redis-"));
  let proc: ChildProcess;
  const launch = async () => {
    proc = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--save", ""],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
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
    url: `redis://127.0.0.1:${port}`,
    port,
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

export interface Worker {
  proc: ChildProcess;
  /** Everything it printed so far. */
  log(): string;
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
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  await waitForLine(proc, /worker on queue/, `threading worker (${args.join(" ")})`);
  return { proc, log: () => text, exited };
}

/** Stops workers (SIGKILL) and redis. */
export async function teardown(redis: Redis | undefined, workers: Worker[]): Promise<void> {
  for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.exited));
  await redis?.stop();
}
