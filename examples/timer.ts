// "Timer objects": two timers; the second is cancelled before it fires.
import { logging, sleep, Timer } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-10s) %(message)s" });

function f(): void {
  logging.debug("thread function running");
}

const t1 = new Timer(1, f);
t1.setName("t1");
const t2 = new Timer(1, f);
t2.setName("t2");

logging.debug("starting timers...");
t1.start();
t2.start();

logging.debug("waiting before canceling %s", t2.getName());
sleep(0.5);
logging.debug("canceling %s", t2.getName());
t2.cancel();
logging.debug("done");
