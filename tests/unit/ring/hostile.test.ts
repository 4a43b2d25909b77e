// A hostile or buggy device: every bad used entry gives a clear RingError, breaks the
// queue, and the driver writes nothing (§2.7.8; style: Linux `broken`, virtio-drivers).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LEGACY, MODERN, PHYS, makeQueue, type Env } from "./hand-device.js";
import { RingError, type RingErrorKind } from "../../../ring/errors.js";
import type { DmaBuffer } from "../../../platform/platform.js";


/** Chains in flight: 0-1-2 (direct, 8 writable bytes), 3 (readable only), one indirect, one unpublished. */
function setup(layout = MODERN): Env<string> & { data: DmaBuffer } {
  const env = makeQueue<string>({ size: 8, layout, indirect: false, regionBytes: 1 << 14 });
  const { q } = env;
  const data = env.pool.alloc(256); // the chains' buffers, from the queue's pool
  const BUF = data.phys;
  q.add([{ phys: BUF, len: 16 }], [{ phys: BUF + 16, len: 4 }, { phys: BUF + 32, len: 4 }], "direct");
  q.add([{ phys: BUF + 64, len: 16 }], [], "readonly");
  q.kick();
  env.dev.takeAvailable();
  q.add([], [{ phys: BUF + 128, len: 1 }], "unpublished"); // head 4
  return { ...env, data };
}

function expectBroken(env: Env<string> & { data: DmaBuffer }, kind: RingErrorKind, values: Record<string, number>) {
  const { q, bytes } = env;
  const snapshot = bytes.slice();
  let err: unknown = null;
  try {
    q.pop();
  } catch (e) {
    err = e;
  }
  assert.instance(err, RingError, "pop throws a RingError");
  const r = err as RingError;
  assert.is(r.kind, kind);
  for (const [k, v] of Object.entries(values)) assert.is(r.values[k], v, `value ${k}`);
  assert.match(r.message, /broken/);
  assert.is(q.broken, r);
  // Every later call fails fast with the same error and changes nothing.
  for (const call of [
    () => q.pop(),
    () => q.kick(),
    () => q.add([{ phys: env.data.phys, len: 1 }], [], "later"),
    () => q.enableInterrupts(),
    () => q.disableInterrupts(),
  ]) {
    assert.throws(call, (e: unknown) => e === r);
  }
  assert.equal(bytes, snapshot, "no byte of the region changed");
  // Recovery still works: stats, tokens back, memory freed.
  assert.is(q.stats().completed, 0);
  assert.equal(q.detachAll(), ["direct", "readonly", "unpublished"]);
  q.destroy();
  env.pool.free(env.data);
  assert.is(env.pool.stats().allocations, 0);
}

for (const [name, layout] of [["modern", MODERN], ["legacy", LEGACY]] as const) {
  test(`${name}: used id out of range`, () => {
    const env = setup(layout);
    env.dev.complete(8, 0);
    expectBroken(env, "BadUsedId", { id: 8, size: 8 });
  });

  test(`${name}: used id 0xffffffff`, () => {
    const env = setup(layout);
    env.dev.complete(0xffffffff, 0);
    expectBroken(env, "BadUsedId", { id: 0xffffffff });
  });

  test(`${name}: used id inside a chain, not its head`, () => {
    const env = setup(layout);
    env.dev.complete(1, 0);
    expectBroken(env, "NotAHead", { id: 1 });
  });

  test(`${name}: used id of a free descriptor`, () => {
    const env = setup(layout);
    env.dev.complete(7, 0);
    expectBroken(env, "NotInFlight", { id: 7 });
  });

  test(`${name}: used id of a chain never made available`, () => {
    const env = setup(layout);
    env.dev.complete(4, 0);
    expectBroken(env, "NotPublished", { id: 4 });
  });

  test(`${name}: used len above the chain's writable bytes`, () => {
    const env = setup(layout);
    env.dev.complete(0, 9);
    expectBroken(env, "BadUsedLength", { id: 0, len: 9, writable: 8 });
  });

  test(`${name}: used len on a chain with no writable buffer`, () => {
    const env = setup(layout);
    env.dev.complete(3, 1);
    expectBroken(env, "BadUsedLength", { id: 3, len: 1, writable: 0 });
  });

  test(`${name}: used idx jumps more than the queue size`, () => {
    const env = setup(layout);
    env.dev.setUsedIdx(9);
    expectBroken(env, "BadUsedIdx", { usedIdx: 9, lastUsed: 0 });
  });

  test(`${name}: used idx moves back (a huge jump mod 65536)`, () => {
    const env = setup(layout);
    env.dev.setUsedIdx(0xffff);
    expectBroken(env, "BadUsedIdx", { usedIdx: 0xffff, ahead: 0xffff });
  });

  test(`${name}: used idx ahead by more chains than the device holds`, () => {
    const env = setup(layout);
    env.dev.putUsed(0, 0, 0);
    env.dev.putUsed(1, 3, 0);
    env.dev.setUsedIdx(3); // only 2 chains published
    expectBroken(env, "BadUsedIdx", { usedIdx: 3, held: 2 });
  });
}

