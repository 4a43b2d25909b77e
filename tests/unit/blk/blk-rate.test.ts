// Device exits per block request at depth 32 (the benchmark's figure 6, on the model):
// 32 reads of 4 KiB submitted at once, 10 rounds. With EVENT_IDX and one kick per turn,
// notifications and interrupts per request are well below one. Printed, and bounded.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { finish, VERSIONS } from "../core/rig.js";
import { blkRig } from "./blk-rig.js";

for (const version of VERSIONS) {
  test(`v${version}: 32 reads in flight: notifications and interrupts per request`, async () => {
    const r = await blkRig(version, { delayTurns: 1 }, { maxInFlight: 32 });
    const before = { ...r.dev.counters };
    const rounds = 10;
    for (let round = 0; round < rounds; round++) {
      await Promise.all(Array.from({ length: 32 }, (_, i) => r.blk.read(((round * 32 + i) * 8) % 248, 8)));
    }
    const requests = 32 * rounds;
    const notifications = (r.dev.counters.notifications - before.notifications) / requests;
    const interrupts = (r.dev.counters.interrupts - before.interrupts) / requests;
    console.log(`  v${version}: ${notifications.toFixed(3)} notifications, ${interrupts.toFixed(3)} interrupts per request`);
    assert.ok(notifications + interrupts <= 0.2, `${notifications} + ${interrupts}`);
    await finish(r);
  });
}

test.run();
