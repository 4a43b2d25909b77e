// The virtio console driver against the host model's console endpoint, in both transport
// versions: negotiation (SIZE only), the receiveq kept full, bytes both ways through the
// ECMA-419 Serial, flow control, size changes, misuse and a hostile device.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConsoleDeviceModel } from "../../../platform/host/devices/console-device.js";
import { ConsoleDriver, type ConsoleDriverOptions } from "../../../drivers/console/console-driver.js";
import { Serial } from "../../../drivers/console/serial.js";
import { ConsoleBusyError, ConsoleClosedError, ConsoleWriteError } from "../../../drivers/console/errors.js";
import { RingError } from "../../../ring/errors.js";
import { finish, rig, VERSIONS } from "../core/rig.js";

async function bound(version: 1 | 2, model = new ConsoleDeviceModel(), options: ConsoleDriverOptions = {}) {
  const r = rig({ version, device: model });
  const driver = new ConsoleDriver(options);
  await r.bus.register(driver);
  await r.bus.scan();
  await r.model.settle();
  return { r, model, driver, port: driver.ports()[0]!, vd: r.bus.device(31)! };
}

const text = (b: ArrayBuffer | number | undefined) => (b instanceof ArrayBuffer ? new TextDecoder().decode(b) : String(b));

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: binds at DRIVER_OK with SIZE, MULTIPORT and EMERG_WRITE as offered; the receiveq is kept full`, async () => {
    const model = new ConsoleDeviceModel({ size: { cols: 132, rows: 43 }, multiport: true, emergWrite: true });
    const { r, port, vd } = await bound(version, model);
    assert.is(vd.info().status, "DRIVER_OK");
    assert.is(vd.features & 0xffffffn, 7n, "SIZE, MULTIPORT and EMERG_WRITE negotiated");
    assert.equal(port.size, { cols: 132, rows: 43 });
    assert.is(model.rxBuffersHeld, 8, "every receive buffer is with the device");
    assert.is(port.writable, 8 * 512);
    await finish(r);
  });

  test(`${v}: SIZE alone offered: SIZE alone negotiated, port 0 on queues 0 and 1 only`, async () => {
    const model = new ConsoleDeviceModel({ size: { cols: 80, rows: 24 } });
    const { r, port, vd } = await bound(version, model);
    assert.is(vd.features & 0xffffffn, 1n);
    assert.is(port.live, true);
    assert.is(port.hostOpen, null, "no control queue: nothing known of the host end");
    await finish(r);
  });

  test(`${v}: without SIZE the size is null`, async () => {
    const { r, port } = await bound(version);
    assert.is(port.size, null);
    await finish(r);
  });

  test(`${v}: write() sends bytes and strings; onWritable first tells the room, then again as buffers return`, async () => {
    const { r, model, driver } = await bound(version);
    const writable: number[] = [];
    const serial = driver.open({ onWritable: (n) => writable.push(n) });
    await r.model.settle();
    assert.equal(writable, [4096], "one onWritable after open, from the event loop");
    serial.write("hello\n");
    serial.write(Uint8Array.of(0xc3, 0xa9));
    serial.write(new Uint8Array([65, 66]).buffer);
    assert.is(serial.writable, 4096 - 3 * 512, "three buffers in flight");
    await r.model.settle();
    assert.is(model.text, "hello\né" + "AB");
    assert.is(writable[writable.length - 1], 4096, "all room back");
    serial.write("ü→");
    await r.model.settle();
    assert.is(model.text.endsWith("ü→"), true, "UTF-8 encoded");
    serial.close();
    await finish(r);
  });

  test(`${v}: a write of many buffers' worth is split; too much throws ConsoleWriteError and sends nothing`, async () => {
    const { r, model, driver } = await bound(version);
    const serial = driver.open({});
    const big = new Uint8Array(3000).map((_, i) => i & 0xff);
    serial.write(big);
    assert.throws(() => serial.write(new Uint8Array(2000)), (e: unknown) => e instanceof ConsoleWriteError && e.length === 2000 && e.writable === 1024);
    await r.model.settle();
    assert.equal([...model.output], [...big]);
    serial.close();
    await finish(r);
  });

  test(`${v}: bytes from the device: onReadable(count), read() as ArrayBuffer, then undefined`, async () => {
    const { r, model, driver } = await bound(version);
    const counts: number[] = [];
    const serial = driver.open({ onReadable: (n) => counts.push(n) });
    assert.is(serial.read(), undefined);
    model.push("hi there");
    await r.model.settle();
    assert.equal(counts, [8]);
    assert.is(serial.readable, 8);
    assert.is(text(serial.read(3)), "hi ");
    assert.is(text(serial.read()), "there");
    assert.is(serial.read(), undefined);
    serial.format = "number";
    model.push("Z");
    await r.model.settle();
    assert.is(serial.read(), 90);
    assert.is(serial.read(), undefined);
    assert.is(model.rxBuffersHeld, 8, "receive buffers refilled after each completion");
    serial.close();
    await finish(r);
  });

  test(`${v}: bytes that arrived before open are readable; the first onReadable tells them`, async () => {
    const { r, model, driver } = await bound(version);
    model.push("early");
    await r.model.settle();
    const counts: number[] = [];
    const serial = driver.open({ onReadable: (n) => counts.push(n) });
    await r.model.settle();
    assert.equal(counts, [5]);
    assert.is(text(serial.read()), "early");
    serial.close();
    await finish(r);
  });

  test(`${v}: a large stream in small pieces arrives intact; a slow reader holds buffers back (flow control)`, async () => {
    const model = new ConsoleDeviceModel({ maxPerBuffer: 100 });
    const { r, driver, port } = await bound(version, model, { rxBuffers: 4, rxBufferSize: 128, rxLimit: 512 });
    const data = new Uint8Array(20000).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
    const got: number[] = [];
    const serial = driver.open({});
    model.push(data);
    await r.model.settle();
    assert.ok(port.readable <= 512, `unread bytes stay within rxLimit (${port.readable})`);
    assert.ok(model.pendingInput > 0, "the rest waits in the device");
    assert.ok(port.stats().rxHeld > 0);
    for (let rounds = 0; got.length < data.length && rounds < 1000; rounds++) {
      const b = serial.read();
      if (b instanceof ArrayBuffer) got.push(...new Uint8Array(b));
      await r.model.settle();
    }
    assert.is(got.length, data.length);
    assert.equal(Uint8Array.from(got), data);
    assert.is(model.rxBuffersHeld, 4, "all receive buffers back with the device");
    serial.close();
    await finish(r);
  });

  test(`${v}: a queue smaller than the buffer count (QueueNumMax 4): writable and refills follow the free descriptors`, async () => {
    const model = new ConsoleDeviceModel({ queueMaxSize: 4, maxPerBuffer: 300 });
    const { r, driver, port } = await bound(version, model);
    assert.is(model.rxBuffersHeld, 4);
    assert.is(port.writable, 4 * 512);
    const serial = driver.open({});
    const out = new Uint8Array(5000).map((_, i) => i % 251);
    let sent = 0;
    for (let rounds = 0; sent < out.length && rounds < 100; rounds++) {
      const n = Math.min(serial.writable, out.length - sent);
      serial.write(out.subarray(sent, sent + n));
      sent += n;
      await r.model.settle();
    }
    assert.equal(model.output, out);
    const input = new Uint8Array(3000).map((_, i) => (i * 3) % 256);
    model.push(input);
    const got: number[] = [];
    for (let rounds = 0; got.length < input.length && rounds < 100; rounds++) {
      await r.model.settle();
      const b = serial.read();
      if (b instanceof ArrayBuffer) got.push(...new Uint8Array(b));
    }
    assert.equal(Uint8Array.from(got), input);
    serial.close();
    await finish(r);
  });

  test(`${v}: a size change is read again on the config interrupt`, async () => {
    const model = new ConsoleDeviceModel({ size: { cols: 80, rows: 24 } });
    const { r, port, driver } = await bound(version, model);
    const serial = driver.open({});
    model.setSize(100, 30);
    await r.model.settle();
    assert.equal(port.size, { cols: 100, rows: 30 });
    assert.equal(serial.size, { cols: 100, rows: 30 });
    assert.is(port.stats().resizes, 1);
    serial.close();
    await finish(r);
  });

  test(`${v}: one Serial at a time; close() twice is safe; methods after close throw`, async () => {
    const { r, driver, port } = await bound(version);
    const first = driver.open({});
    assert.throws(() => driver.open({}), (e: unknown) => e instanceof ConsoleBusyError);
    first.close();
    first.close();
    assert.throws(() => first.read(), (e: unknown) => e instanceof ConsoleClosedError);
    assert.throws(() => first.write("x"), (e: unknown) => e instanceof ConsoleClosedError);
    const second = new Serial({ port: "hvc0" }, () => port);
    second.close();
    await finish(r);
  });

  test(`${v}: bad options throw before the port is taken`, async () => {
    const { r, driver, port } = await bound(version);
    assert.throws(() => driver.open({ format: "text" as "buffer" }), RangeError);
    assert.throws(() => driver.open({ onReadable: 5 as unknown as () => void }), TypeError);
    assert.throws(() => new Serial(null as never, () => port), TypeError);
    assert.is(port.opened, false);
    const s = driver.open({ format: "number" });
    assert.throws(() => s.write(256), RangeError);
    s.close();
    await finish(r);
  });

  test(`${v}: a used length on a receive buffer beyond its size: RingError, onError, driver stays bound, restart recovers`, async () => {
    const { r, model, driver, port, vd } = await bound(version);
    const errors: Error[] = [];
    const serial = driver.open({ onError: (e) => errors.push(e) });
    r.dev.faults.usedLenExtra = 1000;
    model.push("x");
    await r.model.settle();
    r.dev.faults.usedLenExtra = 0;
    assert.instance(errors[0], RingError);
    assert.instance(port.broken, RingError);
    assert.is(vd.driver, driver);
    assert.is(serial.read(), undefined, "nothing read from the bad buffer");
    assert.throws(() => serial.write("y"), (e: unknown) => e instanceof RingError);
    r.model.clearViolations();
    assert.ok(await vd.restart());
    await r.model.settle();
    assert.is(port.broken, null);
    serial.write("after\n");
    model.push("ok");
    await r.model.settle();
    assert.ok(model.text.endsWith("after\n"));
    assert.is(text(serial.read()), "ok");
    serial.close();
    await finish(r);
  });

  test(`${v}: a device that writes into a transmit buffer breaks the ring; nothing escapes`, async () => {
    const { r, driver, port } = await bound(version);
    const errors: Error[] = [];
    const serial = driver.open({ onError: (e) => errors.push(e) });
    r.dev.faults.usedLenExtra = 4;
    serial.write("abc");
    await r.model.settle();
    r.dev.faults.usedLenExtra = 0;
    assert.instance(errors[0], RingError);
    assert.instance(port.broken, RingError);
    r.model.clearViolations();
    serial.close();
    await finish(r);
  });

  test(`${v}: DEVICE_NEEDS_RESET: the core re-initializes; the same Serial goes on working`, async () => {
    const { r, model, driver, port, vd } = await bound(version);
    const errors: Error[] = [];
    const serial = driver.open({ onError: (e) => errors.push(e) });
    r.dev.needsReset();
    await r.model.settle();
    await vd.settled();
    assert.is(errors[0]?.name, "DeviceRemovedError", "told of the reset");
    assert.is(vd.info().status, "DRIVER_OK");
    assert.is(driver.ports()[0], port, "the same port");
    await r.model.settle();
    assert.is(model.rxBuffersHeld, 8, "receive buffers posted again");
    serial.write("again\n");
    model.push("back");
    await r.model.settle();
    assert.ok(model.text.endsWith("again\n"));
    assert.is(text(serial.read()), "back");
    serial.close();
    await finish(r);
  });

  test(`${v}: unbind: onError(DeviceRemovedError), buffers freed, the port is closed for good`, async () => {
    const { r, driver } = await bound(version);
    const errors: Error[] = [];
    const serial = driver.open({ onError: (e) => errors.push(e) });
    serial.write("pending");
    await r.bus.unregister(driver);
    assert.is(errors[0]?.name, "DeviceRemovedError");
    assert.throws(() => serial.write("x"), (e: unknown) => (e as Error).name === "DeviceRemovedError");
    assert.is(driver.ports().length, 0);
    serial.close();
    await finish(r);
  });
}

test.run();
