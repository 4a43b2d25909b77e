// Register-level rules of the virtio-mmio register file (§4.2.2, §3.1.1), both versions:
// each forbidden action is recorded under its rule id and the device reacts as a real
// one would.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { virtio } from "../../../platform/host/index.js";
import { rig, rules } from "./setup.js";

const { REG, STATUS } = virtio;
const ACK = STATUS.ACKNOWLEDGE;
const DRV = STATUS.DRIVER;
const FOK = STATUS.FEATURES_OK;

for (const version of [1, 2] as const) {
  const v = `v${version}`;

  test(`${v}: register-width: 16-bit access to a control register`, () => {
    const { model, d } = rig(version);
    assert.is(model.platform.mmio.read16(d.base + REG.Status), 0);
    model.platform.mmio.write8(d.base + REG.Status, 1);
    assert.is(d.r(REG.Status), 0, "the narrow write is ignored");
    assert.equal(rules(model), ["register-width"]);
  });

  test(`${v}: register-read-only / register-write-only / register-unknown`, () => {
    const { model, d } = rig(version);
    d.w(REG.MagicValue, 1);
    assert.is(d.r(REG.QueueNotify), 0);
    d.r(0x0d0);
    assert.equal(rules(model), ["register-read-only", "register-write-only", "register-unknown"]);
  });

  test(`${v}: register-not-in-version`, () => {
    const { model, d } = rig(version);
    if (version === 1) {
      d.w(REG.QueueReady, 1);
      assert.is(d.r(REG.ConfigGeneration), 0);
    } else {
      d.w(REG.QueuePFN, 1);
      d.w(REG.GuestPageSize, 4096);
    }
    assert.equal(rules(model), ["register-not-in-version"]);
  });

  test(`${v}: status-order: DRIVER before ACKNOWLEDGE`, () => {
    const { model, d } = rig(version);
    d.w(REG.Status, DRV);
    assert.equal(rules(model), ["status-order"]);
  });

  test(`${v}: status-order: DRIVER_OK too early`, () => {
    const { model, d } = rig(version);
    d.w(REG.Status, ACK);
    d.w(REG.Status, ACK | STATUS.DRIVER_OK);
    assert.equal(rules(model), ["status-order"]);
  });

  test(`${v}: status-bit-cleared and status-device-bit`, () => {
    const { model, d } = rig(version);
    d.w(REG.Status, ACK);
    d.w(REG.Status, ACK | DRV);
    d.w(REG.Status, ACK);
    d.w(REG.Status, ACK | DRV | STATUS.DEVICE_NEEDS_RESET);
    assert.equal(rules(model), ["status-bit-cleared", "status-device-bit"]);
    assert.is(d.r(REG.Status) & STATUS.DEVICE_NEEDS_RESET, 0);
  });

  test(`${v}: features-before-driver is a status-order violation`, () => {
    const { model, d } = rig(version);
    d.w(REG.Status, ACK);
    d.writeFeatures(0n);
    assert.equal(rules(model), ["status-order"]);
  });

  test(`${v}: features-not-offered`, () => {
    const { model, d } = rig(version);
    const offered = d.begin();
    const kept = d.negotiate(offered | (1n << 5n));
    assert.equal(rules(model), ["features-not-offered"]);
    if (version === 2) assert.not.ok(kept, "FEATURES_OK refused");
  });

  test(`${v}: queue-before-features-ok`, () => {
    const { model, d } = rig(version);
    d.w(REG.Status, ACK);
    d.w(REG.QueueSel, 0);
    d.w(REG.QueueNum, 8);
    assert.equal(rules(model), ["queue-before-features-ok"]);
  });

  test(`${v}: queue-num-zero / not-power-of-2 / above-max, each ignored`, () => {
    const { model, dev, d } = rig(version);
    d.begin();
    d.negotiate(dev.offeredFeatures);
    d.w(REG.QueueSel, 0);
    d.w(REG.QueueNum, 8);
    d.w(REG.QueueNum, 0);
    d.w(REG.QueueNum, 12);
    d.w(REG.QueueNum, 2048);
    assert.equal(rules(model), ["queue-num-zero", "queue-num-not-power-of-2", "queue-num-above-max"]);
    assert.is(dev.queue(0).num, 8);
  });

  test(`${v}: queue-not-present`, () => {
    const { model, dev, d } = rig(version);
    d.begin();
    d.negotiate(dev.offeredFeatures);
    d.w(REG.QueueSel, 3);
    d.w(REG.QueueNum, 8);
    assert.equal(rules(model), ["queue-not-present"]);
  });

  test(`${v}: queue-changed-while-ready`, () => {
    const { model, dev, d } = rig(version);
    d.begin();
    d.negotiate(dev.offeredFeatures);
    const q = d.allocQueue(0, 8);
    d.enableQueue(q);
    d.w(REG.QueueNum, 4);
    assert.equal(rules(model), ["queue-changed-while-ready"]);
    assert.is(dev.queue(0).num, 8);
  });

  test(`${v}: queue-setup-after-driver-ok`, () => {
    const { model, dev, d } = rig(version);
    d.begin();
    d.negotiate(dev.offeredFeatures);
    d.driverOk();
    d.enableQueue(d.allocQueue(0, 8));
    assert.ok(rules(model).includes("queue-setup-after-driver-ok"));
  });

  test(`${v}: queue-area-outside-memory`, () => {
    const { model, dev, d } = rig(version);
    d.begin();
    d.negotiate(dev.offeredFeatures);
    d.enableQueue({ index: 0, size: 8, desc: 0x1000, avail: 0x1080, used: 0x2000, nextDesc: 0, availIdx: 0, lastUsed: 0 });
    assert.equal(rules(model), ["queue-area-outside-memory"]);
    assert.not.ok(dev.queue(0).live);
  });

  test(`${v}: notify-before-driver-ok and notify-queue-not-ready`, () => {
    const { model, dev, d } = rig(version);
    d.begin();
    d.negotiate(dev.offeredFeatures);
    d.w(REG.QueueNotify, 0);
    d.driverOk();
    d.w(REG.QueueNotify, 0);
    assert.equal(rules(model), ["notify-before-driver-ok", "notify-queue-not-ready"]);
    assert.is(dev.counters.notifications, 2);
  });

  test(`${v}: config-out-of-range on a device with no config`, () => {
    const { model, d } = rig(version);
    assert.is(d.r(REG.Config), 0xffffffff);
    assert.equal(rules(model), ["config-out-of-range"]);
  });
}

