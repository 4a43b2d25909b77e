// Reserved chains: prepared once, re-posted per request with only the data descriptor
// changed, every used entry still checked.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RingError, RingUsageError } from "../../../ring/errors.js";
import { PHYS, makeQueue } from "./hand-device.js";

const HDR = PHYS + 0x80000;
const DATA = PHYS + 0x90000;
const STATUS = PHYS + 0xa0000;

function reserved(eventIdx = false) {
  const env = makeQueue<number>({ size: 8, eventIdx });
  const head = env.q.reserveChain(3);
  env.q.setChainBuffer(head, 0, HDR, 16, false);
  env.q.setChainBuffer(head, 1, DATA, 4096, true);
  env.q.setChainBuffer(head, 2, STATUS, 1, true);
  return { ...env, head };
}

test("reserved chain: written once, re-posted with only the data descriptor changed", () => {
  const { q, dev, head } = reserved();
  assert.equal(dev.chain(head), [
    { phys: HDR, len: 16, write: false },
    { phys: DATA, len: 4096, write: true },
    { phys: STATUS, len: 1, write: true },
  ]);
  assert.is(q.freeCount, 5, "three descriptors taken for good");
  for (let round = 0; round < 3; round++) {
    const write = round % 2 === 1;
    q.postReserved(head, DATA + round * 512, 512, !write, round);
    q.kick();
    assert.equal(dev.chain(head)[1], { phys: DATA + round * 512, len: 512, write: !write });
    assert.equal(dev.takeAvailable(), [head]);
    dev.complete(head, write ? 1 : 513);
    assert.is(q.take(), round);
    assert.is(q.takenLength, write ? 1 : 513);
    assert.is(q.freeCount, 5, "the chain stays reserved");
  }
  assert.is(q.take(), undefined);
});

test("reserved chain: used len is checked against this request's writable bytes", () => {
  const { q, dev, head } = reserved();
  q.postReserved(head, DATA, 512, false, 7); // a write: only the status byte is writable
  q.kick();
  dev.takeAvailable();
  dev.complete(head, 2);
  const e = (() => {
    try {
      q.take();
    } catch (error) {
      return error;
    }
    return null;
  })();
  assert.instance(e, RingError);
  assert.is((e as RingError).kind, "BadUsedLength");
});

test("reserved chain: an idle one or one of its links named by the device breaks the queue", () => {
  for (const [id, kind] of [[0, "NotInFlight"], [1, "NotAHead"]] as const) {
    const { q, dev, head } = reserved();
    assert.is(head, 0);
    const other = q.reserveChain(2);
    q.setChainBuffer(other, 0, HDR, 16, false);
    q.setChainBuffer(other, 1, STATUS, 1, true);
    q.addReserved(other, 9);
    q.kick();
    dev.takeAvailable();
    dev.putUsed(0, id, 0);
    dev.setUsedIdx(1);
    try {
      q.take();
      assert.unreachable("must throw");
    } catch (error) {
      assert.instance(error, RingError);
      assert.is((error as RingError).kind, kind);
    }
  }
});

test("reserved chain: buffers outside the DMA pool, unset descriptors and double posts are refused", () => {
  const { q, head } = reserved();
  assert.throws(() => q.postReserved(head, PHYS - 4096, 512, true, 1), (e: unknown) => e instanceof RingUsageError && e.kind === "BadBuffer");
  assert.throws(() => q.postReserved(head, DATA, 0, true, 1), (e: unknown) => e instanceof RingUsageError && e.kind === "BadBuffer");
  assert.is(q.inFlight, 0, "a refused post changes nothing");
  const half = q.reserveChain(2);
  q.setChainBuffer(half, 0, HDR, 16, false);
  assert.throws(() => q.addReserved(half, 2), (e: unknown) => e instanceof RingUsageError && e.kind === "BadBuffer");
  q.postReserved(head, DATA, 512, true, 3);
  assert.throws(() => q.postReserved(head, DATA, 512, true, 4), (e: unknown) => e instanceof RingUsageError && e.kind === "NotReserved");
  assert.throws(() => q.addReserved(5, 4), (e: unknown) => e instanceof RingUsageError && e.kind === "NotReserved");
  assert.equal(q.detachAll(), [3]);
  assert.is(q.freeCount, 8, "detachAll gives reserved chains back");
});

test("reserved chain with EVENT_IDX: take() moves used_event like pop()", () => {
  const { q, dev, head } = reserved(true);
  q.postReserved(head, DATA, 512, true, 1);
  q.kick();
  dev.takeAvailable();
  dev.complete(head, 513);
  assert.is(q.take(), 1);
  assert.is(dev.usedEvent(), 1);
});

test.run();

test("reserveChainOf: the chain's buffers in one call, the same chain as reserveChain + setChainBuffer", () => {
  const env = makeQueue<number>({ size: 8 });
  const { q, dev } = env;
  const head = q.reserveChainOf([{ phys: HDR, len: 16 }], [{ phys: DATA, len: 4096 }, { phys: STATUS, len: 1 }]);
  assert.equal(dev.chain(head), [
    { phys: HDR, len: 16, write: false },
    { phys: DATA, len: 4096, write: true },
    { phys: STATUS, len: 1, write: true },
  ]);
  assert.is(q.freeCount, 5);
  // Ready at once: used len is checked against its 4097 writable bytes.
  q.addReserved(head, 1);
  q.kick();
  assert.equal(dev.takeAvailable(), [head]);
  dev.complete(head, 4097);
  assert.is(q.take(), 1);
  assert.is(q.takenLength, 4097);
  q.postReserved(head, DATA + 512, 512, true, 2);
  q.kick();
  assert.equal(dev.chain(head)[1], { phys: DATA + 512, len: 512, write: true });
});

test("reserveChainOf: a buffer outside the DMA pool is refused before anything is taken", () => {
  const { q } = makeQueue<number>({ size: 8 });
  assert.throws(() => q.reserveChainOf([{ phys: HDR, len: 16 }], [{ phys: 0x1000, len: 1 }]), (e: unknown) => e instanceof RingUsageError && e.kind === "BadBuffer");
  assert.throws(() => q.reserveChainOf([], []), (e: unknown) => e instanceof RingUsageError && e.kind === "ChainTooLong");
  assert.is(q.freeCount, 8, "nothing taken");
});
