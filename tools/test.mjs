#!/usr/bin/env node
// `npm test`: installs what is missing, compiles, runs the unit suites (Node, host model)
// and the QEMU suites (real firmware on QEMU, the default board unless --board), and ends with the line
// `N passed, N failed` totalling all suites.
//   --unit   only the unit suites      --qemu   only the QEMU suites
//   --junit FILE   also write JUnit XML (one testcase per test; a failed QEMU test's
//                  console logs go to FILE's folder/qemu-logs/)
//   --no-compile   skip tsc (run what build/ts holds)
//   --board B      the QEMU suites on board B (boards/B/board.json; default qemu-virt-arm):
//                  its firmware is built and every suite boots it (env VIRTIO_BOARD=B)
//   --except NAME  leave out the test files whose path contains NAME (repeatable)
//   NAME...  only the test files whose path contains one of the NAMEs (e.g. `blk ring/`)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, ensureNodeModules } from "./lib/node-deps.mjs";
import { countCases, junitXml, readRecords } from "./lib/test-report/junit.mjs";

function usage(msg) {
  console.error(`test: ${msg}\nusage: npm test -- [--unit | --qemu] [--board B] [--junit FILE] [--no-compile] [--except NAME]... [NAME...]`);
  process.exit(2);
}

// Relative paths are the caller's: npm runs scripts in the package root, INIT_CWD is where `npm test` was typed.
const fromCaller = (p) => resolve(process.env.INIT_CWD ?? process.cwd(), p);
const flags = new Set();
const names = [];
const except = [];
let junitFile = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--junit") {
    if (i + 1 >= argv.length) usage("--junit needs a file name");
    junitFile = fromCaller(argv[++i]);
  } else if (a.startsWith("--junit=")) junitFile = fromCaller(a.slice("--junit=".length));
  else if (a === "--except") {
    if (i + 1 >= argv.length) usage("--except needs a name");
    except.push(argv[++i]);
  } else if (a === "--board" || a.startsWith("--board=")) {
    const b = a === "--board" ? argv[++i] : a.slice("--board=".length);
    if (!b) usage("--board needs a board name");
    if (!existsSync(join(ROOT, "boards", b, "board.json"))) usage(`--board ${b}: no boards/${b}/board.json`);
    // Read by tools/lib/qemu-board.mjs (DEFAULT_BOARD) here and in every suite process.
    process.env.VIRTIO_BOARD = b;
  }
  else if (["--unit", "--qemu", "--no-compile"].includes(a)) flags.add(a);
  else if (a.startsWith("--")) usage(`unknown option ${a}`);
  else names.push(a);
}
const wantUnit = !flags.has("--qemu");
const wantQemu = !flags.has("--unit");
// The suite folders (env overrides: for the runner's own tests, with fixture suites).
const UNIT_DIR = process.env.VIRTIO_TEST_UNIT_DIR ?? join(ROOT, "build/ts/tests/unit");
const QEMU_DIR = process.env.VIRTIO_TEST_QEMU_DIR ?? join(ROOT, "tests/qemu");
const LOG_DIR = junitFile ? join(dirname(junitFile), "qemu-logs") : join(ROOT, "build", "test-logs", "qemu-logs");
const HOOK = pathToFileURL(join(ROOT, "tools/lib/test-report/hook.mjs")).href;
const scratch = mkdtempSync(join(tmpdir(), "virtio-test-run-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

/** The test-file pattern for a suite, narrowed to the NAMEs given on the command line. */
function filePattern(suffix) {
  const alt = (list) => list.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  const only = names.length ? `(?=.*(?:${alt(names)}))` : "";
  const not = except.length ? `(?!.*(?:${alt(except)}))` : "";
  return new RegExp(`^${only}${not}.*${suffix}$`);
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 256 << 20, ...opts });
}

/** The environment for a suite: no colours (NO_COLOR alone: Node warns when FORCE_COLOR is also set). */
function plainEnv(extra) {
  const env = { ...process.env, NO_COLOR: "1", ...extra };
  delete env.FORCE_COLOR;
  return env;
}

/** Every test case of the run, in order (what the summary line and the JUnit file count). */
const cases = [];
const fail = (file, name, message, details = "") => cases.push({ file, name, status: "failed", ms: 0, type: "RunnerError", message, details });

/** A unit suite's compiled file, named by its source (tests/unit/x.test.ts) when that exists. */
function sourceName(file) {
  const ts = file.replace(/\.js$/, ".ts");
  return file.endsWith(".js") && existsSync(join(ROOT, ts)) ? ts : file;
}

/** The testcase's system-out for a failed test with console logs: where they are, their tail. */
function logsOut(logs) {
  if (!logs?.length) return "";
  return logs.map((name) => {
    const path = join(LOG_DIR, name);
    const where = junitFile ? relative(dirname(junitFile), path) : path;
    let tail = "";
    try { tail = readFileSync(path, "utf8").replace(/\r\n?/g, "\n").trimEnd().split("\n").slice(-30).join("\n"); } catch { /* gone */ }
    return `console log: ${where}\n--- its last 30 lines ---\n${tail}`;
  }).join("\n\n");
}

