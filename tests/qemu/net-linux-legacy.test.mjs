// The virtio-net driver on legacy virtio-mmio (§4.2.4: 10-byte header in a descriptor of
// its own, no MRG_RXBUF) against a real Linux peer (tests/qemu/lib/linux-pair.mjs):
// DHCP from Linux's udhcpd; Linux's pings of 56 and 4000 bytes answered; UDP both ways;
// a TCP echo of ~590 KB intact (MD5 on Linux). The modern-mmio twin is net-linux.test.mjs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jsonLine } from "./lib/firmware.mjs";
import { bigFile, peerChecks } from "./lib/linux-net-checks.mjs";
import { bootPair, haveLinux, LINUX_ROOT } from "./lib/linux-pair.mjs";

const ECHO_N = 100000; // `seq 1 100000`: 588,895 bytes

test("legacy virtio-mmio and a Linux peer: DHCP, ping 56 and 4000 bytes, UDP both ways, ~590 KB TCP echo intact", async () => {
  if (!haveLinux) {
    console.log(`  skipped: no Linux peer in ${LINUX_ROOT} (npm run bench fetches it)`);
    return;
  }
  const { fw, lxm, close } = await bootPair({ fwDevice: { device: "virtio-net-device,netdev=s0,mac=52:54:00:12:34:56" }, legacy: true, linux: { setup: [bigFile(ECHO_N)] } });
  try {
    const { total, ms } = await peerChecks(fw, lxm, ECHO_N);
    const info = jsonLine((await fw.command("net info --json")).output);
    assert.is(info.headerLength, 10, "§5.1.6.1: the legacy header without MRG_RXBUF");
    assert.is(info.mergeable, false);
    assert.is(info.device.rxBadLength, 0);
    assert.is(info.device.txTimeouts, 0, "no hung transmit queue");
    console.log(`  legacy: pings answered, UDP echoed, ${total} bytes through nc and tcp-echo intact in ${ms} ms`);
  } finally {
    await close();
  }
});

test.run();
