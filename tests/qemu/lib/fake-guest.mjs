// A tiny hand-assembled ARM guest for testing the harness without the firmware: it writes
// a fixed text to the PL011 data register (0x09000000) and then spins (`b .`).
import { writeFileSync } from "node:fs";

/** Writes a raw ARM image that prints `text` (ASCII) and loops; returns the path. */
export function writeFakeGuest(path, text) {
  const words = [0xe3a00409]; // mov r0, #0x09000000   (PL011 UARTDR, 32-bit register)
  for (const ch of Buffer.from(text, "latin1")) {
    words.push(0xe3a01000 | ch); // mov r1, #ch
    words.push(0xe5801000); // str r1, [r0]
  }
  words.push(0xeafffffe); // b .
  const buf = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => buf.writeUInt32LE(w >>> 0, i * 4));
  writeFileSync(path, buf);
  return path;
}
