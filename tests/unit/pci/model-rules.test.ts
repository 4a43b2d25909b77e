// The strict virtio-pci model records what the spec forbids a driver (§4.1.3.1, §4.1.4,
// PCI 3.0): wrong widths, reads past a capability's length, queue fields written after
// queue_enable, writing 0 to queue_enable, notify with bus mastering off, BAR access with
// decoding off. A hand driver breaks each rule once.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHostModel, RngDevice } from "../../../platform/host/index.js";
import { PciBus } from "../../../pci/pci-bus.js";
import { Cfg } from "../../../pci/config-regs.js";
import { readVirtioCaps } from "../../../transports/pci/virtio-caps.js";

function setUp() {
  const model = createHostModel({ pci: true });
  model.attachPci(new RngDevice(), { mode: "modern" });
  const bus = new PciBus(model.platform);
  const fn = bus.find(0, 1, 0)!;
  const caps = readVirtioCaps(bus.ecam, fn, "test")!;
  const m = model.platform.mmio;
  const c = caps.common.address;
  return { model, bus, fn, caps, m, c };
}

test("wrong widths on common config, ISR and notify are recorded", () => {
  const { model, caps, m, c } = setUp();
  m.read32(c + 0x14); // device_status is 8-bit
  m.read16(caps.isr.address); // ISR is one byte
  m.write32(caps.notify.address, 0); // notify takes the 16-bit index
  assert.ok(model.violationRules(32).includes("common-cfg-width"));
  assert.ok(model.violationRules(32).includes("isr-access"));
  assert.ok(model.violationRules(32).includes("notify-width"));
});

test("a read past the common capability's length is recorded", () => {
  const { model, m, c } = setUp();
  m.read32(c + 0x40);
  assert.equal(model.violationRules(32), ["cap-access-past-length"]);
});

test("queue_enable 0, and queue fields after queue_enable, are recorded", () => {
  const { model, m, c } = setUp();
  m.write8(c + 0x14, 1);
  m.write8(c + 0x14, 3);
  m.write32(c + 0x08, 1);
  m.write32(c + 0x0c, 1); // VERSION_1
  m.write8(c + 0x14, 11);
  const dma = model.dma.alloc(0x3000, 4096);
  m.write16(c + 0x16, 0);
  m.write16(c + 0x18, 64);
  m.write32(c + 0x20, dma.phys); m.write32(c + 0x24, 0);
  m.write32(c + 0x28, dma.phys + 0x1000); m.write32(c + 0x2c, 0);
  m.write32(c + 0x30, dma.phys + 0x2000); m.write32(c + 0x34, 0);
  m.write16(c + 0x1c, 1);
  model.clearViolations();
  m.write16(c + 0x18, 32);
  m.write16(c + 0x1c, 0);
  assert.equal(model.violationRules(32), ["queue-changed-while-ready", "queue-enable-zero"]);
  m.write8(c + 0x14, 0);
  model.dma.free(dma);
});

test("bus mastering off: queue_enable and notify are recorded; decoding off: BAR access is", () => {
  const { model, bus, fn, caps, m, c } = setUp();
  bus.ecam.write16(fn, Cfg.Command, 0x2); // memory decode, no bus master
  m.write16(caps.notify.address, 0);
  assert.ok(model.violationRules(32).includes("dma-without-bus-master"));
  model.clearViolations();
  bus.ecam.write16(fn, Cfg.Command, 0);
  m.read8(c + 0x14);
  assert.equal(model.violationRules(-1), ["pci-bar-decode-off"]);
});

test.run();
