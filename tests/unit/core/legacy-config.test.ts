// Legacy configuration reads (VIRTIO 1.2 §2.5.4): a legacy device has no configuration
// generation, so a field wider than 32 bits (blk capacity) or several fields read
// together (net mac) can tear while the device updates them: "drivers SHOULD read these
// fields multiple times until two reads generate a consistent result". One access
// cannot tear and is read once.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { readConfig, sameConfigValue } from "../../../drivers/virtio/config.js";
import { ConfigGenerationError } from "../../../drivers/virtio/errors.js";
import type { Transport } from "../../../drivers/virtio/transport.js";
import { finish, rig } from "./rig.js";
import { TestDevice, TestDriver } from "./test-device.js";

/** A legacy transport whose 32-bit config words come from `words(offset, n)`, n = the
 * how-many-th access. */
function legacyTransport(words: (offset: number, n: number) => number): { transport: Transport; reads: () => number } {
  let n = 0;
  const next = (offset: number) => words(offset, n++);
  const transport = {
    version: 1,
    location: "fake@legacy",
    configGeneration: () => 0,
    readConfig8: (offset: number) => next(offset) & 0xff,
    readConfig16: (offset: number) => next(offset) & 0xffff,
    readConfig32: (offset: number) => next(offset) >>> 0,
  } as unknown as Transport;
  return { transport, reads: () => n };
}

test("v1: a 64-bit capacity updated mid-read is read again until two reads agree (no torn value)", () => {
  // The device moves capacity from 0x1_ffffffff to 0x2_00000000 between the low and the
  // high word of the first read: low (old) 0xffffffff, high (new) 2.
  const { transport, reads } = legacyTransport((offset, n) => {
    const capacity = n === 0 ? 0x1_ffff_ffffn : 0x2_0000_0000n;
    return Number(offset === 0 ? capacity & 0xffff_ffffn : capacity >> 32n);
  });
  assert.is(readConfig(transport, (c) => c.u64(0)), 0x2_0000_0000n);
  assert.is(reads(), 6, "three reads of two words: torn, then two that agree");
});

test("v1: fields read together (a mac) are re-read until consistent", () => {
  const macs = [[1, 2, 3, 4, 5, 6], [1, 2, 3, 9, 9, 9], [1, 2, 3, 9, 9, 9]];
  const { transport } = legacyTransport((offset, n) => macs[Math.min(2, Math.floor(n / 6))]![offset]!);
  const mac = readConfig(transport, (c) => Uint8Array.from([0, 1, 2, 3, 4, 5], (i) => c.u8(i)));
  assert.equal([...mac], [1, 2, 3, 9, 9, 9]);
});

test("v1: one access is read once", () => {
  const { transport, reads } = legacyTransport(() => 0xbeef);
  assert.is(readConfig(transport, (c) => c.u16(12)), 0xbeef);
  assert.is(reads(), 1);
});

test("v1: a config that never reads the same twice -> ConfigGenerationError, bounded", () => {
  const { transport, reads } = legacyTransport((_offset, n) => n);
  try {
    readConfig(transport, (c) => c.u64(0));
    assert.unreachable("should throw");
  } catch (e) {
    assert.instance(e, ConfigGenerationError);
    assert.is((e as ConfigGenerationError).attempts, 8);
  }
  assert.is(reads(), 16);
});

test("v1 on the host model: a two-field read costs two reads of each field, the values stand", async () => {
  const r = rig({ version: 1, device: new TestDevice() });
  await r.bus.register(new TestDriver());
  await r.bus.scan();
  const vd = r.bus.device(31)!;
  const before = r.dev.counters.configReads;
  assert.equal(vd.readConfig((c) => ({ word: c.u32(8), half: c.u16(12) })), { word: 0xcafef00d, half: 0xbeef });
  assert.is(r.dev.counters.configReads - before, 4);
  await finish(r);
});

test("sameConfigValue: deep, byte arrays by content", () => {
  assert.ok(sameConfigValue({ a: 1n, b: [1, 2], c: Uint8Array.of(1, 2) }, { a: 1n, b: [1, 2], c: Uint8Array.of(1, 2) }));
  assert.not.ok(sameConfigValue({ a: 1 }, { a: 2 }));
  assert.not.ok(sameConfigValue(Uint8Array.of(1), Uint8Array.of(1, 2)));
  assert.not.ok(sameConfigValue([1], { 0: 1 }));
  assert.not.ok(sameConfigValue(null, {}));
});

test.run();
