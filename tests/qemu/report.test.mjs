// `npm test -- --junit FILE` (tools/test.mjs) on fixture suites: the report is well-formed
// XML (a strict parser reads it), one testcase per test with classname = the suite file,
// failures with message and details, skipped tests, totals that equal the runner's
// `N passed, N failed` line, and a failed QEMU test's console log beside the report,
// named in its system-out. Tests that never ran (a before hook threw) count as failed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeFakeGuest } from "./lib/fake-guest.mjs";
import { ROOT } from "./lib/firmware.mjs";
import { parseXml } from "./lib/xml.mjs";

// Inside the package, so that the fixtures resolve uvu and virtio-xs/hil as tests do.
const work = join(ROOT, "build", `report-test-${process.pid}`);
const suites = join(work, "suites");
const out = join(work, "out");
test.after(() => rmSync(work, { recursive: true, force: true }));

const FIXTURES = {
  "a.test.mjs": `import { test } from "uvu";
import * as assert from "uvu/assert";
test("adds", () => assert.is(1 + 1, 2));
test("awaits", async () => assert.is(await Promise.resolve(3), 3));
test.skip("not today");
test.run();
`,
  "b.test.mjs": `import { test } from "uvu";
import * as assert from "uvu/assert";
import { Board } from "virtio-xs/hil";
test("the guest says goodbye", async () => {
  const b = await Board.boot({ name: "fixture", firmware: ${JSON.stringify(join(work, "guest.bin"))}, prompt: "hello", batch: false });
  try {
    await b.waitFor("goodbye", 200);
  } finally {
    await b.close();
  }
});
test("a name with <xml> & \\"quotes\\" and 'apostrophes'", () => assert.ok(true));
test.run();
`,
  "c.test.mjs": `import { suite } from "uvu";
import * as assert from "uvu/assert";
const s = suite("broken setup");
s.before(() => { throw new Error("no peer"); });
s("never runs 1", () => assert.ok(true));
s("never runs 2", () => assert.ok(true));
s.run();
`,
};

test("--junit: well-formed XML, one testcase per test, counts equal the summary line, logs of a failed QEMU test", () => {
  mkdirSync(suites, { recursive: true });
  writeFakeGuest(join(work, "guest.bin"), "fixture guest says hello\r\n");
  for (const [name, text] of Object.entries(FIXTURES)) writeFileSync(join(suites, name), text);
  const report = join(out, "report.xml");
  const r = spawnSync(process.execPath, [join(ROOT, "tools", "test.mjs"), "--qemu", "--no-compile", "--junit", report], {
    cwd: ROOT, encoding: "utf8", timeout: 120000, env: { ...process.env, VIRTIO_TEST_QEMU_DIR: suites },
  });
  const stdout = r.stdout ?? "";
  assert.is(r.status, 1, stdout + r.stderr);
  const summary = /^(\d+) passed, (\d+) failed$/m.exec(stdout.trim().split("\n").pop());
  assert.ok(summary, stdout);
  const [passed, failed] = [Number(summary[1]), Number(summary[2])];
  assert.equal([passed, failed], [3, 3]);

  const root = parseXml(readFileSync(report, "utf8"));
  assert.is(root.name, "testsuites");
  const suitesEl = root.children.filter((c) => c.name === "testsuite");
  const cases = suitesEl.flatMap((s) => s.children.filter((c) => c.name === "testcase").map((c) => ({ ...c, suite: s })));
  const num = (el, k) => Number(el.attrs[k]);
  assert.is(num(root, "tests"), cases.length);
  assert.is(num(root, "failures"), failed);
  assert.is(num(root, "skipped"), 1);
  assert.is(num(root, "tests") - num(root, "failures") - num(root, "errors") - num(root, "skipped"), passed);
  for (const s of suitesEl) {
    const own = cases.filter((c) => c.suite === s);
    assert.is(num(s, "tests"), own.length);
    assert.is(num(s, "failures"), own.filter((c) => c.children.some((x) => x.name === "failure")).length);
    for (const c of own) assert.is(c.attrs.classname, s.attrs.name);
  }
  assert.equal(suitesEl.map((s) => s.attrs.name.split("/").pop()), ["a.test.mjs", "b.test.mjs", "c.test.mjs"]);
  const byName = Object.fromEntries(cases.map((c) => [c.attrs.name, c]));
  assert.ok(byName["a name with <xml> & \"quotes\" and 'apostrophes'"], "names survive escaping");
  assert.ok(byName["not today"].children.some((x) => x.name === "skipped"));

  const goodbye = byName["the guest says goodbye"];
  const failure = goodbye.children.find((x) => x.name === "failure");
  assert.is(failure.attrs.type, "QemuTimeoutError");
  assert.match(failure.attrs.message, /fixture: timed out after 200 ms waiting for goodbye/);
  const sysout = goodbye.children.find((x) => x.name === "system-out").text;
  const logRef = /console log: (qemu-logs\/\S+\.log)/.exec(sysout);
  assert.ok(logRef, sysout);
  assert.ok(existsSync(join(out, logRef[1])), "the log is beside the report");
  assert.match(readFileSync(join(out, logRef[1]), "utf8"), "fixture guest says hello");

  for (const n of ["never runs 1", "never runs 2"]) {
    assert.match(byName[n].children.find((x) => x.name === "failure").attrs.message, /the before hook failed: no peer/);
  }
});

test("junitXml: names with control characters, lone surrogates and markup stay well-formed", async () => {
  const { junitXml } = await import("../../tools/lib/test-report/junit.mjs");
  const xml = junitXml([
    { file: "x.test.mjs", name: "bell \u0007 and \ud800 alone", status: "failed", ms: 1, message: "<b>&\u001b[31mred\u001b[0m", type: "Error", details: "]]> \u0000" },
    { file: "x.test.mjs", name: "ok", status: "passed", ms: 2 },
  ]);
  const root = parseXml(xml);
  const [bell, ok] = root.children[0].children;
  assert.is(bell.attrs.name, "bell \ufffd and \ufffd alone");
  assert.is(bell.children[0].attrs.message, "<b>&red");
  assert.is(ok.attrs.time, "0.002");
  assert.equal([root.attrs.tests, root.attrs.failures], ["2", "1"]);
});

test("the XML checker rejects what a JUnit parser would", () => {
  for (const bad of ["<a><b></a></b>", "<a>x & y</a>", "<a b=1/>", "<a/><b/>", "<a>&nope;</a>", "<a>"]) {
    assert.throws(() => parseXml(bad), SyntaxError, bad);
  }
  assert.is(parseXml('<a k="&lt;&#x41;">t&amp;</a>').attrs.k, "<A");
});

test.run();
