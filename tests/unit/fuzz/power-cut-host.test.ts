// Power cuts on the host model (tests/fuzz/power-cut.ts; `npm run fuzz` runs 10,000
// cycles): a writeback disk loses what was not flushed; every write a completed flush
// covered must survive, intact. And the check itself catches a flush that lies.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { runHostPowerCuts, sectorPattern, sectorVersion } from "../../fuzz/power-cut.js";

test("sector patterns: a version reads back, a torn or foreign sector does not", () => {
  const a = sectorPattern(5, 77);
  assert.is(sectorVersion(a, 5), 77);
  assert.is(sectorVersion(a, 6), null, "another sector's bytes");
  const torn = a.slice();
  torn[300] ^= 1;
  assert.is(sectorVersion(torn, 5), null);
  assert.is(sectorVersion(new Uint8Array(512), 5), 0, "never written");
});

test("100 power cuts: 0 acknowledged writes lost, 0 corrupt sectors", async () => {
  const r = await runHostPowerCuts({ cycles: 100, seed: 0x9c });
  console.log(`  ${r.cycles} cycles, ${r.acknowledged} flushed writes checked, ${r.unflushedAcknowledged} unflushed, ${r.ms.toFixed(0)} ms`);
  assert.equal(r.problems, []);
  assert.is(r.lost, 0);
  assert.is(r.corrupt, 0);
  assert.ok(r.acknowledged > 500, "enough flushed writes to mean something");
});

test("a flush that resolves without flushing is caught: writes lost", async () => {
  const r = await runHostPowerCuts({ cycles: 40, seed: 3, onDevice: (blk) => { blk.flush = async () => {}; } });
  assert.ok(r.lost > 0, `lost ${r.lost}`);
});

test.run();
