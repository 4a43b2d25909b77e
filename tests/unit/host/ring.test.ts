// Ring-level rules (§2.7): chains the device walks, indices, device-owned areas. A chain
// the device cannot accept breaks the device (QEMU's virtio_error): it stops serving and,
// on a modern device, sets DEVICE_NEEDS_RESET with a configuration interrupt.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDevice, virtio } from "../../../platform/host/index.js";
import type { HandDriver, HandQueue } from "./hand-driver.js";
import { rig, rules } from "./setup.js";

const { REG, STATUS } = virtio;
const NEXT = 1;
const WRITE = 2;
const INDIRECT = 4;

/** Sets up a driver, posts what `post` writes, notifies and settles. */
async function ringCase(version: 1 | 2, post: (d: HandDriver, q: HandQueue) => void, features?: bigint) {
  const r = rig(version);
  const q = r.d.bringUp(4, features);
  post(r.d, q);
  r.d.notify(q);
  await r.model.settle();
  return { ...r, q };
}

for (const version of [1, 2] as const) {
  const v = `v${version}`;

  const fatal = async (name: string, rule: string, post: (d: HandDriver, q: HandQueue) => void, features?: bigint) => {
    test(`${v}: ${name} -> ${rule}`, async () => {
      const { model, dev, d, q } = await ringCase(version, post, features);
      assert.equal(rules(model), [rule]);
      assert.ok(dev.broken, "the device stops");
      assert.equal(d.takeUsed(q), [], "nothing is used");
      if (version === 2) {
        assert.is(d.r(REG.Status) & STATUS.DEVICE_NEEDS_RESET, STATUS.DEVICE_NEEDS_RESET);
        assert.is(d.r(REG.InterruptStatus) & 2, 2, "config change notification");
      }
      // A reset brings it back.
      d.w(REG.Status, 0);
      assert.not.ok(dev.broken);
    });
  };

  fatal("buffer outside RAM", "descriptor-outside-memory", (d, q) => {
    d.post(q, [{ addr: 0x1000, len: 16, write: true }]);
  });

  fatal("buffer running past the end of RAM", "descriptor-outside-memory", (d, q) => {
    d.post(q, [{ addr: d.mem.base + d.mem.size - 8, len: 16, write: true }]);
  });

  fatal("a looping chain", "descriptor-loop", (d, q) => {
    const b = d.buffer(8).addr;
    d.desc(q, 0, b, 8, WRITE | NEXT, 1);
    d.desc(q, 1, b, 8, WRITE | NEXT, 0);
    d.publish(q, 0);
  });

  fatal("next beyond the queue", "descriptor-next-out-of-range", (d, q) => {
    d.desc(q, 0, d.buffer(8).addr, 8, WRITE | NEXT, 9);
    d.publish(q, 0);
  });

  fatal("readable after writable", "descriptor-readable-after-writable", (d, q) => {
    const b = d.buffer(8).addr;
    d.post(q, [{ addr: b, len: 4, write: true }, { addr: b + 4, len: 4 }]);
  });

  fatal("avail idx far ahead", "avail-idx-jump", (d, q) => {
    d.mem.write16(q.avail + 2, 5);
  });

  fatal("avail head beyond the queue", "avail-head-out-of-range", (d, q) => {
    d.publish(q, 7);
  });

  fatal("INDIRECT with NEXT", "indirect-with-next", (d, q) => {
    const table = d.buffer(32).addr;
    d.descAt(table, d.buffer(8).addr, 8, WRITE);
    d.desc(q, 0, table, 16, INDIRECT | NEXT, 1);
    d.desc(q, 1, d.buffer(8).addr, 8, WRITE);
    d.publish(q, 0);
  });

  fatal("indirect table length not a multiple of 16", "indirect-bad-length", (d, q) => {
    const table = d.buffer(32).addr;
    d.descAt(table, d.buffer(8).addr, 8, WRITE);
    d.desc(q, 0, table, 24, INDIRECT);
    d.publish(q, 0);
  });

  fatal("indirect inside indirect", "indirect-nested", (d, q) => {
    const inner = d.buffer(16).addr;
    d.descAt(inner, d.buffer(8).addr, 8, WRITE);
    const outer = d.buffer(16).addr;
    d.descAt(outer, inner, 16, INDIRECT);
    d.desc(q, 0, outer, 16, INDIRECT);
    d.publish(q, 0);
  });

  fatal("indirect table outside RAM", "descriptor-outside-memory", (d, q) => {
    d.desc(q, 0, 0x2000, 16, INDIRECT);
    d.publish(q, 0);
  });

  fatal("indirect chain longer than the queue", "chain-too-long", (d, q) => {
    const table = d.buffer(16 * 6).addr;
    const b = d.buffer(8).addr;
    for (let i = 0; i < 6; i++) d.descAt(table + 16 * i, b, 8, WRITE | (i < 5 ? NEXT : 0), i + 1);
    d.desc(q, 0, table, 16 * 6, INDIRECT);
    d.publish(q, 0);
  });

  fatal("indirect without the feature", "indirect-not-negotiated", (d, q) => {
    const table = d.buffer(16).addr;
    d.descAt(table, d.buffer(8).addr, 8, WRITE);
    d.desc(q, 0, table, 16, INDIRECT);
    d.publish(q, 0);
  }, version === 2 ? 1n << 32n : 0n);

  test(`${v}: a good indirect chain is served`, async () => {
    const { model, d, q } = await ringCase(version, (d, q) => {
      const table = d.buffer(48).addr;
      d.descAt(table, d.buffer(8).addr, 8, WRITE | NEXT, 1);
      d.descAt(table + 16, d.buffer(8).addr, 8, WRITE | NEXT, 2);
      d.descAt(table + 32, d.buffer(16).addr, 16, WRITE);
      d.desc(q, 0, table, 48, INDIRECT);
      d.publish(q, 0);
    });
    assert.equal(d.takeUsed(q), [{ id: 0, len: 32 }]);
    model.assertNoViolations();
  });

  test(`${v}: descriptor-in-flight: a head posted again before it was used`, async () => {
    const r = rig(version, new RngDevice({ delayTurns: 5 }));
    const q = r.d.bringUp(4);
    r.d.post(q, [{ addr: r.d.buffer(8).addr, len: 8, write: true }]);
    r.d.notify(q);
    await new Promise((res) => setImmediate(res));
    r.d.publish(q, 0);
    r.d.notify(q);
    await r.model.settle();
    assert.equal(rules(r.model), ["descriptor-in-flight"]);
  });

  test(`${v}: descriptor-modified-in-flight`, async () => {
    const r = rig(version, new RngDevice({ delayTurns: 2 }), { processing: "sync" });
    const q = r.d.bringUp(4);
    const b = r.d.buffer(16).addr;
    r.d.post(q, [{ addr: b, len: 8, write: true }]);
    r.d.notify(q);
    r.d.desc(q, 0, b, 16, WRITE);
    await r.model.settle();
    assert.equal(rules(r.model), ["descriptor-modified-in-flight"]);
    assert.equal(r.d.takeUsed(q), [{ id: 0, len: 8 }], "the device kept its own copy");
  });

  test(`${v}: used-ring-written-by-driver is recorded and undone`, async () => {
    const { model, d, q } = await ringCase(version, (d, q) => {
      d.post(q, [{ addr: d.buffer(8).addr, len: 8, write: true }]);
    });
    d.mem.write16(q.used + 2, 9);
    d.post(q, [{ addr: d.buffer(8).addr, len: 8, write: true }]);
    d.notify(q);
    await model.settle();
    assert.equal(rules(model), ["used-ring-written-by-driver"]);
    assert.is(d.mem.read16(q.used + 2), 2, "used idx restored, then moved on");
  });

  test(`${v}: rng-readable-buffer`, async () => {
    const { model, d, q } = await ringCase(version, (d, q) => {
      const b = d.buffer(16).addr;
      d.post(q, [{ addr: b, len: 8 }, { addr: b + 8, len: 8, write: true }]);
    });
    assert.equal(rules(model), ["rng-readable-buffer"]);
    assert.equal(d.takeUsed(q), [{ id: 0, len: 8 }]);
  });

  test(`${v}: avail-flags-invalid: NO_INTERRUPT set with EVENT_IDX negotiated`, async () => {
    const { model, d, q } = await ringCase(version, (d, q) => {
      d.mem.write16(q.avail, 1);
      d.post(q, [{ addr: d.buffer(8).addr, len: 8, write: true }]);
    });
    assert.equal(rules(model), ["avail-flags-invalid"]);
    assert.is(d.takeUsed(q).length, 1);
  });

  test(`${v}: NO_INTERRUPT without EVENT_IDX suppresses the interrupt`, async () => {
    const r = rig(version);
    const q = r.d.bringUp(4, version === 2 ? 1n << 32n : 0n);
    r.d.mem.write16(q.avail, 1);
    r.d.post(q, [{ addr: r.d.buffer(8).addr, len: 8, write: true }]);
    r.d.notify(q);
    await r.model.settle();
    assert.is(r.d.takeUsed(q).length, 1);
    assert.is(r.dev.counters.interrupts, 0);
    assert.is(r.d.r(REG.InterruptStatus), 0);
    r.model.assertNoViolations();
  });
}

