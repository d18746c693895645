/**
 * What the library does as a thread's process-level life ends: Node's process "exit" event.
 *
 * Node emits "exit" on every way out of the main thread: the end of the program, process.exit(),
 * and an uncaught exception or unhandled rejection. Deno (2.x) does not after an uncaught error in
 * the main thread: it runs the "uncaughtExceptionMonitor" listeners and ends the process. There,
 * in the main thread, the same hooks also run from that monitor when no listener will handle the
 * error (no "uncaughtException" listener for a thrown error, no "unhandledRejection" listener for
 * a rejection), so the process still waits for its non-daemon threads and finishes its executors'
 * tasks (threads/lifetime.ts, futures/executor.ts). Each hook runs at most once.
 */
const isDeno = "Deno" in globalThis;
const hooks: { fn: () => void; ran: boolean }[] = [];
let monitoring = false;

/** Runs `fn` once as this thread's process-level life ends (see the file's comment). */
export function onProcessExit(fn: () => void, root: boolean): void {
  const hook = { fn, ran: false };
  hooks.push(hook);
  process.on("exit", () => run(hook));
  if (isDeno && root && !monitoring) {
    monitoring = true;
    process.on("uncaughtExceptionMonitor", (_error, origin) => {
      const handled = origin === "unhandledRejection" ? "unhandledRejection" : "uncaughtException";
      if (process.listenerCount(handled) > 0) return;
      for (const h of hooks) run(h);
    });
  }
}

function run(hook: { fn: () => void; ran: boolean }): void {
  if (hook.ran) return;
  hook.ran = true;
  hook.fn();
}
