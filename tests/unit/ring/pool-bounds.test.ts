// The ring hands the device only memory the driver owns (§2.7.4): a buffer not wholly
// inside the queue's DMA pool is refused with RingUsageError("BadBuffer") carrying its
// phys and len, before anything changes (descriptors, avail ring, free count, tables).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MODERN, LEGACY, PHYS, makeQueue } from "./hand-device.js";
import { RingUsageError } from "../../../ring/errors.js";
import type { BufferRef } from "../../../ring/virtqueue.js";

const REGION = 1 << 14;
const END = PHYS + REGION;

/** Adds a chain expected to be refused; checks the error and that nothing changed. */
function refused(o: { indirect: boolean; layout: typeof MODERN }, readable: BufferRef[], writable: BufferRef[], bad: BufferRef) {
  const env = makeQueue<string>({ size: 8, regionBytes: REGION, ...o });
  const { q, pool, bytes } = env;
  const good = pool.alloc(64);
  q.add([{ phys: good.phys, len: 64 }], [], "before"); // one chain pending: it must stay as it is
  const snapshot = bytes.slice();
  const stats = pool.stats();
  const free = q.freeCount;
  let err: unknown = null;
  try {
    q.add(readable, writable, "refused");
  } catch (e) {
    err = e;
  }
  assert.instance(err, RingUsageError);
  const u = err as RingUsageError;
  assert.is(u.kind, "BadBuffer");
  assert.equal(u.values, { phys: bad.phys, len: bad.len });
  assert.equal(bytes, snapshot, "no byte of the region changed");
  assert.equal(pool.stats(), stats, "no indirect table taken");
  assert.is(q.freeCount, free);
  assert.is(q.inFlight, 1);
  assert.is(q.stats().added, 1);
  assert.is(q.broken, null, "a usage error does not break the queue");
  // The queue goes on: the pending chain and a new one are published, nothing else.
  q.add([], [{ phys: good.phys, len: 8 }], "after");
  q.kick();
  const heads = env.dev.takeAvailable();
  assert.is(heads.length, 2);
  return u;
}

for (const [name, o] of [
  ["modern direct", { indirect: false, layout: MODERN }],
  ["modern indirect", { indirect: true, layout: MODERN }],
  ["legacy", { indirect: false, layout: LEGACY }],
] as const) {
  test(`${name}: below the pool`, () => {
    const bad = { phys: PHYS - 0x1000, len: 16 };
    const u = refused(o, [bad], [{ phys: PHYS + 0x2000, len: 4 }], bad);
    assert.match(u.message, /outside the DMA pool/);
    assert.is(u.value, bad.phys);
  });
  test(`${name}: straddling the start of the pool`, () => {
    const bad = { phys: PHYS - 8, len: 16 };
    refused(o, [bad], [], bad);
  });
  test(`${name}: above the pool`, () => {
    const bad = { phys: END, len: 1 };
    refused(o, [{ phys: PHYS + 0x2000, len: 4 }], [bad], bad);
  });
  test(`${name}: straddling the end of the pool`, () => {
    const bad = { phys: END - 16, len: 17 };
    refused(o, [], [{ phys: PHYS + 0x2000, len: 4 }, bad], bad);
  });
  test(`${name}: firmware memory far away (the GIC, address 0)`, () => {
    refused(o, [{ phys: 0x08000000, len: 4 }], [], { phys: 0x08000000, len: 4 });
    refused(o, [], [{ phys: 0, len: 4096 }], { phys: 0, len: 4096 });
  });
  test(`${name}: length 0 or negative`, () => {
    refused(o, [{ phys: PHYS + 0x2000, len: 0 }], [], { phys: PHYS + 0x2000, len: 0 });
    refused(o, [], [{ phys: PHYS + 0x2000, len: -16 }], { phys: PHYS + 0x2000, len: -16 });
  });
}

test("the pool's first and last bytes are accepted", () => {
  const { q, dev } = makeQueue<number>({ size: 4, regionBytes: REGION });
  q.add([{ phys: PHYS, len: 1 }], [{ phys: END - 1, len: 1 }], 1);
  q.add([{ phys: PHYS, len: REGION }], [], 2);
  q.kick();
  assert.equal(dev.chain(0), [
    { phys: PHYS, len: 1, write: false },
    { phys: END - 1, len: 1, write: true },
  ]);
  assert.equal(dev.chain(2), [{ phys: PHYS, len: REGION, write: false }]);
});

test("a bad buffer after good ones refuses the whole chain", () => {
  const { q, pool } = makeQueue<number>({ size: 8, regionBytes: REGION });
  const data = pool.alloc(256);
  assert.throws(
    () => q.add([{ phys: data.phys, len: 16 }, { phys: data.phys + 16, len: 16 }], [{ phys: data.phys + 32, len: 8 }, { phys: END, len: 8 }], 1),
    (e: unknown) => e instanceof RingUsageError && e.kind === "BadBuffer" && e.values?.["phys"] === END,
  );
  assert.is(q.freeCount, 8);
  assert.is(q.inFlight, 0);
});

test.run();
