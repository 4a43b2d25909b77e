// device.io.Serial on the UART ("uart0", device.Serial.default) and on a virtio console
// ("hvc0"): the IO class rules (options checked before the port is taken, format,
// target, onReadable / onWritable counts, read(buffer), flush, set, close twice, methods
// after close) and bytes both ways.

import { test } from "uvu";
import * as assert from "uvu/assert";
import device from "../../../apps/provider/builtin.js";
import { UART_WRITABLE, UartBusyError } from "../../../apps/provider/uart-port.js";
import { ConsoleBusyError, ConsoleClosedError } from "../../../drivers/console/errors.js";
import { ProviderStateError } from "../../../apps/provider/context.js";
import { finishProvider, providerRig } from "./provider-rig.js";

const text = (b: ArrayBuffer | number | undefined) => (b instanceof ArrayBuffer ? new TextDecoder().decode(b) : String(b));

test("before the boot, constructing a Serial throws ProviderStateError", () => {
  assert.throws(() => new device.io.Serial({ ...device.Serial.default }), (e: unknown) => e instanceof ProviderStateError);
});

test("uart0: onWritable after open, writes reach the UART, typed bytes come as onReadable(count)", async () => {
  const r = await providerRig();
  assert.equal(device.Serial.ports(), ["uart0", "hvc0"]);
  const writable: number[] = [];
  const readable: number[] = [];
  const target = { name: "mine" };
  const uart = new device.io.Serial({
    ...device.Serial.default,
    target,
    onWritable(count) {
      assert.is(this, uart, "this is the instance");
      writable.push(count);
    },
    onReadable(count) {
      readable.push(count);
    },
  });
  assert.is(uart.target, target);
  assert.equal(writable, [], "no callback inside the constructor");
  await r.model.settle();
  assert.equal(writable, [UART_WRITABLE]);
  uart.write("hello\r\n");
  uart.write(Uint8Array.of(0x41));
  assert.ok(r.model.console.output.endsWith("hello\r\nA"));
  r.model.console.type("abc");
  await r.model.settle();
  assert.equal(readable, [3]);
  const into = new Uint8Array(2);
  assert.is(uart.read(into), 2);
  assert.is(new TextDecoder().decode(into), "ab");
  assert.is(text(uart.read()), "c");
  assert.is(uart.read(), undefined);
  assert.is(uart.read(new Uint8Array(4)), 0);
  uart.format = "number";
  r.model.console.type("xy");
  await r.model.settle();
  assert.is(uart.read(), 0x78);
  uart.flush();
  assert.is(uart.readable, 0, "flush() discards unread input");
  uart.set({ break: false, requestToSend: true });
  assert.throws(() => uart.set({ break: 1 as unknown as boolean }), TypeError);
  uart.close();
  uart.close();
  assert.throws(() => uart.write("x"), (e: unknown) => e instanceof ConsoleClosedError);
  assert.throws(() => uart.read(), (e: unknown) => e instanceof ConsoleClosedError);
  assert.throws(() => uart.flush(), (e: unknown) => e instanceof ConsoleClosedError);
  assert.is(r.model.platform.console.onReceive, null, "the UART is let go");
  await finishProvider(r);
});

test("bad options throw before the port is taken", async () => {
  const r = await providerRig();
  const uart = device.Serial.default;
  assert.throws(() => new device.io.Serial(null as never), TypeError);
  assert.throws(() => new device.io.Serial({} as never), /port is required/);
  assert.throws(() => new device.io.Serial({ port: "ttyS9" }), /does not exist: this board has uart0, hvc0/);
  assert.throws(() => new device.io.Serial({ port: "hvc1" }), RangeError);
  assert.throws(() => new device.io.Serial({ ...uart, format: "text" as "buffer" }), RangeError);
  assert.throws(() => new device.io.Serial({ ...uart, baud: -5 }), RangeError);
  assert.throws(() => new device.io.Serial({ ...uart, flowControl: "hardware" as "none" }), RangeError);
  assert.throws(() => new device.io.Serial({ ...uart, onReadable: 5 as never }), TypeError);
  assert.throws(() => new device.io.Serial({ port: "hvc0", onWritable: "x" as never }), TypeError);
  assert.is(r.model.platform.console.onReceive, null, "the UART was never taken");
  assert.is(r.context.drivers.console.ports()[0]!.opened, false, "hvc0 was never taken");
  const s = new device.io.Serial({ ...uart, baud: 115200 });
  assert.throws(() => new device.io.Serial({ ...uart }), (e: unknown) => e instanceof UartBusyError);
  s.close();
  await finishProvider(r);
});

test("hvc0: bytes both ways, onReadable(count), one Serial at a time, a throwing callback is contained", async () => {
  const r = await providerRig();
  const counts: number[] = [];
  const hvc = new device.io.Serial({
    port: "hvc0",
    onReadable(count) {
      counts.push(count);
      throw new Error("app bug");
    },
  });
  assert.throws(() => new device.io.Serial({ port: "hvc0" }), (e: unknown) => e instanceof ConsoleBusyError);
  hvc.write("to the host");
  await r.model.settle();
  assert.is(r.console.text, "to the host");
  r.console.push("from the host");
  await r.model.settle();
  assert.equal(counts, [13]);
  assert.is(text(hvc.read(4)), "from");
  assert.is(hvc.readable, 9);
  hvc.close();
  hvc.close();
  assert.throws(() => hvc.write("x"), (e: unknown) => e instanceof ConsoleClosedError);
  await finishProvider(r);
});

test.run();
