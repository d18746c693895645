// Items for fifo.test.ts, imported by its threads too: kinds and sizes vary with the index.
export type Item =
  | number
  | string
  | { p: number; i: number; pad: string }
  | [number, number, Map<number, number>]
  | { p: number; i: number; big: string };

/** The item producer `p` puts `i`-th: its kind and size vary with i (all carry p and i). */
export function make(p: number, i: number): Item {
  switch (i % 6) {
    case 0:
      return p * 1e7 + i;
    case 1:
      return `${p}:${i}`;
    case 2:
      return { p, i, pad: "x".repeat((i * 7) % 50) };
    case 3:
      return `${p}:${i}:${"y".repeat((i * 13) % 3000)}`;
    case 4:
      return [p, i, new Map([[i, p]])];
    default:
      return i % 600 === 5 ? { p, i, big: "z".repeat(70_000) } : { p, i, pad: "" };
  }
}

export function parse(x: Item): [number, number] {
  if (typeof x === "number") return [Math.floor(x / 1e7), x % 1e7];
  if (typeof x === "string") {
    const [p, i] = x.split(":");
    return [Number(p), Number(i)];
  }
  if (Array.isArray(x)) return [x[0], x[1]];
  return [x.p, x.i];
}
