import { test } from "uvu";
import * as assert from "uvu/assert";
import { rngCommand, type RngSource } from "../../../apps/shell/commands/rng.js";
import { fakeShell } from "./shell-rig.js";

function setup(devices: unknown[]) {
  const source = { devices: () => devices } as unknown as RngSource;
  const { run } = fakeShell({ commands: [rngCommand(source)] });
  return { run };
}

const counting = { read: async (n: number) => Uint8Array.from({ length: n }, (_, i) => i * 17) };

test("rng N prints 2N hex digits on one line", async () => {
  const { run } = setup([counting]);
  await run("batch on");
  assert.is(await run("rng 4"), "00112233\r\n@@status 0\r\nvirtio> ");
});

test("rng with a bad count: usage, status 1", async () => {
  const { run } = setup([counting]);
  await run("batch on");
  for (const bad of ["rng", "rng 0", "rng x", "rng 65537", "rng 1 2"]) {
    const out = await run(bad);
    assert.ok(out.includes("usage: rng N"), bad);
    assert.ok(out.endsWith("@@status 1\r\nvirtio> "), bad);
  }
});

test("rng without a device: a clear message, status 1", async () => {
  const { run } = setup([]);
  await run("batch on");
  assert.is(await run("rng 2"), "no virtio-rng device\r\n@@status 1\r\nvirtio> ");
});

test("rng when the device fails: the error, status 1", async () => {
  const { run } = setup([{ read: async () => Promise.reject(new Error("device broke")) }]);
  await run("batch on");
  const out = await run("rng 2");
  assert.ok(out.startsWith("Error: device broke"));
  assert.ok(out.endsWith("@@status 1\r\nvirtio> "));
});

test.run();
