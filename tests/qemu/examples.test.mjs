// The five examples of examples/ on QEMU (modern virtio-mmio), each built with the app
// build and booted with the devices it uses: timer blink on the UART, serial echo on a
// virtio console, UDP echo through user networking (link and address events), keyboard
// logger through QMP, flash read / write / erase on a disk image checked from the host.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./lib/firmware.mjs";
import { bootApp } from "./lib/app.mjs";
import { freeUdpPort, udpRoundTrips } from "./lib/udp.mjs";
import { makeRandomImage } from "../../tools/lib/disk-image.mjs";

const example = (name) => join(ROOT, "examples", name);

test("timer-blink: eight blinks with Timer.repeat, then Timer.clear", async () => {
  const m = await bootApp(example("timer-blink"), { ready: /timer-blink: 8 blinks every 250 ms/ });
  try {
    await m.waitFor(/blink done/, 15000);
    for (let n = 1; n <= 8; n++) assert.match(m.transcript, `virtio-xs ${n}`);
  } finally {
    await m.close();
  }
});

test("serial-echo: 16 KiB sent to hvc0 come back intact and in order", async () => {
  const m = await bootApp(example("serial-echo"), { ready: /echoing hvc0/, devices: [{ console: true }] });
  const sock = connect(m.consoles[0]);
  try {
    await new Promise((resolve, reject) => { sock.once("connect", resolve); sock.once("error", reject); });
    let got = "";
    let text = "";
    for (let i = 0; text.length < 16384; i++) text += `line ${i} ${"abcdefghij".repeat(i % 9)}\n`;
    const back = new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`echo incomplete: ${got.length} of ${text.length} bytes`)), 20000);
      sock.on("data", (b) => {
        got += b.toString("latin1");
        if (got.length >= text.length) { clearTimeout(t); resolve(); }
      });
    });
    sock.write(text);
    await back;
    assert.is(got, text);
  } finally {
    sock.destroy();
    await m.close();
  }
});

test("udp-echo: link and address events, then a host client's datagrams come back", async () => {
  const port = await freeUdpPort();
  const m = await bootApp(example("udp-echo"), { ready: /echoing UDP port 7/, devices: [{ net: { hostfwd: [`udp:127.0.0.1:${port}-:7`] } }] });
  try {
    await m.waitFor(/udp-echo: link up/, 10000);
    await m.waitFor(/udp-echo: address 10\.0\.2\.15/, 20000);
    assert.match(m.transcript, /MAC 52:54:00:/);
    const back = await udpRoundTrips(port, 50);
    assert.is(back.length, 50);
    await m.qmp("set_link", { name: "net0", up: false });
    await m.waitFor(/udp-echo: link down/, 5000);
  } finally {
    await m.close();
  }
});

const key = (qcode, down) => ({ type: "key", data: { down, key: { type: "qcode", data: qcode } } });

test("keyboard-logger: QMP key presses are logged in order", async () => {
  const m = await bootApp(example("keyboard-logger"), { ready: /keyboard-logger: \S/, devices: ["virtio-keyboard-device"] });
  try {
    for (const q of ["a", "b"]) {
      await m.qmp("input-send-event", { events: [key(q, true)] });
      await m.qmp("input-send-event", { events: [key(q, false)] });
    }
    // The whole last line, its newline too: "\r" may arrive in one read and "\n" in the next.
    await m.waitFor(/key 48 up\r?\n/, 10000);
    const keys = m.transcript.split(/\r?\n/).filter((l) => /^key /.test(l));
    assert.equal(keys, ["key 30 down", "key 30 up", "key 48 down", "key 48 up"]);
  } finally {
    await m.close();
  }
});

test("flash-demo: erase, write, read back on blk0; the host image holds the result", async () => {
  const dir = mkdtempSync(join(tmpdir(), "virtio-flash-demo-"));
  try {
    const image = join(dir, "disk.img");
    makeRandomImage(image, 1 << 20, 7);
    const before = readFileSync(image);
    const m = await bootApp(example("flash-demo"), { ready: /flash-demo: blk0 is 1048576 bytes, 256 blocks of 4096/, devices: [{ disk: image }] });
    try {
      await m.waitFor(/flash-demo: done/, 20000);
      assert.match(m.transcript, "block 1 erased: all 0xff");
      assert.match(m.transcript, 'read back "hello from flash-demo"');
    } finally {
      m.killNow(); // a power cut right after: close() flushed, nothing may be missing
      await m.close();
    }
    const after = readFileSync(image);
    const expected = Buffer.from(before);
    expected.fill(0xff, 4096, 8192);
    expected.write("hello from flash-demo", 4096 + 100, "latin1");
    assert.ok(after.equals(expected), "exactly block 1 changed: erased, with the message at 100");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
