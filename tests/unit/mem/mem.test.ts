// virtio-mem (VIRTIO 1.2 §5.15) against the strict model, both transport versions: following
// requested_size up and down, plugged blocks in the page pool (and taken out only when free),
// unplug-all of unknown memory at start, STATE, BUSY / NACK / ERROR answers, a device that
// lies about plugged_size or answers nonsense, a reset with a request out, bad configs.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { finish, VERSIONS } from "../core/rig.js";
import { until } from "../balloon/balloon-rig.js";
import { BLOCK, memRig, REGION } from "./mem-rig.js";

const POOL_PAGES = 256; // the 1 MiB page pool of RAM

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: requested_size up: blocks plugged, mapped, in the page pool; down: unplugged`, async () => {
    const r = await memRig(version);
    assert.is(r.mem.config!.blockSize, BLOCK);
    r.device.setRequestedSize(6 * BLOCK);
    await until(r, () => r.device.pluggedSize === 6 * BLOCK && r.mem.settled, "6 blocks plugged");
    assert.is(r.mem.pluggedBytes, 6 * BLOCK);
    const pool = r.model.pages;
    assert.is(pool.totalPages, POOL_PAGES + (6 * BLOCK) / 4096);
    assert.is(r.model.hotplugMapped.size, 6);
    // An application gets plugged memory, writes and reads it back.
    const pages = [];
    while (pool.freePages > 0) pages.push(pool.alloc());
    const plugged = pages.filter((p) => p.phys >= r.model.hotplug.base);
    assert.is(plugged.length, (6 * BLOCK) / 4096);
    for (const p of plugged) p.bytes.fill(p.frame & 0xff);
    for (const p of plugged) assert.ok(p.bytes.every((b) => b === (p.frame & 0xff)));
    // Down to 2 blocks: nothing can go while its pages are used...
    r.device.setRequestedSize(2 * BLOCK);
    await r.model.settle();
    assert.is(r.device.pluggedSize, 6 * BLOCK, "blocks in use stay plugged");
    // ...and goes once they are free.
    for (const p of pages) pool.free(p);
    await until(r, () => r.device.pluggedSize === 2 * BLOCK, "unplugged to 2 blocks");
    assert.is(pool.totalPages, POOL_PAGES + (2 * BLOCK) / 4096);
    assert.is(r.model.hotplugMapped.size, 2);
    r.device.setRequestedSize(0);
    await until(r, () => r.device.pluggedSize === 0, "all unplugged");
    assert.is(pool.totalPages, POOL_PAGES);
    assert.ok(r.device.requests.plug >= 1 && r.device.requests.unplug >= 6);
    await finish(r);
  });

  test(`${v}: memory plugged before the driver came is unplugged first (§5.15.5.1)`, async () => {
    const r = await memRig(version, { pluggedAtStart: 3, requestedSize: 4 * BLOCK });
    await until(r, () => r.device.requests.unplugAll === 1 && r.mem.settled, "unplug all, then follow");
    assert.is(r.device.pluggedSize, 4 * BLOCK);
    assert.is(r.mem.pluggedBytes, 4 * BLOCK);
    await finish(r);
  });

  test(`${v}: STATE answers for the application; bad ranges are the device's ERROR`, async () => {
    const r = await memRig(version, { requestedSize: 4 * BLOCK });
    await until(r, () => r.mem.settled && r.device.pluggedSize === 4 * BLOCK, "plugged");
    r.device.setRequestedSize(2 * BLOCK); // the usable region stays 4 blocks
    await until(r, () => r.mem.settled && r.device.pluggedSize === 2 * BLOCK, "unplugged to 2");
    const base = r.mem.config!.addr;
    assert.is(await r.mem.state(base, 2), "plugged");
    assert.is(await r.mem.state(base + 2 * BLOCK, 1), "unplugged");
    assert.is(await r.mem.state(base, 3), "mixed");
    await r.mem.state(base + REGION, 1).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /STATE .* ERROR/));
    r.model.clearViolations(); // the model records the bad request too
    await finish(r);
  });

  test(`${v}: BUSY is tried again; NACK stops plugging until the config changes`, async () => {
    const r = await memRig(version);
    r.device.faults.busy = 3;
    r.device.setRequestedSize(2 * BLOCK);
    await until(r, () => r.device.pluggedSize === 2 * BLOCK, "plugged after BUSY");
    assert.is(r.mem.stats().busy, 3);
    r.device.faults.nackPlugs = true;
    r.device.setRequestedSize(4 * BLOCK);
    await until(r, () => r.mem.stats().nacks === 1, "a NACK");
    await r.model.settle();
    assert.is(r.mem.stats().nacks, 1, "not asked again before a config change");
    r.device.faults.nackPlugs = false;
    r.device.setRequestedSize(4 * BLOCK);
    await until(r, () => r.device.pluggedSize === 4 * BLOCK, "plugged after the config change");
    await finish(r);
  });

  test(`${v}: ERROR answers are errors with the request, nothing is mapped`, async () => {
    const r = await memRig(version);
    r.device.faults.error = true;
    r.device.setRequestedSize(2 * BLOCK);
    await until(r, () => r.mem.lastError !== null, "the error");
    assert.match(r.mem.lastError!.message, /PLUG of 2 block\(s\) at 0x[0-9a-f]+: ERROR/);
    assert.is(r.model.hotplugMapped.size, 0);
    assert.is(r.mem.pluggedBytes, 0);
    await finish(r);
  });

  test(`${v}: a device whose plugged_size contradicts its ACK is marked broken`, async () => {
    const r = await memRig(version);
    r.device.faults.pluggedSizeSkew = BLOCK;
    r.device.setRequestedSize(BLOCK);
    await until(r, () => r.mem.broken !== null, "broken");
    assert.match(r.mem.broken!.message, /plugged_size/);
    await finish(r);
  });

  test(`${v}: a response type that is none of the four breaks the device, the driver stays up`, async () => {
    const r = await memRig(version);
    r.device.faults.responseType = 7;
    r.device.setRequestedSize(BLOCK);
    await until(r, () => r.mem.broken !== null, "broken");
    assert.match(r.mem.broken!.message, /response type 7/);
    assert.is(r.model.hotplugMapped.size, 0);
    await finish(r);
  });

  test(`${v}: a reset with a plug out: STATE after re-initialization decides`, async () => {
    const r = await memRig(version);
    r.device.setRequestedSize(3 * BLOCK);
    await until(r, () => r.device.pluggedSize === 3 * BLOCK && r.mem.settled, "plugged");
    assert.ok(await r.bus.device(31)!.restart());
    await until(r, () => r.mem.settled, "settled after the reset");
    assert.is(r.mem.pluggedBytes, 3 * BLOCK, "plugged blocks survive a device reset (§5.15.5.2)");
    assert.is(r.model.pages.totalPages, POOL_PAGES + (3 * BLOCK) / 4096);
    await finish(r);
  });

  test(`${v}: bad configs are refused at probe with the value`, async () => {
    const r = await memRig(version, { addr: 0xffff0000, regionSize: 16 * BLOCK });
    const error = r.bus.device(31)!.error;
    assert.match(String(error?.message), /region 0xffff0000\+1048576 reaches beyond 4 GiB/);
    assert.is.not(r.bus.device(31)!.info().status, "DRIVER_OK");
    assert.is(r.model.hotplugMapped.size, 0);
    r.model.clearViolations();
    await finish(r);
  });

  test(`${v}: the model catches a driver that writes unplugged memory`, async () => {
    const r = await memRig(version);
    r.model.memory.view(r.model.hotplug.base + 5 * BLOCK, 16).fill(1);
    r.device.setRequestedSize(BLOCK);
    await until(r, () => r.device.pluggedSize === BLOCK, "plugged");
    assert.ok(r.model.violationRules().includes("mem-unplugged-written"));
    r.model.clearViolations();
    await finish(r);
  });
}

test.run();
