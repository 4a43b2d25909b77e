// TCP on the real firmware through QEMU user networking (slirp), a TCP port forwarded
// from the host's loopback: `net http-serve 80` answers curl 100 times in a row on new
// connections and 100 times on one kept-alive connection, and the chunked page; `net
// tcp-echo 7` echoes 256 KiB intact. Modern and legacy virtio-mmio.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { promisify } from "node:util";
import { BOARD_MODEL, BOARD_MODEL_RE, bootShell, jsonLine } from "./lib/firmware.mjs";
import { freeTcpPort } from "./lib/ports.mjs";

const run = promisify(execFile);

async function curl(args) {
  const { stdout } = await run("curl", ["-sS", "--max-time", "20", ...args], { maxBuffer: 16 << 20 });
  return stdout;
}

/** Echoes `total` bytes through host port `port`; resolves the ms it took. */
function echoThrough(port, total) {
  return new Promise((resolve, reject) => {
    const data = Buffer.alloc(total);
    for (let i = 0; i < total; i++) data[i] = (i * 131 + (i >>> 9)) & 0xff;
    const got = [];
    let n = 0;
    const t0 = Date.now();
    const sock = connect(port, "127.0.0.1", () => sock.end(data));
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`echo: ${n}/${total} bytes back after 120 s`));
    }, 120000);
    sock.on("data", (b) => {
      got.push(b);
      n += b.length;
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      const all = Buffer.concat(got);
      if (all.length !== total) return reject(new Error(`echo: ${all.length}/${total} bytes back`));
      if (!all.equals(data)) return reject(new Error("echo: bytes changed"));
      resolve(Date.now() - t0);
    });
  });
}

async function waitForAddress(m, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const info = jsonLine((await m.command("net info --json")).output);
    if (info.address !== null) return info;
    if (Date.now() > end) throw new Error(`no DHCP address in ${ms} ms`);
    await m.command("js new Promise((r) => platform.timers.set(r, 200))");
  }
}

async function httpTest(legacy, times) {
  const port = await freeTcpPort();
  const m = await bootShell({ legacy, devices: [{ net: { hostfwd: [`tcp:127.0.0.1:${port}-:80`] } }] });
  try {
    await waitForAddress(m, 15000);
    const serve = await m.begin("net http-serve 80");
    await serve.waitFor(/http-serve: serving http:\/\/10\.0\.2\.15:80\//, 10000);
    const url = `http://127.0.0.1:${port}/`;
    // a new connection per request (curl closes after each)
    let t0 = Date.now();
    for (let i = 0; i < times; i++) {
      const out = await curl(["-w", "\n%{http_code}", url]);
      assert.match(out, new RegExp(`^virtio-xs on ${BOARD_MODEL_RE}`), `request ${i}`);
      assert.match(out, /DRIVER_OK {2}virtio-net/);
      assert.ok(out.endsWith("\n200"), `request ${i}: ${out.slice(-40)}`);
    }
    const separateMs = Date.now() - t0;
    // one kept-alive connection for all of them
    t0 = Date.now();
    const out = await curl(["-w", "%{http_code} %{num_connects} %{size_download}\n", ...Array.from({ length: times }, () => ["-o", "/dev/null", url]).flat()]);
    const keptMs = Date.now() - t0;
    const lines = out.trim().split("\n");
    assert.is(lines.length, times);
    assert.ok(lines.every((l) => l.startsWith("200 ") && Number(l.split(" ")[2]) > 500), out);
    const connects = lines.reduce((n, l) => n + Number(l.split(" ")[1]), 0);
    assert.is(connects, 1, `one connection for ${times} requests (keep-alive): ${connects}`);
    // chunked transfer coding: curl decodes it to the same kind of page
    const chunked = await curl(["-D", "-", `http://127.0.0.1:${port}/chunked`]);
    assert.match(chunked, /transfer-encoding: chunked/i);
    assert.match(chunked, `virtio-xs on ${BOARD_MODEL}`);
    // HTTP/1.0 without keep-alive: the server closes
    const old = await curl(["-0", "-D", "-", "-o", "/dev/null", url]);
    assert.match(old, /^HTTP\/1\.0 200/);
    const missing = await curl(["-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${port}/nothing`]);
    assert.is(missing, "404");
    await serve.interrupt();
    const r = await serve.finish({ timeoutMs: 10000 });
    assert.is(r.status, 0, r.output);
    const served = /http-serve: (\d+) requests on (\d+) connections, 0 rejected/.exec(r.output);
    assert.ok(served, r.output);
    assert.is(Number(served[1]), 2 * times + 3); // + chunked, HTTP/1.0, 404
    console.log(`  ${legacy ? "legacy" : "modern"}: ${times} requests on new connections in ${separateMs} ms, ${times} on one kept-alive connection in ${keptMs} ms`);
  } finally {
    await m.close();
  }
}

test("modern: curl gets the HTTP status page 100 times on new connections and 100 times kept alive", () => httpTest(false, 100));

test("legacy: curl gets the HTTP status page 20 times each way", () => httpTest(true, 20));

test("net tcp-echo: 256 KiB through the forwarded port come back intact", async () => {
  const port = await freeTcpPort();
  const m = await bootShell({ devices: [{ net: { hostfwd: [`tcp:127.0.0.1:${port}-:7`] } }] });
  try {
    await waitForAddress(m, 15000);
    const echo = await m.begin("net tcp-echo 7 --count 1");
    await echo.waitFor(/tcp-echo: serving 10\.0\.2\.15:7/, 10000);
    const ms = await echoThrough(port, 256 * 1024);
    const r = await echo.finish({ timeoutMs: 20000 });
    assert.is(r.status, 0, r.output);
    assert.match(r.output, /tcp-echo: 1 connections, 262144 bytes echoed, 0 errors/);
    console.log(`  256 KiB echoed in ${ms} ms (${((256 / 1024 / ms) * 1000).toFixed(2)} MiB/s)`);
  } finally {
    await m.close();
  }
});

test.run();
