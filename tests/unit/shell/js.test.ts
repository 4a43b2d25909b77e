import { test } from "uvu";
import * as assert from "uvu/assert";
import { display, inspect, errorReport } from "../../../apps/shell/inspect.js";
import { fakeDevice } from "./fake-platform.js";
import { fakeShell } from "./shell-rig.js";

function setup() {
  const bus = { devices: () => [fakeDevice()] };
  const { run } = fakeShell({ bus, globals: { answer: 42 } });
  return { run };
}

test("js 6*7 prints 42", async () => {
  const { run } = setup();
  await run("batch on");
  assert.is(await run("js 6*7"), "42\r\n@@status 0\r\nvirtio> ");
});

test("a promise is awaited", async () => {
  const { run } = setup();
  await run("batch on");
  assert.is(await run("js Promise.resolve(5)"), "5\r\n@@status 0\r\nvirtio> ");
  assert.is(await run("js await Promise.resolve(6)"), "6\r\n@@status 0\r\nvirtio> ");
});

test("a TypeError prints Name: message and stack, status 1, and the shell stays up", async () => {
  const { run } = setup();
  await run("batch on");
  const out = await run("js null.x");
  assert.ok(out.startsWith("TypeError: "), out);
  assert.ok(out.includes("\r\n    at "), "stack frames follow");
  assert.not.ok(/execute|#pump|LineEditor/.test(out), "the shell's own frames are left out");
  assert.ok(out.endsWith("@@status 1\r\nvirtio> "));
  assert.is(await run("js 1+2"), "3\r\n@@status 0\r\nvirtio> ");
});

test("a rejected promise is reported like a throw", async () => {
  const { run } = setup();
  await run("batch on");
  const out = await run("js Promise.reject(new RangeError('no'))");
  assert.ok(out.startsWith("RangeError: no"));
  assert.ok(out.endsWith("@@status 1\r\nvirtio> "));
});

test("a syntax error is reported, status 1", async () => {
  const { run } = setup();
  await run("batch on");
  const out = await run("js 1 +");
  assert.ok(out.startsWith("SyntaxError: "));
  assert.ok(out.endsWith("@@status 1\r\nvirtio> "));
});

test("js without an expression: usage", async () => {
  const { run } = setup();
  assert.ok((await run("js")).includes("usage: js <expression>"));
});

test("the expression is not split: quotes and blanks are kept", async () => {
  const { run } = setup();
  await run("batch on");
  assert.is(await run(`js "a  b" + 'c'`), "a  bc\r\n@@status 0\r\nvirtio> ");
});

test("globals: platform, bus, devices, and the app's", async () => {
  const { run } = setup();
  await run("batch on");
  assert.is(await run("js platform.name"), "fake\r\n@@status 0\r\nvirtio> ");
  assert.is(await run("js devices[0].type"), "rng\r\n@@status 0\r\nvirtio> ");
  assert.is(await run("js bus.devices().length"), "1\r\n@@status 0\r\nvirtio> ");
  assert.is(await run("js answer"), "42\r\n@@status 0\r\nvirtio> ");
  assert.is(await run("js var kept = 7"), "undefined\r\n@@status 0\r\nvirtio> ");
  assert.is(await run("js kept"), "7\r\n@@status 0\r\nvirtio> ");
});

test("braces mean an object; a block still runs", async () => {
  const { run } = setup();
  await run("batch on");
  assert.is(await run("js {a: 1, b: [2]}"), "{a: 1, b: [2]}\r\n@@status 0\r\nvirtio> ");
  assert.is(await run("js { let t = 3; t * 2 }"), "6\r\n@@status 0\r\nvirtio> ");
});

test("values print readably", () => {
  assert.is(display("text"), "text");
  assert.is(inspect("text"), '"text"');
  assert.is(inspect(-0), "-0");
  assert.is(inspect(12n), "12n");
  assert.is(inspect(undefined), "undefined");
  assert.is(inspect(Symbol("s")), "Symbol(s)");
  assert.is(inspect(function named() {}), "[Function named]");
  assert.is(inspect(() => 0), "[Function (anonymous)]");
  assert.is(inspect([1, "a", null, [2n]]), '[1, "a", null, [2n]]');
  assert.is(inspect({ a: 1, "b-c": true, d: { e: [] } }), '{a: 1, "b-c": true, d: {e: []}}');
  assert.is(inspect(Uint8Array.of(1, 0xab, 0)), "Uint8Array(3) 01ab00");
  assert.is(inspect(new Uint8Array(40)), `Uint8Array(40) ${"00".repeat(32)}... (8 more)`);
  assert.is(inspect(Uint16Array.of(1, 2)), "Uint16Array(2) [1, 2]");
  assert.is(inspect(new Map([["k", 1]])), 'Map(1) {"k" => 1}');
  assert.is(inspect(new Set([1])), "Set(1) {1}");
  assert.is(inspect(new TypeError("bad")), "TypeError: bad");
  assert.is(inspect(Promise.resolve(1)), "Promise {}");
  class Point {
    x = 1;
  }
  assert.is(inspect(new Point()), "Point {x: 1}");
  assert.is(inspect(Object.create(null)), "[Object: null prototype] {}");
});

test("cycles print as [Circular], getters are not called", () => {
  const a: Record<string, unknown> = { name: "a" };
  a.self = a;
  assert.is(inspect(a), '{name: "a", self: [Circular]}');
  const g = {
    get boom(): number {
      throw new Error("called");
    },
  };
  assert.is(inspect(g), "{boom: [Getter]}");
  const deep = { a: { b: { c: { d: { e: 1 } } } } };
  assert.is(inspect(deep), "{a: {b: {c: {d: [Object]}}}}");
});

test("long arrays are cut", () => {
  const text = inspect(Array.from({ length: 60 }, (_, i) => i));
  assert.ok(text.endsWith(", 49, ... 10 more]"));
});

test("errorReport: thrown non-errors and errors without stacks", () => {
  assert.is(errorReport(42), "Uncaught 42");
  const e = new Error("plain");
  e.stack = undefined;
  assert.is(errorReport(e), "Error: plain");
  const xs = new Error("xs");
  xs.stack = "at f (file.js:1)\nat g (file.js:2)\n";
  assert.is(errorReport(xs), "Error: xs\n    at f (file.js:1)\n    at g (file.js:2)");
  assert.is(errorReport(xs, /^at g\b/), "Error: xs\n    at f (file.js:1)");
  const deep = new Error("deep");
  deep.stack = Array.from({ length: 20 }, (_, i) => `at f${i} ()`).join("\n");
  const lines = errorReport(deep).split("\n");
  assert.is(lines.length, 1 + 12 + 1);
  assert.is(lines[13], "    ... 8 more");
});

test.run();
