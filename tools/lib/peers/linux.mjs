// Linux 6.1 (Debian's armmp kernel, armhf) as a peer: its virtio-mmio (or, for the PCI
// bench, virtio-pci: the ECAM host bridge and GICv2m MSI are built in) and virtio-blk
// modules, loaded from an initramfs this file builds (newc cpio) with busybox-static and
// blkbench (linux-blkbench.c, built with arm-none-eabi-gcc: no C library, raw syscalls).
// Sequential: blkbench seq (the whole disk into one mmap'd region, O_DIRECT preads of the
// bench's request size and depth, several passes, each checked by its CRC-32 untimed);
// scattered 4 KiB reads and writes: blkbench (guest clock, every read checked, the check's
// own time measured apart and left out as U-Boot's is).
// The pieces every Linux peer shares (the network QEMU suites' too, tests/qemu/lib/
// linux-pair.mjs): the kernel package, module closure, freestanding peer programs (their
// system-call entry code in linux-nolibc.h), the initramfs entries and /init's first lines, the
// shell prompt.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { QemuMachine } from "../qemu.mjs";
import { newcArchive } from "./cpio.mjs";

export class LinuxPeerError extends Error { name = "LinuxPeerError"; }

const HERE = dirname(fileURLToPath(import.meta.url));
/** The peer shell's prompt (PS1 'lx# '); ash may ask for the cursor position after it. */
export const LINUX_PROMPT = /\nlx# (?:\x1b\[6n)?$/;
const PROMPT = LINUX_PROMPT;
/** The modules each bench transport needs (with their `depends=`, loaded in that order). */
const WANTED_MODULES = { mmio: ["virtio_mmio", "virtio_blk"], pci: ["virtio_pci", "virtio_blk"] };

/** All .ko files under the kernel's module tree, by module name (dashes as underscores). */
export function moduleIndex(modRoot) {
  const byName = new Map();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ko")) byName.set(e.name.slice(0, -3).replace(/-/g, "_"), p);
    }
  };
  walk(modRoot);
  return byName;
}

/** `wanted` and their dependencies (the .ko's `depends=` modinfo), dependencies first. */
export function moduleClosure(index, wanted) {
  const order = [];
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const path = index.get(name);
    if (!path) throw new LinuxPeerError(`module ${name} is not in the kernel package (built in?)`);
    const text = readFileSync(path).toString("latin1");
    const deps = /(?:^|\0)depends=([^\0]*)/.exec(text)?.[1] ?? "";
    for (const d of deps.split(",").filter(Boolean)) visit(d.replace(/-/g, "_"));
    order.push({ name, path });
  };
  for (const w of wanted) visit(w);
  return order;
}

/** The kernel of the package under `root`: {kernel (the vmlinuz path), release}. */
export function linuxKernel(root) {
  const boot = join(root, "boot");
  const vmlinuz = readdirSync(boot).find((f) => f.startsWith("vmlinuz-"));
  if (!vmlinuz) throw new LinuxPeerError(`no vmlinuz-* in ${boot}`);
  return { kernel: join(boot, vmlinuz), release: vmlinuz.slice("vmlinuz-".length) };
}

/** The kernel's modules `wanted` and their dependencies, dependencies first. */
export function linuxModules(root, release, wanted) {
  return moduleClosure(moduleIndex(join(root, "lib", "modules", release)), wanted);
}

/** What every peer program includes instead of a C library (raw syscalls, memset, output). */
const NOLIBC_H = join(HERE, "linux-nolibc.h");

/** C source `src` built for the peer at `out` (static armhf, no C library: raw syscalls
 * from linux-nolibc.h), again only when `src` or that header is newer. */
export function buildPeerProgram(src, out) {
  const newest = Math.max(statSync(src).mtimeMs, statSync(NOLIBC_H).mtimeMs);
  if (existsSync(out) && statSync(out).mtimeMs >= newest) return out;
  mkdirSync(dirname(out), { recursive: true });
  const r = spawnSync("arm-none-eabi-gcc", [
    "-O2", "-marm", "-mcpu=cortex-a15", "-mfloat-abi=soft", "-ffreestanding", "-fno-builtin", "-nostdlib", "-static",
    "-Wl,-e,_start", "-Wl,--build-id=none", "-Wl,-Ttext-segment=0x10000", "-o", out, src, "-lgcc",
  ], { encoding: "utf8" });
  if (r.status !== 0) throw new LinuxPeerError(`arm-none-eabi-gcc ${basename(src)} failed: ${r.stderr}`);
  return out;
}

/** /init's first lines: the directories (`dirs` besides /proc /sys /dev /tmp), proc, sysfs
 * and devtmpfs mounted, busybox's applets, the modules loaded in order. */
export function initPrologue(modules, dirs = []) {
  return `#!/bin/busybox sh
/bin/busybox mkdir -p ${["/proc", "/sys", "/dev", "/tmp", ...dirs].join(" ")}
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
/bin/busybox --install -s /bin
export PATH=/bin
${modules.map((m) => `insmod /lib/modules/${m.name}.ko`).join("\n")}
`;
}