test("indirect + EVENT_IDX: a bad len changes nothing (not even used_event) and tables come back", () => {
  const env = makeQueue<string>({ size: 8, indirect: true, eventIdx: true, regionBytes: 1 << 14 });
  const { q, dev, pool, bytes } = env;
  const BUF = pool.alloc(256).phys;
  const base = pool.stats().allocations;
  q.add([{ phys: BUF, len: 16 }], [{ phys: BUF + 16, len: 4 }, { phys: BUF + 32, len: 4 }], "a");
  q.add([{ phys: BUF, len: 16 }], [{ phys: BUF + 16, len: 100 }], "b");
  q.kick();
  dev.takeAvailable();
  dev.complete(1, 100);
  dev.complete(0, 9);
  assert.equal(q.pop(), { token: "b", len: 100 });
  assert.is(dev.usedEvent(), 1);
  const snapshot = bytes.slice();
  assert.throws(() => q.pop(), (e: unknown) => e instanceof RingError && e.kind === "BadUsedLength");
  assert.equal(bytes, snapshot);
  assert.equal(q.detachAll(), ["a"]);
  assert.is(pool.stats().allocations, base);
});

test("the same head returned twice", () => {
  const env = setup();
  env.dev.complete(0, 8);
  assert.equal(env.q.pop(), { token: "direct", len: 8 });
  env.dev.complete(0, 0);
  const { q, bytes } = env;
  const snapshot = bytes.slice();
  assert.throws(() => q.pop(), (e: unknown) => e instanceof RingError && e.kind === "NotInFlight");
  assert.throws(() => q.pop(), (e: unknown) => e instanceof RingError && e.kind === "NotInFlight");
  assert.equal(bytes, snapshot);
});

test("valid entries before a bad one are delivered; the bad one breaks the queue", () => {
  const env = setup();
  env.dev.complete(3, 0);
  env.dev.complete(6, 0);
  assert.equal(env.q.pop(), { token: "readonly", len: 0 });
  assert.throws(() => env.q.pop(), (e: unknown) => e instanceof RingError && e.kind === "NotInFlight");
  assert.equal(env.q.detachAll(), ["direct", "unpublished"]);
});

test("a garbage-filled used ring breaks the queue without touching memory (seeded)", () => {
  let seed = 99;
  const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
  for (let round = 0; round < 200; round++) {
    const env = setup(round % 2 ? LEGACY : MODERN);
    const used = env.q.addresses.device - PHYS;
    for (let i = 0; i < 6 + 8 * 8; i++) env.bytes[used + i] = next() & 0xff;
    const snapshot = env.bytes.slice();
    let popped = 0;
    try {
      for (let k = 0; k < 20; k++) if (env.q.pop()) popped++;
    } catch (e) {
      assert.instance(e, RingError);
    }
    // Whatever happened, only the driver-owned used_event (EVENT_IDX off: never) may change.
    assert.equal(env.bytes, snapshot);
    assert.ok(popped <= 2);
  }
});

test.run();
