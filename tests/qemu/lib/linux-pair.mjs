// A real Linux machine on the other end of the firmware's wire, for the network QEMU
// suites (net-linux, net-floods): Debian's armhf Linux 6.1 (virtio_net and its
// dependencies from the kernel package) with busybox in a second QEMU, joined to the
// firmware's by a `-netdev socket` segment on loopback, or by `-netdev dgram` ends and a
// relay here that drops, duplicates and reorders frames. Linux is 10.0.3.2 and gives the
// firmware 10.0.3.15 by udhcpd. The packages come from `node tools/fetch-peers.mjs` (or
// `npm run bench`); without them `haveLinux` is false and the suites skip.
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";
import { QemuMachine } from "../../../tools/lib/qemu.mjs";
import { newcArchive } from "../../../tools/lib/peers/cpio.mjs";
import { bootShell, ROOT } from "./firmware.mjs";

export const LINUX_ROOT = join(ROOT, ".cache", "bench", "peers", "linux");
const PROMPT = /\nlx# (?:\x1b\[6n)?$/; // ash may ask for the cursor position after it
const HERE = dirname(fileURLToPath(import.meta.url));

export const haveLinux = existsSync(join(LINUX_ROOT, "boot")) && existsSync(join(LINUX_ROOT, "bin", "busybox"));

function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function freeUdpPorts(n) {
  return Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  })));
}

/** The .ko files of `wanted` and their dependencies (modinfo depends=), dependencies first. */
function modules(modRoot, wanted) {
  const index = new Map();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ko")) index.set(e.name.slice(0, -3).replace(/-/g, "_"), p);
    }
  };
  walk(modRoot);
  const order = [];
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const path = index.get(name);
    if (path === undefined) return; // built in
    const deps = /(?:^|\0)depends=([^\0]*)/.exec(readFileSync(path).toString("latin1"))?.[1] ?? "";
    for (const d of deps.split(",").filter(Boolean)) visit(d.replace(/-/g, "_"));
    order.push({ name, path });
  };
  for (const w of wanted) visit(w);
  return order;
}

const INIT = (mods, setup) => `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /www /etc
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
/bin/busybox --install -s /bin
export PATH=/bin
${mods.map((m) => `insmod /lib/modules/${m.name}.ko`).join("\n")}
while [ ! -e /sys/class/net/eth0 ]; do :; done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.3.2/24 dev eth0
${setup.join("\n")}
printf 'start 10.0.3.15\\nend 10.0.3.15\\ninterface eth0\\nlease_file /tmp/leases\\noption subnet 255.255.255.0\\noption router 10.0.3.2\\noption lease 3600\\n' > /etc/udhcpd.conf
touch /tmp/leases
udhcpd /etc/udhcpd.conf
httpd -p 80 -h /www
echo LXREADY
export PS1='lx# '
exec sh
`;

/** `tests/qemu/lib/NAME.c` built for the Linux peer (static armhf, no C library; cached). */
export function peerProgram(name) {
  const src = join(HERE, `${name}.c`);
  const outFile = join(ROOT, ".cache", "net-linux", name);
  if (existsSync(outFile) && statSync(outFile).mtimeMs >= statSync(src).mtimeMs) return outFile;
  mkdirSync(dirname(outFile), { recursive: true });
  const r = spawnSync("arm-none-eabi-gcc", [
    "-O2", "-marm", "-mcpu=cortex-a15", "-mfloat-abi=soft", "-ffreestanding", "-fno-builtin", "-nostdlib", "-static",
    "-Wl,-e,_start", "-Wl,--build-id=none", "-Wl,-Ttext-segment=0x10000", "-o", outFile, src, "-lgcc",
  ], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`arm-none-eabi-gcc ${name}.c failed: ${r.stderr}`);
  return outFile;
}

/** Kernel and initramfs: busybox, virtio_mmio + virtio_net, `programs` ({name, path}) in
 * /bin, `setup` shell lines run before the services start. */
