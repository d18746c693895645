// Compile-time checks of the public types (checked by test/types/types.test.ts with tsc; never run).
import { Thread } from "threading";

function add(a: number, b: number): number {
  return a + b;
}

new Thread({ target: add, args: [1, 2] });
// @ts-expect-error args must fit the target's parameters
new Thread({ target: add, args: ["1", 2] });
// @ts-expect-error too few args
new Thread({ target: add, args: [1] });
new Thread({ target: { module: "./work.js", export: "run" }, args: [1, "x"] });
const threads: Thread[] = [
  new Thread({ target: add, args: [1, 2] }),
  new Thread({ target: (s: string) => s, args: ["x"] }),
];
void threads;
