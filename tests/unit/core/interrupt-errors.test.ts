// The core's interrupt handler never throws into the platform's dispatcher: a register
// access that faults (a bus error on XS) is recorded on the device, and the next
// interrupt is served normally.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { finish, rig, VERSIONS } from "./rig.js";
import { TestDevice, TestDriver } from "./test-device.js";

for (const version of VERSIONS) {
  test(`v${version}: InterruptStatus read throwing -> device error, nothing escapes`, async () => {
    const device = new TestDevice();
    const r = rig({ version, device });
    const driver = new TestDriver();
    await r.bus.register(driver);
    await r.bus.scan();
    const vd = r.bus.device(31)!;
    const transport = vd.transport as { interruptStatus(): number };
    const real = transport.interruptStatus.bind(transport);
    transport.interruptStatus = () => {
      throw new Error("mmio: bus error on read32");
    };
    r.dev.spuriousInterrupt();
    await r.model.settle();
    assert.is(vd.error?.message, "mmio: bus error on read32");
    assert.equal(r.model.escapedErrors, [], "the dispatcher saw no exception");
    transport.interruptStatus = real;
    device.changeWord(7);
    await r.model.settle();
    assert.is(driver.config?.word, 7, "the next interrupt is served");
    await finish(r);
  });
}

test.run();
