// RequestQueue: promises over a SplitQueue, a waiting line when the ring is full, failures
// that reject instead of throwing into the event loop.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PHYS, makeQueue, type Env } from "./hand-device.js";
import type { DmaBuffer } from "../../../platform/platform.js";
import type { BufferRef } from "../../../ring/virtqueue.js";
import { RequestQueue, type PendingRequest } from "../../../ring/requests.js";
import { RingError, RingUsageError } from "../../../ring/errors.js";

interface Rig extends Env<PendingRequest> {
  rq: RequestQueue;
  /** The requests' buffers, from the queue's own pool. */
  data: DmaBuffer;
  /** A device-readable header of 16 bytes. */
  rd: BufferRef[];
  /** A device-writable buffer of `len` bytes (≤ 4096). */
  wr(len: number): BufferRef[];
}

function setup(o: { size: number; eventIdx?: boolean; indirect?: boolean }): Rig {
  const env = makeQueue<PendingRequest>({ ...o, regionBytes: 1 << 16 });
  const data = env.pool.alloc(0x2000);
  return {
    ...env,
    rq: new RequestQueue(env.q),
    data,
    rd: [{ phys: data.phys, len: 16 }],
    wr: (len: number) => [{ phys: data.phys + 0x1000, len }],
  };
}

/** The device completes everything available, each with its full writable length. */
function serveAll(env: Env<PendingRequest>): number {
  const heads = env.dev.takeAvailable();
  for (const h of heads) {
    const len = env.dev.chain(h).filter((b) => b.write).reduce((s, b) => s + b.len, 0);
    env.dev.complete(h, len);
  }
  return heads.length;
}

test("submit resolves with the used length, after onInterrupt returns", async () => {
  const env = setup({ size: 8 });
  const order: string[] = [];
  const p = env.rq.submit(env.rd, env.wr(512)).then((len) => {
    order.push(`resolved ${len}`);
    return len;
  });
  assert.is(env.notified(), 1);
  serveAll(env);
  assert.is(env.rq.onInterrupt(), 1);
  order.push("handler returned");
  assert.is(await p, 512);
  assert.equal(order, ["handler returned", "resolved 512"]);
  assert.equal(env.rq.stats(), { inFlight: 0, waiting: 0, resolved: 1, rejected: 0 });
});

test("more requests than descriptors: the rest wait and go out as room frees", async () => {
  const env = setup({ size: 4 });
  const ps = Array.from({ length: 20 }, (_, i) => env.rq.submit(env.rd, env.wr(i + 1)));
  assert.is(env.q.inFlight, 2, "two-descriptor chains: two fit");
  assert.is(env.rq.stats().waiting, 18);
  let rounds = 0;
  while (env.rq.stats().inFlight + env.rq.stats().waiting > 0) {
    serveAll(env);
    env.rq.onInterrupt();
    rounds++;
    assert.ok(rounds < 50);
  }
  assert.equal(await Promise.all(ps), Array.from({ length: 20 }, (_, i) => i + 1));
});

test("enqueue + flush: a batch of 32 with one notification; with EVENT_IDX interrupts are well below one per request", async () => {
  const env = setup({ size: 64, eventIdx: true, indirect: true });
  const ps = Array.from({ length: 32 }, () => env.rq.enqueue(env.rd, env.wr(8)));
  assert.is(env.notified(), 0);
  env.rq.flush();
  assert.is(env.notified(), 1);
  // A device honouring used_event: it would interrupt only when the used idx passes it.
  const before = env.dev.usedIdx();
  serveAll(env);
  const event = env.dev.usedEvent();
  const interrupts = ((env.dev.usedIdx() - event - 1) & 0xffff) < ((env.dev.usedIdx() - before) & 0xffff) ? 1 : 0;
  env.rq.onInterrupt();
  assert.is((await Promise.all(ps)).length, 32);
  assert.is(interrupts, 1);
  assert.is(env.q.stats().notifications / 32, 1 / 32);
});

test("a hostile used entry rejects every request with the RingError; nothing throws", async () => {
  const env = setup({ size: 8 });
  const ps = Array.from({ length: 6 }, () => env.rq.submit(env.rd, env.wr(4)).then(() => "ok", (e: unknown) => e));
  env.dev.takeAvailable();
  env.dev.complete(1, 0); // descriptor 1 is inside chain 0-1
  assert.is(env.rq.onInterrupt(), 0);
  const results = await Promise.all(ps);
  for (const r of results) {
    assert.instance(r, RingError);
    assert.is((r as RingError).kind, "NotAHead");
  }
  assert.is(env.rq.failure, env.q.broken);
  assert.is(env.rq.onInterrupt(), 0, "later interrupts do nothing");
  const late = await env.rq.submit(env.rd, env.wr(4)).then(() => null, (e: unknown) => e);
  assert.is(late, env.q.broken);
  assert.is(env.rq.stats().rejected, 7);
});

test("detachAll rejects in-flight and waiting requests with the reason", async () => {
  const env = setup({ size: 2 });
  const ps = Array.from({ length: 3 }, () => env.rq.submit(env.rd, env.wr(4)).then(() => "ok", (e: unknown) => e));
  const reason = new Error("device reset");
  env.rq.detachAll(reason);
  assert.equal(await Promise.all(ps), [reason, reason, reason]);
  assert.is(env.q.inFlight, 0);
  assert.is(env.q.freeCount, 2);
});

test("a bad buffer rejects only that request", async () => {
  const env = setup({ size: 8 });
  const bad = await env.rq.submit([{ phys: env.data.phys, len: 0 }], []).then(() => null, (e: unknown) => e);
  assert.instance(bad, RingUsageError);
  // Outside the DMA pool (§2.7.4): refused the same way, the device never sees it.
  const outside = await env.rq.submit(env.rd, [{ phys: PHYS + (1 << 16), len: 64 }]).then(() => null, (e: unknown) => e);
  assert.instance(outside, RingUsageError);
  assert.is((outside as RingUsageError).kind, "BadBuffer");
  assert.equal((outside as RingUsageError).values, { phys: PHYS + (1 << 16), len: 64 });
  assert.is(env.notified(), 0, "nothing made available for the refused requests");
  assert.is(env.q.inFlight, 0);
  const good = env.rq.submit(env.rd, env.wr(3));
  serveAll(env);
  env.rq.onInterrupt();
  assert.is(await good, 3);
  assert.is(env.rq.failure, null);
});

test.run();