test("indices wrap at 2^16: 70,000 requests through a queue of 64", async () => {
  const r = rig(2, new RngDevice(), { processing: "sync" });
  const q = r.d.bringUp(64, 1n << 32n);
  const buf = r.d.buffer(64 * 4);
  for (let i = 0; i < 64; i++) r.d.desc(q, i, buf.addr + 4 * i, 4, WRITE);
  let used = 0;
  for (let batch = 0; batch < 70_000 / 50; batch++) {
    for (let k = 0; k < 50; k++) r.d.publish(q, k);
    r.d.notify(q);
    used += r.d.takeUsed(q).length;
  }
  await r.model.settle();
  assert.is(used, 70_000);
  assert.is(r.d.mem.read16(q.used + 2), 70_000 & 0xffff);
  assert.is(r.dev.queueCounters(0).chainsCompleted, 70_000);
  r.model.assertNoViolations();
});

test("EVENT_IDX: 32 requests, one notification, used_event asks for one interrupt", async () => {
  const r = rig(2, new RngDevice({ delayTurns: 1 }));
  const q = r.d.bringUp(32);
  const buf = r.d.buffer(32 * 8);
  let delivered = 0;
  r.model.platform.irq.attach(r.dev.irq, () => {
    delivered++;
    r.d.w(REG.InterruptACK, r.d.r(REG.InterruptStatus));
  });
  r.model.platform.irq.enable(r.dev.irq);
  // used_event = 31: interrupt only once the 32nd chain is used.
  r.d.mem.write16(q.avail + 4 + 2 * 32, 31);
  for (let i = 0; i < 32; i++) {
    r.d.desc(q, i, buf.addr + 8 * i, 8, WRITE);
    r.d.publish(q, i);
  }
  r.d.notify(q);
  await r.model.settle();
  assert.is(r.d.takeUsed(q).length, 32);
  assert.is(r.dev.counters.notifications, 1);
  assert.is(r.dev.counters.interrupts, 1);
  assert.is(delivered, 1);
  assert.is(r.d.mem.read16(q.used + 4 + 8 * 32), 32, "avail_event: the device has seen 32");
  r.model.assertNoViolations();
});

