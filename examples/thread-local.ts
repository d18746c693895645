// "Thread specific data - threading.local()": each thread sees its own attributes on the same
// local object; a new thread starts with none. The workers run as a module target so they can
// call show() from this module.
import { currentThread, local, logging, mainThread, Thread } from "threading";

logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-9s) %(message)s" });

type Data = local & { val?: number };

export function show(d: Data): void {
  if (!("val" in d)) logging.debug("No value yet");
  else logging.debug("value=%s", d.val);
}

export function f(d: Data): void {
  show(d);
  d.val = 1 + Math.floor(Math.random() * 100);
  show(d);
}

if (currentThread() === mainThread()) {
  const d: Data = new local();
  show(d);
  d.val = 999;
  show(d);
  for (let i = 0; i < 2; i++) {
    const t = new Thread({ target: { module: import.meta.url, export: "f" }, args: [d] });
    t.start();
    t.join();
  }
  show(d);
}
