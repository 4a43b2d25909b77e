// The hostile-device fuzzer's deterministic slice (tests/fuzz/, `npm run fuzz` runs the
// campaign): a few thousand seeded steps over every device and both transport versions.
// It fails on any finding class not listed in tests/fuzz/known.ts (open defects of
// issue #9), and prints the listed ones it saw.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { availableDevices, runCampaign } from "../../fuzz/campaign.js";
import { KNOWN_CLASSES } from "../../fuzz/known.js";

const STEPS = 3000;
const SEED = 0x5eed;

test(`${STEPS} fuzz steps over ${availableDevices().join(", ")}, legacy and modern: no new finding class`, async () => {
  const r = await runCampaign({ steps: STEPS, seed: SEED, stepsPerCase: 150, minimize: false });
  const rate = r.steps / (r.ms / 1000);
  console.log(`  ${r.steps} steps, ${r.cases} cases, ${rate.toFixed(0)} steps/s`);
  const unknown = r.classes.filter((c) => !(`${c.kind} (${c.device})` in KNOWN_CLASSES));
  for (const c of r.classes) {
    if (!unknown.includes(c)) console.log(`  known: ${c.kind} (${c.device}) x${c.count}: ${KNOWN_CLASSES[`${c.kind} (${c.device})`]}`);
  }
  assert.equal(
    unknown.map((c) => `${c.kind} (${c.device}) in ${c.spec.kind} v${c.spec.version} seed ${c.spec.seed} step ${c.first.step}: ${c.first.message}`),
    [],
    "finding classes not in tests/fuzz/known.ts",
  );
  assert.ok(Object.keys(r.perDevice).length === availableDevices().length * 2, "every device in both versions");
});

test.run();
