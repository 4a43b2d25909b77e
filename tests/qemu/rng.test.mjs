// virtio-rng on QEMU through the same core, ring and driver code the unit tests run:
// DRIVER_OK with VERSION_1, RING_INDIRECT_DESC and RING_EVENT_IDX in modern mode,
// DRIVER_OK in legacy mode, and `rng N` reads fresh entropy.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bootShell, jsonLine } from "./lib/firmware.mjs";

const VERSION_1 = 1n << 32n;
const RING_INDIRECT_DESC = 1n << 28n;
const RING_EVENT_IDX = 1n << 29n;

async function rngRun(legacy, lines) {
  const m = await bootShell({ legacy, devices: ["virtio-rng-device"] });
  try {
    const out = [];
    for (const line of lines) out.push(await m.command(line));
    return out;
  } finally {
    await m.close();
  }
}

const hexLine = (output) => output.trim().split("\n").pop().trim();

test("modern: DRIVER_OK with VERSION_1, INDIRECT_DESC, EVENT_IDX; rng 32 prints 64 hex digits", async () => {
  const [devices, rng] = await rngRun(false, ["devices --json", "rng 32"]);
  const d = jsonLine(devices.output).find((x) => x.deviceId === 4);
  assert.ok(d, devices.output);
  assert.is(d.status, "DRIVER_OK");
  const f = BigInt(d.features);
  for (const [name, bit] of [["VERSION_1", VERSION_1], ["RING_INDIRECT_DESC", RING_INDIRECT_DESC], ["RING_EVENT_IDX", RING_EVENT_IDX]]) {
    assert.ok((f & bit) !== 0n, `${name} negotiated in ${d.features}`);
  }
  assert.is(rng.status, 0, rng.output);
  assert.match(hexLine(rng.output), /^[0-9a-f]{64}$/);
});

test("legacy: DRIVER_OK without VERSION_1; two boots read different bytes", async () => {
  const [devices, a] = await rngRun(true, ["devices --json", "rng 32"]);
  const d = jsonLine(devices.output).find((x) => x.deviceId === 4);
  assert.is(d.status, "DRIVER_OK");
  assert.is(BigInt(d.features) & VERSION_1, 0n);
  const [b] = await rngRun(true, ["rng 32"]);
  assert.match(hexLine(a.output), /^[0-9a-f]{64}$/);
  assert.match(hexLine(b.output), /^[0-9a-f]{64}$/);
  assert.is.not(hexLine(a.output), hexLine(b.output));
});

test("rng without a device fails cleanly, with a message", async () => {
  const m = await bootShell({ devices: [] });
  try {
    const none = await m.command("rng 8");
    assert.is(none.status, 1);
    assert.match(none.output, /rng/i);
  } finally {
    await m.close();
  }
});

test.run();
