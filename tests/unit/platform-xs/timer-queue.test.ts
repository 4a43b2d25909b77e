// platform/xs/timer-queue.ts: Moddable-style timers over one deadline, with a fake clock.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TimerArgumentError, TimerQueue } from "../../../platform/xs/timer-queue.js";

function rig() {
  let now = 0;
  const armed: number[] = [];
  const errors: unknown[] = [];
  const q = new TimerQueue(() => now, (d) => armed.push(d), (e) => errors.push(e));
  /** Advances the clock to `t`, servicing at each armed deadline on the way (as the loop does). */
  const advance = (t: number) => {
    for (let guard = 0; guard < 10000; guard++) {
      const next = armed[armed.length - 1];
      if (next === undefined || next < 0 || next > t) break;
      now = next;
      q.service();
    }
    now = t;
  };
  return { q, armed, errors, advance, get now() { return now; } };
}

test("set fires once after its delay and disarms", () => {
  const r = rig();
  const fired: number[] = [];
  const id = r.q.set((tid) => fired.push(tid), 50);
  assert.equal(r.armed, [50]);
  r.advance(49);
  assert.equal(fired, []);
  r.advance(50);
  assert.equal(fired, [id]);
  assert.is(r.armed[r.armed.length - 1], -1);
  assert.is(r.q.size, 0);
});

test("repeat fires every interval until cleared", () => {
  const r = rig();
  let n = 0;
  const id = r.q.repeat(() => n++, 10);
  r.advance(35);
  assert.is(n, 3);
  r.q.clear(id);
  r.advance(100);
  assert.is(n, 3);
  assert.is(r.armed[r.armed.length - 1], -1);
});

test("set with delay and repeat: first after delay, then every repeat", () => {
  const r = rig();
  const at: number[] = [];
  r.q.set(() => at.push(r.now), 5, 20);
  r.advance(70);
  assert.equal(at, [5, 25, 45, 65]);
});

test("timers due together run in deadline order, then id order", () => {
  const r = rig();
  const order: string[] = [];
  r.q.set(() => order.push("b"), 20);
  r.q.set(() => order.push("a"), 10);
  r.q.set(() => order.push("c"), 20);
  r.advance(30);
  assert.equal(order, ["a", "b", "c"]);
});

test("a callback may clear a later timer due in the same pass", () => {
  const r = rig();
  const order: string[] = [];
  let second = 0;
  r.q.set(() => { order.push("first"); r.q.clear(second); }, 10);
  second = r.q.set(() => order.push("second"), 10);
  r.advance(10);
  assert.equal(order, ["first"]);
});

test("a throwing callback is reported and the others still run", () => {
  const r = rig();
  let ran = false;
  r.q.set(() => { throw new Error("boom"); }, 1);
  r.q.set(() => { ran = true; }, 1);
  r.advance(1);
  assert.ok(ran);
  assert.is(r.errors.length, 1);
  assert.match(String(r.errors[0]), /boom/);
});

test("a repeating timer that fell behind does not burst", () => {
  let now = 0;
  const q = new TimerQueue(() => now, () => {}, () => {});
  let m = 0;
  q.repeat(() => m++, 10);
  now = 95; // the loop was busy for 9 intervals
  q.service();
  assert.is(m, 1);
  now = 104;
  q.service();
  assert.is(m, 1);
  now = 105;
  q.service();
  assert.is(m, 2);
});

test("service always re-arms (the loop cleared the hardware deadline before calling it)", () => {
  let now = 0;
  const armed: number[] = [];
  const q = new TimerQueue(() => now, (d) => armed.push(d), () => {});
  q.set(() => {}, 10);
  now = 5;
  q.service(); // early: nothing due, the deadline must be given again
  assert.equal(armed, [10, 10]);
});

test("clearing an unknown or fired id does nothing", () => {
  const r = rig();
  const id = r.q.set(() => {}, 1);
  r.advance(2);
  r.q.clear(id);
  r.q.clear(9999);
  assert.is(r.q.size, 0);
});

test("bad arguments throw TimerArgumentError with the value", () => {
  const r = rig();
  assert.throws(() => r.q.set(null as never, 1), (e: unknown) => e instanceof TimerArgumentError && e.argument === "callback");
  assert.throws(() => r.q.set(() => {}, -1), (e: unknown) => e instanceof TimerArgumentError && e.value === -1);
  assert.throws(() => r.q.set(() => {}, NaN), (e: unknown) => e instanceof TimerArgumentError);
  assert.throws(() => r.q.repeat(() => {}, 0), (e: unknown) => e instanceof TimerArgumentError);
  assert.is(r.q.size, 0);
});

test("the deadline given to arm is always the earliest live timer", () => {
  const r = rig();
  const a = r.q.set(() => {}, 30);
  r.q.set(() => {}, 50);
  assert.is(r.armed[r.armed.length - 1], 30);
  r.q.clear(a);
  assert.is(r.armed[r.armed.length - 1], 50);
});

test.run();
