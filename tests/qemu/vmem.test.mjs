// virtio-mem on QEMU (virtio-mem-pci: QEMU plugs no virtio-mem over mmio), driven by the host
// through QMP: `requested-size` raised from 0 to 64 MiB and back with `qom-set`; `vmem` in the
// shell follows it, QEMU's `query-memory-devices` agrees, and memory of a plugged block is
// allocated from the page pool, written and read back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bootShell, jsonLine, testIf } from "./lib/firmware.mjs";

const MiB = 1 << 20;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function vmem(m) {
  const r = await m.command("vmem --json");
  assert.is(r.status, 0, r.output);
  return jsonLine(r.output);
}

async function waitPlugged(m, bytes, ms) {
  const end = Date.now() + ms;
  let last = null;
  while (Date.now() < end) {
    last = await vmem(m);
    if (last.pluggedBytes === bytes && last.settled && last.config.pluggedSize === bytes) return Date.now() - (end - ms);
    await pause(200);
  }
  throw new Error(`vmem did not reach ${bytes} plugged in ${ms} ms: ${JSON.stringify(last)}`);
}

async function deviceSize(m) {
  const devices = await m.qmp("query-memory-devices");
  const d = devices.find((x) => x.type === "virtio-mem");
  assert.ok(d, JSON.stringify(devices));
  return d.data;
}

testIf("virtioMem", test)("virtio-mem-pci: requested-size 0 -> 64 MiB -> 0 through qom-set; plugged memory is usable RAM", async () => {
  const m = await bootShell({
    memory: "256M,maxmem=1G",
    commandTimeoutMs: 30000,
    qemuArgs: ["-object", "memory-backend-ram,id=vmem0,size=512M"],
    devices: ["virtio-mem-pci,memdev=vmem0,requested-size=0,id=vm0"],
  });
  try {
    const first = await vmem(m);
    assert.is(first.broken, null, JSON.stringify(first));
    assert.is(first.config.addr, 0x8000_0000, "QEMU's device memory region on virt with highmem=off");
    assert.is(first.config.blockSize, 2 * MiB);
    assert.is(first.pluggedBytes, 0);
    const pagesBefore = jsonLine((await m.command("mem --json")).output).pages.totalPages;

    await m.qmp("qom-set", { path: "/machine/peripheral/vm0", property: "requested-size", value: 64 * MiB });
    const upMs = await waitPlugged(m, 64 * MiB, 30000);
    console.log(`  plugged 64 MiB in ${upMs} ms`);
    assert.is((await deviceSize(m)).size, 64 * MiB, "QEMU agrees (query-memory-devices)");
    const info = await m.qmp("human-monitor-command", { "command-line": "info memory-devices" });
    assert.match(info, /size: 67108864/);
    const pagesUp = jsonLine((await m.command("mem --json")).output).pages.totalPages;
    assert.is(pagesUp - pagesBefore, (64 * MiB) / 4096, "the plugged blocks joined the page pool");

    // A page of the first plugged block, from the pool: written, read back.
    const js = await m.command(
      "js (() => { const p = platform.pages; const f = 0x80000000 / 4096 + 7; p.takeRun('test', f, 1); const v = p.view(f); " +
      "for (let i = 0; i < v.length; i++) v[i] = (i * 7 + 3) & 255; let bad = 0; for (let i = 0; i < v.length; i++) if (v[i] !== ((i * 7 + 3) & 255)) bad++; " +
      "p.give('test', Uint32Array.of(f), 1); return JSON.stringify({ phys: f * 4096, bad }); })()",
    );
    assert.is(js.status, 0, js.output);
    assert.match(js.output, /"phys":2147512320,"bad":0/);

    await m.qmp("qom-set", { path: "/machine/peripheral/vm0", property: "requested-size", value: 0 });
    const downMs = await waitPlugged(m, 0, 30000);
    console.log(`  unplugged in ${downMs} ms`);
    assert.is((await deviceSize(m)).size, 0);
    const pagesDown = jsonLine((await m.command("mem --json")).output).pages.totalPages;
    assert.is(pagesDown, pagesBefore);
    const text = await m.command("vmem");
    assert.match(text.output, /region 0x80000000\+/);
  } finally {
    await m.close();
  }
});

test.run();
