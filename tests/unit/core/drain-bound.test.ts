// drainQueue() does bounded work per interrupt: at most `limit` completions, and it stops
// when the device's used idx flips (re-check says "more", pop() finds nothing).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MAX_EMPTY_RECHECKS, drainQueue } from "../../../drivers/virtio/drain.js";
import { FlippingQueue } from "../ring/flipping-queue.js";

test("drainQueue: a used idx that flips between pop and the re-check stops the loop", () => {
  const q = new FlippingQueue<number>();
  assert.is(drainQueue(q, () => assert.unreachable("nothing to handle")), 0);
  assert.is(q.rechecks, MAX_EMPTY_RECHECKS);
  assert.is(q.pops, MAX_EMPTY_RECHECKS);
});

test("drainQueue: entries found are handled, then the flipping stops the loop", () => {
  const q = new FlippingQueue<number>();
  for (let i = 0; i < 5; i++) q.ready.push({ token: i, len: 0 });
  const seen: number[] = [];
  assert.is(drainQueue(q, (c) => seen.push(c.token)), 5);
  assert.equal(seen, [0, 1, 2, 3, 4]);
  assert.is(q.rechecks, MAX_EMPTY_RECHECKS + 1);
});

test("drainQueue: at most `limit` completions per call, interrupts left enabled", () => {
  const q = new FlippingQueue<number>();
  for (let i = 0; i < 50; i++) q.ready.push({ token: i, len: 0 });
  assert.is(drainQueue(q, () => {}, 10), 10);
  assert.is(q.ready.length, 40);
  assert.is(q.rechecks, 1);
});

test.run();
