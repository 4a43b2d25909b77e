// The ring against the host model's device side (platform/host/device-queue.ts), written
// independently from the spec: random request streams, interrupt-driven completion only,
// and no violation recorded by the strict device. Also the notifications and interrupts
// per request of a 32-request batch.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PhysicalMemory } from "../../../platform/host/memory.js";
import { DeviceQueue } from "../../../platform/host/device-queue.js";
import { noFaults } from "../../../platform/host/faults.js";
import type { DeviceChain } from "../../../platform/host/chain.js";
import { DmaPool } from "../../../platform/dma-pool.js";
import { SplitQueue } from "../../../ring/split-queue.js";
import { RequestQueue, type PendingRequest } from "../../../ring/requests.js";
import { CountingBarriers, LEGACY, MODERN, rng } from "./hand-device.js";

const RAM = 0x40000000;

function world(o: { size: number; legacy: boolean; indirect: boolean; eventIdx: boolean }) {
  const memory = new PhysicalMemory(RAM, 1 << 20);
  const pool = new DmaPool(memory.region(RAM + (1 << 19), 1 << 19));
  const violations: string[] = [];
  const report = {
    violation: (rule: string, msg: string) => violations.push(`${rule}: ${msg}`),
    fatal: (rule: string, msg: string) => violations.push(`FATAL ${rule}: ${msg}`),
  };
  const dq = new DeviceQueue(0, 1024, memory, report);
  let woken = false;
  const q = new SplitQueue<PendingRequest>({
    index: 0,
    size: o.size,
    dma: pool,
    barriers: new CountingBarriers(),
    layout: o.legacy ? LEGACY : MODERN,
    indirect: o.indirect,
    eventIdx: o.eventIdx,
    notify: () => {
      dq.counters.notifications++;
      woken = true;
    },
  });
  dq.num = o.size;
  dq.activate({ desc: q.addresses.desc, avail: q.addresses.driver, used: q.addresses.device }, o);
  const rq = new RequestQueue(q);
  /** The requests' buffers, from the queue's pool (readable at +0, writable at +0x1000 * k). */
  const data = pool.alloc(0x4000 + 64);
  const held: DeviceChain[] = [];
  /** The device's turn: on a notification, drain the avail ring (QEMU style: notifications off meanwhile). */
  const deviceTakes = () => {
    if (!woken) return;
    woken = false;
    for (;;) {
      dq.setNotification(false);
      for (let c = dq.takeChain(0); c; c = dq.takeChain(0)) held.push(c);
      dq.setNotification(true);
      if (dq.available() <= 0) break;
    }
  };
  /** The device completes `n` held chains (random order), then decides on one interrupt. */
  const deviceCompletes = (pick: (n: number) => number, n: number) => {
    for (let k = 0; k < n && held.length > 0; k++) {
      const c = held.splice(pick(held.length), 1)[0]!;
      dq.complete(c, c.writableLength, noFaults());
    }
    if (dq.needInterrupt()) {
      dq.counters.interrupts++;
      rq.onInterrupt();
    }
  };
  return { memory, pool, data, dq, q, rq, held, violations, deviceTakes, deviceCompletes };
}

test("random streams against the strict device model: all complete by interrupts alone, no violation", async () => {
  let seed = 7;
  let total = 0;
  for (const size of [2, 8, 32]) {
    for (const legacy of [false, true]) {
      for (const indirect of [false, true]) {
        for (const eventIdx of [false, true]) {
          const r = rng(seed++);
          const w = world({ size, legacy, indirect, eventIdx });
          const results: number[] = [];
          const errors: string[] = [];
          const expected: number[] = [];
          for (let step = 0; step < 300; step++) {
            const a = r(6);
            if (a < 3) {
              const readable = r(2) && size > 2 ? [{ phys: w.data.phys, len: 16 }] : [];
              const nw = 1 + r(Math.min(3, size - readable.length));
              const writable = Array.from({ length: nw }, (_, k) => ({ phys: w.data.phys + 0x1000 * (k + 1), len: 1 + r(64) }));
              expected.push(writable.reduce((s, b) => s + b.len, 0));
              const i = expected.length - 1;
              const submit = r(3) === 0 ? w.rq.enqueue(readable, writable) : w.rq.submit(readable, writable);
              submit.then((len) => (results[i] = len), (e: unknown) => errors.push(String(e)));
            } else if (a === 3) {
              w.rq.flush();
            } else if (a === 4) {
              w.deviceTakes();
            } else {
              w.deviceCompletes(r, 1 + r(4));
            }
          }
          // Finish: flush, and let the device work until nothing is left; no polling by the driver.
          for (let round = 0; round < 1000 && (w.rq.stats().inFlight + w.rq.stats().waiting > 0); round++) {
            w.rq.flush();
            w.deviceTakes();
            w.deviceCompletes(r, 64);
          }
          await Promise.resolve();
          await new Promise((res) => setImmediate(res));
          assert.equal(errors, []);
          assert.equal(w.violations, [], `size ${size} legacy ${legacy} indirect ${indirect} eventIdx ${eventIdx}`);
          assert.is(w.rq.stats().inFlight + w.rq.stats().waiting, 0, "everything completed");
          assert.equal(results, expected);
          assert.is(w.q.freeCount, size);
          total += expected.length;
        }
      }
    }
  }
  assert.ok(total > 1000, `${total} requests`);
});

test("32 requests at once with EVENT_IDX: notifications and interrupts per request well below one", async () => {
  for (const eventIdx of [true, false]) {
    const w = world({ size: 64, legacy: false, indirect: true, eventIdx });
    const ps = Array.from({ length: 32 }, () => w.rq.enqueue([{ phys: w.data.phys, len: 16 }], [{ phys: w.data.phys + 0x1000, len: 512 }]));
    w.rq.flush();
    w.deviceTakes();
    // The device completes them in four bursts of 8, deciding on an interrupt after each.
    for (let k = 0; k < 4; k++) w.deviceCompletes(() => 0, 8);
    const lens = await Promise.all(ps);
    assert.is(lens.length, 32);
    assert.equal(w.violations, []);
    const perRequest = { notifications: w.dq.counters.notifications / 32, interrupts: w.dq.counters.interrupts / 32 };
    console.log(`  eventIdx=${eventIdx}: notifications/request ${perRequest.notifications.toFixed(3)}, interrupts/request ${perRequest.interrupts.toFixed(3)}`);
    assert.ok(perRequest.notifications <= 1 / 32);
    assert.ok(perRequest.interrupts <= 4 / 32);
  }
});

test.run();
