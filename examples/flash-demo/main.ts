// Opens the first virtio-blk disk as ECMA-419 flash, erases block 1, checks it reads as
// 0xFF, writes a message into it, reads the message back and closes the flash (which
// makes the writes durable). Every call is synchronous.
import device from "embedded:provider/builtin";

const uart = new device.io.Serial({ ...device.Serial.default });
const say = (line: string) => uart.write(`${line}\r\n`);
const MESSAGE = "hello from flash-demo";

const flash = device.storage.flash.open({ path: "blk0" });
const { size, blockLength, blocks } = flash.status();
say(`flash-demo: blk0 is ${size} bytes, ${blocks} blocks of ${blockLength}`);

flash.eraseBlock(1);
const erased = new Uint8Array(flash.read(blockLength, blockLength));
say(`flash-demo: block 1 erased: ${erased.every((b) => b === 0xff) ? "all 0xff" : "NOT ERASED"}`);

const bytes = new Uint8Array(MESSAGE.length);
for (let i = 0; i < MESSAGE.length; i++) bytes[i] = MESSAGE.charCodeAt(i);
flash.write(bytes, blockLength + 100);
const back = new Uint8Array(flash.read(MESSAGE.length, blockLength + 100));
say(`flash-demo: read back "${String.fromCharCode(...back)}"`);
flash.close();
say("flash-demo: done");
