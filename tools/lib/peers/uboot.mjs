// U-Boot 2023.01 (Debian's u-boot-qemu, qemu_arm) as a peer: its virtio-blk driver through
// `virtio read`. U-Boot has no timer command (no `time`, `timer`), so the host times each
// shell line, from U-Boot's echo of the line's end (the typing is over, the command
// starts) to the next prompt. That whole-command time (parse, read, print) is a floor for
// U-Boot's driver; the echo-corrected estimate subtracts the same shell work with `echo`
// printing as much in place of `virtio read`. Every read is checked with U-Boot's `crc32`
// against the host's CRC-32 of the same bytes, after the timed command.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { QemuMachine } from "../qemu.mjs";
import { crc32 } from "../disk-image.mjs";
import { BLOCK } from "../bench-image.mjs";

export class UbootError extends Error { name = "UbootError"; }

export const UBOOT_BIN = join("usr", "lib", "u-boot", "qemu_arm", "u-boot.bin");
const LOAD = 0x41000000; // RAM base + 16 MiB, far below U-Boot's relocated self (0x45df1000..)
const SCRIPT_AT = 0x40800000; // the script disk's text
const SCRIPT_DISK_BYTES = 1 << 20;
const PER_VAR = 100; // commands per environment variable
const ALTERNATIONS = 5; // read script / echo script pairs per boot; the least of each counts

/**
 * The script disk: text for `env import -t`: r0..rN each hold PER_VAR `virtio read`s of
 * 4 KiB at the LCG offsets (into consecutive 4 KiB of LOAD); e0..eN the same number of
 * `echo`s printing a line as long as virtio read's. Running rI then eI and subtracting
 * leaves the reads' own cost, without hush loop arithmetic per read.
 */
