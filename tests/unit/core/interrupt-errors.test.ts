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

for (const version of VERSIONS) {
  test(`v${version}: reserved InterruptStatus bits are not written back to InterruptACK`, async () => {
    const device = new TestDevice();
    const r = rig({ version, device });
    const driver = new TestDriver();
    await r.bus.register(driver);
    await r.bus.scan();
    const vd = r.bus.device(31)!;
    const transport = vd.transport as { interruptStatus(): number; ackInterrupt(bits: number): void };
    const realStatus = transport.interruptStatus.bind(transport);
    const realAck = transport.ackInterrupt.bind(transport);
    const acks: number[] = [];
    transport.interruptStatus = () => (realStatus() | 0xfffffff0) >>> 0;
    transport.ackInterrupt = (bits) => {
      acks.push(bits);
      realAck(bits);
    };
    device.changeWord(9);
    await r.model.settle();
    assert.equal(acks, [2], "only CONFIG_CHANGE, the bit that was set");
    assert.is(driver.config?.word, 9);
    transport.interruptStatus = realStatus;
    transport.ackInterrupt = realAck;
    await finish(r);
  });
}

test.run();
