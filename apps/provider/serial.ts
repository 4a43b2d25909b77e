// `embedded:io/serial` on this board: ECMA-419's Serial (drivers/console/serial.ts) with
// the provider's port names: "uart0" is the PL011 UART (device.Serial.default), "hvc0",
// "hvc1", ... port 0 of each virtio console in bind order, and any other name a port of a
// multiport console was given by the device (PORT_NAME, e.g. QEMU's virtserialport name=).
//   new device.io.Serial({ ...device.Serial.default, onReadable(count) { ... } })

import { Serial as SerialBase, type SerialOptions, type SerialPort } from "../../drivers/console/serial.js";
import { provider } from "./context.js";

export type { SerialOptions, SerialSetOptions, SerialFormat } from "../../drivers/console/serial.js";

/** The port names this board has now: "uart0", then "hvc0".. for the virtio consoles,
 * then the named ports. */
export function serialPortNames(): string[] {
  const driver = provider("serial ports").drivers.console;
  const named = driver.devices().flatMap((d) => d.list().map((p) => p.name).filter((n): n is string => n !== null));
  return ["uart0", ...driver.ports().map((_, i) => `hvc${i}`), ...named];
}

/** Resolves a port specifier; RangeError naming the ports there are for an unknown one. */
export function serialPort(specifier: unknown): SerialPort {
  const context = provider("Serial");
  if (specifier === "uart0") return context.uart;
  const match = /^hvc(\d+)$/.exec(String(specifier));
  const port = match === null ? (typeof specifier === "string" ? context.drivers.console.findPort(specifier) : undefined) : context.drivers.console.ports()[Number(match[1])];
  if (typeof specifier === "string" && port !== undefined) return port;
  throw new RangeError(`serial port ${JSON.stringify(specifier)} does not exist: this board has ${serialPortNames().join(", ")}`);
}

export default class Serial extends SerialBase {
  constructor(options: SerialOptions) {
    super(options, serialPort);
  }
}
