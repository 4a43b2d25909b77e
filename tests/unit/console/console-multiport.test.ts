// Multiport virtio-console (VIRTIO 1.2 §5.3.6.2) against the strict host model, both
// transport versions: DEVICE_READY first, ports added by the device (receive buffers
// posted, PORT_READY), named, nominated consoles (answered PORT_OPEN 1), opened and
// closed at both ends, resized, hot-plugged and removed; bytes both ways on each port's
// own queues, found by name; max_nr_ports and the driver's own port limit; and a hostile
// device (unknown ports, duplicate adds, short or oversized messages, driver-only events)
// marking the console broken with a ConsoleControlError while the driver stays bound.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { CONSOLE_CONTROL as C, ConsoleDeviceModel, type ConsoleDeviceOptions } from "../../../platform/host/devices/console-device.js";
import { ConsoleDriver, type ConsoleDriverOptions } from "../../../drivers/console/console-driver.js";
import { ConsoleControlError, ConsolePortNotFoundError } from "../../../drivers/console/errors.js";
import { finish, rig, VERSIONS } from "../core/rig.js";

const TWO_PORTS: ConsoleDeviceOptions = {
  multiport: true,
  emergWrite: true,
  ports: [{ id: 0, console: true }, { id: 1, name: "org.test.a" }, { id: 2, name: "org.test.b", hostOpen: false }],
  maxNrPorts: 4,
};

async function bound(version: 1 | 2, options: ConsoleDeviceOptions = TWO_PORTS, driverOptions: ConsoleDriverOptions = {}) {
  const model = new ConsoleDeviceModel(options);
  const r = rig({ version, device: model });
  const driver = new ConsoleDriver(driverOptions);
  await r.bus.register(driver);
  await r.bus.scan();
  await r.model.settle();
  return { r, model, driver, vd: r.bus.device(31)!, ports: driver.devices()[0]! };
}

