// "Active threads & enumerate()": join every thread but the main one, found with enumerate().
import { currentThread, enumerate, logging, sleep, Thread } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-10s) %(message)s" });

function f(seconds: number): void {
  logging.debug("sleeping %s", seconds);
  sleep(seconds);
  logging.debug("ending");
}

for (let i = 0; i < 3; i++) {
  const t = new Thread({ target: f, args: [(1 + Math.floor(Math.random() * 5)) / 10] });
  t.setDaemon(true);
  t.start();
}

const main = currentThread();
for (const t of enumerate()) {
  if (t === main) continue;
  logging.debug("joining %s", t.getName());
  t.join();
}
