// U-Boot 2023.01 (Debian's u-boot-qemu, qemu_arm) as a peer: its virtio-blk driver through
// `virtio read`. U-Boot has no timer command, so the host times each shell line (from
// the line's last byte to the next prompt) and subtracts the cost of the same hush loop
// with `echo` (printing a line of the same length) in place of `virtio read`. Every read
// is checked with U-Boot's `crc32` against the host's CRC-32 of the same bytes.
import { join } from "node:path";
import { QemuMachine } from "../qemu.mjs";
import { crc32 } from "../disk-image.mjs";
import { BLOCK } from "../bench-image.mjs";

export class UbootError extends Error { name = "UbootError"; }

export const UBOOT_BIN = join("usr", "lib", "u-boot", "qemu_arm", "u-boot.bin");
const LOAD = 0x41000000; // RAM base + 16 MiB, far below U-Boot's relocated self (0x45df1000..)
const PROMPT = /\n=> $/; // at a line start: "crc32 ... ==> x" holds "=> " too

/** The hush loop's offsets: LCG s = s*0x41c64e6d + 0x3039 (mod 2^32), block (s>>16) % blocks. */
export function ubootBlocks(count, seed, blocks) {
  const out = [];
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 0x41c64e6d) + 0x3039) >>> 0;
    out.push((s >>> 16) % blocks);
  }
  return out;
}

async function timed(m, line, timeoutMs = 300000) {
  await m.write(`${line}\r`);
  const t0 = performance.now();
  const r = await m.waitFor(PROMPT, timeoutMs, { what: `U-Boot prompt after ${line}` });
  return { ms: performance.now() - t0, output: r.before.replace(/\r/g, "") };
}

function crcOf(output) {
  const m = /==> ([0-9a-f]{8})/.exec(output);
  if (!m) throw new UbootError(`no crc32 in U-Boot's output: ${output.trim().slice(-300)}`);
  return m[1];
}

/** One boot of U-Boot with the bench image; adds samples (ready_s, seq, qd1). */
export async function runUboot({ root, image, legacy, work, samples, suffix, seed, log }) {
  const m = new QemuMachine({
    bios: join(root, UBOOT_BIN), legacy, prompt: null, batch: false, lifetimeS: 900,
    devices: [{ disk: image.path, readonly: true }],
  });
  const t0 = performance.now();
  try {
    await m.start();
    await m.waitFor(/Hit any key to stop autoboot/, 60000, { what: "U-Boot's autoboot countdown" });
    await m.write(" ");
    await m.waitFor(PROMPT, 10000, { what: "the U-Boot prompt" });
    const bootMs = performance.now() - t0;
    const scan = await timed(m, "virtio scan");
    samples.add(`ready_s${suffix}`, (bootMs + scan.ms) / 1000);
    const info = await timed(m, "virtio info");
    if (!/131072 x 512|Capacity/.test(info.output)) throw new UbootError(`virtio info: ${info.output.trim()}`);
    const sectors = image.bytes / 512;
    if (work.seq) {
      const r = await timed(m, `virtio read ${hex(LOAD)} 0 ${hex(sectors)}`);
      if (!/blocks read: OK/.test(r.output)) throw new UbootError(`virtio read failed: ${r.output.trim()}`);
      const c = crcOf((await timed(m, `crc32 ${hex(LOAD)} ${hex(image.bytes)}`)).output);
      if (c !== image.crc32) throw new UbootError(`U-Boot read the image with CRC-32 ${c}, expected ${image.crc32}`);
      const mibps = image.bytes / 1048576 / (r.ms / 1000);
      samples.add(`seq_read_mibps${suffix}`, mibps);
      log(`uboot${suffix}: seq ${mibps.toFixed(1)} MiB/s (crc32 ok)`);
    }
    if (work.qd1 || work.qd32) {
      const count = work.counts.uboot;
      const blocks = image.bytes / BLOCK;
      // The offsets (in 512-byte blocks) and the loop body, as hush variables.
      await timed(m, `setenv n 'setexpr s $s * 0x41c64e6d; setexpr s $s + 0x3039; setexpr b $s / 0x10000; setexpr b $b % ${hex(blocks)}; setexpr b $b * 8'`);
      await timed(m, "setenv v 'virtio read $a $b 8; setexpr a $a + 0x1000; setexpr i $i + 1'");
      await timed(m, `setenv e 'echo; echo "virtio read: device 0 block # $b, count 8 ... 8 blocks read: done"; setexpr a $a + 0x1000; setexpr i $i + 1'`);
      const loop = (body) => `setexpr i 0; setexpr s ${hex(seed)}; setexpr a ${hex(LOAD)}; while itest $i < ${hex(count)}; do run n; run ${body}; done`;
      const read = await timed(m, loop("v"));
      const okLines = (read.output.match(/8 blocks read: OK/g) ?? []).length;
      if (okLines !== count) throw new UbootError(`${okLines} of ${count} reads said OK: ${read.output.trim().slice(-300)}`);
      const c = crcOf((await timed(m, `crc32 ${hex(LOAD)} ${hex(count * BLOCK)}`)).output);
      const want = expectedCrc(image, ubootBlocks(count, seed, blocks));
      if (c !== want) throw new UbootError(`U-Boot's ${count} scattered reads have CRC-32 ${c}, expected ${want}`);
      const shell = await timed(m, loop("e"));
      const ms = read.ms - shell.ms;
      const iops = count / (ms / 1000);
      samples.add(`qd1_read_iops${suffix}`, iops);
      log(`uboot${suffix}: qd1 ${iops.toFixed(0)} reads/s (loop ${read.ms.toFixed(0)} ms - shell ${shell.ms.toFixed(0)} ms; crc32 ok)`);
    }
  } finally {
    await m.close();
  }
}

const hex = (n) => `0x${n.toString(16)}`;

/** CRC-32 of the image's 4 KiB blocks `list`, concatenated. */
function expectedCrc(image, list) {
  let c = 0;
  for (const b of list) c = crc32(image.data.subarray(b * BLOCK, (b + 1) * BLOCK), c);
  return c.toString(16).padStart(8, "0");
}
