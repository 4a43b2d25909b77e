// virtio-input on QEMU (virtio-keyboard-device), legacy and modern: key presses sent with
// QMP `input-send-event` show up in `input watch` in order.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bootShell } from "./lib/firmware.mjs";

const key = (qcode, down) => ({ type: "key", data: { down, key: { type: "qcode", data: qcode } } });

for (const legacy of [false, true]) {
  const mode = legacy ? "legacy" : "modern";
  test(`${mode}: QMP key presses arrive in order`, async () => {
    const m = await bootShell({ legacy, devices: ["virtio-keyboard-device"] });
    try {
      const info = await m.command("input info");
      assert.is(info.status, 0, info.output);
      // LEDs through the statusq first: QEMU's used length for them must not break anything.
      const led = await m.command('js (() => { const k = input.open({}); k.setLed(1, true); k.setLed(1, false); k.close(); return "led ok" })()');
      assert.is(led.status, 0, led.output);
      const watch = await m.begin("input watch --count 6");
      await watch.waitFor(/watching/, 10000);
      for (const q of ["a", "b", "c"]) {
        await m.qmp("input-send-event", { events: [key(q, true)] });
        await m.qmp("input-send-event", { events: [key(q, false)] });
      }
      const r = await watch.finish({ timeoutMs: 10000 });
      assert.is(r.status, 0, r.output);
      const keys = r.output.split("\n").filter((l) => /^EV_KEY /.test(l.trim())).map((l) => l.trim());
      assert.equal(keys, ["EV_KEY KEY_A 1", "EV_KEY KEY_A 0", "EV_KEY KEY_B 1", "EV_KEY KEY_B 0", "EV_KEY KEY_C 1", "EV_KEY KEY_C 0"]);
      const devices = await m.command("devices");
      assert.not.match(devices.output, /error:/, devices.output);
      const stats = await m.command("js input.ports()[0].stats().statusSent");
      assert.is(stats.output.trim(), "2");
    } finally {
      await m.close();
    }
  });
}

for (const legacy of [false, true]) {
  const mode = legacy ? "legacy" : "modern";
  test(`${mode}: a tablet's absolute moves and button reach input watch --dev`, async () => {
    const m = await bootShell({ legacy, devices: ["virtio-keyboard-device", "virtio-tablet-device"] });
    try {
      const info = await m.command("input info");
      assert.is(info.status, 0, info.output);
      assert.match(info.output, /ABS_X   0\.\.32767/);
      const dev = /input (\d) at \S+: "QEMU Virtio Tablet"/.exec(info.output)?.[1];
      assert.ok(dev !== undefined, info.output);
      const watch = await m.begin(`input watch --dev ${dev} --count 3`);
      await watch.waitFor(/watching/, 10000);
      await m.qmp("input-send-event", { events: [
        { type: "abs", data: { axis: "x", value: 1000 } },
        { type: "abs", data: { axis: "y", value: 2000 } },
      ] });
      await m.qmp("input-send-event", { events: [{ type: "btn", data: { down: true, button: "left" } }] });
      const r = await watch.finish({ timeoutMs: 10000 });
      assert.is(r.status, 0, r.output);
      const events = r.output.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("EV_"));
      assert.equal(events, ["EV_ABS ABS_X 1000", "EV_ABS ABS_Y 2000", "EV_KEY BTN_LEFT 1"]);
    } finally {
      await m.close();
    }
  });
}

test.run();
