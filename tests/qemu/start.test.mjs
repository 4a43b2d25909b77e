// `npm start -- --run ...` end to end: output, exit status, the default devices.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { which } from "../../tools/lib/system-deps.mjs";
import { FIRMWARE_ELF, ROOT, jsonLine, mmioSlot } from "./lib/firmware.mjs";

function start(...args) {
  const r = spawnSync(process.execPath, [join(ROOT, "tools", "start.mjs"), "--elf", FIRMWARE_ELF, "--timeout", "60", ...args], {
    cwd: ROOT, encoding: "utf8", timeout: 90000,
  });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

test("--run prints each command's output and exits 0 when all succeed", () => {
  const r = start("--no-defaults", "--run", "js 6*7", "--run", "js Promise.resolve(5)");
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").map((l) => l.trim()), ["42", "5"]);
});

test("--run exits non-zero when a command fails, and runs the ones after it", () => {
  const r = start("--no-defaults", "--run", "js null.x", "--run", "js 1+1");
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stdout, "TypeError");
  assert.match(r.stdout, /\b2\b/);
});

test("the default devices: blk, rng, console, net, input, legacy with --legacy", () => {
  const r = start("--legacy", "--run", "devices --json");
  assert.is(r.code, 0, r.stderr);
  const list = jsonLine(r.stdout);
  const ids = list.map((d) => d.deviceId);
  assert.equal(ids.slice().sort((a, b) => a - b), [1, 2, 3, 4, 18]);
  assert.ok(list.every((d) => d.version === 1));
  const bySlot = Object.fromEntries(list.map((d) => [d.slot, d.deviceId]));
  // tools/start.mjs's order: disk, rng, console, net, keyboard, from the top slot down.
  assert.equal(bySlot, Object.fromEntries([2, 4, 3, 1, 18].map((id, n) => [mmioSlot(n).slot, id])));
});

// `script` (util-linux, essential on Debian) provides the pseudo-terminal.
const interactive = which("script") ? test : test.skip;
interactive("interactive: the terminal reaches the shell, Ctrl-A X quits QEMU", async () => {
  // `script` gives the session a pseudo-terminal, as a user's terminal would be.
  const cmd = `${process.execPath} ${join(ROOT, "tools", "start.mjs")} --elf ${FIRMWARE_ELF} --no-defaults --timeout 60`;
  const child = spawn("script", ["-q", "--echo", "never", "-e", "-c", cmd, "/dev/null"], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (b) => { out += b.toString(); });
  // One collector above; each wait only watches it (a collector per wait would copy every
  // later chunk once per wait, and the output would look doubled).
  const seen = (re) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${re} in ${JSON.stringify(out.slice(-500))}`)), 20000);
    const check = () => { if (re.test(out)) { clearTimeout(timer); child.stdout.off("data", check); resolve(); } };
    child.stdout.on("data", check);
    check();
  });
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    await seen(/virtio> /);
    child.stdin.write("js 6*7\r");
    await seen(/\b42\b/);
    child.stdin.write("\x01x"); // Ctrl-A X
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("timeout"), 10000))]);
    assert.is(code, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test.run();
