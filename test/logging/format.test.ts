// %-formatting of message arguments, record fields and levels, checked in this process by
// capturing process.stderr.write. Process-wide configuration is tested in config.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inspect } from "node:util";
import { logging } from "threading";

const T = { timeout: 30_000 };

/** Everything written to stderr (and the number of write calls) while `fn` runs. */
function capture(fn: () => void): { text: string; writes: number } {
  const original = process.stderr.write;
  let text = "";
  let writes = 0;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    writes++;
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = original;
  }
  return { text, writes };
}

/** The message logged at WARNING with the format "%(message)s" (without the newline). */
function fmt(msg: unknown, ...args: unknown[]): string {
  const { text } = capture(() => logging.warning(msg, ...args));
  assert.ok(text.endsWith("\n"), `no newline in ${JSON.stringify(text)}`);
  return text.slice(0, -1);
}

logging.basicConfig({ format: "%(message)s", level: logging.DEBUG });

// [format, args, Python's `format % tuple(args)`], generated with CPython 3.11.
const PYTHON_CASES: [string, unknown[], string][] = [
  ["%s", ["abc"], "abc"],
  ["%5s|", ["ab"], "   ab|"],
  ["%-5s|", ["ab"], "ab   |"],
  ["%.2s", ["abc"], "ab"],
  ["%5.1s|", ["abc"], "    a|"],
  ["%d", [42], "42"],
  ["%d", [3.7], "3"],
  ["%d", [-3.7], "-3"],
  ["%i", [7], "7"],
  ["%u", [7], "7"],
  ["%5d|", [42], "   42|"],
  ["%-5d|", [42], "42   |"],
  ["%05d", [42], "00042"],
  ["%05d", [-42], "-0042"],
  ["%+d", [5], "+5"],
  ["% d", [5], " 5"],
  ["%+d", [-5], "-5"],
  ["%.3d", [5], "005"],
  ["%ld", [3], "3"],
  ["%x", [255], "ff"],
  ["%X", [255], "FF"],
  ["%#x", [255], "0xff"],
  ["%#X", [255], "0XFF"],
  ["%o", [8], "10"],
  ["%#o", [8], "0o10"],
  ["%x", [-255], "-ff"],
  ["%08x", [48879], "0000beef"],
  ["%#010x", [255], "0x000000ff"],
  ["%f", [3.14159], "3.141590"],
  ["%.2f", [3.14159], "3.14"],
  ["%.0f", [0.5], "0"],
  ["%.0f", [1.5], "2"],
  ["%.0f", [2.5], "2"],
  ["%.2f", [1.005], "1.00"],
  ["%.1f", [0.25], "0.2"],
  ["%8.3f|", [3.14159], "   3.142|"],
  ["%-8.3f|", [3.14159], "3.142   |"],
  ["%08.3f", [-3.14159], "-003.142"],
  ["%+.1f", [2.0], "+2.0"],
  ["%#.0f", [3], "3."],
  ["%f", [1e22], "10000000000000000000000.000000"],
  ["%.3f", [-0.0], "-0.000"],
  ["%f", [1e-7], "0.000000"],
  ["%.10f", [0.1], "0.1000000000"],
  ["%e", [12345.678], "1.234568e+04"],
  ["%.2e", [12345.678], "1.23e+04"],
  ["%E", [0.000123], "1.230000E-04"],
  ["%e", [0], "0.000000e+00"],
  ["%.0e", [50000000000.0], "5e+10"],
  ["%#.0e", [50000000000.0], "5.e+10"],
  ["%e", [1e-310], "1.000000e-310"],
  ["%e", [1.7976931348623157e308], "1.797693e+308"],
  ["%g", [0.0001], "0.0001"],
  ["%g", [1e-5], "1e-05"],
  ["%g", [123456], "123456"],
  ["%g", [1234567], "1.23457e+06"],
  ["%g", [100], "100"],
  ["%.3g", [3.14159], "3.14"],
  ["%G", [1e-10], "1E-10"],
  ["%#g", [1.0], "1.00000"],
  ["%g", [0.30000000000000004], "0.3"],
  ["%.17g", [0.1], "0.10000000000000001"],
  ["%10.4g|", [3.141592653589793], "     3.142|"],
  ["%c", [65], "A"],
  ["%c", ["z"], "z"],
  ["%3c|", [66], "  B|"],
  ["%s and %s", ["a", "b"], "a and b"],
  ["%*d|", [6, 42], "    42|"],
  ["%-*d|", [6, 42], "42    |"],
  ["%*d|", [-6, 42], "42    |"],
  ["%.*f", [3, 3.141592653589793], "3.142"],
  ["%*.*f|", [9, 2, 3.141592653589793], "     3.14|"],
  ["100%% sure %s", ["yes"], "100% sure yes"],
  ["%d%%", [50], "50%"],
  ["%d", [true], "1"],
  ["%f", [false], "0.000000"],
  ["%r", ["it's"], '"it\'s"'],
  ["%a", ["café"], "'caf\\xe9'"],
];

