// The tutorial's Lock example ("Lock objects - acquire() & release()") with a shared Value: the
// counter is a number in shared memory with its own lock, as Python's multiprocessing.Value, so the
// Counter arrives in each thread as the same object instead of a hand-made Int32Array.
import assert from "node:assert/strict";
import { currentThread, enumerate, logging, sleep, Thread, Value } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-10s) %(message)s" });

function worker(counter: Value): void {
  for (let i = 0; i < 2; i++) {
    const r = Math.random() / 2;
    logging.debug("Sleeping %0.02f", r);
    sleep(r);
    logging.debug("Waiting for a lock");
    using _ = counter.getLock().hold(); // Python's `with counter.get_lock():`
    logging.debug("Acquired a lock");
    counter.value += 1;
  }
  logging.debug("Done");
}

const counter = new Value("i", 0);
for (let i = 0; i < 2; i++) new Thread({ target: worker, args: [counter] }).start();

logging.debug("Waiting for worker threads");
const main = currentThread();
for (const t of enumerate()) if (t !== main) t.join();
logging.debug("Counter: %d", counter.value);
assert.equal(counter.value, 4);
