// The shared transmit watchdog (drivers/virtio/tx-watchdog.ts, used by net and console) on
// manual timers: one sweep timer from arm() while buffers are out, none while nothing is;
// every sweep polls first; a stall of timeoutMs (no progress by default, or the driver's
// own age measure) stops the timer and calls onStall once with the age.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { TxWatchdog, type TxWatchdogOptions } from "../../../drivers/virtio/tx-watchdog.js";
import { fakePlatform } from "../shell/fake-platform.js";

function watchdog(timeoutMs: number, extra: Partial<TxWatchdogOptions> = {}) {
  const platform = fakePlatform();
  const state = { busy: true, polls: 0, stalls: [] as number[] };
  const dog = new TxWatchdog({
    platform,
    timeoutMs,
    poll: () => void state.polls++,
    busy: () => state.busy,
    onStall: (age) => void state.stalls.push(age),
    ...extra,
  });
  /** Advances `steps` sweep intervals, one timer round each. */
  const sweep = (steps = 1): void => {
    for (let i = 0; i < steps; i++) platform.advance(dog.intervalMs);
  };
  return { platform, dog, state, sweep };
}

test("no timer before arm(); one timer however often arm() is called; it polls every sweep", () => {
  const { platform, dog, state, sweep } = watchdog(400);
  platform.advance(1000);
  assert.is(state.polls, 0);
  assert.not.ok(dog.running);
  dog.arm();
  dog.arm();
  dog.arm();
  assert.ok(dog.running);
  assert.is(dog.intervalMs, 100);
  sweep(2);
  assert.is(state.polls, 2, "one timer: one poll per interval");
});

test("the interval is a quarter of timeoutMs within 1..maxSweepMs (default 100)", () => {
  assert.is(watchdog(5000).dog.intervalMs, 100);
  assert.is(watchdog(5000, { maxSweepMs: 250 }).dog.intervalMs, 250);
  assert.is(watchdog(200, { maxSweepMs: 250 }).dog.intervalMs, 50);
  assert.is(watchdog(2).dog.intervalMs, 1);
});

test("timeoutMs 0 is off: arm() starts nothing; a negative or non-finite timeout is a RangeError", () => {
  const { platform, dog, state } = watchdog(0);
  dog.arm();
  assert.not.ok(dog.running);
  platform.advance(1000);
  assert.is(state.polls, 0);
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => watchdog(bad), (e: unknown) => e instanceof RangeError && /txTimeoutMs/.test((e as Error).message));
  }
});

test("default measure: no progress for timeoutMs while busy stalls once, then the timer stops", () => {
  const { dog, state, sweep } = watchdog(40); // interval 10 ms
  dog.arm();
  sweep(3);
  assert.equal(state.stalls, [], "30 ms: not yet");
  sweep(1);
  assert.equal(state.stalls, [40], "40 ms without a buffer back");
  assert.not.ok(dog.running, "stopped before onStall");
  sweep(10);
  assert.is(state.stalls.length, 1, "once");
  assert.is(state.polls, 4, "no sweeps after the stall");
});

test("progress() restarts the default measure: a device that keeps returning buffers never stalls", () => {
  const { dog, state, sweep } = watchdog(40);
  dog.arm();
  for (let i = 0; i < 20; i++) {
    sweep(1);
    if (i % 3 === 0) dog.progress();
  }
  assert.equal(state.stalls, []);
  assert.ok(dog.running);
});

test("nothing out: the sweep stops the timer; the next arm() starts it and the measure afresh", () => {
  const { dog, state, sweep } = watchdog(40);
  dog.arm();
  sweep(3);
  state.busy = false;
  sweep(1);
  assert.not.ok(dog.running, "stopped at the first idle sweep");
  sweep(10);
  assert.is(state.polls, 4);
  state.busy = true;
  dog.arm();
  sweep(3);
  assert.equal(state.stalls, [], "the 30 ms before the idle sweep do not count");
  sweep(1);
  assert.equal(state.stalls, [40]);
});

test("a driver's own age measure decides (net: the oldest frame seen out), and onStall gets it", () => {
  let oldestAt = -1;
  const ages: number[] = [];
  const { platform, dog, state, sweep } = watchdog(1000, {
    maxSweepMs: 250,
    age: (now) => {
      if (oldestAt < 0) oldestAt = now; // stamped at the first sweep that sees it
      ages.push(now - oldestAt);
      return now - oldestAt;
    },
  });
  dog.arm();
  sweep(4);
  dog.progress(); // not the measure in use: changes nothing
  assert.equal(state.stalls, []);
  sweep(1);
  assert.equal(ages, [0, 250, 500, 750, 1000]);
  assert.equal(state.stalls, [1000]);
  assert.not.ok(dog.running);
  assert.is(platform.clock.now(), 1250);
});

test("a poll that stops the watchdog (the driver broke or reset) ends the sweep: no busy(), no stall", () => {
  let dog!: TxWatchdog;
  let busyAsked = 0;
  const w = watchdog(40, {
    poll: () => dog.stop(),
    busy: () => {
      busyAsked++;
      return true;
    },
  });
  dog = w.dog;
  dog.arm();
  w.sweep(10);
  assert.is(busyAsked, 0);
  assert.equal(w.state.stalls, []);
  assert.not.ok(dog.running);
});

test("stop() is safe twice and before arm()", () => {
  const { dog, state, sweep } = watchdog(40);
  dog.stop();
  dog.arm();
  dog.stop();
  dog.stop();
  sweep(10);
  assert.is(state.polls, 0);
  assert.equal(state.stalls, []);
});

test.run();
