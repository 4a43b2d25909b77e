// virtio-net on QEMU, legacy and modern: user networking (slirp) with a UDP port
// forwarded from the host's loopback; the guest gets 10.0.2.15 by DHCP, runs
// `net udp-echo 7`, and a client here sends 1,000 datagrams of 1 to 1472 bytes and gets
// every one back intact. Lost datagrams are sent again (bounded) and reported. Also: the
// link follows QMP set_link, and `net` without a device fails cleanly.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createSocket } from "node:dgram";
import { bootShell, jsonLine, testIf } from "./lib/firmware.mjs";
import { freeUdpPort } from "./lib/udp.mjs";

const DATAGRAMS = 1000;
const MAX_PAYLOAD = 1472; // 1500 - IPv4 20 - UDP 8: the largest without fragments
const WINDOW = 8; // datagrams in flight at once
const RESEND_MS = 1000;
const MAX_SENDS = 8; // per datagram
const ECHO_PORT = 7;

/** Datagram i: its size (1-1472; any 1472 consecutive ones differ, so the size names the
 * datagram among those in flight) and its content. */
const sizeOf = (i) => 1 + ((i * 367) % MAX_PAYLOAD);
function payload(i) {
  const n = sizeOf(i);
  const b = Buffer.alloc(n);
  for (let k = 0; k < n; k++) b[k] = (i * 31 + k * 7 + (k >> 8)) & 0xff;
  return b;
}

/** Sends DATAGRAMS datagrams, WINDOW in flight, each matched back by its size and checked
 * byte for byte; resolves the counts (sent, resent, late duplicates). */
function echoRun(port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const sock = createSocket("udp4");
    const inFlight = new Map(); // size -> {i, sends, at}
    const stats = { sent: 0, received: 0, resent: 0, corrupt: 0, duplicates: 0 };
    const done = new Set();
    let next = 0;
    const end = (error) => {
      clearInterval(tick);
      clearTimeout(limit);
      sock.close();
      if (error) reject(error);
      else resolve(stats);
    };
    const send = (i) => {
      const entry = inFlight.get(sizeOf(i)) ?? { i, sends: 0, at: 0 };
      entry.sends++;
      entry.at = Date.now();
      inFlight.set(sizeOf(i), entry);
      stats.sent++;
      sock.send(payload(i), port, "127.0.0.1");
    };
    const fill = () => {
      while (inFlight.size < WINDOW && next < DATAGRAMS) send(next++);
      if (done.size === DATAGRAMS) end();
    };
    sock.on("message", (msg) => {
      const entry = inFlight.get(msg.length);
      if (entry === undefined) {
        stats.duplicates++; // the echo of a datagram sent twice
        return;
      }
      if (!msg.equals(payload(entry.i))) {
        stats.corrupt++;
        return;
      }
      inFlight.delete(msg.length);
      done.add(entry.i);
      stats.received++;
      fill();
    });
    sock.on("error", end);
    const tick = setInterval(() => {
      const now = Date.now();
      for (const entry of inFlight.values()) {
        if (now - entry.at < RESEND_MS) continue;
        if (entry.sends >= MAX_SENDS) return end(new Error(`datagram ${entry.i} (${sizeOf(entry.i)} bytes) not echoed after ${MAX_SENDS} sends`));
        stats.resent++;
        send(entry.i);
      }
    }, 50);
    const limit = setTimeout(() => end(new Error(`timeout: ${done.size}/${DATAGRAMS} echoed in ${timeoutMs} ms (${JSON.stringify(stats)})`)), timeoutMs);
    sock.bind(0, "127.0.0.1", fill);
  });
}

const pause = (m, ms) => m.command(`js new Promise((r) => platform.timers.set(r, ${ms}))`);

/** Polls `net info --json` until DHCP gave an address. */
async function waitForAddress(m, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const { output, status } = await m.command("net info --json");
    assert.is(status, 0, output);
    const info = jsonLine(output);
    if (info.address !== null) return info;
    if (Date.now() > end) throw new Error(`no DHCP address in ${ms} ms: ${output}`);
    await pause(m, 200);
  }
}

