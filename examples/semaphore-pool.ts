// "Semaphore objects & thread pool": four threads want to work, a Semaphore(2) lets two at a time,
// and a Lock guards the pool's list of active names, which every thread logs.
// Threads share no heap, so the list lives in shared memory (the numbers of the active threads),
// and the workers run as a module target so they can use the ActivePool class defined here.
import { currentThread, Lock, logging, mainThread, Semaphore, sleep, Thread } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-9s) %(message)s" });

const SIZE = 4;

export class ActivePool {
  constructor(
    readonly lock = new Lock(),
    // [count, n1, n2, ...]: the numbers N of the active threads "thread_N", in arrival order
    readonly active: Int32Array = new Int32Array(new SharedArrayBuffer(4 * (SIZE + 1))),
  ) {}

  /** Rebuilds the pool in a thread, where it arrived as its fields. */
  static from(fields: { lock: Lock; active: Int32Array }): ActivePool {
    return new ActivePool(fields.lock, fields.active);
  }

  names(): string[] {
    return Array.from(this.active.subarray(1, 1 + (this.active[0] as number)), (n) => `thread_${n}`);
  }

  makeActive(n: number): void {
    using _ = this.lock.hold();
    const count = this.active[0] as number;
    this.active[1 + count] = n;
    this.active[0] = count + 1;
    logging.debug("Running: %s", this.names());
  }

  makeInactive(n: number): void {
    using _ = this.lock.hold();
    const names = Array.from(this.active.subarray(1, 1 + (this.active[0] as number))).filter((m) => m !== n);
    this.active.set(names, 1);
    this.active[0] = names.length;
    logging.debug("Running: %s", this.names());
  }
}

export function f(s: Semaphore, fields: { lock: Lock; active: Int32Array }, n: number): void {
  const pool = ActivePool.from(fields);
  logging.debug("Waiting to join the pool");
  using _ = s.hold();
  pool.makeActive(n);
  sleep(0.5);
  pool.makeInactive(n);
}

if (currentThread() === mainThread()) {
  const pool = new ActivePool();
  const s = new Semaphore(2);
  for (let i = 0; i < SIZE; i++) {
    const t = new Thread({ target: { module: import.meta.url, export: "f" }, name: `thread_${i}`, args: [s, pool, i] });
    t.start();
  }
}