describe("message %-formatting", () => {
  test("matches CPython on conversions, flags, widths and precisions", T, () => {
    for (const [format, args, expected] of PYTHON_CASES) {
      assert.equal(fmt(format, ...args), expected, `${format} % ${JSON.stringify(args)}`);
    }
  });

  test("%s is String() for primitives and util.inspect() for objects", T, () => {
    assert.equal(fmt("%s %s %s %s", null, undefined, true, 10n), "null undefined true 10");
    assert.equal(fmt("%s", Symbol("s")), "Symbol(s)");
    assert.equal(fmt("%s", [1, "a"]), inspect([1, "a"]));
    assert.equal(fmt("%s and %s", [1, 2], { a: 1 }), "[ 1, 2 ] and { a: 1 }");
    const m = new Map([["k", 1]]);
    assert.equal(fmt("%s", [m]), inspect([m]));
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    assert.equal(fmt("%s", new Point(1, 2)), inspect(new Point(1, 2)));
    assert.equal(fmt("%5s|%-6s|", 1.5, false), "  1.5|false |");
  });

  test("%r is util.inspect()", T, () => {
    assert.equal(fmt("%r", "a"), "'a'");
    assert.equal(fmt("%r %r", 1, null), "1 null");
    assert.equal(fmt("%r", { a: "x", b: [1] }), inspect({ a: "x", b: [1] }));
    assert.equal(fmt("%8r|", "ab"), "    'ab'|");
  });

  test("integers: bigints, booleans, huge numbers", T, () => {
    assert.equal(fmt("%d", 2n ** 70n), "1180591620717411303424");
    assert.equal(fmt("%x", -(2n ** 64n)), "-10000000000000000");
    assert.equal(fmt("%d", 1e21), "1000000000000000000000");
    assert.equal(fmt("%d %d", true, false), "1 0");
    assert.equal(fmt("%d", -0), "0");
    assert.equal(fmt("%.2f", 10n), "10.00");
  });

  test("floats: infinities, NaN, negative zero, exact rounding", T, () => {
    assert.equal(fmt("%f %f %f", Infinity, -Infinity, NaN), "inf -inf nan");
    assert.equal(fmt("%F %E %G", Infinity, NaN, -Infinity), "INF NAN -INF");
    assert.equal(fmt("%+f|%6f|%-6f|", Infinity, NaN, Infinity), "+inf|   nan|inf   |");
    assert.equal(fmt("%.2f", -0), "-0.00");
    assert.equal(fmt("%.2f", -0.001), "-0.00");
    assert.equal(fmt("%.1f %.1f %.1f", 0.05, 0.15, 0.35), "0.1 0.1 0.3"); // exact binary values, as CPython
    assert.equal(fmt("%.0f %.0f", -0.5, -1.5), "-0 -2");
    assert.equal(fmt("%.3e", 9.9996), "1.000e+01");
    assert.equal(fmt("%g", 999999.5), "1e+06");
    assert.equal(fmt("%.20f", 0.1), "0.10000000000000000555");
    assert.equal(fmt("%f", 5e-324), "0.000000");
    assert.equal(fmt("%e", 5e-324), "4.940656e-324");
  });

  test("a message without arguments is not %-formatted", T, () => {
    assert.equal(fmt("100% sure %s %d %(x)s"), "100% sure %s %d %(x)s");
    assert.equal(fmt("%%"), "%%");
  });

  test("a non-string message is str()'d, then formatted when there are arguments", T, () => {
    assert.equal(fmt(42), "42");
    assert.equal(fmt({ a: 1 }), "{ a: 1 }");
    assert.equal(fmt(null), "null");
    assert.equal(fmt(["%s"], 1), "[ '1' ]"); // str(['%s']) % (1,), as Python
  });

  test("a single non-empty mapping argument serves %(key)s, as in Python", T, () => {
    assert.equal(fmt("%(a)s-%(b)03d", { a: "x", b: 7 }), "x-007");
    assert.equal(fmt("%(name)-6s|", new Map([["name", "ab"]])), "ab    |");
    assert.equal(fmt("%s", { a: 1 }), "{ a: 1 }");
    assert.equal(fmt("no fields", { a: 1 }), "no fields");
    assert.equal(fmt("%(a)s %%", { a: 1 }), "1 %");
  });

  test("a record that cannot be formatted prints a logging error and the call returns", T, () => {
    const cases: [string, unknown[], string][] = [
      ["%d", ["x"], "%d format: a real number is required, not string"],
      ["%x", [3.5], "%x format: an integer is required, not float"],
      ["%s %s", [1], "not enough arguments for format string"],
      ["%s", [1, 2], "not all arguments converted during string formatting"],
      ["%(a)s", [1], "format requires a mapping"],
      ["%(b)s", [{ a: 1 }], "KeyError: 'b'"],
      ["%y", [1], "unsupported format character 'y' (0x79) at index 1"],
      ["abc %", [1], "incomplete format"],
      ["%d", [Number.NaN], "cannot convert float NaN to integer"],
      ["%c", [1.5], "%c requires int or char"],
    ];
    for (const [format, args, message] of cases) {
      const { text, writes } = capture(() => logging.error(format, ...args));
      assert.equal(writes, 1, format);
      assert.ok(text.startsWith("--- Logging error ---\n"), text);
      assert.ok(text.includes(message), `${format}: ${text}`);
      assert.ok(text.includes(`Message: ${inspect(format)}`), text);
      assert.ok(text.includes(`Arguments: ${inspect(args)}`), text);
    }
  });
});