const text = (b: unknown) => (b instanceof ArrayBuffer ? new TextDecoder().decode(b) : String(b));

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: DEVICE_READY, then each port added, named, opened; a console answered PORT_OPEN 1`, async () => {
    const { r, model, ports } = await bound(version);
    const log = model.control!.log;
    assert.equal(log[0], { id: 0, event: C.DEVICE_READY, value: 1 }, "DEVICE_READY first");
    for (const id of [0, 1, 2]) assert.ok(log.some((m) => m.id === id && m.event === C.PORT_READY && m.value === 1), `PORT_READY ${id}`);
    assert.ok(log.some((m) => m.id === 0 && m.event === C.PORT_OPEN && m.value === 1), "console port 0 opened (§5.3.6.2 MUST)");
    assert.equal(ports.list().map((p) => [p.id, p.name, p.hostOpen, p.isConsole]), [
      [0, null, true, true],
      [1, "org.test.a", true, false],
      [2, "org.test.b", false, false],
    ]);
    assert.is(ports.maxNrPorts, 4);
    for (const id of [1, 2]) assert.is(model.rxBuffersHeldOf(id), 8, `port ${id}'s receiveq filled`);
    await finish(r);
  });

  test(`${v}: bytes reach the Serial of the port they were sent to, and back on its own queue`, async () => {
    const { r, model, driver } = await bound(version);
    const got: Record<string, string> = { a: "", b: "" };
    const a = driver.open({ port: "org.test.a", onReadable() { got.a += text(this.read()); } });
    const b = driver.open({ port: "org.test.b", onReadable() { got.b += text(this.read()); } });
    await r.model.settle();
    const log = model.control!.log;
    assert.ok(log.some((m) => m.id === 1 && m.event === C.PORT_OPEN && m.value === 1), "the Serial opened port 1");
    model.pushTo(1, "to a\n");
    model.pushTo(2, "to b\n");
    model.push("to port 0\n");
    await r.model.settle();
    assert.equal(got, { a: "to a\n", b: "to b\n" });
    a.write("from a");
    b.write("from b");
    await r.model.settle();
    assert.is(model.textOf(1), "from a");
    assert.is(model.textOf(2), "from b");
    assert.is(model.text, "", "nothing on port 0");
    a.close();
    await r.model.settle();
    assert.ok(log.some((m) => m.id === 1 && m.event === C.PORT_OPEN && m.value === 0), "close() closed port 1");
    model.pushTo(1, "held");
    await r.model.settle();
    assert.is(got.a, "to a\n", "the device holds bytes for a closed port (as QEMU does)");
    b.close();
    assert.throws(() => driver.open({ port: "nope" }), (e: unknown) => e instanceof ConsolePortNotFoundError);
    await finish(r);
  });

  test(`${v}: hot-plug and removal; the port's Serial hears it; PORT_OPEN and RESIZE from the device`, async () => {
    const { r, model, driver, ports } = await bound(version);
    model.control!.add({ id: 3, name: "late" });
    await r.model.settle();
    const late = driver.findPort("late")!;
    assert.ok(late, "added at run time");
    const errors: string[] = [];
    const s = driver.open({ port: late, onError: (e) => errors.push(e.message) });
    model.control!.hostOpen(3, false);
    model.control!.resize(3, 100, 30);
    await r.model.settle();
    assert.is(late.hostOpen, false);
    assert.equal(late.size, { cols: 100, rows: 30 });
    model.control!.remove(3);
    await r.model.settle();
    assert.is(late.present, false);
    assert.is(late.live, false);
    assert.ok(errors.some((m) => m.includes("port removed")), errors.join());
    assert.equal(ports.list().map((p) => p.id), [0, 1, 2]);
    s.close();
    await finish(r);
  });

  test(`${v}: ports beyond the driver's maxPorts are refused with PORT_READY 0`, async () => {
    const { r, model, ports } = await bound(version, TWO_PORTS, { maxPorts: 2 });
    assert.ok(model.control!.log.some((m) => m.id === 2 && m.event === C.PORT_READY && m.value === 0));
    assert.equal(ports.list().map((p) => p.id), [0, 1]);
    await finish(r);
  });

  test(`${v}: a name with a NUL terminator (as QEMU sends it) ends at the NUL`, async () => {
    const { r, model, ports } = await bound(version);
    model.control!.add({ id: 3 });
    await r.model.settle();
    model.control!.send(3, C.PORT_NAME, 0, new TextEncoder().encode("with.nul\0"));
    await r.model.settle();
    assert.is(ports.find("with.nul")?.id, 3);
    await finish(r);
  });

  test(`${v}: emergency write goes to emerg_wr byte by byte`, async () => {
    const { r, model, driver } = await bound(version);
    assert.is(driver.emergencyWrite("panic: é"), true);
    assert.equal(model.emergency, [...new TextEncoder().encode("panic: é")]);
    await finish(r);
  });

  test(`${v}: without EMERG_WRITE, emergencyWrite() says false and writes nothing`, async () => {
    const { r, model, driver } = await bound(version, { multiport: true });
    assert.is(driver.emergencyWrite("x"), false);
    assert.equal(model.emergency, []);
    await finish(r);
  });

  const lies: [string, (m: ConsoleDeviceModel) => void, string][] = [
    ["a port beyond max_nr_ports", (m) => m.control!.send(9, C.DEVICE_ADD), "bad-port"],
    ["a duplicate DEVICE_ADD", (m) => m.control!.send(1, C.DEVICE_ADD), "duplicate-add"],
    ["PORT_OPEN for a port never added", (m) => m.control!.send(3, C.PORT_OPEN, 1), "unknown-port"],
    ["DEVICE_REMOVE of a port never added", (m) => m.control!.send(3, C.DEVICE_REMOVE), "unknown-port"],
    ["a driver-only event", (m) => m.control!.send(1, C.PORT_READY, 1), "wrong-direction"],
    ["an unknown event", (m) => m.control!.send(1, 42), "unknown-event"],
    ["a RESIZE without its sizes", (m) => m.control!.send(1, C.RESIZE), "bad-length"],
    ["trailing bytes on PORT_OPEN", (m) => m.control!.send(1, C.PORT_OPEN, 1, new Uint8Array(3)), "bad-length"],
    ["a PORT_OPEN value of 7", (m) => m.control!.send(1, C.PORT_OPEN, 7), "bad-value"],
    ["a second PORT_NAME", (m) => m.control!.send(1, C.PORT_NAME, 0, new TextEncoder().encode("again")), "duplicate-name"],
    ["another port's name", (m) => m.control!.send(0, C.PORT_NAME, 0, new TextEncoder().encode("org.test.a")), "duplicate-name"],
  ];
  for (const [what, lie, kind] of lies) {
    test(`${v}: ${what}: ConsoleControlError ${kind}, every port broken, driver bound, restart recovers`, async () => {
      const { r, model, driver, vd, ports } = await bound(version);
      const errors: Error[] = [];
      const a = driver.open({ port: "org.test.a", onError: (e) => errors.push(e) });
      lie(model);
      await r.model.settle();
      const error = vd.error;
      assert.ok(error instanceof ConsoleControlError, String(error));
      assert.is((error as ConsoleControlError).kind, kind, error!.message);
      assert.ok(errors.includes(error!), "the Serial heard it");
      for (const p of ports.list()) assert.is(p.broken, error, `port ${p.id} broken`);
      assert.throws(() => a.write("x"), (e: unknown) => e === error);
      assert.is(vd.driver, driver, "still bound");
      a.close();
      await vd.restart();
      await r.model.settle();
      assert.is(vd.state, "live");
      const again = driver.open({ port: "org.test.a" });
      again.write("works");
      await r.model.settle();
      assert.is(model.textOf(1), "works");
      again.close();
      await finish(r);
    });
  }

  test(`${v}: a control message shorter than 8 bytes: ConsoleControlError short-message`, async () => {
    const { r, model, vd } = await bound(version);
    model.control!.sendBytes(Uint8Array.of(1, 0, 0, 0));
    await r.model.settle();
    assert.is((vd.error as ConsoleControlError).kind, "short-message", String(vd.error));
    await finish(r);
  });
}

test(`max_nr_ports 0 with MULTIPORT is refused at probe with a clear error`, async () => {
  const model = new ConsoleDeviceModel({ multiport: true, maxNrPorts: 1 });
  model.config[4] = 0;
  const r = rig({ version: 2, device: model });
  const driver = new ConsoleDriver();
  await r.bus.register(driver);
  await r.bus.scan();
  const vd = r.bus.device(31)!;
  assert.match(String(vd.error?.message), "max_nr_ports 0");
  assert.is(vd.step, "FAILED");
  r.model.platform.powerOff();
});

test.run();
