// VIRTIO_NET_F_MQ on QEMU (virtio-net-device, mq=on). QEMU's virtio-net offers as many
// queue pairs as its backend has queues, and only tap backends have several, so the
// firmware's NIC sits on a 4-queue tap in a network namespace of its own (made and
// removed here; nothing outside it changes), bridged to a second tap with the Linux peer
// (tests/qemu/lib/linux-pair.mjs) on it. Checked: MQ negotiated, max_virtqueue_pairs
// 4, all 4 pairs set up and in use after VQ_PAIRS_SET; pings, UDP and a TCP echo intact;
// eight TCP connections from Linux spread over the receive queues (the kernel's tap
// steers by flow) and the firmware's transmit queues (its flow hash). With user
// networking (one queue, max_virtqueue_pairs 1) MQ is still negotiated and one pair is used.
// Both on virtio-mmio and over virtio-pci (virtio-net-pci: QEMU gives it 2 * 4 + 2 MSI-X vectors).
// Skipped (with a message) without root and `ip` (network namespaces, tap devices).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootShell, jsonLine } from "./lib/firmware.mjs";
import { bigFile, peerChecks } from "./lib/linux-net-checks.mjs";
import { bootPair, haveLinux, LINUX_ROOT, lx } from "./lib/linux-pair.mjs";

const ECHO_N = 50000; // `seq 1 50000`: 288,894 bytes
const FLOWS = 8;