/** The initramfs's newc entries: the directories, /dev/console, busybox from `root`,
 * `programs` ({name, path}) in /bin, the modules, `init` as /init. */
export function initramfsEntries({ root, programs = [], modules, init }) {
  return [
    ...["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"].map((name) => ({ name, mode: 0o040755 })),
    { name: "dev/console", mode: 0o020600, rdev: [5, 1] },
    { name: "bin/busybox", mode: 0o100755, data: readFileSync(join(root, "bin", "busybox")) },
    ...programs.map((p) => ({ name: `bin/${p.name}`, mode: 0o100755, data: readFileSync(p.path) })),
    ...modules.map((m) => ({ name: `lib/modules/${m.name}.ko`, mode: 0o100644, data: readFileSync(m.path) })),
    { name: "init", mode: 0o100755, data: init },
  ];
}

const INIT = (modules) => `${initPrologue(modules)}while [ ! -b /dev/vda ]; do :; done
echo LXREADY
for d in vda vdb; do
  while [ ! -e /sys/block/$d/ro ]; do :; done
  if [ "$(cat /sys/block/$d/ro)" = 1 ]; then ln -s /dev/$d /dev/img; else ln -s /dev/$d /dev/scr; fi
done
export PS1='lx# '
exec sh
`;

/**
 * Why this Linux cannot drive the bench's disks on `transport` in `mode`, or null. Debian's
 * armmp kernel is built with CONFIG_NO_IOPORT_MAP=y: pci_iomap() of an I/O BAR gives NULL,
 * so virtio_pci's legacy probe of a legacy-only device (BAR0 is its I/O register block,
 * VIRTIO 1.2 §4.1.4.8) ends with -EIO ("virtio_pci: leaving for legacy driver", then
 * "probe of 0000:00:01.0 failed with error -5"; checked on 6.1.0 armmp, QEMU 7.2).
 */
export function linuxUnsupported(transport, mode) {
  if (transport === "pci" && mode === "legacy") {
    return "Debian's armmp kernel has CONFIG_NO_IOPORT_MAP=y: virtio_pci cannot map a legacy device's I/O BAR (probe fails with -EIO), so there is no Linux figure for legacy virtio-pci";
  }
  return null;
}

/** The kernel, initramfs and blkbench (cached under `cache/linux`). */
export async function prepareLinux({ root, cache, transport = "mmio", log = () => {} }) {
  const wanted = WANTED_MODULES[transport];
  if (!wanted) throw new LinuxPeerError(`no Linux modules known for the ${transport} transport`);
  const { kernel, release } = linuxKernel(root);
  const modules = linuxModules(root, release, wanted);
  const blkbench = buildPeerProgram(join(HERE, "linux-blkbench.c"), join(cache, "linux", "blkbench"));
  const entries = initramfsEntries({ root, programs: [{ name: "blkbench", path: blkbench }], modules, init: INIT(modules) });
  const initrd = join(cache, "linux", transport === "mmio" ? "initramfs.cpio" : `initramfs-${transport}.cpio`);
  mkdirSync(dirname(initrd), { recursive: true });
  writeFileSync(initrd, newcArchive(entries));
  log(`linux ${release}: initramfs with busybox, blkbench and ${modules.map((m) => basename(m.path)).join(", ")}`);
  return { kernel, initrd, release, transport };
}

async function timed(m, line, timeoutMs = 90000) {
  await m.write(`${line}\r`);
  const t0 = performance.now();
  const r = await m.waitFor(PROMPT, timeoutMs, { what: `the Linux prompt after ${line}` });
  return { ms: performance.now() - t0, output: r.before.replace(/\r/g, "") };
}

/** blkbench's read/write line: {iops (check time left out), iopsWithCheck, us, checkUs}. */
export function blkbenchResult(output, line) {
  const m = /BLKBENCH op=\w+ count=(\d+) depth=(\d+) us=(\d+) checkus=(\d+) bad=(\d+) first=(-?\d+)/.exec(output);
  if (!m) throw new LinuxPeerError(`${line}: ${output.trim().slice(-300)}`);
  const [count, us, checkUs, bad] = [Number(m[1]), Number(m[3]), Number(m[4]), Number(m[5])];
  if (bad !== 0) throw new LinuxPeerError(`${line}: ${bad} of ${count} reads did not match the image (first block ${m[6]})`);
  const net = us > checkUs ? us - checkUs : us;
  return { iops: count / (net / 1e6), iopsWithCheck: count / (us / 1e6), us, checkUs };
}

