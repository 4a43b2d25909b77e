// An interrupt that arrives while a reset has not read back 0 (§2.4.1): the core must not
// touch the device (no InterruptStatus read answered with an InterruptACK write, which the
// strict model records as `reset-not-complete`, and a real device may drop), and once the
// device is live again it looks at InterruptStatus itself, so nothing that came meanwhile is
// left waiting for an interrupt that will not come. Found by the fuzzer (blk seed 1234926077).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { finish, rig, VERSIONS } from "./rig.js";

const turn = () => new Promise((resolve) => setImmediate(resolve));

for (const version of VERSIONS) {
  test(`v${version}: a config interrupt during a slow reset: no register but Status touched, served once live`, async () => {
    const r = rig({ version });
    const rng = new RngDriver();
    await r.bus.register(rng);
    await r.bus.scan();
    await r.model.settle();
    const vd = r.bus.device(31)!;
    const changesBefore = vd.stats().configChanges;
    r.dev.faults.resetDelayReads = 30;
    const restarting = vd.restart();
    await turn();
    assert.is(vd.state, "resetting");
    r.dev.configChanged(); // the device raises its line while the core polls Status
    await turn();
    await turn();
    assert.ok(await restarting);
    r.dev.faults.resetDelayReads = 0;
    await r.model.settle();
    assert.equal(r.model.violationRules(), [], "nothing but Status touched during the reset");
    assert.is(vd.state, "live");
    assert.ok(vd.stats().configChanges >= changesBefore, "served or cleared by the reset");
    const bytes = await rng.devices()[0]!.read(16);
    assert.is(bytes.length, 16, "the device serves requests after it");
    await finish(r);
  });
}

test.run();