export function makeScriptDisk(path, count, seed, blocks) {
  const list = ubootBlocks(count, seed, blocks);
  const lines = [];
  for (let v = 0; v * PER_VAR < count; v++) {
    const part = list.slice(v * PER_VAR, (v + 1) * PER_VAR);
    const at = (i) => hex(LOAD + (v * PER_VAR + i) * BLOCK);
    lines.push(`r${v}=${part.map((b, i) => `virtio read ${at(i)} ${hex(b * 8)} 8`).join(";")}`);
    lines.push(`e${v}=${part.map((b) => `echo "virtio read: device 0 block # ${b * 8}, count 8 ... 8 blocks read: ok."`).join(";")}`);
  }
  const text = new TextEncoder().encode(lines.join("\n") + "\n");
  if (text.length >= SCRIPT_DISK_BYTES) throw new UbootError(`script of ${text.length} bytes does not fit the script disk`);
  const disk = new Uint8Array(SCRIPT_DISK_BYTES);
  disk.set(text);
  writeFileSync(path, disk);
  return path;
}
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

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Runs `line`; ms from U-Boot's echo of the line's end to the next prompt. */
async function timed(m, line, timeoutMs = 90000) {
  await m.write(`${line}\r`);
  // Up to the echoed line end, leaving its "\n" for PROMPT (a command may print nothing).
  await m.waitFor(new RegExp(`${escapeRegExp(line)}\r?(?=\n)`), 10000, { what: `U-Boot's echo of ${line}` });
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
export async function runUboot({ root, image, legacy, pci = false, memory, work, samples, suffix, seed, log, cache }) {
  const scriptDisk = makeScriptDisk(join(cache, `uboot-script-${seed}.img`), work.counts.uboot, seed, image.bytes / BLOCK);
  const m = new QemuMachine({
    board: "qemu-virt-arm", // U-Boot's qemu_arm build
    bios: join(root, UBOOT_BIN), legacy, memory, prompt: null, batch: false, lifetimeS: 900,
    devices: [{ disk: image.path, readonly: true, pci }, { disk: scriptDisk, readonly: true, pci }],
  });
  const t0 = performance.now();
  try {
    await m.start();
    await m.waitFor(/Hit any key to stop autoboot/, 60000, { what: "U-Boot's autoboot countdown" });
    // U-Boot's start ends at its countdown: the wait for our key (U-Boot polls every 10 ms)
    // and the prompt are left out, then `virtio scan` (its probe of the disks) is added.
    const bootMs = performance.now() - t0;
    await m.write(" ");
    await m.waitFor(PROMPT, 10000, { what: "the U-Boot prompt" });
    const scan = await timed(m, "virtio scan");
    samples.add(`ready_s${suffix}`, (bootMs + scan.ms) / 1000);
    if (pci) {
      // Both disks are virtio-pci functions in the mode asked for (1af4:1042 modern only,
      // 1af4:1001 transitional: legacy with disable-modern=on); U-Boot enumerated them itself.
      const want = /disable-legacy=on/.test(pci) ? "0x1042" : "0x1001";
      const found = (await timed(m, "pci")).output.match(new RegExp(`0x1af4\\s+${want}`, "g")) ?? [];
      if (found.length !== 2) throw new UbootError(`U-Boot's \`pci\` lists ${found.length} virtio-blk functions 1af4:${want.slice(2)}, not 2`);
    }
    // Two disks: the image and the 1 MiB script disk; which is device 0 depends on probing order.
    const info = (await timed(m, "virtio info")).output;
    // Each "Device N:" block on its own (a lazy match from the first header would run
    // across into the next device's block).
    const small = info.split(/(?=Device \d+:)/).map((b) => /^Device (\d+):[^]*Capacity: 1\.0 MB/.exec(b)?.[1]).find((n) => n !== undefined);
    if (small === undefined || !/131072 x 512/.test(info)) throw new UbootError(`virtio info: ${info.trim()}`);
    const img = small === "0" ? 1 : 0;
    await timed(m, `virtio dev ${img}`);
    const sectors = image.bytes / 512;
    if (work.seq) {
      // The same work as ours and Linux: the whole disk into one region (LOAD, 64 MiB), PASSES
      // times into the same memory; U-Boot's driver sends each `virtio read` as ONE request
      // (one data descriptor of 64 MiB), depth 1. The first pass reads into RAM nothing has
      // touched (QEMU's first touch of it); before each later pass every word is overwritten
      // (mw.l), after each pass crc32 checks it; neither is timed.
      const read = `virtio read ${hex(LOAD)} 0 ${hex(sectors)}`;
      // What `virtio read` prints, for the echo baseline: "\n" (as "\r\n") + the line.
      const printed = `virtio read: device ${img} block # 0, count ${sectors} ... ${sectors} blocks read: OK`;
      const echo = `echo "  ${printed}"`;
      let echoMs = Infinity;
      for (let pass = 0; pass < work.seq.passes; pass++) {
        if (pass > 0) await timed(m, `mw.l ${hex(LOAD)} 0xffffffff ${hex(image.bytes / 4)}`);
        const r = await timed(m, read);
        if (!/blocks read: OK/.test(r.output)) throw new UbootError(`virtio read failed: ${r.output.trim()}`);
        const c = crcOf((await timed(m, `crc32 ${hex(LOAD)} ${hex(image.bytes)}`)).output);
        if (c !== image.crc32) throw new UbootError(`U-Boot's pass ${pass + 1} read the image with CRC-32 ${c}, expected ${image.crc32}`);
        const mibps = image.bytes / 1048576 / (r.ms / 1000);
        echoMs = Math.min(echoMs, (await timed(m, echo)).ms);
        if (pass === 0) samples.add(`seq_read_mibps_first${suffix}`, mibps);
        else {
          samples.add(`seq_read_mibps${suffix}`, mibps);
          if (r.ms > echoMs) samples.add(`seq_read_mibps_echo_corrected${suffix}`, image.bytes / 1048576 / ((r.ms - echoMs) / 1000));
        }
        log(`uboot${suffix}: seq pass ${pass + 1} ${r.ms.toFixed(1)} ms = ${mibps.toFixed(0)} MiB/s whole command (echo line ${echoMs.toFixed(1)} ms; crc32 ok)`);
      }
    }
    if (work.qd1 || work.qd32) {
      const count = work.counts.uboot;
      const blocks = image.bytes / BLOCK;
      const list = ubootBlocks(count, seed, blocks);
      // The script disk: `env import` its text, then back to the image.
      await timed(m, `virtio dev ${small}`);
      await timed(m, `virtio read ${hex(SCRIPT_AT)} 0 ${hex(SCRIPT_DISK_BYTES / 512)}`);
      await timed(m, `env import -t ${hex(SCRIPT_AT)} ${hex(SCRIPT_DISK_BYTES)}`);
      await timed(m, `virtio dev ${img}`);
      const runAll = (prefix) => `run ${Array.from({ length: Math.ceil(count / PER_VAR) }, (_, i) => `${prefix}${i}`).join(" ")}`;
      // Alternate reads and the shell-only baseline; the least of each is the least disturbed.
      let readMs = Infinity;
      let shellMs = Infinity;
      for (let k = 0; k < ALTERNATIONS; k++) {
        const read = await timed(m, runAll("r"));
        const okLines = (read.output.match(/8 blocks read: OK/g) ?? []).length;
        if (okLines !== count) throw new UbootError(`${okLines} of ${count} reads said OK: ${read.output.trim().slice(-300)}`);
        if (k === 0) {
          const c = crcOf((await timed(m, `crc32 ${hex(LOAD)} ${hex(count * BLOCK)}`)).output);
          const want = expectedCrc(image, list);
          if (c !== want) throw new UbootError(`U-Boot's ${count} scattered reads have CRC-32 ${c}, expected ${want}`);
        }
        readMs = Math.min(readMs, read.ms);
        shellMs = Math.min(shellMs, (await timed(m, runAll("e"))).ms);
      }
      // qd1_read_iops: the whole command (parse, read, print), a floor for U-Boot's driver;
      // the targets are checked against it. _echo_corrected: less the echo script, an
      // estimate of the driver alone (no sample when the difference is within the noise).
      const corrected = readMs > shellMs ? count / ((readMs - shellMs) / 1000) : null;
      const whole = count / (readMs / 1000);
      samples.add(`qd1_read_iops${suffix}`, whole);
      if (corrected !== null) samples.add(`qd1_read_iops_echo_corrected${suffix}`, corrected);
      samples.add(`qd1_shell_ms_per_read${suffix}`, shellMs / count);
      log(`uboot${suffix}: qd1 ${whole.toFixed(0)} reads/s whole command, ${corrected === null ? "echo-corrected below timing resolution" : `${corrected.toFixed(0)} echo-corrected`} (${count} reads ${readMs.toFixed(0)} ms, same script with echo ${shellMs.toFixed(0)} ms; crc32 ok)`);
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
