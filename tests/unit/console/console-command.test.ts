// The shell's `console` command on the host model: `console write` reaches the console
// endpoint, `console echo` echoes until a line `quit`, `console info`, and the errors.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { consoleCommand } from "../../../apps/shell/commands/console.js";
import { ConsoleDeviceModel, type ConsoleDeviceOptions } from "../../../platform/host/devices/console-device.js";
import { ConsoleDriver } from "../../../drivers/console/console-driver.js";
import { finish, rig, VERSIONS } from "../core/rig.js";
import { modelShell } from "../shell/shell-rig.js";

async function setup(version: 1 | 2, withDevice = true, options: ConsoleDeviceOptions = { size: { cols: 80, rows: 25 } }) {
  const model = new ConsoleDeviceModel(options);
  const r = withDevice ? rig({ version, device: model }) : rig({ version });
  const driver = new ConsoleDriver({ txBuffers: 2, txBufferSize: 64 });
  await r.bus.register(driver);
  await r.bus.scan();
  const { shell, uart, run } = modelShell(r, [consoleCommand(driver)]);
  await run("batch on").catch(() => "");
  return { r, model, shell, uart, run };
}

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: console write TEXT sends TEXT and a newline, blanks kept`, async () => {
    const { r, model, run } = await setup(version);
    const out = await run("console write hello  world");
    assert.ok(out.includes("virtio> "), out);
    assert.is(model.text, "hello  world\n");
    const long = "0123456789".repeat(100);
    await run(`console write ${long}`);
    await r.model.settle();
    assert.ok(model.text === `hello  world\n${long}\n`, "longer than the transmit buffers (2 x 64): sent in pieces");
    await finish(r);
  });

  test(`${v}: console echo echoes until a line quit`, async () => {
    const { r, model, uart, shell } = await setup(version);
    uart.takeOutput();
    uart.type("console echo\r");
    await r.model.settle();
    assert.match(uart.output, /echoing the virtio console/);
    model.push("abc\n");
    await r.model.settle();
    assert.is(model.text, "abc\n");
    model.push("line two\r\nqu");
    await r.model.settle();
    model.push("it\n");
    await r.model.settle();
    await shell.whenIdle();
    assert.is(model.text, "abc\nline two\r\nquit\n");
    assert.match(uart.output, /echo ended \(quit\): 19 bytes echoed/);
    model.push("not echoed\n");
    await r.model.settle();
    assert.is(model.text, "abc\nline two\r\nquit\n");
    await finish(r);
  });

  test(`${v}: console echo of a stream far larger than the buffers comes back intact, in order`, async () => {
    const { r, model, uart, shell } = await setup(version);
    uart.type("console echo\r");
    await r.model.settle();
    let sent = "";
    for (let i = 0; i < 400; i++) sent += `line ${i} ${"abcdefghij".repeat(i % 7)}\n`;
    model.push(sent);
    model.push("quit\n");
    await r.model.settle();
    await shell.whenIdle();
    assert.ok(model.text === sent + "quit\n", `echoed ${model.text.length} of ${sent.length + 5} bytes`);
    assert.match(uart.output, /echo ended \(quit\)/);
    await finish(r);
  });

  test(`${v}: console echo ends on Ctrl-C`, async () => {
    const { r, uart, shell } = await setup(version);
    uart.type("console echo\r");
    await r.model.settle();
    uart.type("\x03");
    await r.model.settle();
    await shell.whenIdle();
    assert.match(uart.output, /echo ended \(interrupted\)/);
    await finish(r);
  });

  test(`${v}: console info shows the size and counters`, async () => {
    const { r, run } = await setup(version);
    const out = await run("console info");
    assert.match(out, /80 cols x 25 rows/);
    assert.match(out, /received  0 bytes/);
    await finish(r);
  });
}

const MULTI: ConsoleDeviceOptions = { multiport: true, emergWrite: true, ports: [{ id: 0, console: true }, { id: 1, name: "org.test.a" }, { id: 2, name: "b", hostOpen: false }] };

for (const version of VERSIONS) {
  test(`v${version}: console ports lists id, name, open, console; write NAME TEXT goes to that port, other text to port 0`, async () => {
    const { r, model, run } = await setup(version, true, MULTI);
    await r.model.settle();
    const out = await run("console ports");
    assert.match(out, /0    0   -\s+yes\s+yes\s+live/);
    assert.match(out, /0    1   org\.test\.a\s+yes\s+no\s+live/);
    assert.match(out, /0    2   b\s+no\s+no\s+live/);
    await run("console write org.test.a hello a");
    await run("console write b  two blanks");
    await run("console write nobody here");
    await r.model.settle();
    assert.is(model.textOf(1), "hello a\n");
    assert.is(model.textOf(2), " two blanks\n");
    assert.is(model.text, "nobody here\n", "not a port name: all of it to port 0");
    await run("console emerg boom");
    assert.is(new TextDecoder().decode(Uint8Array.from(model.emergency)), "boom\n");
    await finish(r);
  });

  test(`v${version}: console echo NAME echoes that port only`, async () => {
    const { r, model, uart, shell } = await setup(version, true, MULTI);
    await r.model.settle();
    uart.type("console echo org.test.a\r");
    await r.model.settle();
    model.pushTo(2, "for b\n");
    model.pushTo(1, "for a\nquit\n");
    await r.model.settle();
    await shell.whenIdle();
    assert.is(model.textOf(1), "for a\nquit\n");
    assert.is(model.textOf(2), "");
    assert.match(uart.output, /echoing port org\.test\.a/);
    assert.match(uart.output, /echo ended \(quit\): 11 bytes echoed/);
    await finish(r);
  });
}

test("console with no device, or a bad subcommand: a message, status 1", async () => {
  const { r, run } = await setup(2, false);
  assert.match(await run("console write hi"), /no virtio console device/);
  const { r: r2, run: run2 } = await setup(2);
  const bad = await run2("console frob");
  assert.match(bad, /unknown console command: frob/);
  assert.match(bad, /@@status 1/);
  assert.match(await run2("console echo now"), /no console port named "now"/);
  assert.match(await run2("console info now"), /takes no arguments/);
  await finish(r);
  await finish(r2);
});

test.run();