describe("records", () => {
  function record(format: string, fn: () => void): string {
    logging.basicConfig({ format, level: logging.DEBUG, force: true });
    try {
      return capture(fn).text;
    } finally {
      logging.basicConfig({ format: "%(message)s", level: logging.DEBUG, force: true });
    }
  }

  test("levelname, levelno, name, message; one write() per record, ending in a newline", T, () => {
    const { text, writes } = capture(() => {
      logging.basicConfig({ format: "%(levelname)s:%(levelno)s:%(name)s:%(message)s", force: true, level: 0 });
      logging.debug("d %d", 1);
      logging.info("i");
      logging.warning("w");
      logging.warn("w2");
      logging.error("e");
      logging.exception("x");
      logging.critical("c");
      logging.fatal("f");
      logging.log(25, "custom %s", "level");
      logging.getLogger("app.db").info("child");
    });
    logging.basicConfig({ format: "%(message)s", level: logging.DEBUG, force: true });
    const lines = [
      "DEBUG:10:root:d 1",
      "INFO:20:root:i",
      "WARNING:30:root:w",
      "WARNING:30:root:w2",
      "ERROR:40:root:e",
      "ERROR:40:root:x",
      "CRITICAL:50:root:c",
      "CRITICAL:50:root:f",
      "Level 25:25:root:custom level",
      "INFO:20:app.db:child",
    ];
    assert.equal(text, `${lines.join("\n")}\n`);
    assert.equal(writes, lines.length);
  });

  test("record lines are exactly as formatted", T, () => {
    const out = record("%(levelname)s:%(name)s:%(message)s", () => {
      logging.info("hello %s", "world");
      logging.getLogger("a.b").critical("boom");
    });
    assert.equal(out, "INFO:root:hello world\nCRITICAL:a.b:boom\n");
  });

  test("threadName, thread, process, processName with widths and alignment", T, () => {
    const out = record(
      "(%(threadName)-12s) [%(threadName)12s] %(thread)d %(process)d %(processName)s %(message)s",
      () => logging.info("m"),
    );
    assert.equal(out, `(MainThread  ) [  MainThread] 1 ${process.pid} MainProcess m\n`);
    assert.equal(
      record("%(levelname)-8s|%(levelname)8s|%(message)s", () => logging.info("x")),
      "INFO    |    INFO|x\n",
    );
    assert.equal(
      record("%(levelno)03d %(message)s", () => logging.info("x")),
      "020 x\n",
    );
  });

  test("asctime is Python's default local time with milliseconds", T, () => {
    const before = Date.now();
    const out = record("%(asctime)s|%(created)f|%(msecs)03d|%(message)s", () => logging.info("t"));
    const after = Date.now();
    const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3})\|(\d+\.\d{6})\|(\d{3})\|t\n$/.exec(out);
    assert.ok(m, out);
    const [, y, mo, d, h, mi, s, ms, created, msecs] = m.map(Number) as number[];
    const t = new Date(y as number, (mo as number) - 1, d, h, mi, s, ms).getTime(); // local time
    assert.ok(t >= before - 1 && t <= after + 1, `${out} not within [${before}, ${after}]`);
    assert.ok(Math.abs((created as number) * 1000 - t) < 1.5, out);
    assert.equal(msecs, ms);
  });

  test("datefmt formats asctime with strftime directives", T, () => {
    logging.basicConfig({ format: "%(asctime)s %(message)s", datefmt: "%H:%M:%S %Y/%m/%d %%", force: true });
    const text = capture(() => logging.warning("x")).text;
    logging.basicConfig({ format: "%(message)s", level: logging.DEBUG, force: true });
    assert.match(text, /^\d\d:\d\d:\d\d \d{4}\/\d\d\/\d\d % x\n$/);
  });

  test("relativeCreated is milliseconds since the process started", T, () => {
    const before = process.uptime() * 1000;
    const out = record("%(relativeCreated)d|%(relativeCreated)10.1f|%(message)s", () => logging.info("r"));
    const after = process.uptime() * 1000;
    const [a, b] = out.split("|").map(Number) as [number, number];
    assert.ok(a >= Math.floor(before) && a <= after, out);
    assert.ok(b >= before - 0.1 && b <= after + 0.1, out);
    assert.equal(out.split("|")[1]?.length, 10);
  });

  test("filename, lineno, funcName, module point at the caller", T, () => {
    function someFunction() {
      logging.info("here");
    }
    const out = record("%(filename)s|%(module)s|%(funcName)s|%(message)s", someFunction);
    assert.equal(out, "format.test.ts|format.test|someFunction|here\n");
    const line = record("%(lineno)d", () => logging.info("x"));
    assert.ok(Number(line) > 0, line);
  });
});