function initramfs({ setup = [], programs = [], tag = "net-linux" }) {
  const boot = join(LINUX_ROOT, "boot");
  const vmlinuz = readdirSync(boot).find((f) => f.startsWith("vmlinuz-"));
  const release = vmlinuz.slice("vmlinuz-".length);
  const mods = modules(join(LINUX_ROOT, "lib", "modules", release), ["virtio_mmio", "virtio_net"]);
  const entries = [
    ...["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"].map((name) => ({ name, mode: 0o040755 })),
    { name: "dev/console", mode: 0o020600, rdev: [5, 1] },
    { name: "bin/busybox", mode: 0o100755, data: readFileSync(join(LINUX_ROOT, "bin", "busybox")) },
    ...programs.map((p) => ({ name: `bin/${p.name}`, mode: 0o100755, data: readFileSync(p.path) })),
    ...mods.map((m) => ({ name: `lib/modules/${m.name}.ko`, mode: 0o100644, data: readFileSync(m.path) })),
    { name: "init", mode: 0o100755, data: INIT(mods, setup) },
  ];
  const dir = join(ROOT, ".cache", "net-linux");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${tag}.cpio`);
  writeFileSync(path, newcArchive(entries));
  return { kernel: join(boot, vmlinuz), initrd: path };
}

/** Runs `line` in Linux's shell; its output (the line's echo first). */
export async function lx(m, line, timeoutMs = 60000) {
  await m.write(`${line}\r`);
  const r = await m.waitFor(PROMPT, timeoutMs, { what: `the Linux prompt after ${line}` });
  return r.before.replace(/\r/g, "");
}

/** A UDP relay between the two QEMUs' `-netdev dgram` ends that drops, duplicates and
 * reorders (delays) a share of the frames each way (seeded). */
function lossyRelay(relayA, fwPort, relayB, lxPort, { loss, duplicate, reorder, seed }) {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const stats = { frames: 0, lost: 0, duplicated: 0, reordered: 0 };
  const sa = createSocket("udp4");
  const sb = createSocket("udp4");
  const pass = (out, port) => (msg) => {
    stats.frames++;
    if (random() < loss) return void stats.lost++;
    const copies = random() < duplicate ? 2 : 1;
    if (copies === 2) stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      if (random() < reorder) {
        stats.reordered++;
        setTimeout(() => out.send(msg, port, "127.0.0.1"), 2 + random() * 20);
      } else out.send(msg, port, "127.0.0.1");
    }
  };
  sa.on("message", pass(sb, lxPort));
  sb.on("message", pass(sa, fwPort));
  return new Promise((resolve) => sa.bind(relayA, "127.0.0.1", () => sb.bind(relayB, "127.0.0.1", () => resolve({ stats, close: () => (sa.close(), sb.close()) }))));
}

/** Both machines on one segment: `-netdev socket` (direct) or, with `impair`, `-netdev
 * dgram` through a lossy relay; the firmware holds its DHCP lease from Linux. `linux`:
 * what initramfs() takes. Returns {fw, lxm, relay, close}. */
export async function bootPair({ impair, linux: linuxOptions = {} } = {}) {
  const linux = initramfs(linuxOptions);
  let fwNet;
  let lxNet;
  let relay = null;
  if (impair === undefined) {
    const port = await freeTcpPort();
    fwNet = `socket,id=s0,listen=127.0.0.1:${port}`;
    lxNet = `socket,id=s0,connect=127.0.0.1:${port}`;
  } else {
    const [fwPort, lxPort, relayA, relayB] = await freeUdpPorts(4);
    const dgram = (local, remote) => `dgram,id=s0,local.type=inet,local.host=127.0.0.1,local.port=${local},remote.type=inet,remote.host=127.0.0.1,remote.port=${remote}`;
    relay = await lossyRelay(relayA, fwPort, relayB, lxPort, impair);
    fwNet = dgram(fwPort, relayA);
    lxNet = dgram(lxPort, relayB);
  }
  const fw = await bootShell({ devices: [{ device: "virtio-net-device,netdev=s0,mac=52:54:00:12:34:56" }], extraArgs: ["-netdev", fwNet] });
  const lxm = new QemuMachine({
    board: "qemu-virt-arm", // the peer is Debian's armhf kernel, whatever board the firmware is on
    elf: linux.kernel, prompt: null, batch: false, lifetimeS: 600, memory: 256,
    devices: [{ device: "virtio-net-device,netdev=s0,mac=52:54:00:aa:00:02" }],
    extraArgs: ["-netdev", lxNet, "-initrd", linux.initrd, "-append", "console=ttyAMA0 quiet loglevel=3"],
  });
  const close = async () => {
    await lxm.close();
    await fw.close();
    relay?.close();
  };
  try {
    await lxm.start();
    await lxm.waitFor(/LXREADY/, 180000, { what: "Linux with eth0 up" });
    await lxm.waitFor(PROMPT, 30000, { what: "the Linux shell" });
    // DHCP may have given up while Linux booted: ask again
    let lease = null;
    for (let i = 0; i < 3 && lease?.status !== 0; i++) lease = await fw.command("net dhcp", { timeoutMs: 60000 });
    assert.is(lease.status, 0, lease.output);
    assert.match(lease.output, /10\.0\.3\.15\/24 gateway 10\.0\.3\.2 server 10\.0\.3\.2/);
  } catch (error) {
    await close();
    throw error;
  }
  return { fw, lxm, relay, close };
}
