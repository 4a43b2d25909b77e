// What the Linux-peer suites (net-linux, net-linux-legacy, net-linux-pci, net-mq) check,
// the firmware at 10.0.3.15 and Linux at 10.0.3.2 (the pair from linux-pair.mjs, booted
// with `linux: { setup: [bigFile(echoN)] }`): ping, UDP both ways, a TCP echo.
import * as assert from "uvu/assert";
import { lx, seqBytes } from "./linux-pair.mjs";

/** The setup line that makes /tmp/big (`seq 1 n`) on Linux, for peerChecks' TCP echo. */
export const bigFile = (n) => `seq 1 ${n} > /tmp/big`;

/**
 * Linux pings 56 and 4000 bytes (fragments both ways); UDP both ways (Linux's nslookup to
 * the firmware's `net udp-echo 53` gets its query back: "No answer", not a timeout); a TCP
 * echo of `seq 1 echoN` (/tmp/big) through busybox nc and the firmware's `net tcp-echo`,
 * MD5 compared on Linux. Returns what it measured: {total (bytes), ms}.
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
  return ncEcho(fw, lxm, echoN);
}

/** /tmp/big (`seq 1 echoN`) through busybox nc and the firmware's `net tcp-echo`, compared
 * by MD5 on Linux; {total (bytes), ms (the nc run)}. */
export async function ncEcho(fw, lxm, echoN, timeoutMs = 300000) {
  const echo = await fw.begin("net tcp-echo 7 --count 1");
  await echo.waitFor(/tcp-echo: serving/, 10000);
  const t0 = Date.now();
  // cmp says where a wrong echo first differs ("EOF on /tmp/out": it came back short)
  const nc = await lx(lxm, "nc -w 20 10.0.3.15 7 < /tmp/big > /tmp/out; md5sum /tmp/big /tmp/out; wc -c < /tmp/out; cmp /tmp/big /tmp/out", timeoutMs);
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
