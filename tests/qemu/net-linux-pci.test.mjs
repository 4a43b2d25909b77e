// The virtio-net driver over virtio-pci (virtio-net-pci, modern, MSI-X) against a real
// Linux peer (tests/qemu/lib/linux-pair.mjs; Linux's own NIC on virtio-mmio): DHCP
// from Linux's udhcpd; Linux's pings of 56 and 4000 bytes answered; UDP both ways; a TCP
// echo of ~590 KB intact (MD5 on Linux). Then the same with `mq=on` (MQ negotiated; a
// socket backend has one queue pair, so max_virtqueue_pairs is 1).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jsonLine } from "./lib/firmware.mjs";
import { bigFile, peerChecks } from "./lib/linux-net-checks.mjs";
import { bootPair, haveLinux, LINUX_ROOT } from "./lib/linux-pair.mjs";

const ECHO_N = 100000; // `seq 1 100000`: 588,895 bytes

test("virtio-net-pci (mq=on) and a Linux peer: DHCP, ping 56 and 4000 bytes, UDP both ways, ~590 KB TCP echo intact", async () => {
  if (!haveLinux) {
    console.log(`  skipped: no Linux peer in ${LINUX_ROOT} (npm run bench fetches it)`);
    return;
  }
  const { fw, lxm, close } = await bootPair({ fwDevice: "virtio-net-pci,netdev=s0,mac=52:54:00:12:34:56,mq=on", linux: { setup: [bigFile(ECHO_N)] } });
  try {
    const devices = jsonLine((await fw.command("devices --json")).output);
    const net = devices.find((d) => d.type === "net");
    assert.is(net.transport, "pci", JSON.stringify(net));
    const { total, ms } = await peerChecks(fw, lxm, ECHO_N);
    const info = jsonLine((await fw.command("net info --json")).output);
    assert.is(info.headerLength, 12);
    assert.is(info.device.rxBadLength, 0);
    assert.is(info.device.txTimeouts, 0, "no hung transmit queue");
    assert.equal([info.maxQueuePairs, info.queuePairsSetUp, info.queuePairs], [1, 1, 1], "one pair on a socket backend");
    console.log(`  pci: pings answered, UDP echoed, ${total} bytes through nc and tcp-echo intact in ${ms} ms; ${net.interrupt}`);
  } finally {
    await close();
  }
});

test.run();
