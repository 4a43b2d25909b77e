// The cost of a request in device exits: notifications (driver -> device) and
// interrupts (device -> driver) per request, with 32 requests submitted at once.
// With EVENT_IDX (§2.7.10) both should be far below one per request. The numbers are
// printed; the assertion is only that they are well below one.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDevice } from "../../../platform/host/index.js";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { drainQueue } from "../../../drivers/virtio/drain.js";
import type { Virtqueue } from "../../../ring/virtqueue.js";
import { finish, rig } from "../core/rig.js";

const BATCH = 32;
const ROUNDS = 20;

interface Rates {
  notifications: number;
  interrupts: number;
  kicks: number;
}

async function measure(version: 1 | 2, eventIdx: boolean, shape: "32 reads" | "1 read of 32 chunks"): Promise<Rates> {
  const r = rig({ version, device: new RngDevice({ delayTurns: 1 }), mmio: { eventIdx } });
  const rng = new RngDriver({ chunkSize: 16, queueSize: 64 });
  await r.bus.register(rng);
  await r.bus.scan();
  const handle = rng.devices()[0]!;
  const queue = r.bus.device(31)!.queue(0)!;
  const before = { ...r.dev.counters };
  const kicksBefore = queue.stats().kicks;
  for (let round = 0; round < ROUNDS; round++) {
    if (shape === "32 reads") await Promise.all(Array.from({ length: BATCH }, () => handle.read(16)));
    else await handle.read(16 * BATCH);
  }
  const requests = BATCH * ROUNDS;
  const rates = {
    notifications: (r.dev.counters.notifications - before.notifications) / requests,
    interrupts: (r.dev.counters.interrupts - before.interrupts) / requests,
    kicks: (queue.stats().kicks - kicksBefore) / requests,
  };
  assert.is(handle.stats().buffersPosted, requests);
  await finish(r);
  return rates;
}

/** No driver-side batching: 32 chains, each added and kicked on its own, straight on the
 * ring. Here only the device's suppression (EVENT_IDX or NO_NOTIFY) saves notifications. */
async function measureKickEach(version: 1 | 2, eventIdx: boolean): Promise<Rates> {
  const r = rig({ version, device: new RngDevice({ delayTurns: 1 }), mmio: { eventIdx } });
  let queue: Virtqueue<number> | null = null;
  let done = 0;
  await r.bus.register({
    name: "raw-rng",
    deviceIds: [4],
    features: () => 0n,
    probe(device) {
      queue = device.createQueue<number>(0, { size: 64, onUsed: () => void (done += drainQueue(queue!, () => {})) });
    },
    remove() {
      queue?.detachAll();
    },
  });
  await r.bus.scan();
  const q = queue!;
  const buffers = Array.from({ length: BATCH }, () => r.model.dma.alloc(16));
  const before = { ...r.dev.counters };
  for (let round = 0; round < ROUNDS; round++) {
    const target = done + BATCH;
    buffers.forEach((b, i) => {
      q.add([], [{ phys: b.phys, len: 16 }], i);
      q.kick();
    });
    while (done < target) await new Promise((resolve) => setImmediate(resolve));
  }
  const requests = BATCH * ROUNDS;
  const rates = {
    notifications: (r.dev.counters.notifications - before.notifications) / requests,
    interrupts: (r.dev.counters.interrupts - before.interrupts) / requests,
    kicks: 1,
  };
  for (const b of buffers) r.model.dma.free(b);
  await finish(r);
  return rates;
}

function show(label: string, rates: Rates): void {
  console.log(
    `  ${label}: ${rates.notifications.toFixed(3)} notifications/request, ` +
      `${rates.interrupts.toFixed(3)} interrupts/request, ${rates.kicks.toFixed(3)} kicks/request`,
  );
}

for (const version of [1, 2] as const) {
  test(`v${version}: EVENT_IDX, ${BATCH} requests at once: notifications and interrupts per request well below one`, async () => {
    for (const shape of ["32 reads", "1 read of 32 chunks"] as const) {
      const withIdx = await measure(version, true, shape);
      const without = await measure(version, false, shape);
      show(`v${version} EVENT_IDX    ${shape}`, withIdx);
      show(`v${version} no EVENT_IDX ${shape}`, without);
      assert.ok(withIdx.notifications <= 0.1, `notifications/request ${withIdx.notifications}`);
      assert.ok(withIdx.interrupts <= 0.1, `interrupts/request ${withIdx.interrupts}`);
    }
    const withIdx = await measureKickEach(version, true);
    const without = await measureKickEach(version, false);
    show(`v${version} EVENT_IDX    32 chains, kick after each`, withIdx);
    show(`v${version} no EVENT_IDX 32 chains, kick after each`, without);
    assert.ok(withIdx.notifications <= 0.1, `notifications/request ${withIdx.notifications}`);
    assert.ok(withIdx.interrupts <= 0.1, `interrupts/request ${withIdx.interrupts}`);
    assert.ok(without.notifications > 0.9, "without EVENT_IDX every kick notifies");
  });
}

test.run();
