// "Lock objects - acquire() & release()": two workers increment a shared counter under a Lock.
// Threads share no heap: the counter's value lives in shared memory (an Int32Array over a
// SharedArrayBuffer), and the Lock is the same lock in every thread.
import { currentThread, enumerate, Lock, logging, sleep, Thread } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-10s) %(message)s" });

class Counter {
  lock = new Lock();
  cell = new Int32Array(new SharedArrayBuffer(4));
  get value(): number {
    return this.cell[0] as number;
  }
}

// A Counter arrives in the thread as a plain object (its fields, without methods), so the
// increment is written here with the lock and the shared cell.
function worker(c: { lock: Lock; cell: Int32Array }): void {
  for (let i = 0; i < 2; i++) {
    const r = Math.random() / 2;
    logging.debug("Sleeping %0.02f", r);
    sleep(r);
    logging.debug("Waiting for a lock");
    c.lock.acquire();
    try {
      logging.debug("Acquired a lock");
      c.cell[0] = (c.cell[0] as number) + 1;
    } finally {
      logging.debug("Released a lock");
      c.lock.release();
    }
  }
  logging.debug("Done");
}

const counter = new Counter();
for (let i = 0; i < 2; i++) new Thread({ target: worker, args: [counter] }).start();

logging.debug("Waiting for worker threads");
const main = currentThread();
for (const t of enumerate()) if (t !== main) t.join();
logging.debug("Counter: %d", counter.value);
