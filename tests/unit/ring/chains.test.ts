// Descriptor chains as the device sees them: exact bytes of direct and indirect chains,
// avail ring publishing, free-list reuse and queue full (§2.7.5, §2.7.13).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LEGACY, MODERN, PHYS, makeQueue } from "./hand-device.js";
import { QueueFullError, RingUsageError } from "../../../ring/errors.js";

const BUF = PHYS + 0x80000; // data buffers: addresses only, the ring never touches them

for (const [name, layout] of [["modern", MODERN], ["legacy", LEGACY]] as const) {
  test(`${name}: direct chain bytes: readable then writable, NEXT links, WRITE flags`, () => {
    const { q, dev } = makeQueue<string>({ size: 8, layout });
    q.add([{ phys: BUF, len: 16 }, { phys: BUF + 0x100, len: 512 }], [{ phys: BUF + 0x300, len: 1 }], "r");
    assert.equal(dev.desc(0), { addr: BUF, len: 16, flags: 1, next: 1 });
    assert.equal(dev.desc(1), { addr: BUF + 0x100, len: 512, flags: 1, next: 2 });
    assert.equal(dev.desc(2), { addr: BUF + 0x300, len: 1, flags: 2, next: 0 });
    // Raw bytes of descriptor 2: le64 addr, le32 len, le16 flags, le16 next.
    const at = q.addresses.desc - PHYS + 32;
    assert.equal(
      Array.from(dev.bytes.subarray(at, at + 16)),
      [0x00, 0x03, 0x08, 0x40, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0],
    );
    assert.is(dev.availRing(0), 0);
    assert.is(dev.availIdx(), 0, "not published before kick");
    assert.is(q.freeCount, 5);
    assert.is(q.inFlight, 1);
    q.kick();
    assert.is(dev.availIdx(), 1);
    assert.equal(dev.takeAvailable(), [0]);
  });

  test(`${name}: indirect chain: one INDIRECT descriptor, table entries linked by table index`, () => {
    const { q, dev, pool } = makeQueue<string>({ size: 8, layout, indirect: true });
    const before = pool.stats().allocations;
    q.add([{ phys: BUF, len: 16 }], [{ phys: BUF + 0x1000, len: 4096 }, { phys: BUF + 0x3000, len: 1 }], "i");
    assert.is(pool.stats().allocations, before + 1, "one table allocated");
    const head = dev.desc(0);
    assert.is(head.flags, 4, "INDIRECT only, never with NEXT");
    assert.is(head.len, 48);
    assert.is(head.addr % 16, 0);
    assert.is(q.freeCount, 7);
    assert.equal(dev.descAt(head.addr, 0), { addr: BUF, len: 16, flags: 1, next: 1 });
    assert.equal(dev.descAt(head.addr, 1), { addr: BUF + 0x1000, len: 4096, flags: 3, next: 2 });
    assert.equal(dev.descAt(head.addr, 2), { addr: BUF + 0x3000, len: 1, flags: 2, next: 0 });
    q.kick();
    dev.takeAvailable();
    dev.complete(0, 4097);
    assert.equal(q.pop(), { token: "i", len: 4097 });
    assert.is(pool.stats().allocations, before, "table freed on completion");
    assert.is(q.freeCount, 8);
  });
}

test("a one-buffer chain stays direct even with indirect negotiated", () => {
  const { q, dev, pool } = makeQueue<number>({ size: 4, indirect: true });
  const n = pool.stats().allocations;
  q.add([], [{ phys: BUF, len: 64 }], 1);
  assert.is(pool.stats().allocations, n);
  assert.equal(dev.desc(0), { addr: BUF, len: 64, flags: 2, next: 0 });
});

test("indirect falls back to direct when the pool has no room for a table", () => {
  const { q, dev, pool } = makeQueue<number>({ size: 4, indirect: true, regionBytes: 4096 });
  const data = pool.alloc(16, 8);
  // Eat the rest of the pool.
  const filler = [];
  for (;;) {
    try {
      filler.push(pool.alloc(8, 8));
    } catch {
      break;
    }
  }
  q.add([{ phys: data.phys, len: 8 }], [{ phys: data.phys + 8, len: 8 }], 7);
  assert.is(dev.desc(0).flags, 1);
  assert.is(dev.desc(1).flags, 2);
  assert.is(q.freeCount, 2);
});

