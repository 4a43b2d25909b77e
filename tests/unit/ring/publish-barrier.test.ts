// A queue's areas are zeroed by the driver (at set-up, and by detachAll() after a reset);
// a write barrier must follow before the MMIO writes that hand them to the device
// (QueueDesc/QueueReady or QueuePFN), as Linux's writel orders them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DmaPool } from "../../../platform/dma-pool.js";
import { SplitQueue } from "../../../ring/split-queue.js";
import { CountingBarriers, MODERN, LEGACY, PHYS, makeQueue } from "./hand-device.js";

const DATA = PHYS + 0x90000;

for (const layout of [MODERN, LEGACY]) {
  const name = layout.contiguous ? "legacy" : "modern";
  test(`${name}: a new queue's zeroed areas are followed by a write barrier`, () => {
    const barriers = new CountingBarriers();
    const bytes = new Uint8Array(1 << 20).fill(0xaa);
    const pool = new DmaPool({ phys: PHYS, bytes });
    let atBarrier: Uint8Array | null = null;
    barriers.onBarrier = (kind) => {
      if (kind === "wmb") atBarrier = bytes.slice();
    };
    const q = new SplitQueue<number>({ index: 0, size: 8, dma: pool, barriers, layout, indirect: false, eventIdx: true, notify: () => {} });
    assert.is(barriers.wmbs, 1, "one wmb, before the transport is given the addresses");
    const a = q.addresses;
    const zero = (phys: number, len: number) => atBarrier!.subarray(phys - PHYS, phys - PHYS + len).every((b) => b === 0);
    assert.ok(zero(a.desc, 8 * 16) && zero(a.driver, 6 + 2 * 8) && zero(a.device, 6 + 8 * 8), "after the areas were zeroed");
  });

  test(`${name}: detachAll zeroes the areas, then a write barrier`, () => {
    const { q, bytes, barriers } = makeQueue<number>({ size: 8, layout });
    q.add([{ phys: DATA, len: 8 }], [], 1);
    q.kick();
    const wmbs = barriers.wmbs;
    let zeroAtBarrier = false;
    barriers.onBarrier = (kind) => {
      const a = q.addresses;
      const zero = (phys: number, len: number) => bytes.subarray(phys - PHYS, phys - PHYS + len).every((b) => b === 0);
      if (kind === "wmb") zeroAtBarrier = zero(a.desc, 8 * 16) && zero(a.driver, 6 + 2 * 8) && zero(a.device, 6 + 8 * 8);
    };
    assert.equal(q.detachAll(), [1]);
    assert.is(barriers.wmbs, wmbs + 1);
    assert.ok(zeroAtBarrier);
  });
}

test.run();
