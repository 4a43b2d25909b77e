// Power cuts of QEMU (power-cut-lib.mjs): a handful of cycles of the firmware writing
// patterned sectors and flushing while QEMU is SIGKILLed at a random moment; every
// write a completed flush covered must be on the image, intact. `npm run fuzz --
// --power-cuts 200` runs the long version.
import { openSync, writeSync, closeSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runQemuPowerCuts, sectorPattern, sectorVersion } from "./power-cut-lib.mjs";

test("the host reads back the firmware's sector pattern", () => {
  assert.is(sectorVersion(sectorPattern(9, 1234), 9), 1234);
  assert.is(sectorVersion(sectorPattern(9, 1234), 8), null);
});

test("4 power cuts (legacy and modern): 0 acknowledged writes lost, 0 corrupt", async () => {
  const r = await runQemuPowerCuts({ cycles: 4, seed: 0x51, maxDelayMs: 1500, log: (line) => console.log(`  ${line}`) });
  assert.equal(r.problems, []);
  assert.is(r.lost, 0);
  assert.is(r.corrupt, 0);
  assert.ok(r.writesSeen > 0, "the firmware reported writes");
});

test("the check catches a flushed sector that is not on the image", async () => {
  let spoiled = 0;
  const r = await runQemuPowerCuts({
    cycles: 1, seed: 0x52, maxDelayMs: 800,
    tamper: (image, covered) => {
      if (covered.length === 0) return;
      const fd = openSync(image, "r+");
      writeSync(fd, new Uint8Array(512), 0, 512, covered[0] * 512); // the sector back to zeroes
      closeSync(fd);
      spoiled++;
    },
  });
  assert.is(spoiled, 1, "a flushed sector to spoil");
  assert.is(r.lost, 1);
});

test.run();
