// A real Linux machine on the other end of the wire: Debian's armhf Linux 6.1 (virtio_net
// and its dependencies from the kernel package) with busybox, in a second QEMU joined to
// the firmware's by a `-netdev socket` segment on loopback. Linux gives the firmware its
// address (udhcpd), serves files (httpd), and checks: Linux's ping of 4000 bytes
// (fragmented both ways) is answered; busybox wget gets the firmware's HTTP status page;
// the firmware's HTTP client fetches a ~1 MiB file from httpd with the right CRC-32; a
// TCP echo of 4.37 MB through busybox nc comes back intact (MD5 on Linux). Then again on
// `-netdev dgram` ends joined by a relay here that drops, duplicates and reorders frames:
// the 4.37 MB echo is still intact.
// Skipped (with a message) when the Linux packages are not in the cache: `npm run bench`
// fetches them (tools/lib/bench-fetch.mjs).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import { join } from "node:path";
import { QemuMachine } from "../../tools/lib/qemu.mjs";
import { newcArchive } from "../../tools/lib/peers/cpio.mjs";
import { BOARD_MODEL, bootShell, jsonLine, ROOT } from "./lib/firmware.mjs";

const LINUX_ROOT = join(ROOT, ".cache", "bench", "peers", "linux");
const PROMPT = /\nlx# (?:\x1b\[6n)?$/;
const SEQ_N = 160000; // `seq 1 160000`: 1,008,895 bytes (about 1 MiB)
const ECHO_N = 640000; // `seq 1 640000`: 4,368,895 bytes (over 4 MiB)
const seqBytes = (n) => { let b = 0; for (let i = 1; i <= n; i++) b += String(i).length + 1; return b; };

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

function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (~c >>> 0).toString(16).padStart(8, "0");
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

const INIT = (mods) => `#!/bin/busybox sh
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
seq 1 ${SEQ_N} > /www/f
seq 1 ${ECHO_N} > /tmp/big
printf 'start 10.0.3.15\\nend 10.0.3.15\\ninterface eth0\\nlease_file /tmp/leases\\noption subnet 255.255.255.0\\noption router 10.0.3.2\\noption lease 3600\\n' > /etc/udhcpd.conf
touch /tmp/leases
udhcpd /etc/udhcpd.conf
httpd -p 80 -h /www
echo LXREADY
export PS1='lx# '
exec sh
`;

function initramfs() {
  const boot = join(LINUX_ROOT, "boot");
  const vmlinuz = readdirSync(boot).find((f) => f.startsWith("vmlinuz-"));
  const release = vmlinuz.slice("vmlinuz-".length);
  const mods = modules(join(LINUX_ROOT, "lib", "modules", release), ["virtio_mmio", "virtio_net"]);
  const entries = [
    ...["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"].map((name) => ({ name, mode: 0o040755 })),
    { name: "dev/console", mode: 0o020600, rdev: [5, 1] },
    { name: "bin/busybox", mode: 0o100755, data: readFileSync(join(LINUX_ROOT, "bin", "busybox")) },
    ...mods.map((m) => ({ name: `lib/modules/${m.name}.ko`, mode: 0o100644, data: readFileSync(m.path) })),
    { name: "init", mode: 0o100755, data: INIT(mods) },
  ];
  const dir = join(ROOT, ".cache", "net-linux");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "initramfs.cpio");
  writeFileSync(path, newcArchive(entries));
  return { kernel: join(boot, vmlinuz), initrd: path };
}

async function lx(m, line, timeoutMs = 60000) {
  await m.write(`${line}\r`);
  const r = await m.waitFor(PROMPT, timeoutMs, { what: `the Linux prompt after ${line}` });
  return r.before.replace(/\r/g, "");
}

const haveLinux = existsSync(join(LINUX_ROOT, "boot")) && existsSync(join(LINUX_ROOT, "bin", "busybox"));

function freeUdpPorts(n) {
  return Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  })));
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

