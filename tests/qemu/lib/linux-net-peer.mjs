// A Linux machine on the firmware's Ethernet segment, for the QEMU suites that test the
// virtio-net driver against a real peer (net-linux-legacy, net-linux-pci): Debian's
// armhf Linux 6.1 with busybox in a second QEMU (its NIC on virtio-mmio), joined to the
// firmware's QEMU by a `-netdev socket` segment on loopback. Linux is 10.0.3.2 and gives
// the firmware 10.0.3.15 by udhcpd; `seq 1 N > /tmp/big` is ready for a TCP echo.
// The kernel package and busybox come from `npm run bench` (tools/lib/bench-fetch.mjs).
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { QemuMachine } from "../../../tools/lib/qemu.mjs";
import { newcArchive } from "../../../tools/lib/peers/cpio.mjs";
import { moduleClosure, moduleIndex } from "../../../tools/lib/peers/linux.mjs";
import { bootShell, ROOT } from "./firmware.mjs";

export const LINUX_ROOT = join(ROOT, ".cache", "bench", "peers", "linux");
export const haveLinux = existsSync(join(LINUX_ROOT, "boot")) && existsSync(join(LINUX_ROOT, "bin", "busybox"));
const PROMPT = /\nlx# (?:\x1b\[6n)?$/;

/** Bytes of `seq 1 n` (each number and a newline). */
export const seqBytes = (n) => { let b = 0; for (let i = 1; i <= n; i++) b += String(i).length + 1; return b; };

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

const INIT = (mods, echoN) => `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /etc
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
seq 1 ${echoN} > /tmp/big
printf 'start 10.0.3.15\\nend 10.0.3.15\\ninterface eth0\\nlease_file /tmp/leases\\noption subnet 255.255.255.0\\noption router 10.0.3.2\\noption lease 3600\\n' > /etc/udhcpd.conf
touch /tmp/leases
udhcpd /etc/udhcpd.conf
echo LXREADY
export PS1='lx# '
exec sh
`;

function initramfs(echoN) {
  const boot = join(LINUX_ROOT, "boot");
  const vmlinuz = readdirSync(boot).find((f) => f.startsWith("vmlinuz-"));
  const release = vmlinuz.slice("vmlinuz-".length);
  const mods = moduleClosure(moduleIndex(join(LINUX_ROOT, "lib", "modules", release)), ["virtio_mmio", "virtio_net"]);
  const entries = [
    ...["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"].map((name) => ({ name, mode: 0o040755 })),
    { name: "dev/console", mode: 0o020600, rdev: [5, 1] },
    { name: "bin/busybox", mode: 0o100755, data: readFileSync(join(LINUX_ROOT, "bin", "busybox")) },
    ...mods.map((m) => ({ name: `lib/modules/${m.name}.ko`, mode: 0o100644, data: readFileSync(m.path) })),
    { name: "init", mode: 0o100755, data: INIT(mods, echoN) },
  ];
  const dir = join(ROOT, ".cache", "net-linux-peer");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `initramfs-${echoN}.cpio`);
  writeFileSync(path, newcArchive(entries));
  return { kernel: join(boot, vmlinuz), initrd: path };
}

/** Runs a line in Linux's shell; its output. */
export async function lx(m, line, timeoutMs = 60000) {
  await m.write(`${line}\r`);
  const r = await m.waitFor(PROMPT, timeoutMs, { what: `the Linux prompt after ${line}` });
  return r.before.replace(/\r/g, "");
}

/**
 * Boots the firmware (its NIC `fwDevice`, a -device item on netdev s0, e.g.
 * "virtio-net-pci,netdev=s0,mac=...", and `legacy` for legacy virtio-mmio) and Linux on one
 * segment, and waits for the firmware's DHCP lease from Linux. The segment is a
 * `-netdev socket` pair on loopback unless `fwNetdev` and `lxNetdev` (netdev s0 of each)
 * say otherwise. Returns {fw, lxm, close}.
 */