/** Runs one uvu suite folder, recording each test; adds its cases, echoing its output. */
function runUvu(label, dir, pattern, timeoutMs = 30 * 60 * 1000) {
  if (!existsSync(dir) || readdirSync(dir, { recursive: true }).filter((f) => String(f).match(pattern)).length === 0) {
    console.log(`[test] ${label}: no test files in ${dir}`);
    return;
  }
  console.log(`[test] ${label}: ${dir}`);
  const results = join(scratch, `${label}.jsonl`);
  const dirLabel = relative(ROOT, dir).replace(/^build\/ts\//, "") || ".";
  const r = run(process.execPath, ["--import", HOOK, join(ROOT, "node_modules/uvu/bin.js"), dir, pattern.source, "--no-color"], {
    env: plainEnv({ VIRTIO_TEST_RESULTS: results, VIRTIO_TEST_LOG_DIR: LOG_DIR, VIRTIO_TEST_DIR_LABEL: dirLabel }),
    // No hang: a suite that runs too long is stopped (SIGTERM lets the QEMU harness clean up).
    timeout: timeoutMs,
    killSignal: "SIGTERM",
  });
  if (r.error?.code === "ETIMEDOUT") console.log(`[test] ${label}: stopped after ${timeoutMs / 1000} s`);
  const out = (r.stdout ?? "") + (r.stderr ?? "");
  process.stdout.write(out);
  const records = readRecords(results).map((c) => ({ ...c, file: sourceName(c.file), out: logsOut(c.logs) }));
  cases.push(...records);
  for (const c of records) if (c.logs?.length) console.log(`[test] ${c.file} "${c.name}": console log${c.logs.length > 1 ? "s" : ""} in ${c.logs.map((l) => join(LOG_DIR, l)).join(", ")}`);
  const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const mine = countCases(records);
  if (Number.isNaN(total) || Number.isNaN(passed)) {
    // The runner died before its summary (a crash on import, say): a failure.
    console.log(`[test] ${label}: the runner ended without a summary (status ${r.status})`);
    fail(dirLabel, `${label}: the runner ended without a summary`, `status ${r.status}${r.error ? `, ${r.error.message}` : ""}`, plain.slice(-4000));
  } else if (mine.passed !== passed || mine.failed !== total - passed) {
    fail(dirLabel, `${label}: recorded results differ from uvu's summary`, `recorded ${mine.passed} passed, ${mine.failed} failed; uvu: ${passed} passed, ${total - passed} failed`);
  } else if (r.status !== 0 && mine.failed === 0) {
    fail(dirLabel, `${label}: the runner exited with status ${r.status}`, `status ${r.status}`, plain.slice(-4000));
  }
}

ensureNodeModules();
rmSync(LOG_DIR, { recursive: true, force: true }); // logs of this run only

if (!flags.has("--no-compile")) {
  console.log("[test] compiling TypeScript (tsc, strict)");
  for (const config of ["tsconfig.json", "tsconfig.firmware.json"]) {
    const r = run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", config]);
    const out = (r.stdout ?? "") + (r.stderr ?? "");
    process.stdout.write(out);
    if (r.status !== 0) fail("tsc", `tsc -p ${config}`, `tsc -p ${config} failed with status ${r.status}`, out);
  }
}

if (wantUnit) runUvu("unit", UNIT_DIR, filePattern("\\.test\\.js"));

if (wantQemu) {
  const qemuPattern = filePattern("\\.test\\.mjs");
  const hasQemuTests = existsSync(QEMU_DIR) && readdirSync(QEMU_DIR).some((f) => qemuPattern.test(f));
  if (hasQemuTests) {
    const { prepareQemuTests } = await import("./lib/qemu-prepare.mjs");
    const ready = await prepareQemuTests({ board: process.env.VIRTIO_BOARD || "qemu-virt-arm" });
    if (!ready.ok) {
      console.log(`[test] qemu: cannot run: ${ready.reason}`);
      fail("tests/qemu", "qemu: prepare (system packages, firmware build)", ready.reason);
    } else {
      if (process.env.VIRTIO_BOARD) console.log(`[test] qemu: board ${process.env.VIRTIO_BOARD}`);
      runUvu("qemu", QEMU_DIR, qemuPattern);
    }
  }
}

const { passed, failed } = countCases(cases);
if (junitFile) {
  mkdirSync(dirname(junitFile), { recursive: true });
  writeFileSync(junitFile, junitXml(cases, { name: "virtio-xs npm test" }));
  console.log(`[test] JUnit report: ${junitFile} (${cases.length} test cases)`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
