// virtio-xs/hil (hil/): what the library adds to the harness. Against a tiny fake guest
// (no firmware): errors that name what they waited for and show the console's last lines,
// parallel boards with nothing shared, clean-up when the test throws and when the process
// is killed. With the firmware: disk copies leave the original alone, run({check}),
// console ports both ways.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Board, QemuError, QemuTimeoutError, fileCrc32, makeRandomImage, withBoard } from "virtio-xs/hil";
import { fakeGuest } from "./lib/fake-guest.mjs";
import { bootShell, ROOT } from "./lib/firmware.mjs";

const scratch = mkdtempSync(join(tmpdir(), "virtio-hil-test-"));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const fake = (name, text) => fakeGuest(join(scratch, name), text);

/** True while a process of the group runs (zombies, dead but not yet reaped by init, are not). */
function groupAlive(pgid) {
  try { process.kill(-pgid, 0); } catch { return false; }
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    let stat;
    try { stat = readFileSync(`/proc/${pid}/stat`, "utf8"); } catch { continue; }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // state ppid pgrp ...
    if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
  }
  return false;
}

test("a timeout names what it waited for and shows the console's last lines", async () => {
  const b = await Board.boot({ name: "chatty", ...fake("chatty.bin", "first line\r\nsecond line\r\n"), prompt: "second line", batch: false });
  try {
    const err = await b.waitFor(/never printed/, 300).then(() => null, (e) => e);
    assert.instance(err, QemuTimeoutError);
    assert.match(err.message, /^chatty: timed out after 300 ms waiting for \/never printed\//);
    assert.match(err.message, /the last 20 lines of its console ---\nfirst line\nsecond line/);
    assert.is(b.log, "first line\r\nsecond line\r\n");
  } finally {
    await b.close();
  }
});

test("boards in parallel share no temp dir, socket or forwarded port; all gone after close", async () => {
  const opts = { ...fake("quiet.bin", "up\r\n"), prompt: "up", batch: false, consoles: 2, net: { forward: ["udp:7", "tcp:80"] } };
  const boards = await Board.bootAll([opts, opts, opts]);
  const dirs = boards.map((b) => b.tempDir);
  try {
    const paths = boards.flatMap((b) => [b.tempDir, ...b.consoles]);
    assert.is(new Set(paths).size, paths.length, "no path shared");
    const ports = boards.flatMap((b) => b.forwards.map((f) => `${f.protocol}:${f.hostPort}`));
    assert.is(new Set(ports).size, 6, "no host port shared");
    assert.is(boards[1].hostPort(80, "tcp"), boards[1].forwards[1].hostPort);
    for (const b of boards) assert.is((await b.qmp("query-status")).status, "running");
    // QMP events: connected at boot, so none is missed; each board sees only its own.
    await boards[0].qmp("stop");
    assert.is((await boards[0].waitEvent("STOP", { timeoutMs: 5000 })).event, "STOP");
    assert.not.ok((await boards[1].qmpClient()).events.some((e) => e.event === "STOP"));
    const port = await boards[2].console(1);
    assert.is(port.path, boards[2].consoles[1]);
  } finally {
    await Promise.all(boards.map((b) => b.close()));
  }
  for (const b of boards) assert.not.ok(groupAlive(b.machine.pid), "QEMU's process group is gone");
  for (const d of dirs) assert.not.ok(existsSync(d), "temp dir removed");
});

test("withBoard: a throwing test still kills QEMU and removes the temp dir", async () => {
  let board;
  const err = await withBoard({ ...fake("t.bin", "ok\r\n"), prompt: "ok", batch: false }, (b) => {
    board = b;
    throw new Error("the test failed");
  }).then(() => null, (e) => e);
  assert.is(err.message, "the test failed");
  assert.not.ok(groupAlive(board.machine.pid));
  assert.not.ok(existsSync(board.tempDir));
});

test("powerCut: QEMU is SIGKILLed at once; the temp dir stays until close()", async () => {
  const b = await Board.boot({ ...fake("cut.bin", "on\r\n"), prompt: "on", batch: false });
  const { pid } = b.machine;
  await b.powerCut();
  assert.ok(b.exit !== null, "QEMU has exited");
  assert.not.ok(b.running);
  // The group's other members (if any) get the same SIGKILL; under load the kernel may take a
  // moment to take them down, so look for up to 2 s.
  for (let i = 0; i < 40 && groupAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.not.ok(groupAlive(pid));
  assert.ok(existsSync(b.tempDir), "the temp dir stays until close()");
  await b.close();
  assert.not.ok(existsSync(b.tempDir));
});

test("bad options fail before anything starts, with the option's name", async () => {
  assert.throws(() => new Board({ consoles: -1 }), /consoles must be a count/);
  assert.throws(() => new Board({ disks: "a.img" }), /disks must be an array/);
  const err = await Board.boot({ firmware: join(scratch, "missing.elf") }).then(() => null, (e) => e);
  assert.match(err.message, /no firmware file at .*missing\.elf/);
  const disk = await Board.boot({ ...fake("d.bin", ""), disks: [join(scratch, "none.img")] }).then(() => null, (e) => e);
  assert.match(disk.message, /disks\[0\]: no image at/);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  test(`${signal} to the process: its boards' QEMU and temp dirs are gone`, async () => {
    const script = `import { Board } from "virtio-xs/hil";
const b = await Board.boot({ ...${JSON.stringify(fake("sig.bin", "ready\r\n"))}, prompt: "ready", batch: false });
console.log(JSON.stringify({ pid: b.machine.pid, dir: b.tempDir }));
setInterval(() => {}, 1000);`;
    const file = join(ROOT, "tests", "qemu", "lib", `.signal-${process.pid}.mjs`); // inside the package: resolves virtio-xs/hil
    writeFileSync(file, script);
    try {
      const child = spawn(process.execPath, [file], { stdio: ["ignore", "pipe", "inherit"] });
      const line = await new Promise((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => { out += d; if (out.includes("\n")) resolve(out.split("\n")[0]); });
        child.once("exit", (code) => reject(new Error(`child exited (${code}) before booting: ${out}`)));
      });
      const { pid, dir } = JSON.parse(line);
      assert.ok(groupAlive(pid) && existsSync(dir));
      const exited = new Promise((r) => child.once("exit", (code, sig) => r({ code, sig })));
      child.kill(signal);
      const x = await exited;
      assert.is(x.code, signal === "SIGTERM" ? 143 : 130);
      for (let i = 0; i < 50 && groupAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
      assert.not.ok(groupAlive(pid), "no QEMU left behind");
      assert.not.ok(existsSync(dir), "no temp dir left behind");
    } finally {
      rmSync(file, { force: true });
    }
  });
}

test("firmware: a copied disk takes the writes, the original stays; run({check}) throws on failure", async () => {
  const original = makeRandomImage(join(scratch, "orig.img"), 1 << 20, 5);
  const before = fileCrc32(original);
  const b = await bootShell({ disks: [{ path: original, copy: true }], consoles: 1 });
  try {
    assert.is.not(b.disks[0].path, original);
    assert.ok(b.disks[0].path.startsWith(b.tempDir));
    assert.equal(await b.run("blk read 0 2048"), { output: `crc32=${before}`, status: 0 });
    await b.run("blk fill 0 4 77", { check: true });
    await b.run("blk flush", { check: true });
    const err = await b.run("blk read 999999 1", { check: true }).then(() => null, (e) => e);
    assert.instance(err, QemuError);
    assert.match(err.message, /`blk read 999999 1` failed with status 1: BlkRangeError/);
    // The console port both ways: the guest's echo returns what the host wrote.
    const port = await b.console(0);
    const echo = await b.begin("console echo");
    await echo.waitFor(/echoing/, 10000);
    await port.write("ping over virtio-console\n");
    const m = await port.waitFor(/ping over (\S+)\n/);
    assert.is(m[1], "virtio-console");
    await port.write("quit\n");
    assert.is((await echo.finish({ timeoutMs: 10000 })).status, 0);
    assert.is(await b.poweroff(), 0);
    await b.powerCut(); // after the exit: nothing left to kill, and fine
    const saved = b.saveDisk(0, join(scratch, "saved.img"));
    assert.ok(readFileSync(saved).subarray(0, 4 * 512).every((x) => x === 0x77), "the copy holds the writes");
  } finally {
    await b.close();
  }
  assert.is(fileCrc32(original), before, "the original image is unchanged");
});

test("index.d.ts declares exactly what index.mjs exports, and a typed use compiles (tsc strict)", async () => {
  const lib = await import("virtio-xs/hil");
  const dts = readFileSync(join(ROOT, "hil", "index.d.ts"), "utf8");
  const declared = [...dts.matchAll(/^export declare (?:class|function|const) (\w+)/gm)].map((m) => m[1]).sort();
  assert.equal(declared, Object.keys(lib).sort());
  const file = join(ROOT, "tests", "qemu", "lib", `.types-${process.pid}.ts`);
  writeFileSync(file, `import { Board, withBoards, QemuTimeoutError, type BoardOptions, type RunResult } from "virtio-xs/hil";
const opts: BoardOptions = { disks: ["a.img", { path: "b.img", copy: true, serial: "s" }], rng: true, consoles: 1,
  net: { forward: [{ protocol: "udp", guest: 7 }, "tcp:80"] }, devices: ["virtio-keyboard-device", { disk: "c.img" }] };
export async function use(): Promise<string> {
  const b: Board = await Board.boot(opts);
  const r: RunResult = await b.run("blk read 0 1", { check: true });
  const m = await b.waitFor(/x/, { timeoutMs: 10 });
  const port = await b.console(0);
  await port.write(new Uint8Array([1]));
  const e = await b.waitEvent("STOP", { timeoutMs: 1 });
  await withBoards([opts, { firmware: "f.elf" }], async ([x, y]) => x!.hostPort(7) + y!.bootMs!);
  const err: unknown = null;
  if (err instanceof QemuTimeoutError) return err.transcript;
  await b.close();
  return r.output + m.before + port.text + e.event + b.log + String(b.exit?.code);
}
`);
  // skipLibCheck (old @types/node vs this TypeScript) skips every .d.ts: a copy as .ts has its own declarations checked.
  const copy = join(ROOT, "tests", "qemu", "lib", `.hil-dts-${process.pid}.ts`);
  writeFileSync(copy, dts);
  try {
    const { spawnSync } = await import("node:child_process");
    const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict", "--skipLibCheck", "--target", "es2022",
      "--module", "nodenext", "--moduleResolution", "nodenext", "--types", "node", "--lib", "es2022,esnext.disposable", file, copy], { cwd: ROOT, encoding: "utf8" });
    assert.is(tsc.status, 0, tsc.stdout + tsc.stderr);
  } finally {
    rmSync(file, { force: true });
    rmSync(copy, { force: true });
  }
});

test.run();
