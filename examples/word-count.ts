// A parallel word count into a SharedDict: four threads each count the words of their share of the
// lines, all into one dict; `update(word, fn)` is atomic per key, so no count is lost, and threads
// counting different words do not wait for each other.
import assert from "node:assert/strict";
import { SharedDict, Thread } from "threading";

const text = `It was the best of times, it was the worst of times, it was the age of wisdom,
it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity,
it was the season of Light, it was the season of Darkness, it was the spring of hope,
it was the winter of despair, we had everything before us, we had nothing before us`;
const lines = Array.from({ length: 400 }, (_, i) => text.split("\n")[i % 4] as string);

function countWords(counts: SharedDict<string, number>, lines: string[]): void {
  for (const line of lines) {
    for (const word of line.toLowerCase().match(/[a-z]+/g) ?? []) counts.update(word, (n) => (n ?? 0) + 1);
  }
}

const counts = new SharedDict<string, number>();
const THREADS = 4;
const threads = Array.from(
  { length: THREADS },
  (_, k) => new Thread({ target: countWords, args: [counts, lines.filter((_, i) => i % THREADS === k)] }),
);
for (const t of threads) t.start();
for (const t of threads) t.join();

const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5);
console.log(`${counts.size} distinct words; the most frequent:`);
for (const [word, n] of top) console.log(`  ${word.padEnd(8)} ${n}`);

// the same count in one thread, with a Map
const expected = new Map<string, number>();
for (const line of lines)
  for (const word of line.toLowerCase().match(/[a-z]+/g) ?? []) expected.set(word, (expected.get(word) ?? 0) + 1);
assert.deepEqual(new Map(counts), expected);
console.log("matches a single-threaded count exactly");
