// "Creating a thread and passing arguments to the thread" (seed 000).
// Python:  t = threading.Thread(target=f); t.start()   and   threading.Thread(target=f, args=(i,))
import { currentThread, mainThread, Thread } from "threading";

function f(): void {
  console.log("thread function");
}

function g(id: number): void {
  console.log(`thread function ${id}`);
}

// Like Python's `if __name__ == "__main__":` — this file's top level runs only in the main thread.
if (currentThread() === mainThread()) {
  const first: Thread[] = [];
  for (let i = 0; i < 3; i++) {
    const t = new Thread({ target: f });
    t.start();
    first.push(t);
  }
  for (const t of first) t.join();

  for (let i = 0; i < 3; i++) {
    const t = new Thread({ target: g, args: [i] });
    t.start();
    t.join(); // one after another, so the output reads 0, 1, 2 as in the tutorial
  }
}
