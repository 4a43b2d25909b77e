import { test } from "uvu";
import * as assert from "uvu/assert";
import type { DeviceInfo } from "../../../drivers/virtio/device-info.js";
import { fakeDevice } from "./fake-platform.js";
import { fakeShell } from "./shell-rig.js";

function setup(devices: DeviceInfo[] | null) {
  const bus = devices === null ? null : { devices: () => devices };
  const { run } = fakeShell({ bus });
  return { run };
}

const BLK = fakeDevice({ slot: 30, base: 0x0a003c00, irq: 78, deviceId: 2, type: "blk", driver: "virtio-blk", features: 0x0000000130000244n });
const RNG = fakeDevice();
const BAD = fakeDevice({ slot: 0, base: 0x0a000000, irq: 48, version: 1, deviceId: 1, type: "net", status: "FAILED", features: 0n, driver: null, error: "FEATURES_OK refused" });

test("devices --json: one JSON array on one line with the documented keys", async () => {
  const { run } = setup([RNG, BLK]);
  await run("batch on");
  const out = await run("devices --json");
  const [json, status] = out.split("\r\n");
  assert.is(status, "@@status 0");
  const records = JSON.parse(json!);
  assert.equal(records, [
    { slot: 30, base: "0x0a003c00", irq: 78, version: 2, deviceId: 2, type: "blk", vendor: "0x554d4551", status: "DRIVER_OK", features: "0x0000000130000244", transport: "mmio", mode: "mmio v2", pci: null, interrupt: "line 78" },
    { slot: 31, base: "0x0a003e00", irq: 79, version: 2, deviceId: 4, type: "rng", vendor: "0x554d4551", status: "DRIVER_OK", features: "0x0000000130000000", transport: "mmio", mode: "mmio v2", pci: null, interrupt: "line 79" },
  ]);
});

test("devices --json with no devices or no bus prints []", async () => {
  assert.ok((await setup([]).run("devices --json")).includes("\r\n[]\r\n"));
  assert.ok((await setup(null).run("devices --json")).includes("\r\n[]\r\n"));
});

test("devices: a table with feature names, driver and errors", async () => {
  const { run } = setup([RNG, BAD]);
  const lines = (await run("devices")).split("\r\n");
  assert.is(lines[0], "devices");
  assert.ok(/^SLOT\s+BASE\s+IRQ\s+BUS\s+VER\s+ID\s+TYPE\s+VENDOR\s+STATUS\s+DRIVER\s+FEATURES$/.test(lines[1]!), lines[1]);
  assert.ok(/^0\s+0x0a000000\s+48\s+mmio\s+1\s+1\s+net\s+0x554d4551\s+FAILED\s+-\s+0x0000000000000000$/.test(lines[2]!), lines[2]);
  assert.is(lines[3], "      error: FEATURES_OK refused");
  assert.ok(lines[4]!.endsWith("virtio-rng  0x0000000130000000 RING_INDIRECT_DESC RING_EVENT_IDX VERSION_1"), lines[4]);
});

test("devices with nothing found says so", async () => {
  assert.ok((await setup([]).run("devices")).includes("no virtio devices"));
});

test("devices with an extra argument: usage", async () => {
  assert.ok((await setup([]).run("devices --xml")).includes("usage: devices [--json]"));
});

test("features in the table: transport bits by name, device bits by number", async () => {
  const { run } = setup([fakeDevice({ features: (1n << 32n) | (1n << 5n) })]);
  assert.ok((await run("devices")).includes("0x0000000100000020 bit5 VERSION_1"));
});

test("features in the table: blk bits by their §5.2.3 names", async () => {
  const { run } = setup([BLK]);
  const out = await run("devices");
  assert.ok(out.includes("0x0000000130000244 SEG_MAX BLK_SIZE FLUSH RING_INDIRECT_DESC RING_EVENT_IDX VERSION_1"), out);
});

test("features in the table: each device type names its own bits", async () => {
  const net = fakeDevice({ slot: 29, deviceId: 1, type: "net", features: (1n << 5n) | (1n << 16n) | (1n << 32n) | (1n << 63n) });
  const con = fakeDevice({ slot: 28, deviceId: 3, type: "console", features: (1n << 0n) | (1n << 32n) });
  const inp = fakeDevice({ slot: 27, deviceId: 18, type: "input", features: (1n << 0n) | (1n << 32n) });
  const gpu = fakeDevice({ slot: 26, deviceId: 16, type: "gpu", features: (1n << 1n) | (1n << 32n) });
  const lines = (await setup([net, con, inp, gpu]).run("devices")).split("\r\n");
  const row = (slot: number) => lines.find((l) => l.startsWith(`${slot} `)) ?? "";
  assert.ok(row(29).endsWith("0x8000000100010020 MAC STATUS VERSION_1 SPEED_DUPLEX"), row(29));
  assert.ok(row(28).endsWith("0x0000000100000001 SIZE VERSION_1"), row(28));
  // input and gpu: no names for device bits (input has none, gpu has no driver here).
  assert.ok(row(27).endsWith("0x0000000100000001 bit0 VERSION_1"), row(27));
  assert.ok(row(26).endsWith("0x0000000100000002 bit1 VERSION_1"), row(26));
});

test("devices --json keeps the negotiated features as hex only", async () => {
  const net = fakeDevice({ deviceId: 1, type: "net", features: (1n << 5n) | (1n << 32n) });
  const out = await setup([net]).run("devices --json");
  const records = JSON.parse(out.split("\r\n")[1]!);
  assert.is(records[0].features, "0x0000000100000020");
  assert.not.ok(out.includes("MAC"));
});

test.run();
