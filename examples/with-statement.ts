// "Using locks in the with statement - context manager": Python's `with lock:` is
// `using _ = lock.hold();` in TypeScript; the lock is released when the block ends, however it ends.
import { Lock, logging, Thread } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-9s) %(message)s" });

function workerWith(lock: Lock): void {
  using _ = lock.hold();
  logging.debug("Lock acquired via with");
}

function workerNotWith(lock: Lock): void {
  lock.acquire();
  try {
    logging.debug("Lock acquired directly");
  } finally {
    lock.release();
  }
}

const lock = new Lock();
const w = new Thread({ target: workerWith, args: [lock] });
const nw = new Thread({ target: workerNotWith, args: [lock] });
w.start();
nw.start();
w.join();
nw.join();
