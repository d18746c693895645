// Producer and Consumer with Queue: several producer threads put work items into one shared Queue,
// several consumer threads take them, call taskDone() for each, and the main thread waits with
// join() until every item has been processed; then it shuts the queue down so the consumers' loops
// end cleanly (Python 3.13's Queue.shutdown()).
import { currentThread, logging, Queue, ShutDown, sleep, Thread } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-10s) %(message)s" });

function producer(q: Queue<[string, number]>, count: number): void {
  for (let i = 1; i <= count; i++) {
    const item: [string, number] = [currentThread().name, i * i];
    q.put(item); // blocks while the queue is full (maxsize)
    logging.debug("put %s", JSON.stringify(item));
    sleep(Math.random() * 0.01);
  }
}

function consumer(q: Queue<[string, number]>, results: Queue<number>): void {
  for (;;) {
    let item: [string, number];
    try {
      item = q.get(); // blocks while the queue is empty; ShutDown once shut down and drained
    } catch (e) {
      if (e instanceof ShutDown) break;
      throw e;
    }
    logging.debug("got %s from %s", item[1], item[0]);
    results.put(item[1]);
    sleep(Math.random() * 0.01);
    q.taskDone();
  }
  logging.debug("queue shut down, exiting");
}

const q = new Queue<[string, number]>(5);
const results = new Queue<number>();
const producers = [1, 2, 3].map((i) => new Thread({ name: `producer-${i}`, target: producer, args: [q, 5] }));
const consumers = [1, 2].map((i) => new Thread({ name: `consumer-${i}`, target: consumer, args: [q, results] }));
for (const t of [...producers, ...consumers]) t.start();

for (const t of producers) t.join();
q.join(); // every item put has been taskDone()'d
logging.debug("all work done; shutting the queue down");
q.shutdown();
for (const t of consumers) t.join();

let total = 0;
while (!results.empty()) total += results.get();
console.log(`sum of results: ${total} (expected ${3 * (1 + 4 + 9 + 16 + 25)})`);
