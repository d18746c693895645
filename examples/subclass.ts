// "Subclassing & overriding run() and __init__()": a Thread subclass with its own constructor.
// Its fields are copied into the thread, and copied back after it ends (see `result`).
import { currentThread, logging, mainThread, Thread } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-9s) %(message)s" });

export class MyThread extends Thread {
  kwargs: Record<string, number>;
  myArgs: unknown[];
  result = "";

  constructor(options: { args?: unknown[]; kwargs?: Record<string, number>; name?: string } = {}) {
    super({ name: options.name });
    this.myArgs = options.args ?? [];
    this.kwargs = options.kwargs ?? {};
  }

  override run(): void {
    logging.debug("running with %s and %s", this.myArgs, this.kwargs);
    this.result = `done by ${currentThread().name}`;
  }
}

if (currentThread() === mainThread()) {
  const threads: MyThread[] = [];
  for (let i = 0; i < 3; i++) {
    const t = new MyThread({ args: [i], kwargs: { a: 1, b: 2 } });
    t.start();
    threads.push(t);
  }
  for (const t of threads) {
    t.join();
    logging.debug("%s: %s", t.name, t.result);
  }
}
