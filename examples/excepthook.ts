// "threading.excepthook": an exception that ends a thread goes to the hook in force. setExcepthook(fn)
// makes fn the hook for every thread (it runs in the thread that set it: here main); null restores
// the default, which prints "Exception in thread NAME:" and the stack.
import { setExcepthook, Thread } from "threading";

let arrived!: (line: string) => void;
const reported = new Promise<string>((resolve) => {
  arrived = resolve;
});
setExcepthook(({ excType, excValue, thread }) => {
  arrived(`${thread?.name} died of ${excType}: ${(excValue as Error).message}`);
});

const t = new Thread({
  name: "worker",
  target: () => {
    throw new RangeError("index out of range");
  },
});
t.start();
t.join(); // on Node the hook has run when join() returns; on Bun and Deno it runs from the event loop
console.log(await reported);
setExcepthook(null);