test("EVENT_IDX: used_event behind the batch: no interrupt", async () => {
  const r = rig(2);
  const q = r.d.bringUp(8);
  r.d.post(q, [{ addr: r.d.buffer(8).addr, len: 8, write: true }]);
  r.d.notify(q);
  await r.model.settle();
  assert.is(r.dev.counters.interrupts, 1, "the first used buffer always interrupts");
  r.d.mem.write16(q.avail + 4 + 2 * 8, 5); // wait until used idx passes 5
  r.d.post(q, [{ addr: r.d.buffer(8).addr, len: 8, write: true }]);
  r.d.notify(q);
  await r.model.settle();
  assert.is(r.dev.counters.interrupts, 1);
  assert.is(r.d.takeUsed(q).length, 2);
});

test("missing-wmb: avail idx published with no barrier before the notification", async () => {
  const r = rig(2);
  const q = r.d.bringUp(8);
  const b = r.d.buffer(8).addr;
  r.d.desc(q, 0, b, 8, WRITE);
  r.d.mem.write16(q.avail + 4, 0);
  r.d.mem.write16(q.avail + 2, 1); // no wmb
  r.model.platform.mmio.write32(r.d.base + REG.QueueNotify, 0); // no mb either
  await r.model.settle();
  assert.equal(rules(r.model), ["missing-wmb"]);
  assert.equal(r.d.takeUsed(q), [{ id: 0, len: 8 }], "still served");
});

test("unneededNotifications: a notification with nothing new past avail_event", async () => {
  for (const eventIdx of [true, false]) {
    const r = rig(2);
    const q = r.d.bringUp(8, eventIdx ? undefined : 1n << 32n);
    r.d.post(q, [{ addr: r.d.buffer(8).addr, len: 8, write: true }]);
    r.d.notify(q);
    await r.model.settle();
    r.d.post(q, [{ addr: r.d.buffer(8).addr, len: 8, write: true }]);
    r.d.notify(q);
    r.d.notify(q);
    await r.model.settle();
    const c = r.dev.queueCounters(0);
    assert.equal([c.notifications, c.unneededNotifications], [3, 1], `eventIdx ${eventIdx}`);
    r.model.assertNoViolations();
  }
});

test("suppressNotifyWhileProcessing: NO_NOTIFY is set only during processing", async () => {
  const r = rig(2, new RngDevice(), { suppressNotifyWhileProcessing: true });
  const q = r.d.bringUp(4, 1n << 32n);
  const seen: number[] = [];
  const device = r.dev.device as RngDevice;
  const inner = device.process.bind(device);
  device.process = (queue: number) => {
    seen.push(r.d.mem.read16(q.used));
    inner(queue);
  };
  r.d.post(q, [{ addr: r.d.buffer(8).addr, len: 8, write: true }]);
  r.d.notify(q);
  await r.model.settle();
  assert.equal(seen, [1]);
  assert.is(r.d.mem.read16(q.used), 0);
  r.model.assertNoViolations();
});

test.run();