/** blkbench seq's pass lines: [{pass, bytes, req, depth, us, crc}], in order. */
export function blkbenchSeqPasses(output) {
  const out = [];
  for (const m of output.matchAll(/BLKBENCH op=seq pass=(\d+) bytes=(\d+) req=(\d+) depth=(\d+) us=(\d+) crc=([0-9a-f]{8})/g)) {
    out.push({ pass: Number(m[1]), bytes: Number(m[2]), req: Number(m[3]), depth: Number(m[4]), us: Number(m[5]), crc: m[6] });
  }
  return out;
}

/** One boot of Linux with the bench image (read only) and a scratch copy; adds samples. */
export async function runLinux({ linux, image, scratch, legacy, pci = false, memory, work, samples, suffix, seed, log }) {
  if (Boolean(pci) !== (linux.transport === "pci")) throw new LinuxPeerError(`the initramfs loads the ${linux.transport} modules, the disks are ${pci ? "pci" : "mmio"}`);
  const m = new QemuMachine({
    board: "qemu-virt-arm", // Debian's armhf kernel
    elf: linux.kernel, legacy, memory, prompt: null, batch: false, lifetimeS: 900,
    devices: [{ disk: image.path, readonly: true, pci }, { disk: scratch, pci }],
    extraArgs: ["-initrd", linux.initrd, "-append", "console=ttyAMA0 quiet loglevel=3"],
  });
  const t0 = performance.now();
  try {
    await m.start();
    await m.waitFor(/LXREADY/, 120000, { what: "/dev/vda" });
    samples.add(`ready_s${suffix}`, (performance.now() - t0) / 1000);
    await m.waitFor(PROMPT, 30000, { what: "the Linux shell" });
    // The disks sit on the transport asked for (sysfs: .../pci0000:00/0000:00:01.0/virtio0/block/vda
    // or .../a003e00.virtio_mmio/virtio0/block/vda).
    const paths = (await timed(m, "for d in vda vdb; do readlink -f /sys/block/$d; done")).output.split("\n").map((l) => l.trim()).filter((p) => p.startsWith("/sys/devices/"));
    const onTransport = (p) => (pci ? /\/pci[0-9a-f]{4}:[0-9a-f]{2}\//.test(p) : /virtio_mmio\//.test(p));
    if (paths.length !== 2 || !paths.every(onTransport)) throw new LinuxPeerError(`the disks are not on ${pci ? "virtio-pci" : "virtio-mmio"}: ${paths.join(" ")}`);
    // The kernel's own request limits for the disk (what a 4 MiB pread becomes).
    const limits = (await timed(m, "cat /sys/block/vda/queue/max_sectors_kb /sys/block/vda/queue/max_segments /sys/block/vda/queue/nr_requests")).output.trim().split(/\s+/).slice(-3).map(Number);
    if (limits.every((x) => Number.isFinite(x))) {
      samples.add("queue_max_sectors_kb", limits[0]);
      samples.add("queue_max_segments", limits[1]);
    }
    if (work.seq) {
      const { linuxReqKiB: reqKiB, depth, passes } = work.seq;
      const line = `blkbench seq /dev/img ${reqKiB} ${depth} ${passes}`;
      const r = await timed(m, line, 180000);
      const got = blkbenchSeqPasses(r.output);
      if (got.length !== passes) throw new LinuxPeerError(`${line}: ${r.output.trim().slice(-400)}`);
      for (const p of got) {
        if (p.bytes !== image.bytes || p.crc !== image.crc32) throw new LinuxPeerError(`${line}: pass ${p.pass + 1} read ${p.bytes} bytes with CRC-32 ${p.crc}, the image's is ${image.crc32}`);
        const mibps = image.bytes / 1048576 / (p.us / 1e6);
        samples.add(`seq_read_mibps${p.pass === 0 ? "_first" : ""}${suffix}`, mibps);
        log(`linux${suffix}: seq pass ${p.pass + 1} ${(p.us / 1000).toFixed(1)} ms = ${mibps.toFixed(0)} MiB/s (${reqKiB} KiB preads, ${depth} in flight; crc32 ok)`);
      }
    }
    const runs = [
      [work.qd1, "qd1_read_iops", `blkbench read /dev/img ${work.counts.linux1} 1 ${seed}`],
      [work.qd32, "qd32_read_iops", `blkbench read /dev/img ${work.counts.linux32} 32 ${seed}`],
      [work.writes, "qd1_write_iops", `blkbench write /dev/scr ${work.counts.w1} 1 ${seed}`],
      [work.writes, "qd32_write_iops", `blkbench write /dev/scr ${work.counts.w32} 32 ${seed}`],
    ];
    for (const [on, key, line] of runs) {
      if (!on) continue;
      const r = blkbenchResult((await timed(m, line)).output, line);
      samples.add(`${key}${suffix}`, r.iops);
      log(`linux${suffix}: ${key} ${r.iops.toFixed(0)}${r.checkUs > 0 ? ` (${r.iopsWithCheck.toFixed(0)} with the check's ${(r.checkUs / 1000).toFixed(1)} ms)` : ""}`);
    }
  } finally {
    await m.close();
  }
}
