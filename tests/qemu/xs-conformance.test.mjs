// ECMAScript semantics the shared driver code relies on, checked on the firmware's XS (the
// same code runs on Node): UTF-16 strings (XS built with mxCESU8), BigInt, promise job
// order, private fields, little-endian DataView, typed arrays over DMA memory, and the
// shell's line editor with non-ASCII input. Each check prints one ASCII line, compared
// with what Node prints for the same expression.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bootShell } from "./lib/firmware.mjs";

let m;
test.before(async () => { m = await bootShell(); });
test.after(async () => { await m?.close(); });

/** Runs `js EXPR` and returns the last output line. */
async function js(expr) {
  const r = await m.command(`js ${expr}`);
  assert.is(r.status, 0, r.output);
  return r.output.trim().split("\n").pop().trim();
}

test("strings are UTF-16: an astral character is two code units", async () => {
  const expr = `["😀".length, "a😀b".charCodeAt(1), "a😀b".charCodeAt(2), String.fromCodePoint(0x1f600).length, [..."a😀b"].length, "😀".codePointAt(0), "😀".codePointAt(1), "\\ud83d\\ude00" === "😀", "😀".split("").length, "a😀".slice(1, 2).length].join()`;
  assert.is(await js(expr), "2,55357,56832,2,3,128512,56832,true,2,1");
});

test("regular expressions, URI and JSON see code units and code points as specified", async () => {
  const expr = `[/^.$/u.test("😀"), /^..$/.test("😀"), encodeURIComponent("é😀"), JSON.stringify("\\ud83d"), "😀".at(-1).charCodeAt(0), "\\u{1F600}" === "😀"].join()`;
  assert.is(await js(expr), 'true,true,%C3%A9%F0%9F%98%80,"\\ud83d",56832,true');
});

test("BigInt: 64-bit arithmetic, asIntN, beyond 2^53", async () => {
  const expr = `[(2n ** 64n - 1n).toString(16), BigInt.asIntN(8, 255n), BigInt.asUintN(64, -1n) === 2n ** 64n - 1n, typeof 1n, 10n ** 20n / 3n, BigInt(Number.MAX_SAFE_INTEGER) + 2n, (0xffffffffn << 32n | 0x12345678n).toString(16)].join()`;
  assert.is(await js(expr), "ffffffffffffffff,-1,true,bigint,33333333333333333333,9007199254740993,ffffffff12345678");
});

test("promise jobs run in order: then chains, await, synchronous code first", async () => {
  const expr = `new Promise((done) => { const log = []; Promise.resolve().then(() => log.push("a")).then(() => log.push("c")); Promise.resolve().then(() => log.push("b")); (async () => { log.push("s1"); await null; log.push("aw"); })(); log.push("sync"); Promise.resolve().then(() => 0).then(() => 0).then(() => 0).then(() => done(log.join())); })`;
  assert.is(await js(expr), "s1,sync,a,b,aw,c");
});

test("jobs queued by a promise job run before a timer set in it", async () => {
  const expr = `new Promise((done) => { const log = []; Promise.resolve().then(() => { platform.timers.set(() => done(log.join() + ",timer"), 0); Promise.resolve().then(() => log.push("job2")); log.push("job1"); }); log.push("sync"); })`;
  assert.is(await js(expr), "sync,job1,job2,timer");
});

// Needs platform/xs/loop.c to run promise jobs after each hook (irq, rx) before the next one
// in the same loop pass (see the firmware-polish report); today a timer that is already due
// when the command's hook returns (0 ms; 5 ms under load) runs before the command's jobs.
test("promise jobs run before a timer that is due at once (delay 0)", async () => {
  const expr = `new Promise((done) => { const log = []; Promise.resolve().then(() => log.push("job")); platform.timers.set(() => done(log.join() + ",timer"), 0); log.push("sync"); })`;
  assert.is(await js(expr), "sync,job,timer");
});

