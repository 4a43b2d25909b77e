// The fault switches the fuzzer (tests/fuzz/) uses: a used element published twice,
// used idx ahead of the elements, completions withheld then made late, chains kept for
// good, and lies about any register; and the blk model's power-cut mode.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BlkDevice, virtio } from "../../../platform/host/index.js";
import { rig } from "./setup.js";

const { REG } = virtio;

async function oneRequest(version: 1 | 2, setFault: (r: ReturnType<typeof rig>) => void) {
  const r = rig(version);
  const q = r.d.bringUp(4);
  setFault(r);
  const b = r.d.buffer(16).addr;
  const head = r.d.post(q, [{ addr: b, len: 16, write: true }]);
  r.d.notify(q);
  await r.model.settle();
  return { ...r, q, head };
}

for (const version of [1, 2] as const) {
  const v = `v${version}`;

  test(`${v}: usedTwice publishes the element twice`, async () => {
    const r = await oneRequest(version, (x) => { x.dev.faults.usedTwice = true; });
    assert.equal(r.d.takeUsed(r.q), [{ id: r.head, len: 16 }, { id: r.head, len: 16 }]);
  });

  test(`${v}: usedIdxAhead moves used idx past the elements written`, async () => {
    const r = await oneRequest(version, (x) => { x.dev.faults.usedIdxAhead = 2; });
    assert.is(r.d.takeUsed(r.q).length, 3, "one element and two stale ones");
  });

  test(`${v}: holdChains withholds the completion until releaseHeld()`, async () => {
    const r = await oneRequest(version, (x) => { x.dev.faults.holdChains = true; });
    assert.equal(r.d.takeUsed(r.q), []);
    r.dev.faults.holdChains = false;
    r.dev.releaseHeld();
    await r.model.settle();
    assert.equal(r.d.takeUsed(r.q), [{ id: r.head, len: 16 }]);
  });

  test(`${v}: loseChains keeps the chain for good`, async () => {
    const r = await oneRequest(version, (x) => { x.dev.faults.loseChains = true; });
    r.dev.faults.loseChains = false;
    r.dev.releaseHeld();
    await r.model.settle();
    assert.equal(r.d.takeUsed(r.q), []);
    assert.is(r.dev.queue(0).inFlight, 1);
  });

  test(`${v}: registerRead lies about a register, within its width`, () => {
    const r = rig(version);
    r.dev.faults.registerRead = (offset, _width, value) => (offset === REG.DeviceID ? 0x1234_5678 : value);
    assert.is(r.model.bus.read32(r.dev.base + REG.DeviceID), 0x1234_5678);
    r.dev.faults.registerRead = (offset, _width, value) => (offset >= REG.Config ? 0x1ff : value);
    assert.is(r.model.bus.read8(r.dev.base + REG.Config), 0xff, "an 8-bit read stays 8 bits");
    r.dev.faults.registerRead = null;
    assert.is(r.model.bus.read32(r.dev.base + REG.DeviceID), 4, "honest again");
  });
}

test("blk power-cut mode: writes reach the image only with FLUSH; a cut loses the rest", () => {
  const image = new Uint8Array(8 * 512);
  const disk = new BlkDevice({ image, writeback: true });
  assert.is(disk.unflushedSectors, 0);
  assert.is(disk.powerCut(), 0);
  assert.equal(disk.image, new Uint8Array(8 * 512), "nothing was written");
});

test.run();