/** Both machines on one segment: `-netdev socket` (direct) or `-netdev dgram` through `relay`. */
async function bootPair(impair) {
  const linux = initramfs();
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

/** 4 MiB through busybox nc and the firmware's TCP echo, compared by MD5 on Linux. */
async function ncEcho(fw, lxm) {
  const echo = await fw.begin("net tcp-echo 7 --count 1");
  await echo.waitFor(/tcp-echo: serving/, 10000);
  const t1 = Date.now();
  const nc = await lx(lxm, "nc -w 20 10.0.3.15 7 < /tmp/big > /tmp/out; md5sum /tmp/big /tmp/out; wc -c < /tmp/out", 600000);
  const sums = [...nc.matchAll(/^([0-9a-f]{32}) {2}\/tmp\/(big|out)$/gm)].map((m) => m[1]);
  assert.is(sums.length, 2, nc);
  assert.is(sums[1], sums[0], `echo differs: ${nc}`);
  const total = seqBytes(ECHO_N);
  assert.match(nc, new RegExp(`^${total}$`, "m"), nc);
  const echoed = await echo.finish({ timeoutMs: 60000 });
  assert.match(echoed.output, new RegExp(`tcp-echo: 1 connections, ${total} bytes echoed, 0 errors`), echoed.output);
  return { total, ms: Date.now() - t1 };
}

test("Linux peer: DHCP from udhcpd, Linux pings 4000 bytes, wget of the status page, http-get of ~1 MiB from httpd, 4 MiB nc echo", async () => {
  if (!haveLinux) {
    console.log(`  skipped: no Linux peer in ${LINUX_ROOT} (npm run bench fetches it)`);
    return;
  }
  const { fw, lxm, close } = await bootPair();
  try {
    const ping = await lx(lxm, "ping -c 3 -s 4000 10.0.3.15");
    assert.match(ping, /3 packets transmitted, 3 packets received/, ping);
    const serve = await fw.begin("net http-serve 80");
    await serve.waitFor(/http-serve: serving/, 10000);
    const page = await lx(lxm, "wget -q -O - http://10.0.3.15/ | head -3");
    assert.match(page, `virtio-xs on ${BOARD_MODEL}`, page);
    await serve.interrupt();
    const served = await serve.finish({ timeoutMs: 10000 });
    assert.match(served.output, /http-serve: 1 requests/, served.output);
    let text = "";
    for (let i = 1; i <= SEQ_N; i++) text += `${i}\n`;
    const expected = crc32(Buffer.from(text));
    const t0 = Date.now();
    const get = await fw.command("net http-get http://10.0.3.2/f", { timeoutMs: 180000 });
    assert.is(get.status, 0, get.output);
    assert.match(get.output, new RegExp(`http-get: 200, ${text.length} bytes in \\d+ ms, crc32=${expected}`), get.output);
    console.log(`  Linux peer: 4000-byte pings answered; wget ok; http-get of ${text.length} bytes from busybox httpd in ${Date.now() - t0} ms`);
    const { total, ms } = await ncEcho(fw, lxm);
    console.log(`  Linux peer: ${total} bytes echoed through busybox nc intact in ${ms} ms`);
    const info = jsonLine((await fw.command("net info --json")).output);
    assert.ok(info.ip.ipFragments >= 9, "Linux's 4000-byte pings came as fragments");
  } finally {
    await close();
  }
});

test("Linux peer through a lossy relay (-netdev dgram; 2 % lost, 1 % duplicated, 3 % reordered): 4 MiB nc echo intact", async () => {
  if (!haveLinux) {
    console.log("  skipped: no Linux peer");
    return;
  }
  const { fw, lxm, relay, close } = await bootPair({ loss: 0.02, duplicate: 0.01, reorder: 0.03, seed: 7 });
  try {
    const { total, ms } = await ncEcho(fw, lxm);
    const tcp = jsonLine((await fw.command("net info --json")).output).tcp;
    console.log(`  lossy relay: ${total} bytes echoed intact in ${ms} ms; relay ${JSON.stringify(relay.stats)}; firmware resent ${tcp.retransmittedSegments} segments (${tcp.fastRetransmits} fast retransmits, ${tcp.retransmitTimeouts} timeouts)`);
    assert.ok(relay.stats.lost > 0 && relay.stats.duplicated > 0 && relay.stats.reordered > 0, JSON.stringify(relay.stats));
  } finally {
    await close();
  }
});

test.run();
