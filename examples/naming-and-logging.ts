// "Identifying threads - naming and logging": threads named explicitly or by default (Thread-N),
// and logging's %(threadName)s showing which thread wrote each line.
import { logging, sleep, Thread } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "[%(levelname)s] (%(threadName)-10s) %(message)s" });

function worker(): void {
  logging.debug("Starting");
  sleep(0.2);
  logging.debug("Exiting");
}

function service(): void {
  logging.debug("Starting");
  sleep(0.3);
  logging.debug("Exiting");
}

const t = new Thread({ name: "my_service", target: service });
const w = new Thread({ name: "worker", target: worker });
const w2 = new Thread({ target: worker }); // default name: "Thread-N (worker)"

w.start();
w2.start();
t.start();
