// Publishing, batching and both kinds of suppression (§2.7.7, §2.7.10, §2.7.13).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PHYS, makeQueue } from "./hand-device.js";
import { needEvent } from "../../../ring/event-idx.js";

const BUF = PHYS + 0x80000;
const one = [{ phys: BUF, len: 8 }];

test("needEvent follows the spec's rule, with wrap-around", () => {
  assert.ok(needEvent(0, 1, 0));
  assert.not.ok(needEvent(1, 1, 0));
  assert.ok(needEvent(5, 10, 0));
  assert.not.ok(needEvent(10, 10, 0));
  assert.ok(needEvent(0xffff, 2, 0xfffe));
  assert.not.ok(needEvent(3, 2, 0xfffe));
});

test("kick: wmb before avail idx is written, mb after, before suppression is read", () => {
  const { q, dev, barriers } = makeQueue<number>({ size: 8 });
  const seen: string[] = [];
  barriers.onBarrier = (k) => seen.push(`${k}:${dev.availIdx()}`);
  q.add(one, [], 1);
  q.add(one, [], 2);
  assert.is(dev.availRing(0), 0);
  assert.is(dev.availRing(1), 1);
  assert.ok(q.kick());
  assert.equal(seen, ["wmb:0", "mb:2"]);
});

test("batching: many adds, one kick, one notification", () => {
  const { q, dev, notified } = makeQueue<number>({ size: 32 });
  for (let i = 0; i < 32; i++) q.add(one, [], i);
  assert.is(notified(), 0);
  assert.ok(q.kick());
  assert.is(notified(), 1);
  assert.is(dev.availIdx(), 32);
  assert.not.ok(q.kick(), "nothing new: no notification");
  assert.equal(q.stats(), { added: 32, completed: 0, kicks: 2, notifications: 1 });
});

test("without EVENT_IDX: VIRTQ_USED_F_NO_NOTIFY suppresses the notification", () => {
  const { q, dev, notified } = makeQueue<number>({ size: 8 });
  dev.setUsedFlags(1);
  q.add(one, [], 1);
  assert.not.ok(q.kick());
  dev.setUsedFlags(0);
  q.add(one, [], 2);
  assert.ok(q.kick());
  assert.is(notified(), 1);
  assert.equal(q.stats(), { added: 2, completed: 0, kicks: 2, notifications: 1 });
});

test("with EVENT_IDX: flags are ignored and avail_event decides over the batch", () => {
  const { q, dev, notified } = makeQueue<number>({ size: 16, eventIdx: true });
  dev.setUsedFlags(1); // must be ignored
  dev.setAvailEvent(0);
  q.add(one, [], 0);
  assert.ok(q.kick(), "idx 0 -> 1 passes event 0");
  dev.setAvailEvent(5); // device wants a kick once entry 5 is written
  q.add(one, [], 1);
  q.add(one, [], 2);
  assert.not.ok(q.kick(), "1 -> 3 does not pass 5");
  for (let i = 3; i < 7; i++) q.add(one, [], i);
  assert.ok(q.kick(), "3 -> 7 passes 5");
  q.add(one, [], 7);
  assert.not.ok(q.kick(), "event 5 already passed");
  assert.is(notified(), 2);
  assert.equal(q.stats().notifications, 2);
});

test("without EVENT_IDX interrupts are asked for with avail flags", () => {
  const { q, dev, barriers } = makeQueue<number>({ size: 8 });
  assert.is(dev.availFlags(), 0);
  q.disableInterrupts();
  assert.is(dev.availFlags(), 1);
  const mbs = barriers.mbs;
  assert.not.ok(q.enableInterrupts());
  assert.is(barriers.mbs, mbs + 1, "mb before the re-check");
  assert.is(dev.availFlags(), 0);
  assert.is(dev.usedEvent(), 0, "used_event untouched");
});

test("enableInterrupts reports entries that arrived while disabled (no lost wakeup)", () => {
  for (const eventIdx of [false, true]) {
    const { q, dev } = makeQueue<number>({ size: 8, eventIdx });
    q.add(one, [{ phys: BUF, len: 4 }], 1);
    q.kick();
    q.disableInterrupts();
    dev.takeAvailable();
    dev.complete(0, 4);
    assert.ok(q.enableInterrupts(), `eventIdx=${eventIdx}`);
    assert.equal(q.pop(), { token: 1, len: 4 });
    assert.not.ok(q.enableInterrupts());
  }
});

test("with EVENT_IDX: avail flags stay 0; used_event follows the last seen used idx", () => {
  const { q, dev } = makeQueue<number>({ size: 8, eventIdx: true });
  for (let i = 0; i < 4; i++) q.add(one, [], i);
  q.kick();
  for (const h of dev.takeAvailable()) dev.complete(h, 0);
  q.pop();
  q.pop();
  assert.is(dev.usedEvent(), 2, "updated by pop while interrupts are wanted");
  q.disableInterrupts();
  assert.is(dev.availFlags(), 0);
  assert.not.ok(needEvent(dev.usedEvent(), 4, 2), "no interrupt for the entries in flight");
  q.pop();
  assert.is(dev.usedEvent(), 1, "pop does not move used_event while disabled");
  assert.ok(q.enableInterrupts(), "entry 3 is waiting");
  assert.is(dev.usedEvent(), 3);
  q.pop();
  assert.is(dev.usedEvent(), 4);
  assert.is(dev.availFlags(), 0);
});

test("pop: rmb between reading used idx and the element", () => {
  const { q, dev, barriers } = makeQueue<number>({ size: 8 });
  q.add(one, [], 1);
  q.kick();
  assert.is(q.pop(), null);
  assert.is(barriers.rmbs, 0, "empty ring: no barrier needed");
  dev.takeAvailable();
  dev.complete(0, 0);
  q.pop();
  assert.is(barriers.rmbs, 1);
});

test("used idx wrap-around at 65536 with a small queue", () => {
  const { q, dev } = makeQueue<number>({ size: 2, eventIdx: true });
  let n = 0;
  for (let i = 0; i < 70000; i += 2) {
    q.add(one, [], n++);
    q.add([], [{ phys: BUF, len: 1 }], n++);
    q.kick();
    const heads = dev.takeAvailable();
    dev.complete(heads[1]!, 1);
    dev.complete(heads[0]!, 0);
    assert.is(q.pop()!.token, n - 1);
    assert.is(q.pop()!.token, n - 2);
  }
  assert.is(q.stats().completed, n);
  assert.is(dev.availIdx(), n & 0xffff);
});

test.run();
