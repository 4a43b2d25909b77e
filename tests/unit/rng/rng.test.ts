// The entropy driver (VIRTIO 1.2 §5.4) on both transport versions: reads of any length,
// short returns looped over, many requests in flight (more than the ring holds), DMA
// buffers given back, and errors surfaced as rejections.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDevice, type RngDeviceOptions } from "../../../platform/host/index.js";
import { RngDriver, type RngDriverOptions } from "../../../drivers/rng/rng-driver.js";
import { finish, rig, VERSIONS } from "../core/rig.js";

/** A source whose bytes are 1, 2, ..., 255, 1, 2, ...: never 0, so an unfilled byte shows. */
function counterSource(): { source: (n: number) => Uint8Array; served: () => number } {
  let next = 0;
  return {
    source: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = (next++ % 255) + 1;
      return out;
    },
    served: () => next,
  };
}

async function bound(version: 1 | 2, device: RngDeviceOptions = {}, driver: RngDriverOptions = {}) {
  const src = counterSource();
  const model = new RngDevice({ source: src.source, ...device });
  const r = rig({ version, device: model });
  const rng = new RngDriver(driver);
  await r.bus.register(rng);
  await r.bus.scan();
  return { r, src, model, handle: rng.devices()[0]! };
}

for (const version of VERSIONS) {
  test(`v${version}: reads of 0, 1, 7, 4096 and 10000 bytes, every byte from the device`, async () => {
    const { r, src, handle } = await bound(version);
    for (const n of [0, 1, 7, 4096, 10000]) {
      const bytes = await handle.read(n);
      assert.is(bytes.length, n);
      assert.ok(bytes.every((b) => b !== 0), "all filled");
    }
    assert.is(src.served(), 1 + 7 + 4096 + 10000);
    assert.is(handle.stats().buffersPosted, 1 + 1 + 1 + 3, "10000 bytes in chunks of 4096");
    await finish(r);
  });

  test(`v${version}: in order, one request: the bytes are the device's stream`, async () => {
    const { r, handle } = await bound(version);
    const bytes = await handle.read(300);
    assert.equal([...bytes.subarray(0, 3)], [1, 2, 3]);
    assert.is(bytes[254], 255);
    assert.is(bytes[255], 1);
    await finish(r);
  });

  test(`v${version}: short returns are asked again until the buffer is full`, async () => {
    const { r, src, handle } = await bound(version, { maxLength: 5 });
    const buffer = new Uint8Array(64);
    assert.is(await handle.fill(buffer), buffer, "fill resolves to the caller's buffer");
    assert.ok(buffer.every((b) => b !== 0));
    assert.equal([...buffer.subarray(0, 12)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], "pieces land in order");
    assert.is(src.served(), 64);
    assert.is(handle.stats().shortReturns, Math.ceil(64 / 5) - 1);
    await finish(r);
  });

  test(`v${version}: many requests in flight, more chunks than descriptors, out of order`, async () => {
    const { r, src, handle } = await bound(version, { delayTurns: 2, outOfOrder: true }, { queueSize: 8, chunkSize: 16 });
    const lengths = Array.from({ length: 40 }, (_, i) => 1 + ((i * 37) % 100));
    const results = await Promise.all(lengths.map((n) => handle.read(n)));
    results.forEach((bytes, i) => {
      assert.is(bytes.length, lengths[i]);
      assert.ok(bytes.every((b) => b !== 0));
    });
    assert.is(src.served(), lengths.reduce((a, b) => a + b, 0));
    assert.is(r.bus.device(31)!.queue(0)!.inFlight, 0);
    await finish(r);
  });

  test(`v${version}: a device that returns nothing -> RngDeviceError, bounded`, async () => {
    const { r, handle } = await bound(version, { maxLength: 0 }, { maxEmptyReturns: 4 });
    const error = await handle.read(8).catch((e: Error) => e);
    assert.instance(error, Error);
    assert.is((error as Error).name, "RngDeviceError");
    assert.is(handle.stats().shortReturns, 5);
    await finish(r);
  });

  test(`v${version}: bad arguments reject without touching the device`, async () => {
    const { r, handle } = await bound(version);
    const posted = handle.stats().buffersPosted;
    for (const n of [-1, 1.5, Number.NaN]) {
      assert.is(await handle.read(n).catch((e: Error) => e.name), "RangeError");
    }
    assert.is(handle.stats().buffersPosted, posted);
    await finish(r);
  });
}

test("DMA: a buffer per chunk, all given back; peak bounded by the ring", async () => {
  const { r, handle } = await bound(2, {}, { queueSize: 4, chunkSize: 1024 });
  const before = r.model.dma.stats().used;
  await handle.read(64 * 1024);
  assert.is(r.model.dma.stats().used, before);
  assert.ok(r.model.dma.stats().peak - before <= 4 * 1024 + 64 * 4, "at most a ring's worth of chunks at once");
  await finish(r);
});

test.run();
