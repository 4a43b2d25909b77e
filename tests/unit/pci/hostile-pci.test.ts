// The hostile-device cases on virtio-pci (modern with MSI-X, modern with INTx, legacy),
// and what is hostile in PCI itself: capabilities that point outside their BAR, a
// capability list that loops, a bad notify_off_multiplier. Each ends in a named error,
// the driver up, nothing escaped, and no rule broken by our side.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHostModel, RngDevice } from "../../../platform/host/index.js";
import { createBus } from "../../../apps/bus.js";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { RingError } from "../../../ring/errors.js";
import { finishRig, transportRig, type TransportKind } from "./pci-rig.js";

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(() => "resolved", (e: Error) => (e instanceof RingError ? `RingError:${e.kind}` : e.name));

const VARIANTS: [string, TransportKind, number | undefined][] = [
  ["pci-modern msix", "pci-modern", undefined],
  ["pci-modern intx", "pci-modern", 0],
  ["pci-legacy msix", "pci-legacy", undefined],
  ["pci-legacy intx", "pci-legacy", 0],
];

for (const [label, kind, vectors] of VARIANTS) {
  const pci = vectors === undefined ? {} : { vectors };
  for (const [fault, want] of [["usedIdOutOfRange", "RingError:BadUsedId"], ["usedLenExtra", "RingError:BadUsedLength"]] as const) {
    test(`${label}: ${fault} -> ${want}, driver up, recovered by restart`, async () => {
      // The deadline is not what these tests are about: long enough that a loaded machine never hits it first.
      const rng = new RngDriver({ timeoutMs: 2000 });
      const r = await transportRig(kind, new RngDevice({ seed: 3 }), rng, pci);
      if (fault === "usedLenExtra") r.backend.faults.usedLenExtra = 100;
      else r.backend.faults.usedIdOutOfRange = true;
      assert.is(await outcome(rng.devices()[0]!.read(64)), want);
      const vd = r.bus.device(r.slot)!;
      assert.is(vd.driver, rng, "driver still bound");
      r.backend.faults.usedLenExtra = 0;
      r.backend.faults.usedIdOutOfRange = false;
      assert.ok(await vd.restart());
      assert.is((await rng.devices()[0]!.read(16)).length, 16, "works after the restart");
      await finishRig(r);
    });
  }

  test(`${label}: dropped interrupts: the watchdog poll finds the completions`, async () => {
    const rng = new RngDriver();
    const r = await transportRig(kind, new RngDevice({ seed: 3 }), rng, pci);
    r.backend.faults.dropInterrupts = true;
    assert.is((await rng.devices()[0]!.read(40)).length, 40);
    assert.ok(r.backend.counters.droppedInterrupts > 0);
    r.backend.faults.dropInterrupts = false;
    await finishRig(r);
  });

  if (kind === "pci-modern") {
    test(`${label}: DEVICE_NEEDS_RESET through the configuration interrupt -> re-initialized`, async () => {
      const rng = new RngDriver();
      const r = await transportRig(kind, new RngDevice({ seed: 3 }), rng, pci);
      const vd = r.bus.device(r.slot)!;
      const before = vd.stats().restarts;
      r.backend.needsReset();
      await r.model.settle();
      await vd.settled();
      assert.is(vd.stats().restarts, before + 1);
      assert.is(vd.info().status, "DRIVER_OK");
      assert.is((await rng.devices()[0]!.read(8)).length, 8);
      await finishRig(r);
    });
  }
}

/** A model whose one rng function's config space `tamper` changes before the scan. */
async function tampered(tamper: (bytes: DataView, capOf: (type: number) => number) => void) {
  const model = createHostModel({ ramSize: 8 << 20, dmaSize: 4 << 20, pci: true });
  const fn = model.attachPci(new RngDevice(), { mode: "modern" });
  const v = new DataView(fn.config.bytes.buffer);
  const capOf = (type: number): number => {
    for (let at = v.getUint8(0x34); at !== 0; at = v.getUint8(at + 1)) if (v.getUint8(at) === 0x09 && v.getUint8(at + 3) === type) return at;
    throw new Error(`no cap ${type}`);
  };
  tamper(v, capOf);
  const bus = createBus(model.platform);
  await bus.register(new RngDriver());
  await bus.scan();
  await model.settle();
  const problem = bus.problems()[0]?.error;
  await bus.shutdown();
  assert.equal(model.escapedErrors, []);
  model.assertNoViolations();
  assert.is(model.dma.stats().used, 0);
  return { problem, devices: bus.devices() };
}

test("a capability that runs past its BAR is refused by name", async () => {
  const { problem, devices } = await tampered((v, capOf) => v.setUint32(capOf(4) + 8, 0x3ffe, true));
  assert.is(problem?.name, "PciCapabilityError");
  assert.match(problem!.message, /runs past BAR4/);
  assert.is(devices.length, 0);
});

test("a looping capability list is refused", async () => {
  const { problem } = await tampered((v) => v.setUint8(v.getUint8(0x34) + 1, v.getUint8(0x34)));
  assert.is(problem?.name, "PciCapabilityError");
});

test("notify_off_multiplier that is not a power of two is refused", async () => {
  const { problem } = await tampered((v, capOf) => v.setUint32(capOf(2) + 16, 3, true));
  assert.match(problem?.message ?? "", /notify_off_multiplier 3/);
});

test.run();
