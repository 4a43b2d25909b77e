// A real Linux machine on the other end of the firmware's wire, for the network QEMU
// suites (net-linux, net-linux-legacy, net-linux-pci, net-mq, net-floods): Debian's armhf
// Linux 6.1 (virtio_net and its dependencies from the kernel package) with busybox in a
// second QEMU, joined to the firmware's by a `-netdev socket` segment on loopback, by
// `-netdev dgram` ends and a relay here that drops, duplicates and reorders frames, or by
// the netdevs the caller gives (net-mq: taps). Linux is 10.0.3.2 and gives the firmware
// 10.0.3.15 by udhcpd; httpd serves /www. The kernel package, module closure, peer
// programs and initramfs layout are the bench's Linux peer's (tools/lib/peers/linux.mjs).
// The packages come from `node tools/fetch-peers.mjs` (or `npm run bench`); without them
// `haveLinux` is false and the suites skip.
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";
import { QemuMachine } from "../../../tools/lib/qemu.mjs";
import { newcArchive } from "../../../tools/lib/peers/cpio.mjs";
import { buildPeerProgram, initPrologue, initramfsEntries, LINUX_PROMPT, linuxKernel, linuxModules } from "../../../tools/lib/peers/linux.mjs";
import { bootShell, ROOT } from "./firmware.mjs";
import { freeTcpPort, freeUdpPorts } from "./ports.mjs";

export const LINUX_ROOT = join(ROOT, ".cache", "bench", "peers", "linux");
const HERE = dirname(fileURLToPath(import.meta.url));

export const haveLinux = existsSync(join(LINUX_ROOT, "boot")) && existsSync(join(LINUX_ROOT, "bin", "busybox"));

/** Bytes of `seq 1 n` (each number and a newline). */
export const seqBytes = (n) => { let b = 0; for (let i = 1; i <= n; i++) b += String(i).length + 1; return b; };

const INIT = (mods, setup) => `${initPrologue(mods, ["/www", "/etc"])}while [ ! -e /sys/class/net/eth0 ]; do :; done
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
  return buildPeerProgram(join(HERE, `${name}.c`), join(ROOT, ".cache", "net-linux", name));
}

/** Kernel and initramfs: busybox, virtio_mmio + virtio_net, `programs` ({name, path}) in
 * /bin, `setup` shell lines run before the services start. The archive's name carries a
 * hash of its bytes and is written whole (rename): suites in other worktrees share .cache. */
function initramfs({ setup = [], programs = [], tag = "net-linux" }) {
  const { kernel, release } = linuxKernel(LINUX_ROOT);
  const modules = linuxModules(LINUX_ROOT, release, ["virtio_mmio", "virtio_net"]);
  const archive = newcArchive(initramfsEntries({ root: LINUX_ROOT, programs, modules, init: INIT(modules, setup) }));
  const dir = join(ROOT, ".cache", "net-linux");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${tag}-${createHash("sha256").update(archive).digest("hex").slice(0, 16)}.cpio`);
  if (!existsSync(path)) {
    writeFileSync(`${path}.${process.pid}`, archive);
    renameSync(`${path}.${process.pid}`, path);
  }
  return { kernel, initrd: path };
}

/** Runs `line` in Linux's shell; its output (the line's echo first). */
export async function lx(m, line, timeoutMs = 60000) {
  await m.write(`${line}\r`);
  const r = await m.waitFor(LINUX_PROMPT, timeoutMs, { what: `the Linux prompt after ${line}` });
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

/**
 * Boots the firmware (its NIC `fwDevice`, a -device item on netdev s0; `legacy` for legacy
 * virtio-mmio) and Linux on one segment, and waits for the firmware's DHCP lease from
 * Linux. The segment: netdev s0 of each as `fwNetdev` and `lxNetdev` say; else, with
 * `impair` ({loss, duplicate, reorder, seed}), `-netdev dgram` through a lossy relay; else
 * a `-netdev socket` pair on loopback. `linux`: what initramfs() takes. Returns {fw, lxm,
 * relay, close}.
 */
export async function bootPair({
  fwDevice = { device: "virtio-net-device,netdev=s0,mac=52:54:00:12:34:56" }, legacy = false,
  fwNetdev, lxNetdev, impair, linux: linuxOptions = {},
} = {}) {
  const linux = initramfs(linuxOptions);
  let relay = null;
  if (fwNetdev === undefined || lxNetdev === undefined) {
    if (impair === undefined) {
      const port = await freeTcpPort();
      fwNetdev = `socket,id=s0,listen=127.0.0.1:${port}`;
      lxNetdev = `socket,id=s0,connect=127.0.0.1:${port}`;
    } else {
      const [fwPort, lxPort, relayA, relayB] = await freeUdpPorts(4);
      const dgram = (local, remote) => `dgram,id=s0,local.type=inet,local.host=127.0.0.1,local.port=${local},remote.type=inet,remote.host=127.0.0.1,remote.port=${remote}`;
      relay = await lossyRelay(relayA, fwPort, relayB, lxPort, impair);
      fwNetdev = dgram(fwPort, relayA);
      lxNetdev = dgram(lxPort, relayB);
    }
  }
  const fw = await bootShell({ legacy, devices: [fwDevice], extraArgs: ["-netdev", fwNetdev] });
  const lxm = new QemuMachine({
    board: "qemu-virt-arm", // the peer is Debian's armhf kernel, whatever board the firmware is on
    elf: linux.kernel, prompt: null, batch: false, lifetimeS: 600, memory: 256,
    devices: [{ device: "virtio-net-device,netdev=s0,mac=52:54:00:aa:00:02" }],
    extraArgs: ["-netdev", lxNetdev, "-initrd", linux.initrd, "-append", "console=ttyAMA0 quiet loglevel=3"],
  });
  const close = async () => {
    await lxm.close();
    await fw.close();
    relay?.close();
  };
  try {
    await lxm.start();
    await lxm.waitFor(/LXREADY/, 180000, { what: "Linux with eth0 up" });
    await lxm.waitFor(LINUX_PROMPT, 30000, { what: "the Linux shell" });
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
