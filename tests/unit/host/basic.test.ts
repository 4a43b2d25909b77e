// The correct driver sequence, by hand, on both transport versions: no violations, and
// an rng request is served through the used ring with an interrupt.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHostModel, RngDevice, virtio } from "../../../platform/host/index.js";
import { HandDriver } from "./hand-driver.js";

const { REG } = virtio;

for (const version of [1, 2] as const) {
  test(`v${version}: probe registers answer as QEMU's`, () => {
    const model = createHostModel();
    model.attach(31, new RngDevice(), { version });
    const d = new HandDriver(model, 31);
    assert.is(d.r(REG.MagicValue), 0x74726976);
    assert.is(d.r(REG.Version), version);
    assert.is(d.r(REG.DeviceID), 4);
    assert.is(d.r(REG.VendorID), 0x554d4551);
    d.w(REG.QueueSel, 0);
    assert.is(d.r(REG.QueueNumMax), 1024);
    d.w(REG.QueueSel, 1);
    assert.is(d.r(REG.QueueNumMax), 0);
    const features = d.begin();
    assert.is((features >> 32n) & 1n, version === 2 ? 1n : 0n, "VERSION_1 only on modern");
    assert.is((features >> 28n) & 3n, 3n, "INDIRECT_DESC and EVENT_IDX offered");
    model.assertNoViolations();
  });

  test(`v${version}: correct bring-up and one rng request, served with an interrupt`, async () => {
    const model = createHostModel();
    const dev = model.attach(31, new RngDevice({ seed: 7 }), { version });
    const d = new HandDriver(model, 31);
    const irqs: number[] = [];
    model.platform.irq.attach(dev.irq, (line) => {
      irqs.push(d.r(REG.InterruptStatus));
      d.w(REG.InterruptACK, d.r(REG.InterruptStatus));
      assert.is(line, 48 + 31);
    });
    model.platform.irq.enable(dev.irq);
    const q = d.bringUp(8);
    assert.is(d.r(REG.Status), d.statusBits() | 4);
    const buf = d.buffer(64);
    const head = d.post(q, [{ addr: buf.addr, len: 64, write: true }]);
    d.notify(q);
    assert.equal(d.takeUsed(q), [], "served asynchronously, not inside the notify");
    await model.settle();
    assert.equal(d.takeUsed(q), [{ id: head, len: 64 }]);
    assert.ok(buf.bytes.some((b) => b !== 0), "entropy written");
    assert.equal(irqs, [1]);
    assert.is(dev.counters.notifications, 1);
    assert.is(dev.counters.interrupts, 1);
    assert.is(dev.queueCounters(0).chainsCompleted, 1);
    model.assertNoViolations();
  });

  test(`v${version}: the same seed gives the same bytes`, async () => {
    const run = async (): Promise<Uint8Array> => {
      const model = createHostModel();
      model.attach(0, new RngDevice({ seed: 99 }), { version });
      const d = new HandDriver(model, 0);
      const q = d.bringUp(4);
      const buf = d.buffer(16);
      d.post(q, [{ addr: buf.addr, len: 16, write: true }]);
      d.notify(q);
      await model.settle();
      return buf.bytes.slice();
    };
    assert.equal(await run(), await run());
  });

  test(`v${version}: reset clears status, interrupt status and queues`, async () => {
    const model = createHostModel();
    const dev = model.attach(3, new RngDevice(), { version });
    const d = new HandDriver(model, 3);
    const q = d.bringUp(8);
    const buf = d.buffer(8);
    d.post(q, [{ addr: buf.addr, len: 8, write: true }]);
    d.notify(q);
    await model.settle();
    assert.is(d.r(REG.InterruptStatus), 1);
    d.w(REG.Status, 0);
    assert.is(d.r(REG.Status), 0);
    assert.is(d.r(REG.InterruptStatus), 0);
    d.w(REG.QueueSel, 0);
    assert.is(d.r(version === 2 ? REG.QueueReady : REG.QueuePFN), 0);
    assert.is(dev.counters.resets, 2, "bring-up resets once, then this reset");
    model.assertNoViolations();
  });
}

test("empty windows answer magic and version with device ID 0", () => {
  const model = createHostModel({ emptyVersion: 1 });
  const base = model.board.virtioMmio[5]!.base;
  assert.is(base, 0x0a000000 + 5 * 0x200);
  assert.is(model.board.virtioMmio[5]!.irq, 53);
  assert.is(model.board.virtioMmio.length, 32);
  assert.is(model.platform.mmio.read32(base), 0x74726976);
  assert.is(model.platform.mmio.read32(base + 4), 1);
  assert.is(model.platform.mmio.read32(base + 8), 0);
  model.assertNoViolations();
});

test("many requests in flight, completed later and out of order", async () => {
  const model = createHostModel();
  const dev = model.attach(0, new RngDevice({ delayTurns: 3, outOfOrder: true }), { version: 2 });
  const d = new HandDriver(model, 0);
  const q = d.bringUp(16);
  const heads: number[] = [];
  for (let i = 0; i < 16; i++) heads.push(d.post(q, [{ addr: d.buffer(4 + i).addr, len: 4 + i, write: true }]));
  d.notify(q);
  await model.settle();
  const used = d.takeUsed(q);
  assert.equal(used.map((u) => u.id), [...heads].reverse());
  assert.equal(used.map((u) => u.len), [...heads].reverse().map((h) => 4 + h));
  assert.is(dev.queue(0).inFlight, 0);
  model.assertNoViolations();
});

test("short returns: maxLength caps each request", async () => {
  const model = createHostModel();
  model.attach(0, new RngDevice({ maxLength: 5 }), { version: 2 });
  const d = new HandDriver(model, 0);
  const q = d.bringUp(4);
  const buf = d.buffer(32);
  d.post(q, [{ addr: buf.addr, len: 32, write: true }]);
  d.notify(q);
  await model.settle();
  assert.equal(d.takeUsed(q), [{ id: 0, len: 5 }]);
  assert.ok(buf.bytes.subarray(5).every((b) => b === 0), "nothing beyond the returned length");
});

test("synchronous processing serves inside the notify; interrupts stay asynchronous", async () => {
  const model = createHostModel();
  const dev = model.attach(0, new RngDevice(), { version: 2, processing: "sync" });
  const d = new HandDriver(model, 0);
  let delivered = 0;
  model.platform.irq.attach(dev.irq, () => { delivered++; d.w(REG.InterruptACK, 1); });
  model.platform.irq.enable(dev.irq);
  const q = d.bringUp(4);
  d.post(q, [{ addr: d.buffer(8).addr, len: 8, write: true }]);
  d.notify(q);
  assert.is(d.takeUsed(q).length, 1);
  assert.is(delivered, 0);
  await model.settle();
  assert.is(delivered, 1);
});

test.run();
