// "threading.excepthook": an exception that ends a thread goes to the hook in force. setExcepthook(fn)
// makes fn the hook for every thread (it runs in the thread that set it: here main); null restores
// the default, which prints "Exception in thread NAME:" and the stack.
import { setExcepthook, Thread } from "threading";

const reports: string[] = [];
setExcepthook(({ excType, excValue, thread }) => {
  reports.push(`${thread?.name} died of ${excType}: ${(excValue as Error).message}`);
});

const t = new Thread({
  name: "worker",
  target: () => {
    throw new RangeError("index out of range");
  },
});
t.start();
t.join(); // the hook has run when join() returns (here, where it was set), as in Python; also on Bun and Deno
if (reports.length !== 1) throw new Error(`the hook ran ${reports.length} times before join() returned`);
console.log(reports[0]);
setExcepthook(null);
