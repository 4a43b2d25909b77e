// Floods from a real Linux peer (lib/linux-pair.mjs; `netflood`, lib/linux-netflood.c, a
// raw-socket sender built into its initramfs): TCP SYNs from spoofed sources, and IPv4
// fragments that never complete. Meanwhile and afterwards the firmware keeps answering:
// a real connection from Linux gets its echo (during the SYN flood through a SYN cookie,
// the backlog being full of the flood's half-open connections), pings are answered, and
// the engine's memory after the flood (garbage collected) stays within a bound of what
// it was before (`mem --json`, shown). Skipped without the Linux peer
// (`node tools/fetch-peers.mjs` fetches it).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jsonLine } from "./lib/firmware.mjs";
import { bootPair, haveLinux, LINUX_ROOT, lx, peerProgram } from "./lib/linux-pair.mjs";

/** SYN flood: this many SYNs at this rate (a second). */
const SYNS = 6000;
const SYN_PPS = 400;
/** Fragment flood. */
const FRAGS = 3000;
const FRAG_PPS = 200;
/** What the engine may hold more after a flood than before it (bytes, GC'd both times). */
const MEMORY_BOUND = 128 * 1024;

async function memory(fw) {
  await fw.command("js __xsGc()");
  const engine = jsonLine((await fw.command("mem --json")).output).engine;
  return { chunks: engine.chunksUsed, slots: engine.slotsUsed, heap: engine.cHeapUsed };
}

const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const showMemory = (m) => `chunks ${kib(m.chunks)}, slots ${kib(m.slots)}, C heap ${kib(m.heap)}`;

/** Linux connects to the firmware's echo and sends a line; it must come back. */
async function echoOnce(lxm, text) {
  const out = await lx(lxm, `echo ${text} | nc -w 30 10.0.3.15 7`, 90000);
  assert.match(out, new RegExp(`^${text}$`, "m"), out);
}

function assertBounded(before, after, what) {
  for (const key of ["chunks", "slots"]) {
    assert.ok(after[key] - before[key] <= MEMORY_BOUND, `${what}: engine ${key} grew by ${kib(after[key] - before[key])} (bound ${kib(MEMORY_BOUND)}): before ${showMemory(before)}, after ${showMemory(after)}`);
  }
}

test("SYN flood and fragment flood from Linux: a real connection is answered during and after, memory bounded", async () => {
  if (!haveLinux) {
    console.log(`  skipped: no Linux peer in ${LINUX_ROOT} (node tools/fetch-peers.mjs fetches it)`);
    return;
  }
  const programs = [{ name: "netflood", path: peerProgram("linux-netflood") }];
  const { fw, lxm, close } = await bootPair({ linux: { programs, tag: "net-floods" } });
  try {
    const echo = await fw.begin("net tcp-echo 7");
    await echo.waitFor(/tcp-echo: serving/, 10000);
    await echoOnce(lxm, "before");
    await echo.interrupt(); // the shell runs one command at a time: mem between the floods
    await echo.finish({ timeoutMs: 20000 });
    const base = await memory(fw);
    console.log(`  before the floods: ${showMemory(base)}`);

    // ---- SYN flood ----
    const serving = await fw.begin("net tcp-echo 7");
    await serving.waitFor(/tcp-echo: serving/, 10000);
    await lx(lxm, `netflood syn 10.0.3.15 7 ${SYNS} ${SYN_PPS} > /tmp/syn.log &`);
    await lx(lxm, "sleep 3");
    await echoOnce(lxm, "during-syn-flood");
    await lx(lxm, "wait", 120000);
    const synLog = await lx(lxm, "cat /tmp/syn.log");
    assert.match(synLog, /NETFLOOD kind=syn sent=\d+ errors=\d+/, synLog);
    await echoOnce(lxm, "after-syn-flood");
    await serving.interrupt();
    const served = await serving.finish({ timeoutMs: 30000 });
    assert.match(served.output, /tcp-echo: 2 connections, \d+ bytes echoed, 0 errors/, served.output);
    const tcp = jsonLine((await fw.command("net info --json")).output).tcp;
    console.log(`  SYN flood: ${synLog.match(/NETFLOOD.*/)[0]}; firmware: ${tcp.synDropped} SYNs beyond the backlog, ${tcp.synCookiesSent} cookies sent, ${tcp.synCookiesAccepted} accepted, ${tcp.active} connections open`);
    assert.ok(tcp.synCookiesSent > 0, JSON.stringify(tcp));
    assert.ok(tcp.synCookiesAccepted >= 1, `the connection during the flood came in through a cookie: ${JSON.stringify(tcp)}`);
    assert.ok(tcp.active <= 8, `half-open connections within the backlog: ${tcp.active}`);
    const afterSyn = await memory(fw);
    console.log(`  after the SYN flood: ${showMemory(afterSyn)}`);
    assertBounded(base, afterSyn, "SYN flood");

    // ---- fragment flood ----
    await lx(lxm, `netflood frag 10.0.3.15 ${FRAGS} ${FRAG_PPS} > /tmp/frag.log &`);
    await lx(lxm, "sleep 3");
    const during = await lx(lxm, "ping -c 3 -W 5 10.0.3.15", 60000);
    assert.match(during, /3 packets transmitted, [1-3] packets received/, during);
    await lx(lxm, "wait", 120000);
    const fragLog = await lx(lxm, "cat /tmp/frag.log");
    assert.match(fragLog, /NETFLOOD kind=frag sent=\d+ errors=\d+/, fragLog);
    // whole fragmented datagrams still reassemble after the flood
    const big = await lx(lxm, "ping -c 3 -s 4000 10.0.3.15", 60000);
    assert.match(big, /3 packets transmitted, 3 packets received/, big);
    const info = jsonLine((await fw.command("net info --json")).output);
    const reassembly = jsonLine((await fw.command("js JSON.stringify({...net.interfaces()[0].stack.reassembly.stats, held: net.interfaces()[0].stack.reassembly.heldBytes})")).output);
    console.log(`  fragment flood: ${fragLog.match(/NETFLOOD.*/)[0]}; firmware: ${info.ip.ipFragments} fragments in, reassembly ${JSON.stringify(reassembly)}`);
    assert.ok(reassembly.evicted + reassembly.timedOut > 0, "the flood's datagrams were dropped");
    assert.ok(reassembly.held <= 65536, `reassembly holds ${reassembly.held} bytes (bound 64 KiB)`);
    assert.ok(reassembly.reassembled >= 3, "the 4000-byte pings after the flood reassembled");
    const afterFrag = await memory(fw);
    console.log(`  after the fragment flood: ${showMemory(afterFrag)}`);
    assertBounded(base, afterFrag, "fragment flood");
  } finally {
    await close();
  }
});

test.run();
