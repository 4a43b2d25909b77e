// The app on the host model: the real bus, the rng driver and the shell, driven over the
// model's console as the QEMU harness drives the firmware.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { drivers } from "../../../apps/drivers.js";
import { startApp } from "../../../apps/start.js";
import { createBus } from "../../../apps/bus.js";
import { createHostModel, RngDevice } from "../../../platform/host/index.js";

async function boot(version: 1 | 2) {
  const model = createHostModel();
  model.attach(31, new RngDevice({ seed: 7 }), { version });
  const app = await startApp({ platform: model.platform, createBus: (p) => createBus(p), drivers });
  const run = async (line: string) => {
    model.console.takeOutput();
    model.console.type(`${line}\r`);
    const deadline = Date.now() + 2000;
    while (!/@@status \d+\r\nvirtio> $/.test(model.console.output) && Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    return model.console.takeOutput();
  };
  return { model, app, run };
}

for (const version of [2, 1] as const) {
  test(`version ${version}: banner, prompt, devices --json shows the rng at DRIVER_OK`, async () => {
    const { model, run } = await boot(version);
    const boot0 = model.console.output;
    assert.ok(boot0.includes("1 virtio device"), boot0);
    assert.ok(boot0.endsWith("virtio> "));
    assert.ok((await run("batch on")).endsWith("@@status 0\r\nvirtio> "));
    const [json, status] = (await run("devices --json")).split("\r\n");
    assert.is(status, "@@status 0");
    const [rng] = JSON.parse(json!);
    assert.equal(
      { slot: rng.slot, base: rng.base, irq: rng.irq, version: rng.version, deviceId: rng.deviceId, type: rng.type, status: rng.status },
      { slot: 31, base: "0x0a003e00", irq: 79, version, deviceId: 4, type: "rng", status: "DRIVER_OK" },
    );
    assert.is(Object.keys(rng).join(","), "slot,base,irq,version,deviceId,type,vendor,status,features,transport,mode,pci,interrupt");
    assert.ok(/^0x[0-9a-f]{16}$/.test(rng.features));
    if (version === 2) assert.is(BigInt(rng.features) & (1n << 32n), 1n << 32n, "VERSION_1 negotiated");
    model.assertNoViolations();
  });

  test(`version ${version}: rng 16 prints 32 hex digits, js reaches the bus, poweroff`, async () => {
    const { model, run } = await boot(version);
    await run("batch on");
    assert.ok(/^[0-9a-f]{32}\r\n@@status 0\r\n/.test(await run("rng 16")));
    assert.ok((await run("js devices.length")).startsWith("1\r\n@@status 0"));
    assert.ok((await run("js rng.devices()[0].read(4)")).startsWith("Uint8Array(4) "));
    assert.ok((await run("mem")).includes("dma pool:"));
    assert.ok((await run("poweroff")).startsWith("powering off\r\n"));
    assert.ok(model.poweredOff);
    model.assertNoViolations();
  });
}

test.run();