describe("levels and loggers", () => {
  test("level constants", T, () => {
    assert.deepEqual(
      [logging.NOTSET, logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL],
      [0, 10, 20, 30, 40, 50],
    );
    assert.equal(logging.WARN, 30);
    assert.equal(logging.FATAL, 50);
  });

  test("getLevelName both ways, addLevelName", T, () => {
    assert.equal(logging.getLevelName(logging.INFO), "INFO");
    assert.equal(logging.getLevelName("ERROR"), 40);
    assert.equal(logging.getLevelName(33), "Level 33");
    logging.addLevelName(33, "NOTICE");
    assert.equal(logging.getLevelName(33), "NOTICE");
    assert.equal(logging.getLevelName("NOTICE"), 33);
  });

  test("getLogger returns one object per name; no name or 'root' is the root logger", T, () => {
    assert.equal(logging.getLogger("a"), logging.getLogger("a"));
    assert.equal(logging.getLogger(), logging.root);
    assert.equal(logging.getLogger("root"), logging.root);
    assert.equal(logging.root.name, "root");
    assert.equal(logging.getLogger("a").getChild("b"), logging.getLogger("a.b"));
    assert.equal(logging.getLogger("p.q.r").parent, logging.root);
    assert.equal(logging.getLogger("p").name, "p");
    assert.equal(logging.getLogger("p.q.r").parent, logging.getLogger("p"));
  });

  test("a logger's level, inherited by dotted children; root's otherwise", T, () => {
    const svc = logging.getLogger("svc");
    const child = logging.getLogger("svc.http.client");
    assert.equal(child.getEffectiveLevel(), logging.DEBUG); // the root's, set by basicConfig above
    svc.setLevel("ERROR");
    assert.equal(svc.level, logging.ERROR);
    assert.equal(child.level, logging.NOTSET);
    assert.equal(child.getEffectiveLevel(), logging.ERROR);
    assert.equal(capture(() => child.warning("dropped")).text, "");
    assert.equal(capture(() => child.error("kept %d", 1)).text, "kept 1\n");
    child.setLevel(logging.DEBUG);
    assert.equal(capture(() => child.debug("now")).text, "now\n");
    assert.equal(child.isEnabledFor(logging.DEBUG), true);
    assert.equal(svc.isEnabledFor(logging.WARNING), false);
    svc.setLevel(logging.NOTSET);
  });

  test("the root level decides module-level calls", T, () => {
    logging.root.setLevel(logging.WARNING);
    try {
      assert.equal(capture(() => logging.info("no")).text, "");
      assert.equal(capture(() => logging.debug("no")).text, "");
      assert.equal(capture(() => logging.warning("yes")).text, "yes\n");
      assert.equal(logging.getLogger("new.one").getEffectiveLevel(), logging.WARNING);
    } finally {
      logging.root.setLevel(logging.DEBUG);
    }
    assert.equal(capture(() => logging.debug("back")).text, "back\n");
  });

  test("bad levels are errors, as in Python", T, () => {
    assert.throws(() => logging.getLogger("z").setLevel("LOUD"), RangeError);
    assert.throws(() => logging.getLogger("z").setLevel(1.5), TypeError);
    assert.throws(() => logging.log("INFO" as unknown as number, "x"), TypeError);
  });

  test("basicConfig checks its arguments and the format", T, () => {
    assert.throws(() => logging.basicConfig({ format: "no fields", force: true }), RangeError);
    assert.throws(() => logging.basicConfig({ format: "%(nosuchfield)s", force: true }), RangeError);
    assert.throws(() => logging.basicConfig({ format: "%(message)s %y", force: true }), RangeError);
    assert.throws(() => logging.basicConfig({ level: "LOUD", force: true }), RangeError);
    assert.throws(() => logging.basicConfig({ filename: "x.log" } as never), RangeError);
    // A positional value is Python's "takes 0 positional arguments" (5 was taken as no options).
    for (const bad of [5, "DEBUG", null]) {
      assert.throws(() => logging.basicConfig(bad as never), {
        name: "TypeError",
        message: /^basicConfig\(\): options must be an object like \{ level, format \}, not (number|string|null)$/,
      });
    }
    assert.throws(() => logging.basicConfig({ format: `%(message)s${"x".repeat(2000)}`, force: true }), RangeError);
    // nothing changed
    assert.equal(fmt("still %s", "here"), "still here");
  });
});
