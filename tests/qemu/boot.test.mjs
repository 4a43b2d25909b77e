// The firmware boots to the shell prompt; the shell protocol works (batch mode, status,
// unknown command); `poweroff` ends QEMU with status 0.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bootShell } from "./lib/firmware.mjs";

let m;
test.before(async () => { m = await bootShell({ devices: ["virtio-rng-device"] }); });
test.after(async () => { await m?.close(); });

test("boots to `virtio> ` with a banner", () => {
  assert.ok(m.banner.length > 0, "a banner before the prompt");
  assert.ok(m.bootMs < 20000);
});

test("help lists the commands and succeeds", async () => {
  const r = await m.command("help");
  assert.is(r.status, 0);
  for (const c of ["devices", "js", "mem", "poweroff"]) assert.match(r.output, c);
});

test("an unknown command fails with a clear message, the shell stays up", async () => {
  const r = await m.command("no-such-command");
  assert.is(r.status, 1);
  assert.match(r.output, /no-such-command/);
  const again = await m.command("help");
  assert.is(again.status, 0);
});

test("backspace edits the line", async () => {
  await m.write("js 1+x\x7f2\r"); // "js 1+2"
  const s = await m.waitFor(/@@status (\d+)\r?\n/, 10000);
  await m.waitFor("virtio> ", 10000);
  assert.is(s[1], "0");
  assert.match(s.before, /\b3\b/);
});

test("mem reports heap use", async () => {
  const r = await m.command("mem");
  assert.is(r.status, 0);
  assert.ok(r.output.length > 0);
});

test("poweroff ends QEMU with exit status 0", async () => {
  const code = await m.poweroff();
  assert.is(code, 0);
});

test.run();