test("v2: version-1-missing: FEATURES_OK refused", () => {
  const { model, dev, d } = rig(2);
  d.begin();
  assert.not.ok(d.negotiate(dev.offeredFeatures & ~(1n << 32n)));
  assert.equal(rules(model), ["version-1-missing"]);
  assert.is(dev.negotiatedFeatures, 0n);
});

test("v2: features-after-features-ok is ignored", () => {
  const { model, dev, d } = rig(2);
  d.begin();
  d.negotiate(1n << 32n);
  d.writeFeatures(dev.offeredFeatures);
  assert.equal(rules(model), ["features-after-features-ok"]);
  assert.is(dev.negotiatedFeatures, 1n << 32n);
});

test("v2: status-order: FEATURES_OK without DRIVER", () => {
  const { model, d } = rig(2);
  d.w(REG.Status, ACK);
  d.w(REG.Status, ACK | FOK);
  assert.ok(rules(model).includes("status-order"));
});

test("v2: queue-misaligned (desc 16, driver 2, device 4)", () => {
  const { model, dev, d } = rig(2);
  d.begin();
  d.negotiate(dev.offeredFeatures);
  const q = d.allocQueue(0, 8);
  d.enableQueue({ ...q, desc: q.desc + 8, used: q.used + 2 });
  assert.equal(rules(model), ["queue-misaligned"]);
  assert.match(model.violations[0]!.message, /descriptor table/);
  assert.match(model.violations[0]!.message, /device area/);
  assert.is(d.r(REG.QueueReady), 0);
});

test("v2: queue-ready-incomplete", () => {
  const { model, dev, d } = rig(2);
  d.begin();
  d.negotiate(dev.offeredFeatures);
  d.w(REG.QueueSel, 0);
  d.w(REG.QueueDescLow, 0x40100000);
  d.w(REG.QueueReady, 1);
  assert.equal(rules(model), ["queue-ready-incomplete"]);
  assert.is(d.r(REG.QueueReady), 0);
});