test("private fields, methods, static privates and #x in o", async () => {
  const expr = `(() => { class A { #x = 1; static #n = 0; #m() { return this.#x + 1; } static has(o) { return #x in o; } get v() { A.#n++; return this.#m(); } static get n() { return A.#n; } } const a = new A(); let e = ""; try { Object.getOwnPropertyDescriptor(A.prototype, "v").get.call({}); } catch (x) { e = x.name; } return [a.v, A.has(a), A.has({}), A.n, e, Object.keys(a).length].join(); })()`;
  assert.is(await js(expr), "2,true,false,2,TypeError,0");
});

test("DataView is little-endian when asked, big-endian by default", async () => {
  const expr = `(() => { const dv = new DataView(new ArrayBuffer(16)); dv.setUint32(0, 0x11223344, true); dv.setUint16(4, 0xabcd, true); dv.setBigUint64(8, 0x0102030405060708n, true); const u = new Uint8Array(dv.buffer); return [...u.slice(0, 6)].map((b) => b.toString(16)).join(" ") + "/" + u[8] + "," + u[15] + "/" + dv.getUint32(0).toString(16) + "/" + dv.getInt16(4, true); })()`;
  assert.is(await js(expr), "44 33 22 11 cd ab/8,1/44332211/-21555");
});

test("typed arrays over DMA memory: same bytes through every view, bounds kept, fixed across GC", async () => {
  const expr = `(() => { const b = platform.dma.alloc(64, 64); const w = new Uint32Array(b.bytes.buffer, b.bytes.byteOffset, 16); w[0] = 0xdeadbeef; b.view.setUint16(4, 0x1234, true); const r = [b.phys % 64, b.bytes[0].toString(16), b.bytes[3].toString(16), w[1].toString(16), b.view.getUint32(0, true).toString(16), String(b.bytes[64]), b.bytes.length]; let threw = "no"; try { b.view.getUint8(64); } catch (e) { threw = e.name; } r.push(threw); __xsGc(); r.push(new Uint8Array(__xsDmaRegion())[b.phys - __xsDmaBase()].toString(16)); platform.dma.free(b); return r.join(); })()`;
  assert.is(await js(expr), "0,ef,de,1234,deadbeef,undefined,64,RangeError,ef");
});

test("the line editor takes UTF-8 input; backspace erases one whole character", async () => {
  // Typed (not via command()) so that DEL reaches the editor: "é😀x" then DEL -> "é😀".
  await m.write(`js "é😀x\x7f".length\r`);
  let s = await m.waitFor(/@@status (\d+)\r?\n/, 10000);
  await m.waitFor("virtio> ", 10000);
  assert.is(s[1], "0");
  assert.match(s.before, /(^|\n)3\r?\n/);
  // One DEL after the emoji erases both of its code units.
  await m.write(`js "é😀\x7f".length\r`);
  s = await m.waitFor(/@@status (\d+)\r?\n/, 10000);
  await m.waitFor("virtio> ", 10000);
  assert.is(s[1], "0");
  assert.match(s.before, /(^|\n)1\r?\n/);
});

test("non-ASCII text comes back intact (BMP)", async () => {
  assert.is(await js(`"é ü " + "ж 中"`), "é ü ж 中");
});

// Needs platform/xs/pl011.c's uart_puts to turn XS's CESU-8 surrogate pairs into 4-byte
// UTF-8 (see the firmware-polish report); today an astral character prints as 6 bytes.
test("astral characters come back intact as UTF-8", async () => {
  assert.is(await js(`"a😀b"`), "a😀b");
  assert.is(await js(`String.fromCodePoint(0x1f600, 0x1f680)`), "😀🚀");
});

test("typed non-ASCII text reaches the host as UTF-8 through virtio-console", async () => {
  // UART bytes -> the shell's UTF-8 decoder -> a UTF-16 string -> the console driver's UTF-8
  // encoder -> the device: the same bytes as typed, astral character included.
  const c = await bootShell({ consoles: 1 });
  try {
    const port = await c.console(0);
    const r = await c.command("console write é😀→x");
    assert.is(r.status, 0, r.output);
    const want = Buffer.from("é😀→x", "utf8");
    for (let i = 0; i < 100 && !port.bytes.includes(want); i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(port.bytes.includes(want), port.bytes.toString("hex"));
  } finally {
    await c.close();
  }
});

test.run();
