// A named port of a multiport console as an application's `embedded:io/serial` port: the
// provider resolves a port name (PORT_NAME) besides "uart0" and "hvc0"..
// (apps/provider/serial.ts), and lists the names among the ports there are.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHostModel } from "../../../platform/host/index.js";
import { ConsoleDeviceModel } from "../../../platform/host/devices/console-device.js";
import { bootProvider } from "../../../apps/provider/boot.js";
import { setProvider } from "../../../apps/provider/context.js";
import Serial, { serialPortNames } from "../../../apps/provider/serial.js";
import { finish } from "../core/rig.js";

test("new Serial({ port: NAME }) opens the named port; unknown names list the ports there are", async () => {
  const model = createHostModel({ ramSize: 16 << 20, dmaSize: 8 << 20 });
  const console = new ConsoleDeviceModel({ multiport: true, ports: [{ id: 0, console: true }, { id: 1, name: "org.test.a" }] });
  model.attach(31, console, { version: 2 });
  const context = await bootProvider({ platform: model.platform });
  await model.settle();
  assert.equal(serialPortNames(), ["uart0", "hvc0", "org.test.a"]);
  let got = "";
  const serial = new Serial({ port: "org.test.a", onReadable() { got += new TextDecoder().decode(this.read() as ArrayBuffer); } });
  await model.settle();
  console.pushTo(1, "to the app");
  await model.settle();
  assert.is(got, "to the app");
  serial.write("from the app");
  await model.settle();
  assert.is(console.textOf(1), "from the app");
  serial.close();
  assert.throws(() => new Serial({ port: "org.test.zz" }), /does not exist: this board has uart0, hvc0, org\.test\.a/);
  setProvider(null);
  await finish({ model, bus: context.bus, dev: model.device(31)! });
});

test.run();
