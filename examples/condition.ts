// "Condition objects with producer and consumer": two consumers wait on a Condition until the
// producer makes the resource available and notifies them all.
import { Condition, logging, sleep, Thread } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-9s) %(message)s" });

function consumer(cv: Condition): void {
  logging.debug("Consumer thread started ...");
  using _ = cv.hold();
  logging.debug("Consumer waiting ...");
  cv.wait();
  logging.debug("Consumer consumed the resource");
}

function producer(cv: Condition): void {
  logging.debug("Producer thread started ...");
  using _ = cv.hold();
  logging.debug("Making resource available");
  logging.debug("Notifying to all consumers");
  cv.notifyAll();
}

const condition = new Condition();
const cs1 = new Thread({ name: "consumer1", target: consumer, args: [condition] });
const cs2 = new Thread({ name: "consumer2", target: consumer, args: [condition] });
const pd = new Thread({ name: "producer", target: producer, args: [condition] });

cs1.start();
sleep(0.2);
cs2.start();
sleep(0.2);
pd.start();
