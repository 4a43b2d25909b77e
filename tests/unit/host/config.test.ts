// Device configuration space (§2.5, §4.2.2.2): widths, read-only fields, generation.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { virtio, type ConfigField, type DeviceContext, type DeviceModel } from "../../../platform/host/index.js";
import { rig, rules } from "./setup.js";

const { REG } = virtio;

/** A device with a blk-like config: capacity (64-bit), blk_size (32-bit), writeback (8-bit, writable). */
class ConfigDevice implements DeviceModel {
  readonly deviceId = 2;
  readonly name = "cfg";
  readonly features = 0n;
  readonly queueCount = 1;
  readonly config = new Uint8Array(16);
  readonly configFields: ConfigField[] = [
    { name: "capacity", offset: 0, width: 8 },
    { name: "blk_size", offset: 8, width: 4 },
    { name: "writeback", offset: 12, width: 1, writable: true },
  ];
  ctx!: DeviceContext;
  constructor() {
    const v = new DataView(this.config.buffer);
    v.setBigUint64(0, 0x1_0000_2000n, true);
    v.setUint32(8, 512, true);
  }
  bind(ctx: DeviceContext): void {
    this.ctx = ctx;
  }
  reads: number[] = [];
  configRead(offset: number): void {
    this.reads.push(offset);
  }
  writeConfig(offset: number, _width: number, value: number): boolean {
    this.config[offset] = value;
    return true;
  }
  process(): void {}
  reset(): void {}
}

for (const version of [1, 2] as const) {
  const v = `v${version}`;

  test(`${v}: fields read little-endian with the right widths`, () => {
    const r = rig(version, new ConfigDevice());
    assert.is(r.d.r(REG.Config), 0x2000);
    assert.is(r.d.r(REG.Config + 4), 1);
    assert.is(r.d.r(REG.Config + 8), 512);
    assert.is(r.model.platform.mmio.read8(r.d.base + REG.Config + 12), 0);
    assert.equal((r.dev.device as ConfigDevice).reads, [0, 4, 8, 12], "the read hook sees each access");
    r.model.assertNoViolations();
  });

  test(`${v}: config-access-width`, () => {
    const r = rig(version, new ConfigDevice());
    r.model.platform.mmio.read16(r.d.base + REG.Config + 8);
    r.model.platform.mmio.read8(r.d.base + REG.Config + 1);
    assert.equal(rules(r.model), ["config-access-width"]);
    assert.is(r.model.violations.length, 2);
  });

  test(`${v}: config-read-only, and a writable field accepted`, () => {
    const r = rig(version, new ConfigDevice());
    r.d.begin();
    r.d.negotiate(r.dev.offeredFeatures);
    r.d.w(REG.Config + 8, 4096);
    r.model.platform.mmio.write8(r.d.base + REG.Config + 12, 1);
    assert.equal(rules(r.model), ["config-read-only"]);
    assert.is(r.d.r(REG.Config + 8), 512);
    assert.is(r.model.platform.mmio.read8(r.d.base + REG.Config + 12), 1);
  });

  test(`${v}: configChanged(): config interrupt (and generation on v2)`, async () => {
    const device = new ConfigDevice();
    const r = rig(version, device);
    r.d.bringUp(4);
    const before = version === 2 ? r.d.r(REG.ConfigGeneration) : 0;
    device.ctx.configChanged();
    assert.is(r.d.r(REG.InterruptStatus), 2);
    if (version === 2) assert.is(r.d.r(REG.ConfigGeneration), before + 1);
    assert.is(r.dev.counters.configInterrupts, 1);
    r.model.assertNoViolations();
  });
}

test("v2: config-write-before-features-ok", () => {
  const r = rig(2, new ConfigDevice());
  r.model.platform.mmio.write8(r.d.base + REG.Config + 12, 1);
  assert.equal(rules(r.model), ["config-write-before-features-ok"]);
});

test("v2: configGenerationEvery: the generation moves during a multi-read", () => {
  const r = rig(2, new ConfigDevice());
  r.dev.faults.configGenerationEvery = 2;
  const g0 = r.d.r(REG.ConfigGeneration);
  r.d.r(REG.Config);
  r.d.r(REG.Config + 4);
  const g1 = r.d.r(REG.ConfigGeneration);
  assert.is.not(g1, g0);
  r.d.r(REG.Config);
  assert.is(r.d.r(REG.ConfigGeneration), g1, "stable until the next N-th read");
  r.model.assertNoViolations();
});

test.run();