async function echoTest(legacy, pci = false) {
  // The board picks a free loopback port for the forward: parallel boards never share one.
  // Over PCI (virtio-net-pci) the forward is given as a device item with a port found here.
  const pciPort = pci ? await freeUdpPort() : 0;
  const m = pci
    ? await bootShell({ devices: [{ net: { hostfwd: [`udp:127.0.0.1:${pciPort}-:${ECHO_PORT}`] }, pci: true }] })
    : await bootShell({ legacy, net: { forward: [{ protocol: "udp", guest: ECHO_PORT }] } });
  try {
    const hostPort = pci ? pciPort : m.hostPort(ECHO_PORT, "udp");
    const info = await waitForAddress(m, 15000);
    assert.is(info.address, "10.0.2.15");
    assert.is(info.gateway, "10.0.2.2");
    assert.is(info.link, "up");
    assert.is(info.mode, "bound");
    assert.is(info.headerLength, legacy ? 10 : 12, "§5.1.6: legacy 10-byte header, VERSION_1 12");
    const echo = await m.begin(`net udp-echo ${ECHO_PORT}`);
    await echo.waitFor(/udp-echo: serving 10\.0\.2\.15:7/, 10000);
    const t0 = Date.now();
    const stats = await echoRun(hostPort, 120000);
    const ms = Date.now() - t0;
    await echo.interrupt();
    const r = await echo.finish({ timeoutMs: 10000 });
    assert.is(r.status, 0, r.output);
    const echoed = /echoed (\d+) datagrams/.exec(r.output);
    assert.ok(echoed, r.output);
    assert.ok(Number(echoed[1]) >= DATAGRAMS, r.output);
    assert.is(stats.received, DATAGRAMS);
    assert.is(stats.corrupt, 0, "no datagram came back changed");
    console.log(`  ${pci ? "pci " : ""}${legacy ? "legacy" : "modern"}: ${DATAGRAMS} datagrams (1-${MAX_PAYLOAD} bytes) echoed intact in ${ms} ms; ${stats.resent} resent, ${stats.duplicates} late duplicates`);
    const after = jsonLine((await m.command("net info --json")).output);
    assert.is(after.device.rxBadLength, 0);
    assert.ok(after.ip.udpReceived >= DATAGRAMS);
  } finally {
    await m.close();
  }
}

test("modern: DHCP gives 10.0.2.15; 1,000 UDP datagrams of 1-1472 bytes echoed intact", () => echoTest(false));

test("legacy: DHCP gives 10.0.2.15; 1,000 UDP datagrams of 1-1472 bytes echoed intact", () => echoTest(true));

testIf("pciMsi", test)("virtio-net-pci (modern, MSI-X): 1,000 UDP datagrams of 1-1472 bytes echoed intact", () => echoTest(false, true));

test("link status follows QMP set_link (a config change interrupt)", async () => {
  const m = await bootShell({ devices: [{ net: true }] });
  try {
    const info = async () => jsonLine((await m.command("net info --json")).output);
    assert.is((await info()).link, "up");
    await m.qmp("set_link", { name: "net0", up: false });
    await pause(m, 100);
    const down = await info();
    assert.is(down.link, "down");
    assert.is(down.device.linkChanges, 1);
    await m.qmp("set_link", { name: "net0", up: true });
    await pause(m, 100);
    const up = await info();
    assert.is(up.link, "up");
    assert.is(up.device.linkChanges, 2);
  } finally {
    await m.close();
  }
});

test("net without a device: a clear message, status 1", async () => {
  const m = await bootShell({ devices: [] });
  try {
    const r = await m.command("net info");
    assert.is(r.status, 1);
    assert.match(r.output, /no virtio-net device/);
  } finally {
    await m.close();
  }
});

test.run();
