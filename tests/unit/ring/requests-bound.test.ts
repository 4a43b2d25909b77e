// RequestQueue.onInterrupt() does bounded work per interrupt, even when the device lies
// about its used idx (the re-check says "more", pop() finds nothing).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MAX_EMPTY_RECHECKS, RequestQueue, type PendingRequest } from "../../../ring/requests.js";
import { FlippingQueue } from "./flipping-queue.js";

test("onInterrupt: a used idx that flips between pop and the re-check stops the loop", () => {
  const q = new FlippingQueue<PendingRequest>();
  const rq = new RequestQueue(q);
  assert.is(rq.onInterrupt(), 0);
  assert.is(q.rechecks, MAX_EMPTY_RECHECKS);
  assert.ok(q.pops <= MAX_EMPTY_RECHECKS + 1, `pops ${q.pops}`);
  assert.is(rq.failure, null, "not a ring violation the queue could prove: the queue stays usable");
});

test("onInterrupt: completions found before the flipping still count, then the loop stops", () => {
  const q = new FlippingQueue<PendingRequest>();
  const rq = new RequestQueue(q);
  const got: number[] = [];
  for (let i = 0; i < 3; i++) q.ready.push({ token: { resolve: (len) => got.push(len), reject: () => {} }, len: i });
  assert.is(rq.onInterrupt(), 3);
  assert.equal(got, [0, 1, 2]);
  assert.is(q.rechecks, MAX_EMPTY_RECHECKS + 1, "one productive round, then the empty ones");
});

test.run();
