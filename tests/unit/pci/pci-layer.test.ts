// The PCI layer on the host model's bridge: enumeration, BAR sizing and assignment
// (natural alignment, inside the windows, no overlap), the command register, INTx
// routing through virt's interrupt map, and the `pci` / `devices` shell commands with
// an rng over PCI and a blk over mmio at once (the acceptance's shape).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { drivers } from "../../../apps/drivers.js";
import { startApp } from "../../../apps/start.js";
import { createBus } from "../../../apps/bus.js";
import { BlkDevice, createHostModel, HOST_PCI_INFO, RngDevice, VirtioNetModel } from "../../../platform/host/index.js";
import { PciBus } from "../../../pci/pci-bus.js";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { BlkDriver } from "../../../drivers/blk/blk-driver.js";
import { Ecam, PciConfigAccessError } from "../../../pci/ecam.js";
import { routeIntx, swizzle } from "../../../pci/intx.js";
import { Cfg } from "../../../pci/config-regs.js";

function fourDevices() {
  const model = createHostModel({ pci: true });
  model.attachPci(new RngDevice(), { mode: "transitional" });
  model.attachPci(new BlkDevice({ image: new Uint8Array(4096) }), { mode: "modern" });
  model.attachPci(new VirtioNetModel(), { mode: "legacy", vectors: 0 });
  model.attachPci(new RngDevice(), { mode: "modern", vectors: 0 });
  return model;
}

test("enumeration: the host bridge and four functions, in device order, with their IDs", () => {
  const model = fourDevices();
  const fns = new PciBus(model.platform).functions();
  assert.equal(fns.map((f) => [f.bus, f.device, f.fn, f.vendorId.toString(16), f.deviceId.toString(16)]), [
    [0, 0, 0, "1b36", "8"],
    [0, 1, 0, "1af4", "1005"],
    [0, 2, 0, "1af4", "1042"],
    [0, 3, 0, "1af4", "1000"],
    [0, 4, 0, "1af4", "1044"],
  ]);
  assert.is(fns[1]!.subsystemId, 4, "transitional: subsystem ID = device type (§4.1.2.3)");
  model.assertNoViolations();
});

test("BARs: sized, naturally aligned, inside their window, not overlapping; decoding and bus mastering on", () => {
  const model = fourDevices();
  const bus = new PciBus(model.platform);
  const taken: [number, number][] = [];
  for (const fn of bus.functions()) {
    for (const bar of fn.bars) {
      assert.ok(bar.cpuAddress >= 0, `BAR${bar.index} of ${fn.device} assigned`);
      assert.is(bar.pciAddress % bar.size, 0, "natural alignment");
      const w = HOST_PCI_INFO.windows.find((x) => (x.kind === "io") === (bar.kind === "io"))!;
      assert.ok(bar.pciAddress >= w.pciBase && bar.pciAddress + bar.size <= w.pciBase + w.size, "inside the window");
      for (const [a, b] of taken) assert.ok(bar.cpuAddress >= b || bar.cpuAddress + bar.size <= a, "no overlap");
      taken.push([bar.cpuAddress, bar.cpuAddress + bar.size]);
    }
    const want = (fn.bars.some((b) => b.kind === "io") ? 1 : 0) | (fn.bars.some((b) => b.kind !== "io") ? 2 : 0) | 4;
    assert.is(bus.ecam.read16(fn, Cfg.Command) & 0x7, want, "decode of what it has, and bus mastering");
  }
  const modern = bus.find(0, 2, 0)!;
  assert.equal(modern.bars.map((b) => [b.index, b.kind, b.size, b.prefetchable]), [[1, "mem32", 4096, false], [4, "mem64", 16384, true]]);
  const legacy = bus.find(0, 3, 0)!;
  assert.equal(legacy.bars.map((b) => [b.index, b.kind]), [[0, "io"]], "legacy only, no MSI-X: BAR0 alone");
  model.assertNoViolations();
});

