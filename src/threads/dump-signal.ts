/**
 * SIGUSR2 prints the hang report (dump.ts) to stderr — and, when the environment variable
 * THREADING_HANG_REPORT_DIR names a directory, also to `<dir>/<pid>.txt` (the test runner's
 * watchdog collects them there).
 *
 * Who hears the signal: Node runs signal listeners on the event loop of the main thread only
 * (`process.on("SIGUSR2")` does nothing in a Worker), and the main thread of a hung program is
 * typically blocked in Atomics.wait, so its loop never turns. So the hub worker, whose loop only
 * serves, listens too, through libuv's signal handle (`process.binding("signal_wrap")`, which Node
 * still exposes in workers: libuv delivers a process signal to every loop that has a handle for it).
 * While the hub listens (G[DUMP_WATCHER] = 1) and has not died, the main thread's listener stays
 * silent, so one signal gives one report.
 *
 * Node 24 removed `signal_wrap` from process.binding(), and a Worker cannot listen for signals any
 * other way: there a blocked main thread cannot answer SIGUSR2. For that case (and any runtime
 * without the binding) the hub also answers a request file: with THREADING_HANG_REPORT_DIR set, it
 * watches that directory, and creating `<dir>/<pid>.request` prints the report (the test runner
 * and the soak do both: signal and file). G[DUMP_WATCHER] stays 0 then, so main still answers
 * SIGUSR2 whenever its loop turns. Before the first thread starts there is no hub: then the main thread
 * answers, once its event loop turns (a single-threaded program blocked forever cannot answer).
 * Neither listener keeps the process alive.
 */
import { existsSync, mkdirSync, unlinkSync, watch, writeFileSync, writeSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { DUMP_WATCHER, G, HUB_DEAD, HUB_READY, isRoot } from "../shared/runtime.js";
import { dumpThreads } from "./dump.js";

/** Writes the hang report to stderr (and to THREADING_HANG_REPORT_DIR/<pid>.txt when set). */
export function printHangReport(): void {
  let report: string;
  try {
    report = dumpThreads();
  } catch (e) {
    report = `threading: the hang report failed: ${(e as Error)?.stack ?? e}\n`;
  }
  const dir = process.env.THREADING_HANG_REPORT_DIR;
  if (dir) {
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${process.pid}.txt`), report, { flag: "a" });
    } catch {}
  }
  try {
    writeSync(2, report);
  } catch {}
}

/** In the main thread: answer SIGUSR2 unless a live hub does. */
export function listenInMain(): void {
  process.on("SIGUSR2", () => {
    if (Atomics.load(G, DUMP_WATCHER) === 0 || Atomics.load(G, HUB_READY) === HUB_DEAD) printHangReport();
  });
}

interface SignalHandle {
  onsignal: (signum: number) => void;
  start(signum: number): number;
  unref(): void;
}

/** In the hub: answer SIGUSR2 (or, where Node cannot, a request file) from its own event loop. */
export function listenInHub(): void {
  if (!listenForSignal()) watchRequestFile();
}

/**
 * `<THREADING_HANG_REPORT_DIR>/<pid>.request` appearing (or changing) prints the report. The file
 * is removed once answered, so each request gives one report.
 */
function watchRequestFile(): void {
  const dir = process.env.THREADING_HANG_REPORT_DIR;
  if (!dir) return;
  const name = `${process.pid}.request`;
  const answer = (): void => {
    if (!existsSync(join(dir, name))) return;
    try {
      unlinkSync(join(dir, name));
    } catch {
      return; // answered already
    }
    printHangReport();
  };
  try {
    mkdirSync(dir, { recursive: true });
    const watcher = watch(dir, (_event, file) => {
      if (file === null || file === name) answer();
    });
    watcher.unref();
    watcher.on("error", () => {});
  } catch {
    // no watching on this system: dumpThreads() remains
  }
}

/** Answers SIGUSR2 through libuv's signal handle; false when this Node does not expose it (24+). */
function listenForSignal(): boolean {
  // process.binding() is deprecated (DEP0111) and says so once; this use is deliberate, so quietly.
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    const binding = (process as unknown as { binding(name: string): { Signal: new () => SignalHandle } }).binding(
      "signal_wrap",
    );
    const handle = new binding.Signal();
    handle.onsignal = () => printHangReport();
    if (handle.start(constants.signals.SIGUSR2) !== 0) return false;
    handle.unref();
    Atomics.store(G, DUMP_WATCHER, 1);
    return true;
  } catch {
    return false;
  } finally {
    process.emitWarning = emitWarning;
  }
}

if (isRoot) listenInMain();
