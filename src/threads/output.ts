/**
 * Output of threads goes straight to file descriptors 1 and 2.
 *
 * A Worker's process.stdout is normally a stream forwarded to the parent thread by messages, so it
 * appears only when the parent's event loop runs: never while the main thread blocks in join(),
 * and out of order with the main thread's own output. Every thread's stdout/stderr writes (and so
 * console.*) are made synchronous writes to the process's own descriptors instead.
 */
import { fs, nodeConsole } from "../shared/builtins.js";

const { writeSync } = fs;
const { Console } = nodeConsole;

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `data` to `fd`, waiting out EAGAIN (the descriptor may be non-blocking). */
export function writeAll(fd: number, data: string | Uint8Array): void {
  let buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;

function directWrite(fd: number): Write {
  return (chunk, encoding, callback) => {
    const cb = typeof encoding === "function" ? encoding : callback;
    try {
      if (typeof chunk === "string") {
        writeAll(
          fd,
          typeof encoding === "string" && encoding !== "utf8" ? Buffer.from(chunk, encoding as BufferEncoding) : chunk,
        );
      } else writeAll(fd, chunk as Uint8Array);
    } catch (e) {
      if (typeof cb === "function") cb(e);
      return false;
    }
    if (typeof cb === "function") cb(null);
    return true;
  };
}

/** Makes this (worker) thread's stdout, stderr and console write synchronously to fds 1 and 2. */
export function installDirectOutput(): void {
  (process.stdout as unknown as { write: Write }).write = directWrite(1);
  (process.stderr as unknown as { write: Write }).write = directWrite(2);
  globalThis.console = new Console({ stdout: process.stdout, stderr: process.stderr });
}
