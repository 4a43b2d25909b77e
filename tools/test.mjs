#!/usr/bin/env node
// `npm test`: installs what is missing, compiles, runs the unit suites (Node, host model)
// and the QEMU suites (real firmware on qemu-system-arm), and ends with the line
// `N passed, N failed` totalling all suites.
//   --unit   only the unit suites      --qemu   only the QEMU suites
//   NAME...  only the test files whose path contains one of the NAMEs (e.g. `blk ring/`)
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, ensureNodeModules } from "./lib/node-deps.mjs";

const argv = process.argv.slice(2);
const args = new Set(argv.filter((a) => a.startsWith("--")));
const names = argv.filter((a) => !a.startsWith("--"));
const wantUnit = !args.has("--qemu");
const wantQemu = !args.has("--unit");

/** The test-file pattern for a suite, narrowed to the NAMEs given on the command line. */
function filePattern(suffix) {
  if (names.length === 0) return new RegExp(`${suffix}$`);
  const alt = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  return new RegExp(`^(?=.*(?:${alt})).*${suffix}$`);
}

function run(cmd, argv, opts = {}) {
  return spawnSync(cmd, argv, { cwd: ROOT, encoding: "utf8", maxBuffer: 256 << 20, ...opts });
}

/** The environment for a suite: no colours (NO_COLOR alone: Node warns when FORCE_COLOR is also set). */
function plainEnv() {
  const env = { ...process.env, NO_COLOR: "1" };
  delete env.FORCE_COLOR;
  return env;
}

/** Runs one uvu suite folder and returns its counts, echoing its output. */
function runUvu(label, dir, pattern, timeoutMs = 30 * 60 * 1000) {
  if (!existsSync(dir) || readdirSync(dir, { recursive: true }).filter((f) => String(f).match(pattern)).length === 0) {
    console.log(`[test] ${label}: no test files in ${dir}`);
    return { passed: 0, failed: 0 };
  }
  console.log(`[test] ${label}: ${dir}`);
  const r = run(process.execPath, [join(ROOT, "node_modules/uvu/bin.js"), dir, pattern.source, "--no-color"], {
    env: plainEnv(),
    // No hang: a suite that runs too long is stopped (SIGTERM lets the QEMU harness clean up).
    timeout: timeoutMs,
    killSignal: "SIGTERM",
  });
  if (r.error?.code === "ETIMEDOUT") console.log(`[test] ${label}: stopped after ${timeoutMs / 1000} s`);
  const out = (r.stdout ?? "") + (r.stderr ?? "");
  process.stdout.write(out);
  const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  if (Number.isNaN(total) || Number.isNaN(passed)) {
    // The runner died before its summary (a crash on import, say): count it as a failure.
    console.log(`[test] ${label}: the runner ended without a summary (status ${r.status})`);
    return { passed: 0, failed: 1 };
  }
  let failed = total - passed; // uvu counts skipped tests outside Total
  if (r.status !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

ensureNodeModules();
let passed = 0;
let failed = 0;

console.log("[test] compiling TypeScript (tsc, strict)");
const tsc = run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"]);
const tscFw = run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.firmware.json"]);
for (const r of [tsc, tscFw]) {
  process.stdout.write((r.stdout ?? "") + (r.stderr ?? ""));
  if (r.status !== 0) failed += 1;
}

if (wantUnit) {
  const r = runUvu("unit", join(ROOT, "build/ts/tests/unit"), filePattern("\\.test\\.js"));
  passed += r.passed;
  failed += r.failed;
}

if (wantQemu) {
  const qemuDir = join(ROOT, "tests/qemu");
  const qemuPattern = filePattern("\\.test\\.mjs");
  const hasQemuTests = existsSync(qemuDir) && readdirSync(qemuDir).some((f) => qemuPattern.test(f));
  if (hasQemuTests) {
    const { prepareQemuTests } = await import("./lib/qemu-prepare.mjs");
    const ready = await prepareQemuTests();
    if (!ready.ok) {
      console.log(`[test] qemu: cannot run: ${ready.reason}`);
      failed += 1;
    } else {
      const r = runUvu("qemu", qemuDir, qemuPattern);
      passed += r.passed;
      failed += r.failed;
    }
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
