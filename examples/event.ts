// "Event objects - set() & wait()": one thread blocks until the event is set, another polls it
// with a timeout and does other things meanwhile.
import { Event, logging, sleep, Thread } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-12s) %(message)s" });

function waitForEvent(e: Event): void {
  logging.debug("wait_for_event starting");
  const isSet = e.wait();
  logging.debug("event set: %s", isSet);
}

function waitForEventTimeout(e: Event, t: number): void {
  while (!e.isSet()) {
    logging.debug("wait_for_event_timeout starting");
    const isSet = e.wait(t);
    logging.debug("event set: %s", isSet);
    if (isSet) logging.debug("processing event");
    else logging.debug("doing other things");
  }
}

const e = new Event();
const t1 = new Thread({ name: "blocking", target: waitForEvent, args: [e] });
t1.start();
const t2 = new Thread({ name: "non-blocking", target: waitForEventTimeout, args: [e, 0.4] });
t2.start();

logging.debug("Waiting before calling Event.set()");
sleep(1);
e.set();
logging.debug("Event is set");
