// basicConfig and levels are process-wide state: each case runs in a child process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { nodeOnly } from "../child.js";
import { fileURLToPath } from "node:url";

const T = { timeout: 60_000 };
/** Kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse: Node only. */
const OOM = {
  ...T,
  ...nodeOnly("kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse"),
};
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Runs an ES module (which may `import ... from "threading"`) in a fresh process. The module is a
 * file under the repository's .tmp/ so that the package resolves to itself (dist).
 */
function run(code: string): { stdout: string; stderr: string; status: number | null } {
  mkdirSync(join(root, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(root, ".tmp", "logging-"));
  const file = join(dir, "main.mjs");
  writeFileSync(file, code);
  try {
    const r = spawnSync(process.execPath, [file], { cwd: root, encoding: "utf8", timeout: 50_000 });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("configuration", () => {
  test("without basicConfig: WARNING and above, '%(levelname)s:%(name)s:%(message)s', on stderr", T, () => {
    const r = run(`
      import { logging } from "threading";
      logging.debug("d"); logging.info("i");
      logging.warning("w %d", 1); logging.error("e"); logging.critical("c");
      logging.getLogger("app").warning("named"); logging.getLogger("app").info("not shown");
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "WARNING:root:w 1\nERROR:root:e\nCRITICAL:root:c\nWARNING:app:named\n");
  });

  test("basicConfig sets level and format; later calls do nothing unless force", T, () => {
    const r = run(`
      import { logging } from "threading";
      logging.basicConfig({ level: logging.DEBUG, format: "[%(levelname)s] %(message)s" });
      logging.debug("one %s", "a");
      logging.basicConfig({ level: logging.ERROR, format: "IGNORED %(message)s" });
      logging.debug("two");
      logging.basicConfig({ level: "WARNING", format: "%(name)s|%(message)s", force: true });
      logging.info("hidden"); logging.warning("three");
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "[DEBUG] one a\n[DEBUG] two\nroot|three\n");
  });

  test("basicConfig with only a level keeps the default format; an empty format is %(message)s", T, () => {
    const r = run(`
      import { logging } from "threading";
      logging.basicConfig({ level: "INFO" });
      logging.info("x"); logging.debug("no");
      logging.basicConfig({ format: "", force: true });
      logging.info("the level stays INFO"); logging.debug("no");
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "INFO:root:x\nthe level stays INFO\n");
  });

  test(
    "a module-level call before basicConfig configures the defaults: a later basicConfig does nothing, as Python's",
    T,
    () => {
      // Python: logging.warning() calls basicConfig() while the root has no handlers, at any level.
      const r = run(`
      import { logging } from "threading";
      logging.warning("early");
      logging.basicConfig({ level: logging.DEBUG, format: "%(message)s!" });
      logging.debug("not shown: the level stays WARNING");
      logging.error("late");
      console.log(logging.isConfigured(), logging.root.level);
    `);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, "WARNING:root:early\nERROR:root:late\n");
      assert.equal(r.stdout, "true 30\n");
    },
  );

  test(
    "every module-level call configures, also below the level; force replaces it; a named logger's call does not",
    T,
    () => {
      for (const call of [
        'logging.debug("x")',
        'logging.info("x")',
        'logging.log(5, "x")',
        'logging.exception("x")',
        'logging.critical("x")',
        'logging.fatal("x")',
        'logging.warn("x")',
        'logging.error("x")',
      ]) {
        const r = run(`
        import { logging } from "threading";
        ${call};
        const before = logging.isConfigured();
        logging.basicConfig({ format: "ignored %(message)s" });
        logging.warning("w");
        logging.basicConfig({ level: logging.DEBUG, format: "forced %(message)s", force: true });
        logging.debug("d");
        console.log(before);
      `);
        assert.equal(r.status, 0, `${call}: ${r.stderr}`);
        assert.equal(r.stdout, "true\n", call);
        assert.match(r.stderr, /WARNING:root:w\nforced d\n$/, call);
      }
      const named = run(`
      import { logging } from "threading";
      logging.getLogger("app").warning("named");
      const before = logging.isConfigured();
      logging.basicConfig({ level: logging.DEBUG, format: "%(message)s!" });
      logging.debug("applies");
      console.log(before);
    `);
      assert.equal(named.status, 0, named.stderr);
      assert.equal(named.stdout, "false\n");
      assert.equal(named.stderr, "WARNING:app:named\napplies!\n");
      // Not configured, records below WARNING are dropped whatever the logger's level, as by
      // Python's last-resort handler (checked with python3 3.11); basicConfig() lifts it.
      const below = run(`
      import { logging } from "threading";
      const app = logging.getLogger("app");
      app.setLevel(logging.DEBUG);
      app.debug("dropped");
      app.info("dropped");
      logging.getLogger().setLevel(logging.DEBUG);
      logging.getLogger().debug("dropped");
      app.error("shown");
      logging.basicConfig({ format: "%(message)s" });
      app.debug("applies");
    `);
      assert.equal(below.status, 0, below.stderr);
      assert.equal(below.stderr, "ERROR:app:shown\napplies\n");
    },
  );

  test("a module-level call in a thread configures for the process, as in Python", T, () => {
    const r = run(`
      import { logging, Thread } from "threading";
      const t = new Thread({ target: () => logging.info("below the level, still configures") });
      t.start(); t.join();
      logging.basicConfig({ level: logging.DEBUG, format: "%(message)s!" });
      logging.debug("not shown");
      logging.warning("w");
      console.log(logging.isConfigured());
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "true\n");
    assert.equal(r.stderr, "WARNING:root:w\n");
  });

  test("stream: process.stdout", T, () => {
    const r = run(`
      import { logging } from "threading";
      logging.basicConfig({ stream: process.stdout, format: "%(message)s" });
      logging.warning("to stdout");
    `);
    assert.equal(r.stdout, "to stdout\n");
    assert.equal(r.stderr, "");
  });
});

describe("across threads", () => {
  test("a configuration made in main applies in a thread already running", T, () => {
    const r = run(`
      import { logging, Thread, Event } from "threading";
      const ready = new Event(), go = new Event();
      const t = new Thread({
        name: "worker",
        args: [ready, go],
        target: (ready, go) => {
          // A named logger's call (a module-level one would configure logging, as in Python).
          logging.getLogger("w.early").debug("before config: not shown");
          ready.set(); go.wait();
          logging.debug("running with %s and %s", [1, 2], { k: "v" });
          logging.getLogger("w.sub").info("named");
        },
      });
      t.start();
      ready.wait();
      logging.basicConfig({ level: logging.DEBUG, format: "(%(threadName)-9s) %(thread)d %(name)s %(message)s" });
      logging.debug("Starting");
      go.set(); t.join();
      console.log(t.ident);
    `);
    assert.equal(r.status, 0, r.stderr);
    const ident = Number(r.stdout.trim());
    assert.ok(ident > 1, r.stdout);
    assert.equal(
      r.stderr,
      "(MainThread) 1 root Starting\n" +
        `(worker   ) ${ident} root running with [ 1, 2 ] and { k: 'v' }\n` +
        `(worker   ) ${ident} w.sub named\n`,
    );
  });

  test("a configuration or root level set in a thread applies in main and in other threads", T, () => {
    const r = run(`
      import { logging, Thread, Event } from "threading";
      const t = new Thread({ name: "configurer", target: () => {
        logging.basicConfig({ level: logging.INFO, format: "%(threadName)s:%(levelname)s:%(message)s" });
        logging.info("configured");
      }});
      t.start(); t.join();
      logging.info("main sees it"); logging.debug("not shown");
      const t2 = new Thread({ name: "lowerer", target: () => { logging.getLogger().setLevel(logging.DEBUG); } });
      t2.start(); t2.join();
      logging.debug("main debug");
      console.log(logging.root.level, logging.isConfigured());
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "10 true\n");
    assert.equal(r.stderr, "configurer:INFO:configured\nMainThread:INFO:main sees it\nMainThread:DEBUG:main debug\n");
  });

  test("a thread killed while it writes the configuration leaves logging usable in every thread", OOM, () => {
    // The thread dies (over its heap limit) inside basicConfig's critical section, found by a test
    // hook: the sequence word stays odd. Logging and basicConfig elsewhere take over, not spin.
    const r = run(`
      import { logging, Thread } from "threading";
      const internal = ${JSON.stringify(join(root, "dist", "internal.js"))};
      const t = new Thread({
        resourceLimits: { maxOldGenerationSizeMb: 64 },
        target: async (internal) => {
          const { configTestHooks } = await import(internal);
          const { logging } = await import("threading");
          configTestHooks.inWrite = () => {
            const keep = [];
            for (;;) keep.push(new Array(1e5).fill(1.5));
          };
          logging.basicConfig({ level: logging.DEBUG, format: "never %(message)s" });
        },
        args: [internal],
      });
      t.start();
      t.join();
      logging.warning("main logs after the writer died");
      logging.basicConfig({ level: logging.INFO, format: "[%(levelname)s] %(message)s", force: true });
      logging.info("and configures");
      const u = new Thread({ target: () => logging.info("a thread logs too") });
      u.start();
      u.join();
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /main logs after the writer died\n\[INFO\] and configures\n\[INFO\] a thread logs too\n$/);
  });

  test("relativeCreated is process-wide; per-logger levels are per thread", T, () => {
    const r = run(`
      import { logging, Thread } from "threading";
      logging.basicConfig({ level: logging.DEBUG, format: "%(threadName)s %(relativeCreated)d %(name)s %(message)s" });
      logging.getLogger("quiet").setLevel(logging.ERROR);
      logging.info("main");
      const t = new Thread({ name: "T", target: () => {
        logging.info("thread");
        logging.getLogger("quiet").info("shown: the level was set in main only");
      }});
      t.start(); t.join();
      logging.getLogger("quiet").info("hidden in main");
    `);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 3, r.stderr);
    const [m, th, q] = lines.map((l) => l.split(" ")) as [string[], string[], string[]];
    assert.equal(m[0], "MainThread");
    assert.equal(th[0], "T");
    assert.equal(q.slice(2).join(" "), "quiet shown: the level was set in main only");
    // ms since the process started, in the thread as in main (not since the thread started)
    assert.ok(Number(th[1]) >= Number(m[1]) && Number(m[1]) > 0, r.stderr);
  });

  test("records from many threads are whole lines", T, () => {
    const r = run(`
      import { logging, Thread } from "threading";
      logging.basicConfig({ level: logging.DEBUG, format: "<%(threadName)s|%(message)s>" });
      const threads = [];
      for (let i = 0; i < 4; i++) {
        threads.push(new Thread({ name: "t" + i, args: [i], target: (i) => {
          for (let n = 0; n < 300; n++) logging.info("%d-%d %s", i, n, "x".repeat(200));
        }}));
      }
      for (const t of threads) t.start();
      for (const t of threads) t.join();
    `);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1200);
    const seen = new Set<string>();
    for (const line of lines) {
      const m = /^<t(\d)\|(\d)-(\d+) x{200}>$/.exec(line);
      assert.ok(m, line.slice(0, 80));
      assert.equal(m[1], m[2]);
      seen.add(`${m[2]}-${m[3]}`);
    }
    assert.equal(seen.size, 1200);
  });

  test("concurrent basicConfig calls: exactly one wins, everywhere", T, () => {
    const r = run(`
      import { logging, Thread, Event } from "threading";
      const go = new Event();
      const threads = [];
      for (let i = 0; i < 4; i++) {
        threads.push(new Thread({ args: [go, i], target: (go, i) => {
          go.wait();
          logging.basicConfig({ level: logging.INFO, format: "F" + i + " %(message)s" });
          logging.info("from %d", i);
        }}));
      }
      for (const t of threads) t.start();
      go.set();
      for (const t of threads) t.join();
      logging.info("main");
    `);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 5, r.stderr);
    const prefixes = new Set(lines.map((l) => l.split(" ")[0]));
    assert.equal(prefixes.size, 1, r.stderr);
  });
});
