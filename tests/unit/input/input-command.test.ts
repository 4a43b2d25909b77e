// The shell's `input` command on the host model: `input watch` prints events in order
// until N (EV_SYN left out unless --syn) or Ctrl-C; `input info`; usage errors.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { inputCommand } from "../../../apps/shell/commands/input.js";
import { InputDeviceModel, tabletModelOptions } from "../../../platform/host/devices/input-device.js";
import { InputDriver } from "../../../drivers/input/input-driver.js";
import { finish, rig, VERSIONS } from "../core/rig.js";
import { modelShell } from "../shell/shell-rig.js";

async function setup(version: 1 | 2, model: InputDeviceModel | null = new InputDeviceModel(), second?: InputDeviceModel) {
  const r = model === null ? rig({ version }) : rig({ version, device: model });
  if (second) r.model.attach(30, second, { version });
  const driver = new InputDriver();
  await r.bus.register(driver);
  await r.bus.scan();
  const { shell, uart, run } = modelShell(r, [inputCommand(driver)]);
  await run("batch on");
  return { r, shell, uart, run };
}

const KEYS = [30, 48, 46]; // a b c

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: input watch --count 6 prints the presses in order, then ends`, async () => {
    const model = new InputDeviceModel();
    const { r, shell, uart } = await setup(version, model);
    uart.takeOutput();
    uart.type("input watch --count 6\r");
    await r.model.settle();
    assert.match(uart.output, /watching virtio-xs model keyboard for 6 events/);
    for (const k of KEYS) {
      model.key(k, true);
      model.key(k, false);
    }
    model.key(KEYS[0]!, true); // a seventh event: not printed
    await r.model.settle();
    await shell.whenIdle();
    const lines = uart.output.split("\r\n").filter((l) => l.startsWith("EV_"));
    assert.equal(lines, ["EV_KEY KEY_A 1", "EV_KEY KEY_A 0", "EV_KEY KEY_B 1", "EV_KEY KEY_B 0", "EV_KEY KEY_C 1", "EV_KEY KEY_C 0"]);
    assert.match(uart.output, /@@status 0/);
    await finish(r);
  });

  test(`${v}: input watch --syn prints EV_SYN too; Ctrl-C ends it`, async () => {
    const model = new InputDeviceModel();
    const { r, shell, uart } = await setup(version, model);
    uart.type("input watch --syn\r");
    await r.model.settle();
    model.key(KEYS[1]!, true);
    await r.model.settle();
    uart.type("\x03");
    await r.model.settle();
    await shell.whenIdle();
    assert.match(uart.output, /EV_KEY KEY_B 1\r\nEV_SYN SYN_REPORT 0\r\n/);
    assert.match(uart.output, /@@status 0/);
    await finish(r);
  });

  test(`${v}: input watch --dev 1 watches the second device (a tablet's EV_ABS)`, async () => {
    const tablet = new InputDeviceModel(tabletModelOptions());
    const { r, shell, uart, run } = await setup(version, new InputDeviceModel(), tablet);
    const info = await run("input info");
    const order = [...info.matchAll(/input (\d) at \S+: "([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`);
    const tabletIndex = order.find((o) => o.endsWith("tablet"))!.split(" ")[0];
    uart.takeOutput();
    uart.type(`input watch --dev ${tabletIndex} --count 2\r`);
    await r.model.settle();
    assert.match(uart.output, /watching virtio-xs model tablet/);
    tablet.inject([{ type: 3, code: 0, value: 1234 }, { type: 3, code: 1, value: 32767 }]);
    await r.model.settle();
    await shell.whenIdle();
    assert.match(uart.output, /EV_ABS ABS_X 1234\r\nEV_ABS ABS_Y 32767\r\n/);
    assert.match(await run("input watch --dev 2"), /no input device 2 \(there are 2\)[\s\S]*@@status 1/);
    await finish(r);
  });

  test(`${v}: input info describes the device`, async () => {
    const { r, run } = await setup(version, new InputDeviceModel(tabletModelOptions()));
    const out = await run("input info");
    assert.match(out, /"virtio-xs model tablet" serial "tab-0001"/);
    assert.match(out, /ids     bus 0x0006 vendor 0x0627 product 0x0003/);
    assert.match(out, /EV_ABS  2 codes/);
    assert.match(out, /ABS_X   0\.\.32767/);
    await finish(r);
  });
}

test("input: no device, bad arguments: a message and status 1", async () => {
  const { r, run } = await setup(2, null);
  assert.match(await run("input watch"), /no virtio input device[\s\S]*@@status 1/);
  const { r: r2, run: run2 } = await setup(2);
  assert.match(await run2("input frob"), /unknown input command: frob[\s\S]*@@status 1/);
  assert.match(await run2("input watch --count 0"), /bad argument: --count[\s\S]*@@status 1/);
  assert.match(await run2("input watch --count"), /bad argument/);
  await finish(r);
  await finish(r2);
});

test.run();
