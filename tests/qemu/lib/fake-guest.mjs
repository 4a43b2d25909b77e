// A tiny hand-assembled guest for testing the harness without the firmware: it writes a
// fixed text to the board's UART data register and then spins. One encoding per CPU
// architecture of boards/<board>/board.json `firmware.arch`:
//   arm32    PL011 UARTDR at 0x09000000 (QEMU arm `virt`), loaded at RAM's start
//   riscv64  NS16550A THR at 0x10000000 (QEMU riscv `virt`), booted with `-bios none`: QEMU
//            loads it at 0x80000000 and enters it in M-mode, with no OpenSBI (and no
//            OpenSBI banner) before it
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../../tools/lib/node-deps.mjs";
import { DEFAULT_BOARD } from "../../../tools/lib/qemu-board.mjs";

const ENCODINGS = {
  arm32: (bytes) => [
    0xe3a00409, // mov r0, #0x09000000
    ...bytes.flatMap((ch) => [0xe3a01000 | ch, 0xe5801000]), // mov r1, #ch; str r1, [r0]
    0xeafffffe, // b .
  ],
  riscv64: (bytes) => [
    0x10000537, // lui a0, 0x10000          (a0 = 0x10000000)
    ...bytes.flatMap((ch) => [(ch << 20) | 0x593, 0x00b50023]), // addi a1, zero, ch; sb a1, 0(a0)
    0x0000006f, // j .
  ],
};

/** The CPU architecture of the board the suites boot (arm32 when board.json names none). */
function boardArch() {
  const json = JSON.parse(readFileSync(join(ROOT, "boards", DEFAULT_BOARD, "board.json"), "utf8"));
  return json.firmware?.arch ?? "arm32";
}

/** QEMU arguments a fake guest needs on each architecture (it is the only software there). */
const QEMU_ARGS = { arm32: [], riscv64: ["-bios", "none"] };

/** Writes a raw image that prints `text` (ASCII) and loops; returns the path. */
export function writeFakeGuest(path, text, arch = boardArch()) {
  const encode = ENCODINGS[arch];
  if (!encode) throw new Error(`fake guest: no encoding for architecture ${arch} (have ${Object.keys(ENCODINGS).join(", ")})`);
  const words = encode([...Buffer.from(text, "latin1")]);
  const buf = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => buf.writeUInt32LE(w >>> 0, i * 4));
  writeFileSync(path, buf);
  return path;
}

/** Board options for a fake guest printing `text`: {firmware, extraArgs} (spread them in). */
export function fakeGuest(path, text, arch = boardArch()) {
  return { firmware: writeFakeGuest(path, text, arch), extraArgs: QEMU_ARGS[arch] ?? [] };
}