export async function bootLinuxPair({ fwDevice, legacy = false, echoN, fwNetdev, lxNetdev }) {
  const linux = initramfs(echoN);
  if (fwNetdev === undefined || lxNetdev === undefined) {
    const port = await freeTcpPort();
    fwNetdev = `socket,id=s0,listen=127.0.0.1:${port}`;
    lxNetdev = `socket,id=s0,connect=127.0.0.1:${port}`;
  }
  const fw = await bootShell({ legacy, devices: [fwDevice], extraArgs: ["-netdev", fwNetdev] });
  const lxm = new QemuMachine({
    elf: linux.kernel, prompt: null, batch: false, lifetimeS: 600, memory: 256,
    board: "qemu-virt-arm", // the peer is Debian's armhf kernel, whatever board the firmware is on
    devices: [{ device: "virtio-net-device,netdev=s0,mac=52:54:00:aa:00:02" }],
    extraArgs: ["-netdev", lxNetdev, "-initrd", linux.initrd, "-append", "console=ttyAMA0 quiet loglevel=3"],
  });
  const close = async () => {
    await lxm.close();
    await fw.close();
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
  return { fw, lxm, close };
}

/**
 * What both suites check, the firmware at 10.0.3.15 and Linux at 10.0.3.2: Linux pings
 * 56 and 4000 bytes (fragments both ways); UDP both ways (Linux's nslookup to the
 * firmware's `net udp-echo 53` gets its query back: "No answer", not a timeout); a TCP
 * echo of `seq 1 echoN` through busybox nc and the firmware's `net tcp-echo`, MD5
 * compared on Linux. Returns what it measured.
 */
export async function peerChecks(fw, lxm, echoN) {
  const ping = await lx(lxm, "ping -c 3 10.0.3.15; ping -c 2 -s 4000 10.0.3.15");
  assert.match(ping, /3 packets transmitted, 3 packets received/, ping);
  assert.match(ping, /2 packets transmitted, 2 packets received/, ping);
  const udp = await fw.begin("net udp-echo 53 --count 1");
  await udp.waitFor(/udp-echo: serving/, 10000);
  const before = udpIn(await lx(lxm, "grep Udp: /proc/net/snmp"));
  const ns = await lx(lxm, "nslookup -type=a probe.example 10.0.3.15 2>&1", 60000);
  const after = udpIn(await lx(lxm, "grep Udp: /proc/net/snmp"));
  const echoed = await udp.finish({ timeoutMs: 30000 });
  assert.match(echoed.output, /udp-echo: echoed [1-9]\d* datagrams/, echoed.output);
  assert.ok(after > before, `Linux received the echoed datagram (Udp InDatagrams ${before} -> ${after}): ${ns}`);
  assert.not.match(ns, /timed out/, ns);
  const echo = await fw.begin("net tcp-echo 7 --count 1");
  await echo.waitFor(/tcp-echo: serving/, 10000);
  const t0 = Date.now();
  const nc = await lx(lxm, "nc -w 20 10.0.3.15 7 < /tmp/big > /tmp/out; md5sum /tmp/big /tmp/out; wc -c < /tmp/out", 300000);
  const ms = Date.now() - t0;
  const sums = [...nc.matchAll(/^([0-9a-f]{32}) {2}\/tmp\/(big|out)$/gm)].map((m) => m[1]);
  assert.is(sums.length, 2, nc);
  assert.is(sums[1], sums[0], `echo differs: ${nc}`);
  const total = seqBytes(echoN);
  assert.match(nc, new RegExp(`^${total}$`, "m"), nc);
  const done = await echo.finish({ timeoutMs: 60000 });
  assert.match(done.output, new RegExp(`tcp-echo: 1 connections, ${total} bytes echoed, 0 errors`), done.output);
  return { total, ms };
}

/** Udp InDatagrams from the two "Udp:" lines of /proc/net/snmp. */
function udpIn(text) {
  const lines = text.split("\n").filter((l) => l.startsWith("Udp:"));
  const names = lines[0].trim().split(/\s+/);
  const values = lines[1].trim().split(/\s+/);
  return Number(values[names.indexOf("InDatagrams")]);
}
