// Every driver, unchanged, on the four transports: virtio-mmio v1 and v2, virtio-pci
// modern (MSI-X, and INTx with vectors=0) and legacy (§4.1.4.8). The strict models record
// any rule the transport code breaks; finishRig asserts there is none.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BlkDevice, ConsoleDeviceModel, InputDeviceModel, keyboardModelOptions, RngDevice, VirtioNetModel } from "../../../platform/host/index.js";
import { RngDriver } from "../../../drivers/rng/rng-driver.js";
import { BlkDriver } from "../../../drivers/blk/blk-driver.js";
import { ConsoleDriver } from "../../../drivers/console/console-driver.js";
import { InputDriver } from "../../../drivers/input/input-driver.js";
import { NetDriver } from "../../../drivers/net/net-driver.js";
import { pattern } from "../blk/blk-rig.js";
import { testFrame } from "../net/net-rig.js";
import { finishRig, TRANSPORT_KINDS, transportRig, until, type TransportKind } from "./pci-rig.js";

const VARIANTS: { kind: TransportKind; vectors?: number; label: string }[] = [
  ...TRANSPORT_KINDS.map((kind) => ({ kind, label: kind })),
  { kind: "pci-modern", vectors: 0, label: "pci-modern vectors=0" },
  { kind: "pci-legacy", vectors: 0, label: "pci-legacy vectors=0" },
];

const expectedMode: Record<TransportKind, string> = { "mmio-v1": "mmio v1", "mmio-v2": "mmio v2", "pci-modern": "pci modern", "pci-legacy": "pci legacy" };

for (const { kind, vectors, label } of VARIANTS) {
  const pci = vectors === undefined ? {} : { vectors };
  const isPci = kind.startsWith("pci");
  const wantIrq = !isPci ? /^line \d+$/ : vectors === 0 ? /^intx 3[5-8]$/ : /^msix \d+ \(\d+-\d+\)$/;

  test(`${label}: rng reads 64 bytes; devices shows the transport`, async () => {
    const driver = new RngDriver();
    const r = await transportRig(kind, new RngDevice({ seed: 3 }), driver, pci);
    const info = r.bus.devices()[0]!;
    assert.equal([info.status, info.transport, info.mode], ["DRIVER_OK", isPci ? "pci" : "mmio", expectedMode[kind]]);
    assert.is(info.pciAddress, isPci ? "00:01.0" : null);
    assert.match(info.interrupt ?? "", wantIrq);
    const bytes = await driver.devices()[0]!.read(64);
    assert.is(bytes.byteLength, 64);
    await finishRig(r);
  });

  test(`${label}: blk reads, writes and flushes`, async () => {
    const image = pattern(256);
    const disk = new BlkDevice({ image: image.slice() });
    const driver = new BlkDriver();
    const r = await transportRig(kind, disk, driver, pci);
    const blk = driver.devices()[0]!;
    const data = await blk.read(3, 5);
    assert.equal(new Uint8Array(data), image.subarray(3 * 512, 8 * 512));
    const out = new Uint8Array(1024).fill(0x5a);
    await blk.write(100, out);
    await blk.flush();
    assert.equal(disk.image.subarray(100 * 512, 102 * 512), out);
    await finishRig(r);
  });

  test(`${label}: console writes and reads`, async () => {
    const model = new ConsoleDeviceModel();
    const driver = new ConsoleDriver();
    const r = await transportRig(kind, model, driver, pci);
    const got: string[] = [];
    const serial = driver.open({ onReadable: () => { const b = serial.read(); if (b instanceof ArrayBuffer) got.push(new TextDecoder().decode(b)); } });
    serial.write("over " + kind);
    model.push("hi");
    await until(() => model.text === "over " + kind && got.join("") === "hi");
    serial.close();
    await finishRig(r);
  });

  test(`${label}: keyboard events reach onEvent`, async () => {
    const model = new InputDeviceModel(keyboardModelOptions());
    const driver = new InputDriver();
    const r = await transportRig(kind, model, driver, pci);
    if (kind === "pci-legacy") {
      // virtio-input has no transitional PCI ID (§4.1.2.3): no legacy interface to drive.
      assert.match(r.bus.problems()[0]?.error.message ?? "", /no common configuration capability/);
      return finishRig(r);
    }
    const seen: number[] = [];
    const kbd = driver.open({ onEvent: (e) => seen.push(e.code) });
    model.key(30, true);
    model.key(30, false);
    await until(() => seen.length === 4);
    kbd.close();
    await finishRig(r);
  });

  test(`${label}: net sends and receives frames`, async () => {
    const nic = new VirtioNetModel();
    const driver = new NetDriver({ rxBuffers: 16 });
    const r = await transportRig(kind, nic, driver, pci);
    const net = driver.devices()[0]!;
    const got: Uint8Array[] = [];
    net.onReadable = (frame) => got.push(frame);
    const frames = Array.from({ length: 40 }, (_, i) => testFrame(net.mac, nic.mac, 60 + i * 31, i));
    for (const f of frames) nic.deliver(f);
    net.write(testFrame(nic.mac, net.mac, 100, 7));
    await until(() => got.length === frames.length && nic.transmitted.length === 1);
    for (const [i, f] of frames.entries()) assert.equal(got[i], f, `frame ${i}`);
    assert.equal(nic.transmitted[0], testFrame(nic.mac, net.mac, 100, 7));
    await finishRig(r);
  });
}

test("MSI-X: a vector per queue plus the configuration vector, messages through the v2m frame", async () => {
  const driver = new RngDriver();
  const r = await transportRig("pci-modern", new RngDevice({ seed: 1 }), driver);
  assert.ok(r.pci!.msix!.enabled);
  await driver.devices()[0]!.read(16);
  assert.ok(r.pci!.msix!.sent > 0, "interrupts arrived as messages");
  assert.is(r.bus.devices()[0]!.interrupt, "msix 2 (80-81)");
  await finishRig(r);
});

test("MSI-X with fewer vectors than queues: the queues share one vector (Linux's second choice)", async () => {
  const nic = new VirtioNetModel();
  const driver = new NetDriver({ rxBuffers: 8 });
  const r = await transportRig("pci-modern", nic, driver, { vectors: 2 });
  assert.is(r.bus.devices()[0]!.interrupt, "msix 2 (80-81)");
  const got: Uint8Array[] = [];
  const net = driver.devices()[0]!;
  net.onReadable = (f) => got.push(f);
  nic.deliver(testFrame(net.mac, nic.mac, 64, 1));
  await until(() => got.length === 1);
  await finishRig(r);
});

test("MSI-X with a one-entry table: INTx (Linux's last choice)", async () => {
  const driver = new RngDriver();
  const r = await transportRig("pci-modern", new RngDevice({ seed: 1 }), driver, { vectors: 1 });
  assert.match(r.bus.devices()[0]!.interrupt ?? "", /^intx 3[5-8]$/);
  assert.is((await driver.devices()[0]!.read(8)).byteLength, 8);
  await finishRig(r);
});

test.run();
