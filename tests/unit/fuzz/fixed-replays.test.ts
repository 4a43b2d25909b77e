// Every fixed fuzz finding (tests/fuzz/fixed.ts) replayed from the cut-down case that
// showed it before its fix: no finding at all now (a class may also be open in known.ts
// for another cause). The cases are short (a few steps each) and deterministic.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { targetFor } from "../../fuzz/campaign.js";
import { runCase } from "../../fuzz/engine.js";
import { FIXED_CLASSES } from "../../fuzz/fixed.js";

for (const fixed of FIXED_CLASSES) {
  const { replay } = fixed;
  test(`fixed: ${fixed.finding} (${replay.kind} v${replay.version} seed ${replay.seed}, ${replay.steps.length} steps) replays clean`, async () => {
    assert.ok(fixed.finding.endsWith(`(${replay.kind})`), "the case runs the class's device");
    const findings = await runCase(replay, targetFor(replay.kind));
    assert.equal(findings.map((f) => `${f.kind} at step ${f.step}: ${f.message}`), []);
  });
}

test.run();
