// Fault injection: each switch makes the device misbehave in the one way it names.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDevice, virtio } from "../../../platform/host/index.js";
import { rig } from "./setup.js";

const { REG, STATUS } = virtio;

async function oneRequest(version: 1 | 2, setFault: (r: ReturnType<typeof rig>) => void, twoBuffers = false) {
  const r = rig(version);
  const q = r.d.bringUp(4);
  setFault(r);
  const b = r.d.buffer(16).addr;
  const head = r.d.post(q, twoBuffers
    ? [{ addr: b, len: 8, write: true }, { addr: b + 8, len: 8, write: true }]
    : [{ addr: b, len: 16, write: true }]);
  r.d.notify(q);
  await r.model.settle();
  return { ...r, q, head, used: r.d.takeUsed(q) };
}

for (const version of [1, 2] as const) {
  const v = `v${version}`;

  test(`${v}: usedIdOutOfRange`, async () => {
    const { used, head, model } = await oneRequest(version, (r) => { r.dev.faults.usedIdOutOfRange = true; });
    assert.equal(used, [{ id: 4 + head, len: 16 }]);
    model.assertNoViolations();
  });

  test(`${v}: usedIdNotHead`, async () => {
    const { used, head } = await oneRequest(version, (r) => { r.dev.faults.usedIdNotHead = true; }, true);
    assert.is(used.length, 1);
    assert.is(used[0]!.id, head + 1, "the chain's second descriptor");
  });

  test(`${v}: usedLenExtra`, async () => {
    const { used } = await oneRequest(version, (r) => { r.dev.faults.usedLenExtra = 100; });
    assert.equal(used, [{ id: 0, len: 116 }]);
  });

  test(`${v}: dropInterrupts: InterruptStatus set, the line never raised`, async () => {
    let delivered = 0;
    const { dev, model, d } = await oneRequest(version, (r) => {
      r.dev.faults.dropInterrupts = true;
      r.model.platform.irq.attach(r.dev.irq, () => delivered++);
      r.model.platform.irq.enable(r.dev.irq);
    });
    assert.is(delivered, 0);
    assert.is(d.r(REG.InterruptStatus), 1);
    assert.is(dev.counters.droppedInterrupts, 1);
    model.assertNoViolations();
  });

  test(`${v}: spuriousInterrupts: the line fires with nothing to report`, async () => {
    const statuses: number[] = [];
    const r = rig(version, new RngDevice(), {});
    r.model.platform.irq.attach(r.dev.irq, () => statuses.push(r.d.r(REG.InterruptStatus)));
    r.model.platform.irq.enable(r.dev.irq);
    const q = r.d.bringUp(4);
    r.dev.faults.spuriousInterrupts = true;
    r.d.notify(q); // nothing posted
    await r.model.settle();
    assert.equal(statuses, [0]);
    r.dev.spuriousInterrupt();
    await r.model.settle();
    assert.equal(statuses, [0, 0]);
    assert.is(r.dev.counters.spuriousInterrupts, 2);
  });

  test(`${v}: resetDelayReads: Status reads the old value before 0`, () => {
    const r = rig(version);
    r.d.w(REG.Status, STATUS.ACKNOWLEDGE);
    r.dev.faults.resetDelayReads = 3;
    r.d.w(REG.Status, 0);
    const reads = [0, 1, 2, 3].map(() => r.d.r(REG.Status));
    assert.equal(reads, [1, 1, 1, 0]);
    r.model.assertNoViolations();
  });

  test(`${v}: needsReset(): DEVICE_NEEDS_RESET, config interrupt, no more service until reset`, async () => {
    const r = rig(version);
    const q = r.d.bringUp(4);
    r.dev.needsReset();
    assert.is(r.d.r(REG.Status) & STATUS.DEVICE_NEEDS_RESET, STATUS.DEVICE_NEEDS_RESET);
    assert.is(r.d.r(REG.InterruptStatus), 2);
    r.d.post(q, [{ addr: r.d.buffer(8).addr, len: 8, write: true }]);
    r.d.notify(q);
    await r.model.settle();
    assert.equal(r.d.takeUsed(q), []);
    const q2 = r.d.bringUp(4);
    r.d.post(q2, [{ addr: r.d.buffer(8).addr, len: 8, write: true }]);
    r.d.notify(q2);
    await r.model.settle();
    assert.is(r.d.takeUsed(q2).length, 1);
    r.model.assertNoViolations();
  });
}

test("resetDelayReads: a reset from status 0 reads 0 at once; FAILED may be set while waiting", () => {
  const r = rig(2);
  r.dev.faults.resetDelayReads = 5;
  r.d.w(REG.Status, 0);
  assert.is(r.d.r(REG.Status), 0);
  r.d.w(REG.Status, STATUS.ACKNOWLEDGE);
  r.d.w(REG.Status, 0);
  assert.is(r.d.r(REG.Status), STATUS.ACKNOWLEDGE);
  r.d.w(REG.Status, STATUS.ACKNOWLEDGE | STATUS.FAILED);
  assert.is(r.d.r(REG.Status), STATUS.ACKNOWLEDGE | STATUS.FAILED);
  r.model.assertNoViolations();
});

test("v2: refuseFeaturesOk: Status does not keep FEATURES_OK", () => {
  const r = rig(2);
  r.dev.faults.refuseFeaturesOk = true;
  const offered = r.d.begin();
  assert.not.ok(r.d.negotiate(offered));
  assert.is(r.d.r(REG.Status), STATUS.ACKNOWLEDGE | STATUS.DRIVER);
  r.d.w(REG.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FAILED);
  r.model.assertNoViolations();
});

test("a device model that throws is recorded, never thrown into the driver", async () => {
  for (const processing of ["sync", "async"] as const) {
    const device = new RngDevice();
    device.process = () => {
      throw new Error("model bug");
    };
    const r = rig(2, device, { processing });
    const q = r.d.bringUp(4);
    r.d.post(q, [{ addr: r.d.buffer(8).addr, len: 8, write: true }]);
    r.d.notify(q);
    await r.model.settle();
    assert.equal(r.model.violationRules(), ["exception-escaped"]);
    assert.is(r.model.escapedErrors.length, 1);
  }
});

test("a reset drops completions still pending in the device", async () => {
  const r = rig(2, new RngDevice({ delayTurns: 3 }));
  const q = r.d.bringUp(4);
  const buf = r.d.buffer(8);
  r.d.post(q, [{ addr: buf.addr, len: 8, write: true }]);
  r.d.notify(q);
  await new Promise((res) => setImmediate(res));
  r.d.w(REG.Status, 0);
  await r.model.settle();
  assert.is(r.d.mem.read16(q.used + 2), 0, "nothing written after the reset");
  r.model.assertNoViolations();
});

test.run();
