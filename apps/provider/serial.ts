// `embedded:io/serial` on this board: ECMA-419's Serial (drivers/console/serial.ts) with
// the provider's port names: "uart0" is the PL011 UART (device.Serial.default), "hvc0",
// "hvc1", ... port 0 of each virtio console in bind order.
//   new device.io.Serial({ ...device.Serial.default, onReadable(count) { ... } })

import { Serial as SerialBase, type SerialOptions, type SerialPort } from "../../drivers/console/serial.js";
import { provider } from "./context.js";

export type { SerialOptions, SerialSetOptions, SerialFormat } from "../../drivers/console/serial.js";

/** The port names this board has now: "uart0", then "hvc0".. for the virtio consoles. */
export function serialPortNames(): string[] {
  const consoles = provider("serial ports").drivers.console.ports();
  return ["uart0", ...consoles.map((_, i) => `hvc${i}`)];
}

/** Resolves a port specifier; RangeError naming the ports there are for an unknown one. */
export function serialPort(specifier: unknown): SerialPort {
  const context = provider("Serial");
  if (specifier === "uart0") return context.uart;
  const match = /^hvc(\d+)$/.exec(String(specifier));
  const port = match === null ? undefined : context.drivers.console.ports()[Number(match[1])];
  if (typeof specifier === "string" && port !== undefined) return port;
  throw new RangeError(`serial port ${JSON.stringify(specifier)} does not exist: this board has ${serialPortNames().join(", ")}`);
}

export default class Serial extends SerialBase {
  constructor(options: SerialOptions) {
    super(options, serialPort);
  }
}