test("BAR claims: enumeration claims what it assigned; an unclaimed BAR, or one written since, is not reachable; bad claims are refused", () => {
  const model = fourDevices();
  const bus = new PciBus(model.platform);
  const modern = bus.find(0, 2, 0)!;
  const common = modern.bars.find((b) => b.index === 4)!;
  model.platform.mmio.read32(common.cpuAddress);
  model.assertNoViolations();
  const config = bus.ecam.address(modern, 0, 4);
  const claim = (index: number) => model.platform.pciBars!.claim(config, index);
  assert.is(claim(4), common.cpuAddress, "a claim gives the BAR's CPU address");
  assert.throws(() => claim(0), /no BAR0/);
  assert.throws(() => model.platform.pciBars!.claim(config + 4, 4), /not the start of a function's configuration space/);
  assert.throws(() => model.platform.pciBars!.claim(bus.ecam.address({ bus: 0, device: 9, fn: 0 }, 0, 4), 0), /no function/);
  // Moving BAR4 (a write to its register) closes the function's claims until claimed again.
  bus.ecam.write32(modern, Cfg.Bar0 + 16, bus.ecam.read32(modern, Cfg.Bar0 + 16));
  model.platform.mmio.read32(common.cpuAddress);
  assert.equal(model.violationRules(), ["pci-bar-unclaimed"]);
  model.clearViolations();
  claim(4);
  model.platform.mmio.read32(common.cpuAddress);
  model.assertNoViolations();
});

test("INTx: INTA of device d reaches INTID 35 + d mod 4; bridges swizzle", () => {
  const model = fourDevices();
  const bus = new PciBus(model.platform);
  assert.equal([1, 2, 3, 4].map((d) => bus.find(0, d, 0)!.irq), [36, 37, 38, 35]);
  assert.is(swizzle(1, 2), 3);
  // A function at device 0 behind a bridge at 00:03: INTA -> bridge pin INTA -> 35 + 3.
  assert.is(routeIntx(HOST_PCI_INFO, [3, 0], 1), 38);
  assert.is(routeIntx(HOST_PCI_INFO, [3, 1], 1), 35);
  assert.is(routeIntx(HOST_PCI_INFO, [1], 0), null, "no pin, no line");
});

test("bridges: secondary bus numbers, forwarding windows around the BARs behind them, swizzled INTx; drivers work there", async () => {
  const model = createHostModel({ pci: true });
  model.attachPci(new RngDevice(), { mode: "modern", vectors: 0 }); // 00:01.0
  model.attachPci(new RngDevice(), { mode: "modern", behindBridge: true }); // bridge 00:02.0, 01:00.0
  model.attachPci(new BlkDevice({ image: new Uint8Array(8192) }), { mode: "legacy", vectors: 0, behindBridge: true }); // 00:03.0, 02:00.0
  const bus = new PciBus(model.platform);
  const fns = bus.functions();
  assert.equal(fns.map((f) => [f.bus, f.device, f.headerType]), [[0, 0, 0], [0, 1, 0], [0, 2, 1], [1, 0, 0], [0, 3, 1], [2, 0, 0]]);
  const [b1, b2] = [bus.find(0, 2, 0)!, bus.find(0, 3, 0)!];
  assert.equal([b1.secondaryBus, b1.subordinateBus, b2.secondaryBus, b2.subordinateBus], [1, 1, 2, 2]);
  const memBase = (b: typeof b1) => (bus.ecam.read16(b, Cfg.MemoryBase) & 0xfff0) << 16;
  const memLimit = (b: typeof b1) => (((bus.ecam.read16(b, Cfg.MemoryLimit) & 0xfff0) << 16) | 0xfffff) >>> 0;
  for (const bar of bus.find(1, 0, 0)!.bars) {
    assert.ok(bar.pciAddress >= memBase(b1) && bar.pciAddress + bar.size - 1 <= memLimit(b1), "behind bridge 1's window");
  }
  const io = bus.find(2, 0, 0)!.bars[0]!;
  assert.is(io.kind, "io");
  const ioBase = (bus.ecam.read8(b2, Cfg.IoBase) & 0xf0) << 8;
  const ioLimit = ((bus.ecam.read8(b2, Cfg.IoLimit) & 0xf0) << 8) | 0xfff;
  assert.ok(io.pciAddress >= ioBase && io.pciAddress + io.size - 1 <= ioLimit, "behind bridge 2's I/O window");
  assert.equal([bus.find(1, 0, 0)!.irq, bus.find(2, 0, 0)!.irq], [37, 38], "INTA swizzled by the bridge's device number");
  // The drivers, unchanged, on the functions behind the bridges (a fresh enumeration).
  const vbus = createBus(model.platform);
  const rng = new RngDriver();
  const blk = new BlkDriver();
  await vbus.register(rng);
  await vbus.register(blk);
  await vbus.scan();
  assert.equal(vbus.devices().map((d) => [d.pciAddress, d.mode, d.status]), [
    ["00:01.0", "pci modern", "DRIVER_OK"], ["01:00.0", "pci modern", "DRIVER_OK"], ["02:00.0", "pci legacy", "DRIVER_OK"],
  ]);
  assert.is((await rng.devices()[1]!.read(16)).byteLength, 16);
  await blk.devices()[0]!.write(3, new Uint8Array(512).fill(9));
  assert.is(new Uint8Array(await blk.devices()[0]!.read(3, 1))[100], 9);
  await vbus.shutdown();
  await model.settle();
  model.assertNoViolations();
  assert.is(model.dma.stats().used, 0);
});

const isAccessError = (e: unknown) => e instanceof PciConfigAccessError;

test("ECAM access: explicit widths, aligned, inside the bridge's buses", () => {
  const model = createHostModel({ pci: true });
  const ecam = new Ecam(model.platform.mmio, HOST_PCI_INFO);
  const host = { bus: 0, device: 0, fn: 0 };
  assert.is(ecam.read32(host, 0), 0x0008_1b36);
  assert.is(ecam.read16({ bus: 0, device: 9, fn: 0 }, 0), 0xffff, "no function: all ones");
  assert.throws(() => ecam.read32(host, 2), isAccessError);
  assert.throws(() => ecam.read8({ bus: 16, device: 0, fn: 0 }, 0), isAccessError);
  assert.throws(() => ecam.read8(host, 0x1000), isAccessError);
});

async function boot() {
  const model = createHostModel({ pci: true });
  model.attachPci(new RngDevice({ seed: 7 }));
  model.attach(31, new BlkDevice({ image: new Uint8Array(64 * 512) }), { version: 2 });
  await startApp({ platform: model.platform, createBus: (p) => createBus(p), drivers });
  const run = async (line: string) => {
    model.console.takeOutput();
    model.console.type(`${line}\r`);
    const deadline = Date.now() + 2000;
    while (!/@@status \d+\r\nvirtio> $/.test(model.console.output) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    return model.console.takeOutput().split("\r\n");
  };
  await run("batch on");
  return { model, run };
}

test("shell: devices --json lists rng over PCI (MSI-X) and blk over mmio, both DRIVER_OK; pci lists the function", async () => {
  const { model, run } = await boot();
  const devices = JSON.parse((await run("devices --json"))[0]!);
  assert.equal(devices.map((d: Record<string, unknown>) => [d.type, d.transport, d.mode, d.pci, d.status]), [
    ["blk", "mmio", "mmio v2", null, "DRIVER_OK"],
    ["rng", "pci", "pci modern", "00:01.0", "DRIVER_OK"],
  ]);
  assert.match(devices[1].interrupt, /^msix 2 \(80-81\)$/);
  const pci = await run("pci");
  assert.match(pci[0]!, /^BDF\s+VENDOR\s+DEVICE\s+CLASS\s+KIND\s+IRQ\s+BARS$/);
  assert.match(pci[2]!, /^00:01\.0\s+0x1af4\s+0x1005\s+0x00ff00\s+unclassified\s+msix 2 on\s+0:io@0x3eff1000\/32 1:mem32@0x\w+\/4K 4:mem64p@0x\w+\/16K$/);
  const json = JSON.parse((await run("pci --json"))[0]!);
  assert.is(json[1].device, "0x1005");
  model.assertNoViolations();
});

test.run();