function sh(cmd) {
  const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8" });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** A network namespace with a 4-queue tap (fw0) and a plain one (lx0) on a bridge, and a
 * directory whose `qemu-system-*` run the real ones inside it (put first on PATH while
 * the machines start). Null when this machine cannot (not root, no `ip`). */
function tapNamespace() {
  const ns = `vxs-mq-${process.pid}`;
  const setup = [
    `ip netns add ${ns}`,
    `ip -n ${ns} link set lo up`,
    `ip -n ${ns} tuntap add dev fw0 mode tap multi_queue`,
    `ip -n ${ns} tuntap add dev lx0 mode tap`,
    `ip -n ${ns} link add br0 type bridge`,
    `ip -n ${ns} link set fw0 master br0`,
    `ip -n ${ns} link set lx0 master br0`,
    ...["fw0", "lx0", "br0"].map((d) => `ip -n ${ns} link set ${d} up`),
  ].join(" && ");
  const made = sh(setup);
  if (!made.ok) {
    sh(`ip netns del ${ns} 2>/dev/null`);
    return { skip: made.out.trim().split("\n")[0] };
  }
  const bin = mkdtempSync(join(tmpdir(), "vxs-mq-bin-"));
  // Every board's QEMU (the firmware's board may not be arm; the Linux peer always is).
  for (const name of ["qemu-system-arm", "qemu-system-aarch64", "qemu-system-riscv64"]) {
    const real = sh(`command -v ${name}`).out.trim();
    if (!real) continue;
    const wrapper = join(bin, name);
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${real} "$@"\n`);
    chmodSync(wrapper, 0o755);
  }
  return {
    ns,
    /** Runs `fn` with the wrapper first on PATH (the machines spawn QEMU by name). */
    async inside(fn) {
      const path = process.env.PATH;
      process.env.PATH = `${bin}:${path}`;
      try {
        return await fn();
      } finally {
        process.env.PATH = path;
      }
    },
    remove() {
      sh(`ip netns del ${ns}`);
      rmSync(bin, { recursive: true, force: true });
    },
  };
}

/** The firmware's NIC `fwDevice` (on netdev s0) on the 4-queue tap, Linux on the other. */
async function tapTest(fwDevice, label) {
  if (!haveLinux) {
    console.log(`  skipped: no Linux peer in ${LINUX_ROOT} (npm run bench fetches it)`);
    return;
  }
  const net = tapNamespace();
  if (net.skip) {
    console.log(`  skipped: no network namespace with tap devices here (${net.skip})`);
    return;
  }
  let pair = null;
  try {
    pair = await net.inside(() => bootPair({
      fwDevice,
      fwNetdev: "tap,id=s0,ifname=fw0,script=no,downscript=no,vhost=off,queues=4",
      lxNetdev: "tap,id=s0,ifname=lx0,script=no,downscript=no,vhost=off",
      linux: { setup: [bigFile(ECHO_N)] },
    }));
    const { fw, lxm } = pair;
    const info = async () => jsonLine((await fw.command("net info --json")).output);
    const start = await info();
    assert.equal([start.maxQueuePairs, start.queuePairsSetUp, start.queuePairs], [4, 4, 4], "4 pairs set up and enabled");
    const devices = jsonLine((await fw.command("devices --json")).output);
    assert.ok((BigInt(devices.find((d) => d.type === "net").features) & (1n << 22n)) !== 0n, "VIRTIO_NET_F_MQ (bit 22) negotiated");
    const { total, ms } = await peerChecks(fw, lxm, ECHO_N);
    const before = (await info()).pairs;
    const echo = await fw.begin(`net tcp-echo 7 --count ${FLOWS}`);
    await echo.waitFor(/tcp-echo: serving/, 10000);
    const out = await lx(lxm, `for i in $(seq 1 ${FLOWS}); do echo flow-$i | nc -w 5 10.0.3.15 7; done`, 120000);
    for (let i = 1; i <= FLOWS; i++) assert.match(out, new RegExp(`^flow-${i}$`, "m"), out);
    const done = await echo.finish({ timeoutMs: 30000 });
    assert.match(done.output, new RegExp(`tcp-echo: ${FLOWS} connections`), done.output);
    const after = (await info()).pairs;
    const delta = after.map((p, i) => ({ rx: p.rxFrames - before[i].rxFrames, tx: p.txFrames - before[i].txFrames }));
    assert.ok(delta.filter((d) => d.rx > 0).length >= 2, `received on several queues: ${JSON.stringify(delta)}`);
    assert.ok(delta.filter((d) => d.tx > 0).length >= 2, `sent on several queues: ${JSON.stringify(delta)}`);
    assert.is((await info()).device.txTimeouts, 0);
    console.log(`  ${label} mq tap: 4 pairs; ${total} bytes echoed intact in ${ms} ms; ${FLOWS} connections per pair (rx/tx frames): ${delta.map((d) => `${d.rx}/${d.tx}`).join(" ")}`);
  } finally {
    await pair?.close();
    net.remove();
  }
}

test("mq=on on a 4-queue tap with a Linux peer: 4 pairs in use; pings, UDP, TCP echo intact; flows spread over the queues", () =>
  tapTest({ device: "virtio-net-device,netdev=s0,mac=52:54:00:12:34:56,mq=on" }, "mmio"));

test("virtio-net-pci mq=on on a 4-queue tap (MSI-X, 10 vectors): the same", () =>
  tapTest("virtio-net-pci,netdev=s0,mac=52:54:00:12:34:56,mq=on", "pci"));

test("mq=on with user networking: MQ negotiated, max_virtqueue_pairs 1, one pair; DHCP and ping work", async () => {
  const m = await bootShell({ devices: [{ device: "virtio-net-device,netdev=u0,mq=on" }], extraArgs: ["-netdev", "user,id=u0"] });
  try {
    let info = null;
    for (let i = 0; i < 50 && info?.address !== "10.0.2.15"; i++) {
      info = jsonLine((await m.command("net info --json")).output);
      if (info.address !== "10.0.2.15") await new Promise((r) => setTimeout(r, 200));
    }
    assert.is(info.address, "10.0.2.15");
    assert.equal([info.maxQueuePairs, info.queuePairsSetUp, info.queuePairs], [1, 1, 1]);
    const devices = jsonLine((await m.command("devices --json")).output);
    assert.ok((BigInt(devices.find((d) => d.type === "net").features) & (1n << 22n)) !== 0n, "VIRTIO_NET_F_MQ (bit 22) negotiated");
    const ping = await m.command("net ping 10.0.2.2 --count 2");
    assert.is(ping.status, 0, ping.output);
  } finally {
    await m.close();
  }
});

test.run();
