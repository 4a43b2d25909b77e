// The request watchdog (drivers/virtio/request-watchdog.ts) on manual timers: it polls
// only while something is watched, fails what is past its deadline with
// RequestTimeoutError once, and failAll() fails the rest and stops the timer.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RequestTimeoutError } from "../../../drivers/virtio/errors.js";
import { RequestWatchdog } from "../../../drivers/virtio/request-watchdog.js";
import { fakePlatform } from "../shell/fake-platform.js";

function watchdog(timeoutMs: number) {
  const platform = fakePlatform();
  const log = { polls: 0, expired: [] as number[] };
  const dog = new RequestWatchdog({
    platform,
    location: "mmio@0x0a003e00",
    timeoutMs,
    poll: () => void log.polls++,
    onExpired: (count) => void log.expired.push(count),
  });
  return { platform, dog, log };
}

test("no timer while nothing is watched; polls every timeoutMs/4 while something is", () => {
  const { platform, dog, log } = watchdog(200);
  platform.advance(1000);
  assert.is(log.polls, 0);
  const w = dog.watch(() => assert.unreachable("not due"));
  platform.advance(50);
  platform.advance(50);
  assert.is(log.polls, 2, "interval 50 ms");
  assert.ok(w.done(), "still watched");
  assert.is(dog.watching, 0);
  platform.advance(500);
  assert.is(log.polls, 2, "the timer stopped with the last request");
  assert.not.ok(w.done(), "done twice");
});

test("the interval stays within 1..100 ms", () => {
  const slow = watchdog(10_000);
  slow.dog.watch(() => {});
  slow.platform.advance(100);
  assert.is(slow.log.polls, 1);
  const fast = watchdog(2);
  fast.dog.watch(() => {});
  fast.platform.advance(1);
  assert.is(fast.log.polls, 1);
});

test("requests past their deadline fail once with RequestTimeoutError; onExpired gets the count", () => {
  const { platform, dog, log } = watchdog(100);
  const failed: Error[] = [];
  const a = dog.watch((e) => failed.push(e));
  const b = dog.watch((e) => failed.push(e));
  platform.advance(50);
  const c = dog.watch((e) => failed.push(e));
  platform.advance(50);
  assert.is(failed.length, 2, "a and b are due, c is not");
  assert.instance(failed[0], RequestTimeoutError);
  assert.is((failed[0] as RequestTimeoutError).timeoutMs, 100);
  assert.is((failed[0] as RequestTimeoutError).location, "mmio@0x0a003e00");
  assert.equal(log.expired, [1 + 1]);
  assert.not.ok(a.done(), "already failed: the caller must not settle it");
  assert.not.ok(b.done());
  platform.advance(50);
  assert.is(failed.length, 3);
  assert.not.ok(c.done());
  assert.equal(log.expired, [2, 1]);
  platform.advance(500);
  assert.is(log.polls, 3, "stopped once nothing was left");
});

test("a request that completes during the poll is not failed", () => {
  const platform = fakePlatform();
  let watched: { done(): boolean } | null = null;
  const failed: Error[] = [];
  const dog = new RequestWatchdog({
    platform,
    location: "here",
    timeoutMs: 40,
    poll: () => {
      if (watched?.done()) watched = null;
    },
  });
  watched = dog.watch((e) => failed.push(e));
  platform.advance(40);
  assert.is(failed.length, 0);
  assert.is(dog.watching, 0);
});

test("failAll fails every watched request with the given error and stops polling", () => {
  const { platform, dog, log } = watchdog(100);
  const failed: Error[] = [];
  const a = dog.watch((e) => failed.push(e));
  dog.watch((e) => failed.push(e));
  const reason = new Error("device reset");
  dog.failAll(reason);
  assert.equal(failed, [reason, reason]);
  assert.not.ok(a.done());
  platform.advance(1000);
  assert.is(log.polls, 0);
  assert.equal(log.expired, []);
});

test.run();
