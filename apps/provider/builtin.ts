// `embedded:provider/builtin` on QEMU's arm `virt` board: the ECMA-419 host provider.
//   import device from "embedded:provider/builtin";
//   new device.io.Serial({ ...device.Serial.default, onReadable(count) { ... } });
// device.io holds the ECMA-419 classes (Serial: the PL011 UART and each virtio console;
// UDP: on virtio-net's IPv4 interface); device.network.ethernet the network interface;
// device.storage.flash virtio-blk disks as flash. What ECMA-419 has no class for is under
// its own key: device.block (the virtio-blk BlockDevices), device.input (virtio-input),
// device.entropy (virtio-rng). The firmware's entry boots the provider (boot.ts) before
// it loads the application, so every table here is filled when the app's code runs.

import Serial, { serialPortNames } from "./serial.js";
import UDP from "./udp.js";
import Ethernet from "./ethernet.js";
import Flash, { flashPaths, type FlashOptions } from "./flash.js";
import Input from "./input.js";
import { readEntropy } from "./entropy.js";
import { provider } from "./context.js";
import type { BlockDevice } from "../../drivers/blk/block-device.js";

const device = Object.freeze({
  io: Object.freeze({ Serial, UDP }),
  Serial: Object.freeze({
    /** The PL011 UART. */
    default: Object.freeze({ io: Serial, port: "uart0" }),
    /** "uart0", "hvc0", "hvc1", ...: every serial port there is. */
    ports: serialPortNames,
  }),
  network: Object.freeze({
    /** The first virtio-net device's IPv4 interface. */
    ethernet: Object.freeze({ io: Ethernet, interface: "eth0" }),
  }),
  storage: Object.freeze({
    flash: Object.freeze({
      io: Flash,
      /** ECMA-419 `flash.open({ path, mode, format })`. */
      open: (options: FlashOptions): Flash => new Flash(options),
      /** "blk0", "blk1", ...: the disks there are. */
      paths: flashPaths,
    }),
  }),
  block: Object.freeze({
    /** The virtio-blk disks, in bind order (promise API: read, write, flush, id, ...). */
    devices: (): readonly BlockDevice[] => provider("block").drivers.blk.devices(),
  }),
  input: Object.freeze({
    io: Input,
    default: Object.freeze({ io: Input, port: "input0" }),
  }),
  entropy: Object.freeze({
    /** `count` random bytes from virtio-rng. */
    read: readEntropy,
  }),
});

export type Device = typeof device;
export default device;