test("v2: queue-areas-overlap", () => {
  const { model, dev, d } = rig(2);
  d.begin();
  d.negotiate(dev.offeredFeatures);
  const q = d.allocQueue(0, 8);
  d.enableQueue({ ...q, avail: q.desc + 16 });
  assert.equal(rules(model), ["queue-areas-overlap"]);
});

test("v2: queue-ready-invalid", () => {
  const { model, dev, d } = rig(2);
  d.begin();
  d.negotiate(dev.offeredFeatures);
  const q = d.allocQueue(0, 8);
  d.enableQueue(q);
  d.w(REG.QueueSel, 1);
  d.w(REG.QueueReady, 2);
  assert.equal(rules(model), ["queue-ready-invalid", "queue-not-present"]);
});

test("v2: QueueReady 0 takes the queue away; it can be set up again before DRIVER_OK", () => {
  const { model, dev, d } = rig(2);
  d.begin();
  d.negotiate(dev.offeredFeatures);
  const q = d.allocQueue(0, 8);
  d.enableQueue(q);
  d.w(REG.QueueReady, 0);
  assert.not.ok(dev.queue(0).live);
  d.enableQueue(q);
  assert.ok(dev.queue(0).live);
  model.assertNoViolations();
});

test("v2: queue-changed-while-ready: an address rewritten while live is ignored", () => {
  const { model, dev, d } = rig(2);
  d.begin();
  d.negotiate(dev.offeredFeatures);
  const q = d.allocQueue(0, 8);
  d.enableQueue(q);
  d.w(REG.QueueDescLow, q.desc + 4096);
  assert.equal(rules(model), ["queue-changed-while-ready"]);
  assert.is(dev.queue(0).layout!.desc, q.desc);
});

test("v1: queue-changed-while-ready: QueuePFN rewritten while live", () => {
  const { model, dev, d } = rig(1);
  d.begin();
  d.negotiate(dev.offeredFeatures);
  const q = d.allocQueue(0, 8);
  d.enableQueue(q);
  d.w(REG.QueuePFN, q.desc / 4096 + 1);
  assert.equal(rules(model), ["queue-changed-while-ready"]);
  assert.is(dev.queue(0).layout!.desc, q.desc);
});

test("v1: legacy-page-size-unset and legacy-page-size-invalid", () => {
  const { model, dev, d } = rig(1);
  d.begin();
  d.negotiate(dev.offeredFeatures);
  d.w(REG.QueueSel, 0);
  d.w(REG.QueuePFN, 0x40100);
  d.w(REG.GuestPageSize, 3000);
  assert.equal(rules(model), ["legacy-page-size-unset", "legacy-page-size-invalid"]);
  assert.not.ok(dev.queue(0).live);
});

test("v1: legacy layout: used ring on the QueueAlign boundary", () => {
  const { model, dev, d } = rig(1);
  d.begin();
  d.negotiate(dev.offeredFeatures);
  const q = d.allocQueue(0, 8);
  d.enableQueue(q);
  assert.equal(dev.queue(0).layout, { desc: q.desc, avail: q.desc + 128, used: q.desc + 4096 });
  model.assertNoViolations();
});

test("v1: legacy-queue-align-invalid", () => {
  const { model, dev, d } = rig(1);
  d.begin();
  d.negotiate(dev.offeredFeatures);
  d.w(REG.QueueSel, 0);
  d.w(REG.QueueAlign, 100);
  assert.equal(rules(model), ["legacy-queue-align-invalid"]);
});

test("reset-not-complete: writes before Status reads back 0", () => {
  const { model, dev, d } = rig(2);
  dev.faults.resetDelayReads = 2;
  d.w(REG.Status, ACK);
  d.w(REG.Status, 0);
  d.w(REG.Status, ACK);
  d.w(REG.DeviceFeaturesSel, 0);
  assert.equal(rules(model), ["reset-not-complete"]);
  assert.is(model.violations.length, 2);
});

test.run();
