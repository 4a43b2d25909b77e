// Property test through the whole stack (bus, core, mmio transport, split ring, rng
// driver) against the strict host model: seeded random configurations (transport
// version, EVENT_IDX, indirect, device latency, completion order, short returns, ring
// and chunk sizes) and, on each, random request sequences (how many, how long, issued
// together or spread over turns, the odd DEVICE_NEEDS_RESET). Invariants after each
// sequence: every request resolves with exactly its bytes, all from the device, or (only
// around a device reset) fails with DeviceRemovedError; the ring is empty; every DMA
// byte is back; the model saw no rule broken and nothing escaped. Deterministic: the
// seed of a failing case is in the assertion message.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDevice } from "../../../platform/host/index.js";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { finish, rig } from "../core/rig.js";

const CONFIGS = 40;
const SEQUENCES_PER_CONFIG = 60;
const BASE_SEED = 0x5eed1234;

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): { next: () => number; int: (lo: number, hi: number) => number; pick: <T>(xs: readonly T[]) => T; chance: (p: number) => boolean } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  return { next, int, pick: (xs) => xs[int(0, xs.length - 1)]!, chance: (p) => next() < p };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test(`${CONFIGS} configurations x ${SEQUENCES_PER_CONFIG} random request sequences`, async () => {
  let sequences = 0;
  let requests = 0;
  let resets = 0;
  const started = performance.now();
  for (let c = 0; c < CONFIGS; c++) {
    const seed = (BASE_SEED + c * 7919) >>> 0;
    const rand = prng(seed);
    const version = rand.pick([1, 2] as const);
    let served = 0;
    let servedSum = 0;
    const device = new RngDevice({
      source: (n) => {
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) {
          out[i] = (served++ % 255) + 1;
          servedSum += out[i]!;
        }
        return out;
      },
      delayTurns: rand.pick([0, 0, 1, 3]),
      outOfOrder: rand.chance(0.5),
    });
    device.maxLength = rand.chance(0.3) ? rand.int(16, 256) : undefined;
    const r = rig({ version, device, mmio: { eventIdx: rand.chance(0.7), indirect: rand.chance(0.5), processing: rand.pick(["sync", "async"] as const) } });
    const rng = new RngDriver({ chunkSize: rand.pick([13, 64, 333, 4096]), queueSize: rand.pick([2, 4, 8, 16, 64]), timeoutMs: 5000 });
    await r.bus.register(rng);
    await r.bus.scan();
    const handle = rng.devices()[0]!;
    const vd = r.bus.device(31)!;
    assert.is(vd.step, "DRIVER_OK", `seed ${seed}`);
    const baseline = r.model.dma.stats().used;
    const where = `seed ${seed} (v${version}, ${vd.features.toString(16)})`;

    for (let s = 0; s < SEQUENCES_PER_CONFIG; s++) {
      const count = rand.int(1, 12);
      const lengths = Array.from({ length: count }, () => (rand.chance(0.1) ? 0 : rand.int(1, rand.pick([16, 200, 700]))));
      const resetAt = rand.chance(0.03) ? rand.int(0, count - 1) : -1;
      const servedBefore = served;
      const sumBefore = servedSum;
      const pending: Promise<Uint8Array | Error>[] = [];
      for (let i = 0; i < count; i++) {
        pending.push(handle.read(lengths[i]!).catch((e: Error) => e));
        if (i === resetAt) {
          r.dev.needsReset();
          resets++;
        }
        if (rand.chance(0.3)) await turn();
      }
      const results = await Promise.all(pending);
      await r.model.settle();
      await vd.settled();
      let delivered = 0;
      let deliveredSum = 0;
      results.forEach((result, i) => {
        if (result instanceof Error) {
          assert.ok(resetAt >= 0 && result.name === "DeviceRemovedError", `${where}: request ${i} failed: ${result.message}`);
          return;
        }
        assert.is(result.length, lengths[i], `${where}: length`);
        for (const b of result) {
          assert.ok(b !== 0, `${where}: a byte the device never wrote`);
          deliveredSum += b;
        }
        delivered += result.length;
      });
      if (resetAt < 0) {
        assert.is(served - servedBefore, delivered, `${where}: bytes served = bytes delivered`);
        assert.is(servedSum - sumBefore, deliveredSum, `${where}: every served byte landed once`);
      }
      assert.is(vd.step, "DRIVER_OK", `${where}: device up`);
      assert.is(vd.queue(0)!.inFlight, 0, `${where}: ring empty`);
      assert.is(r.model.dma.stats().used, baseline, `${where}: DMA back`);
      assert.equal(r.model.violations, [], `${where}: no violation`);
      sequences++;
      requests += count;
    }
    await finish(r);
  }
  const ms = performance.now() - started;
  console.log(`  ${sequences} sequences, ${requests} requests, ${resets} device resets, ${ms.toFixed(0)} ms`);
  assert.ok(sequences >= 2000);
});

test.run();
