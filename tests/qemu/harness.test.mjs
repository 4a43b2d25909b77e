// The harness itself (tools/lib/qemu*.mjs under virtio-xs/hil's Board), without the
// firmware: the command line it builds, and its waits, errors and clean-up against a tiny
// fake guest on real QEMU.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildQemuCommand, stripHarnessOwned } from "../../tools/lib/qemu-board.mjs";
import { Board, QemuExitError, QemuFatalError, QemuTimeoutError, QmpError } from "virtio-xs/hil";
import { fakeGuest } from "./lib/fake-guest.mjs";

const scratch = mkdtempSync(join(tmpdir(), "virtio-harness-test-"));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

const valueAfter = (args, flag) => args.filter((_, i) => args[i - 1] === flag);

test("command line: modern by default, legacy on request, no default NIC", () => {
  const modern = buildQemuCommand({ elf: "fw.elf", tempDir: scratch }).args;
  assert.ok(valueAfter(modern, "-global").includes("virtio-mmio.force-legacy=false"));
  assert.equal(valueAfter(modern, "-nic"), ["none"]);
  assert.equal(valueAfter(modern, "-kernel"), ["fw.elf"]);
  assert.equal(valueAfter(modern, "-serial"), ["stdio"]);
  const legacy = buildQemuCommand({ elf: "fw.elf", legacy: true, tempDir: scratch }).args;
  assert.not.ok(legacy.includes("virtio-mmio.force-legacy=false"));
});

test("command line: devices keep their order; disks, nets and consoles expand", () => {
  const cmd = buildQemuCommand({
    elf: "fw.elf",
    tempDir: scratch,
    devices: [{ disk: "/x/a,b.img" }, "virtio-rng-device", { net: { hostfwd: ["udp:127.0.0.1:5555-:7"] } }, { console: true }],
  });
  assert.equal(valueAfter(cmd.args, "-device"), [
    "virtio-blk-device,drive=d0",
    "virtio-rng-device",
    "virtio-net-device,netdev=net0",
    "virtio-serial-device",
    "virtconsole,chardev=con0",
  ]);
  assert.equal(valueAfter(cmd.args, "-drive"), ["if=none,id=d0,format=raw,file=/x/a,,b.img"]);
  assert.equal(valueAfter(cmd.args, "-netdev"), ["user,id=net0,hostfwd=udp:127.0.0.1:5555-:7"]);
  assert.equal(cmd.consoles, [join(scratch, "con0.sock")]);
});

test("command line: PCI items become virtio-*-pci with their properties; PCI NICs load no boot ROM", () => {
  const cmd = buildQemuCommand({
    elf: "fw.elf",
    tempDir: scratch,
    devices: [{ disk: "/x/a.img", pci: "disable-modern=on,disable-legacy=off" }, "virtio-rng-pci", { net: true, pci: true }, { console: true, pci: "vectors=0" }, "virtio-net-pci,netdev=n9"],
  });
  assert.equal(valueAfter(cmd.args, "-device"), [
    "virtio-blk-pci,disable-modern=on,disable-legacy=off,drive=d0",
    "virtio-rng-pci",
    "virtio-net-pci,netdev=net0,romfile=",
    "virtio-serial-pci,vectors=0",
    "virtconsole,chardev=con0",
    "virtio-net-pci,netdev=n9,romfile=",
  ]);
});

test("board arguments: the harness's own options are dropped", () => {
  const args = stripHarnessOwned(["-M", "virt", "-nographic", "-serial", "mon:stdio", "-kernel", "x.elf", "-m", "128M",
    "-global", "virtio-mmio.force-legacy=false", "-nic", "none"]);
  assert.equal(args, ["-M", "virt", "-m", "128M"]);
});

const fake = (name, text) => fakeGuest(join(scratch, name), text);

test("boot to a prompt without batch mode, QMP answers, close() kills QEMU and cleans up", async () => {
  const m = new Board({ ...fake("prompt.bin", "banner\r\nvirtio> "), batch: false, bootTimeoutMs: 10000 });
  try {
    await m.start();
    assert.is(m.banner, "banner");
    assert.ok(m.bootMs > 0);
    const st = await m.qmp("query-status");
    assert.is(st.status, "running");
    assert.ok(existsSync(m.tempDir));
  } finally {
    await m.close();
  }
  assert.ok(m.exit !== null, "QEMU has exited");
  assert.not.ok(existsSync(m.tempDir), "temp dir removed");
  await m.close(); // twice is fine
});

test("QMP: errors carry QEMU's class, events are delivered", async () => {
  const m = new Board({ ...fake("qmp.bin", "x"), prompt: null });
  try {
    await m.start();
    const err = await m.qmp("no-such-command").then(() => null, (e) => e);
    assert.instance(err, QmpError);
    assert.is(err.qmpError.class, "CommandNotFound");
    const client = await m.qmpClient();
    const stopped = client.waitEvent("STOP", { timeoutMs: 5000 });
    await m.qmp("stop");
    assert.is((await stopped).event, "STOP");
    assert.is((await m.qmp("query-status")).status, "paused");
    await m.qmp("cont");
    await client.waitEvent("RESUME", { timeoutMs: 5000 });
  } finally {
    await m.close();
  }
});

test("a silent guest: the boot wait times out cleanly and QEMU is gone", async () => {
  const m = new Board({ ...fake("silent.bin", ""), bootTimeoutMs: 300 });
  const err = await m.start().then(() => null, (e) => e);
  assert.instance(err, QemuTimeoutError);
  assert.ok(m.exit !== null);
  assert.not.ok(existsSync(m.tempDir));
});

test("a FATAL line ends the wait with QemuFatalError carrying the message", async () => {
  const m = new Board({ ...fake("fatal.bin", "booting\r\nFATAL: out of memory\r\n"), bootTimeoutMs: 10000 });
  const err = await m.start().then(() => null, (e) => e);
  assert.instance(err, QemuFatalError);
  assert.match(err.message, "FATAL: out of memory");
});

test("QEMU quitting during a wait rejects it with QemuExitError", async () => {
  const m = new Board({ ...fake("quit.bin", "x"), prompt: null });
  try {
    await m.start();
    const wait = m.waitFor("never printed", 10000);
    await m.qmp("quit").catch(() => {}); // the connection may close before the answer
    const err = await wait.then(() => null, (e) => e);
    assert.instance(err, QemuExitError);
    assert.is(m.exit.code, 0);
  } finally {
    await m.close();
  }
});

test.run();
