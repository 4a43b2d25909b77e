// virtio-xs/hil: the hardware-in-the-loop harness as a library (see hil/README.md).
//   import { Board } from "virtio-xs/hil";
//   const board = await Board.boot({ disks: ["d.img"] });
//   const { output } = await board.run("blk read 0 2048", { check: true });
//   await board.close();
export { Board, copyDisk, withBoard, withBoards } from "./board.mjs";
export { ConsolePort } from "./console-port.mjs";
export { defaultFirmware, resolveFirmware } from "./firmware.mjs";
export { freePort } from "./forwards.mjs";
export { QemuError, QemuExitError, QemuFatalError, QemuTimeoutError, PROMPT } from "../tools/lib/qemu.mjs";
export { QmpError } from "../tools/lib/qmp.mjs";
export { crc32, crc32Hex, fileCrc32, makeFilledImage, makeRandomImage, pseudoRandomBytes, SECTOR } from "../tools/lib/disk-image.mjs";
