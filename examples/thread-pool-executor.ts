// "Semaphore objects & thread pool", done with the executor: four jobs want to run, a
// ThreadPoolExecutor with two threads runs two at a time (the pool is the limit, so no Semaphore is
// needed), and a Lock guards the shared list of active job names, which every job logs.
// Jobs run as function targets (sent as source): they get what they need in their arguments.
import { type Lock, Lock as LockClass, logging, sleep, ThreadPoolExecutor } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-22s) %(message)s" });

const SIZE = 4;

// [count, n1, n2, ...]: the numbers of the active jobs, in arrival order
const active = new Int32Array(new SharedArrayBuffer(4 * (SIZE + 1)));
const lock = new LockClass();

function job(lock: Lock, active: Int32Array, n: number): string {
  const names = () => Array.from(active.subarray(1, 1 + (active[0] as number)), (m) => `job_${m}`);
  {
    using _ = lock.hold();
    active[1 + (active[0] as number)] = n;
    active[0] = (active[0] as number) + 1;
    logging.debug("Running: %s", names());
  }
  sleep(0.5);
  {
    using _ = lock.hold();
    const rest = Array.from(active.subarray(1, 1 + (active[0] as number))).filter((m) => m !== n);
    active.set(rest, 1);
    active[0] = rest.length;
    logging.debug("Running: %s", names());
  }
  return `job_${n} done`;
}

{
  using pool = new ThreadPoolExecutor({ maxWorkers: 2, threadNamePrefix: "pool" });
  const futures = Array.from({ length: SIZE }, (_, n) => pool.submit(job, lock, active, n));
  for (const f of futures) logging.debug("%s", f.result());
}
logging.debug("all jobs done, pool shut down");
