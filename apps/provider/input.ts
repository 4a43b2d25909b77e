// virtio-input devices for applications (ECMA-419 has no input class): the IO class
// pattern of drivers/input/input-device.ts with the provider's port names, "input0",
// "input1", ... in bind order.
//   new device.input.io({ ...device.input.default, onEvent(event) { ... } })

import { InputDevice, type InputDeviceOptions } from "../../drivers/input/input-device.js";
import type { InputPort } from "../../drivers/input/input-port.js";
import { provider } from "./context.js";

export type { InputEvent } from "../../drivers/input/input-port.js";

export interface InputOptions extends Omit<InputDeviceOptions, "port"> {
  /** "input0" (default), "input1", ... */
  readonly port?: string;
}

function inputPort(specifier: unknown): InputPort {
  const ports = provider("Input").drivers.input.ports();
  const match = /^input(\d+)$/.exec(String(specifier));
  const port = match === null ? undefined : ports[Number(match[1])];
  if (port === undefined) throw new RangeError(`input port ${JSON.stringify(specifier)} does not exist (virtio-input devices: ${ports.length})`);
  return port;
}

export default class Input extends InputDevice {
  constructor(options: InputOptions = {}) {
    if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
    super({ ...options, port: inputPort(options.port ?? "input0") });
  }
}