test("addresses above 4 GiB are written as le64", () => {
  // A DMA region above 4 GiB: both halves of the le64 are non-zero.
  const { q, dev } = makeQueue<number>({ size: 2, phys: 0x1_2345_0000 });
  q.add([{ phys: 0x1_2345_6789, len: 1 }], [], 1);
  assert.is(dev.desc(0).addr, 0x1_2345_6789);
});

test("queue full: QueueFullError with the counts, nothing changed", () => {
  const { q, dev, bytes } = makeQueue<number>({ size: 4 });
  q.add([{ phys: BUF, len: 1 }, { phys: BUF, len: 1 }, { phys: BUF, len: 1 }], [], 1);
  const snapshot = bytes.slice();
  const err = (() => {
    try {
      q.add([{ phys: BUF, len: 1 }], [{ phys: BUF, len: 1 }], 2);
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.instance(err, QueueFullError);
  assert.is((err as QueueFullError).needed, 2);
  assert.is((err as QueueFullError).free, 1);
  assert.equal(bytes, snapshot);
  assert.is(q.freeCount, 1);
  assert.is(q.inFlight, 1);
  q.add([{ phys: BUF, len: 1 }], [], 3); // the last descriptor still serves
  q.kick();
  assert.equal(dev.takeAvailable(), [0, 3]);
});

test("free-list reuse: completed descriptors serve the next chains", () => {
  const { q, dev } = makeQueue<number>({ size: 4 });
  for (let round = 0; round < 50; round++) {
    q.add([{ phys: BUF, len: 2 }, { phys: BUF, len: 2 }], [{ phys: BUF, len: 2 }, { phys: BUF, len: 2 }], round);
    q.kick();
    const [head] = dev.takeAvailable();
    dev.complete(head!, 3);
    assert.equal(q.pop(), { token: round, len: 3 });
    assert.is(q.freeCount, 4);
  }
  assert.is(q.pop(), null);
});

test("bad buffers and chains are usage errors, nothing changed", () => {
  const { q, bytes } = makeQueue<number>({ size: 4 });
  const snapshot = bytes.slice();
  const kinds = (f: () => void) => {
    try {
      f();
    } catch (e) {
      return e instanceof RingUsageError ? e.kind : String(e);
    }
    return "none";
  };
  assert.is(kinds(() => q.add([], [], 1)), "EmptyChain");
  assert.is(kinds(() => q.add([{ phys: BUF, len: 0 }], [], 1)), "BadBuffer");
  assert.is(kinds(() => q.add([{ phys: -1, len: 1 }], [], 1)), "BadBuffer");
  assert.is(kinds(() => q.add([{ phys: 1.5, len: 1 }], [], 1)), "BadBuffer");
  assert.is(kinds(() => q.add([{ phys: BUF, len: 2 ** 32 }], [], 1)), "BadBuffer");
  assert.is(kinds(() => q.add(Array(5).fill({ phys: BUF, len: 1 }), [], 1)), "ChainTooLong");
  assert.equal(bytes, snapshot);
  assert.is(q.freeCount, 4);
});

test("detachAll returns tokens in submission order and resets the ring", () => {
  const { q, dev, pool } = makeQueue<string>({ size: 8, indirect: true });
  const base = pool.stats().allocations;
  q.add([{ phys: BUF, len: 1 }], [], "a");
  q.add([{ phys: BUF, len: 1 }], [{ phys: BUF, len: 1 }], "b");
  q.kick();
  q.add([{ phys: BUF, len: 1 }], [], "c");
  dev.takeAvailable();
  dev.complete(0, 0);
  assert.equal(q.pop(), { token: "a", len: 0 });
  assert.equal(q.detachAll(), ["b", "c"]);
  assert.is(q.freeCount, 8);
  assert.is(q.inFlight, 0);
  assert.is(pool.stats().allocations, base);
  assert.is(dev.availIdx(), 0);
  assert.is(dev.usedIdx(), 0);
  // Usable again from index 0, as after a device reset.
  q.add([{ phys: BUF, len: 1 }], [], "d");
  q.kick();
  assert.is(dev.availIdx(), 1);
});

test.run();
