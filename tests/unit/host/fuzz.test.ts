// The model records, it never throws into the driver: seeded random register writes and
// random ring contents must never make an MMIO access or device work throw, and the
// device never writes outside the rings and buffers it was given.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDevice } from "../../../platform/host/index.js";
import { rig } from "./setup.js";


function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 0xf, 0x80, 0xff, 1024, 2048, 4096, 0x40000000, 0x40100000, 0xffffffff];

for (const version of [1, 2] as const) {
  test(`v${version}: random register traffic never throws into the driver`, async () => {
    const rand = prng(1234 + version);
    const r = rig(version, new RngDevice({ delayTurns: 1 }));
    const mmio = r.model.platform.mmio;
    for (let i = 0; i < 4000; i++) {
      const offset = Math.floor(rand() * 0x110 / 4) * 4;
      const value = rand() < 0.6 ? INTERESTING[Math.floor(rand() * INTERESTING.length)]! : Math.floor(rand() * 2 ** 32);
      if (rand() < 0.5) mmio.write32(r.d.base + offset, value);
      else mmio.read32(r.d.base + offset);
      if (i % 200 === 0) await r.model.settle();
    }
    await r.model.settle();
    assert.equal(r.model.escapedErrors, []);
    assert.ok(r.model.violations.length > 0);
  });

  test(`v${version}: random ring contents: recorded, never thrown, nothing written outside`, async () => {
    const rand = prng(99 + version);
    for (let round = 0; round < 40; round++) {
      const r = rig(version, new RngDevice(), {}, { ramSize: 1 << 20, dmaSize: 1 << 19 });
      const q = r.d.bringUp(8);
      const buf = r.d.buffer(256);
      // Garbage descriptors (half of them pointing into `buf`), avail entries and idx.
      for (let i = 0; i < 8; i++) {
        const addr = rand() < 0.5 ? buf.addr + Math.floor(rand() * 200) : Math.floor(rand() * 2 ** 32);
        r.d.desc(q, i, addr, Math.floor(rand() * 64), Math.floor(rand() * 8), Math.floor(rand() * 10));
        r.d.mem.write16(q.avail + 4 + 2 * i, Math.floor(rand() * 10));
      }
      r.d.mem.write16(q.avail + 2, Math.floor(rand() * 12));
      const snapshot = r.model.memory.bytes.slice();
      r.d.notify(q);
      await r.model.settle();
      assert.equal(r.model.escapedErrors, []);
      // Only the used area and `buf` may have changed.
      const base = r.model.memory.base;
      const after = r.model.memory.bytes.slice();
      for (const [from, len] of [[q.used - base, 6 + 8 * 8 + 2], [buf.addr - base, 256]] as const) {
        after.fill(0, from, from + len);
        snapshot.fill(0, from, from + len);
      }
      assert.ok(Buffer.compare(after, snapshot) === 0, `round ${round}: memory outside the used ring and the buffer changed`);
    }
  });
}

test.run();
