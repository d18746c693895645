// "Daemon thread & join() method" (seed 004), all three variants, with the tutorial's times divided
// by 5 (its 5 s sleep is 1 s here, its join(3.0) is join(0.6)) so that `npm run examples` stays fast:
//   1. no join: the program exits when the non-daemon thread is done; the daemon is killed
//      in its sleep, so its "Exiting" never appears;
//   2. d.join(); t.join(): the daemon's "Exiting" appears about 1 s later;
//   3. d.join(0.6): after 0.6 s the join times out and d.isAlive() is true.
// Each variant is its own process (the first one is about how a process ends), so this file runs
// itself once per variant: `npx tsx examples/daemon-and-join.ts 2` runs just one.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { logging, sleep, Thread } from "threading";

function n(): void {
  logging.debug("Starting");
  logging.debug("Exiting");
}

function d(): void {
  logging.debug("Starting");
  sleep(1);
  logging.debug("Exiting");
}

const variant = process.argv[2];
if (variant === undefined) {
  for (const v of ["1", "2", "3"]) {
    console.log(`--- variant ${v}`);
    const started = Date.now();
    const run = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), v], {
      stdio: "inherit",
    });
    console.log(`--- variant ${v} ended after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
} else {
  logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-9s) %(message)s" });
  const t = new Thread({ name: "non-daemon", target: n });
  const dt = new Thread({ name: "daemon", target: d });
  dt.setDaemon(true);
  dt.start();
  t.start();
  if (variant === "2") {
    dt.join();
    t.join();
  } else if (variant === "3") {
    dt.join(0.6);
    console.log("d.isAlive()", dt.isAlive());
    t.join();
  }
}
