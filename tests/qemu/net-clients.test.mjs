// The firmware's network clients through QEMU user networking (slirp): `net ping` of the
// gateway (56 bytes, and 4000 bytes: the request and the reply go as IPv4 fragments),
// `net http-get` of 1 MiB from an HTTP server on the host (reached as 10.0.2.2) with
// the CRC-32 checked, and `net dns` answering cleanly (slirp's DNS: a name or an error).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:http";
import { crc32Hex } from "../../tools/lib/disk-image.mjs";
import { bootShell, jsonLine } from "./lib/firmware.mjs";

test("ping (56 and 4000 bytes, fragmented), http-get of 1 MiB from the host, dns", async () => {
  const body = Buffer.alloc(1 << 20);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 10)) & 0xff;
  const server = createServer((req, res) => res.end(req.url === "/file" ? body : "?"));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const m = await bootShell({ devices: [{ net: true }] });
  try {
    for (let i = 0; i < 50 && jsonLine((await m.command("net info --json")).output).address === null; i++) {
      await m.command("js new Promise((r) => platform.timers.set(r, 200))");
    }
    const small = await m.command("net ping 10.0.2.2 --count 2");
    assert.is(small.status, 0, small.output);
    assert.match(small.output, /64 bytes from 10\.0\.2\.2: seq=\d+ ttl=\d+ time=/);
    const big = await m.command("net ping 10.0.2.2 --count 2 --size 4000");
    assert.is(big.status, 0, big.output);
    assert.match(big.output, /4008 bytes from 10\.0\.2\.2/);
    assert.match(big.output, /2 of 2 answered/);
    const info = jsonLine((await m.command("net info --json")).output);
    assert.is(info.mergeable, true, "QEMU offers MRG_RXBUF and the modern driver takes it");
    const devices = jsonLine((await m.command("devices --json")).output);
    const nic = devices.find((d) => d.type === "net");
    assert.ok((BigInt(nic.features) & (1n << 15n)) !== 0n, `MRG_RXBUF in ${nic.features}`);
    assert.is(info.ip.ipFragmentsSent, 6); // 2 x 3 fragments (MTU 1500)
    assert.ok(info.ip.ipFragments >= 6);
    const t0 = Date.now();
    const get = await m.command(`net http-get http://10.0.2.2:${server.address().port}/file`, { timeoutMs: 120000 });
    const ms = Date.now() - t0;
    assert.is(get.status, 0, get.output);
    assert.match(get.output, new RegExp(`http-get: 200, 1048576 bytes in \\d+ ms, crc32=${crc32Hex(body)}`));
    console.log(`  http-get: 1 MiB in ${ms} ms`);
    // GUEST_ANNOUNCE: QMP announce-self makes the device ask; the stack answers with a
    // gratuitous ARP and the driver acks it on the control queue
    await m.qmp("announce-self", { initial: 50, max: 550, rounds: 2, step: 50 });
    let announced = null;
    for (let i = 0; i < 30; i++) {
      announced = jsonLine((await m.command("net info --json")).output);
      if (announced.device.announces >= 1 && announced.ip.announcements >= 1) break;
      await m.command("js new Promise((r) => platform.timers.set(r, 100))");
    }
    assert.ok(announced.device.announces >= 1, JSON.stringify(announced.device));
    assert.ok(announced.ip.announcements >= 1);
    assert.ok((BigInt(nic.features) & (1n << 21n)) !== 0n, "GUEST_ANNOUNCE negotiated");
    const dns = await m.command("net dns example.com", { timeoutMs: 20000 });
    assert.match(dns.output, /example\.com: \d+\.\d+\.\d+\.\d+|DNS example\.com: /, dns.output);
  } finally {
    await m.close();
    server.close();
  }
});

test.run();
