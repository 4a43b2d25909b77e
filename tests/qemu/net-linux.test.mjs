// A real Linux machine on the other end of the wire: Debian's armhf Linux 6.1 (virtio_net
// and its dependencies from the kernel package) with busybox, in a second QEMU joined to
// the firmware's by a `-netdev socket` segment on loopback. Linux gives the firmware its
// address (udhcpd), serves files (httpd), and checks: Linux's ping of 4000 bytes
// (fragmented both ways) is answered; busybox wget gets the firmware's HTTP status page;
// the firmware's HTTP client fetches a ~1 MiB file from httpd with the right CRC-32; a
// TCP echo of 4.37 MB through busybox nc comes back intact (MD5 on Linux). Then again on
// `-netdev dgram` ends joined by a relay here that drops, duplicates and reorders frames:
// the 4.37 MB echo is still intact.
// The peer and the relay: lib/linux-pair.mjs. Skipped (with a message) when the Linux
// packages are not in the cache: `node tools/fetch-peers.mjs` (or `npm run bench`) fetches them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { crc32Hex } from "../../tools/lib/disk-image.mjs";
import { BOARD_MODEL, jsonLine } from "./lib/firmware.mjs";
import { bigFile, ncEcho } from "./lib/linux-net-checks.mjs";
import { bootPair, haveLinux, LINUX_ROOT, lx } from "./lib/linux-pair.mjs";

const SEQ_N = 160000; // `seq 1 160000`: 1,008,895 bytes (about 1 MiB)
const ECHO_N = 640000; // `seq 1 640000`: 4,368,895 bytes (over 4 MiB)
const LINUX = { setup: [`seq 1 ${SEQ_N} > /www/f`, bigFile(ECHO_N)] };

test("Linux peer: DHCP from udhcpd, Linux pings 4000 bytes, wget of the status page, http-get of ~1 MiB from httpd, 4 MiB nc echo", async () => {
  if (!haveLinux) {
    console.log(`  skipped: no Linux peer in ${LINUX_ROOT} (node tools/fetch-peers.mjs fetches it)`);
    return;
  }
  const { fw, lxm, close } = await bootPair({ linux: LINUX });
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
    const expected = crc32Hex(Buffer.from(text));
    const t0 = Date.now();
    const get = await fw.command("net http-get http://10.0.3.2/f", { timeoutMs: 180000 });
    assert.is(get.status, 0, get.output);
    assert.match(get.output, new RegExp(`http-get: 200, ${text.length} bytes in \\d+ ms, crc32=${expected}`), get.output);
    console.log(`  Linux peer: 4000-byte pings answered; wget ok; http-get of ${text.length} bytes from busybox httpd in ${Date.now() - t0} ms`);
    const { total, ms } = await ncEcho(fw, lxm, ECHO_N, 600000);
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
  const { fw, lxm, relay, close } = await bootPair({ impair: { loss: 0.02, duplicate: 0.01, reorder: 0.03, seed: 7 }, linux: LINUX });
  try {
    const { total, ms } = await ncEcho(fw, lxm, ECHO_N, 600000);
    const tcp = jsonLine((await fw.command("net info --json")).output).tcp;
    console.log(`  lossy relay: ${total} bytes echoed intact in ${ms} ms; relay ${JSON.stringify(relay.stats)}; firmware resent ${tcp.retransmittedSegments} segments (${tcp.fastRetransmits} fast retransmits, ${tcp.retransmitTimeouts} timeouts)`);
    assert.ok(relay.stats.lost > 0 && relay.stats.duplicated > 0 && relay.stats.reordered > 0, JSON.stringify(relay.stats));
  } finally {
    await close();
  }
});

test.run();
