// virtio-gpu 2D (VIRTIO 1.2 §5.7) against the strict model, both transport versions:
// display info and EDID, a display drawn and flushed by dirty rectangles only, begin /
// send / end, the cursor, display events, ERR_* responses, a device that answers with the
// wrong type or no fence, a lost response, and close() giving everything back.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { GpuDisplay } from "../../../drivers/gpu/gpu-display.js";
import { GpuCursor } from "../../../drivers/gpu/gpu-cursor.js";
import { GpuClosedError, GpuDeviceError, GpuResponseError } from "../../../drivers/gpu/errors.js";
import { GpuCmd, GpuResp } from "../../../drivers/gpu/gpu-spec.js";
import { BAND_COLOR, barColor, drawTestPattern, moveSquare, squareTrack, SQUARE_COLOR } from "../../../drivers/gpu/test-pattern.js";
import { RequestTimeoutError } from "../../../drivers/virtio/errors.js";
import { finish, VERSIONS } from "../core/rig.js";
import { gpuRig, run } from "./gpu-rig.js";

async function rejects(p: Promise<unknown>, type: new (...a: never[]) => Error, what: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, type, `${what}: ${String(e)}`);
    return e as Error;
  }
  throw new Error(`${what}: did not reject`);
}

for (const version of VERSIONS) {
  const v = `v${version}`;

  test(`${v}: display info, EDID, a display shown, drawn, flushed by dirty rectangle, closed`, async () => {
    const r = await gpuRig(version);
    assert.ok(r.gpu.edidSupported, "F_EDID negotiated");
    const scanouts = await run(r, r.gpu.displayInfo());
    assert.equal(scanouts[0], { index: 0, x: 0, y: 0, width: 320, height: 200, enabled: true, flags: 0 });
    const edid = await run(r, r.gpu.edid(0));
    assert.is(edid.length, 128);
    assert.equal([...edid.subarray(0, 8)], [0, 255, 255, 255, 255, 255, 255, 0]);

    const d = await run(r, GpuDisplay.open(r.gpu));
    assert.is(d.width, 320);
    assert.is(d.height, 200);
    assert.is(d.pixelFormat, "xrgb8888");
    assert.is(r.gpuModel.resources.size, 1);
    assert.is(r.gpuModel.scanouts[0]!.resource, [...r.gpuModel.resources.keys()][0]);
    assert.is(r.gpuModel.pixel(5, 5), 0, "black at first");

    d.fill({ x: 10, y: 20, width: 30, height: 40 }, 0xff0000);
    d.fill({ x: 50, y: 20, width: 10, height: 10 }, 0x00ff00);
    const before = r.gpuModel.transfers.length;
    await run(r, d.flush());
    assert.equal(r.gpuModel.transfers.slice(before), [{ x: 10, y: 20, width: 50, height: 40 }], "one transfer of the dirty box");
    assert.equal(r.gpuModel.flushes[r.gpuModel.flushes.length - 1], { x: 10, y: 20, width: 50, height: 40 });
    assert.is(r.gpuModel.pixel(10, 20), 0xff0000);
    assert.is(r.gpuModel.pixel(39, 59), 0xff0000);
    assert.is(r.gpuModel.pixel(55, 25), 0x00ff00);
    assert.is(r.gpuModel.pixel(9, 20), 0);
    assert.ok(r.gpuModel.fencesSeen.length >= 2, "transfer and flush are fenced");
    await run(r, d.flush());
    assert.is(r.gpuModel.transfers.length, before + 1, "a clean display sends nothing");

    // begin / send / end: rows of the area, in pieces.
    d.begin({ x: 100, y: 100, width: 4, height: 2 });
    d.send(new Uint32Array([1, 2, 3]));
    d.send(new Uint32Array([4, 5, 6, 7, 8]).buffer);
    await run(r, d.end());
    assert.equal(r.gpuModel.transfers[r.gpuModel.transfers.length - 1], { x: 100, y: 100, width: 4, height: 2 });
    assert.equal([0, 1, 2, 3].map((x) => r.gpuModel.pixel(100 + x, 101)), [5, 6, 7, 8]);
    assert.throws(() => d.begin({ x: 300, y: 0, width: 30, height: 1 }), /outside/);

    await run(r, d.close());
    await run(r, d.close());
    assert.is(r.gpuModel.resources.size, 0, "RESOURCE_UNREF on close");
    assert.is(r.gpuModel.scanouts[0]!.resource, 0, "scanout taken back");
    assert.is(r.gpuModel.count(GpuCmd.RESOURCE_DETACH_BACKING), 1);
    assert.throws(() => d.fill({ x: 0, y: 0, width: 1, height: 1 }, 0), (e: unknown) => e instanceof GpuClosedError);
    await finish(r);
  });

  test(`${v}: the cursor: a 64x64 resource, UPDATE_CURSOR, MOVE_CURSOR, hidden on close`, async () => {
    const r = await gpuRig(version);
    const c = await run(r, GpuCursor.open(r.gpu, new Uint32Array(64 * 64).fill(0xffffffff), 3, 4));
    await run(r, c.show(10, 20));
    assert.equal({ ...r.gpuModel.cursor, resource: r.gpuModel.cursor.resource > 0 }, { resource: true, x: 10, y: 20, hotX: 3, hotY: 4, updates: 1, moves: 0 });
    await run(r, c.move(30, 40));
    assert.is(r.gpuModel.cursor.x, 30);
    assert.is(r.gpuModel.cursor.moves, 1);
    await run(r, c.close());
    assert.is(r.gpuModel.cursor.resource, 0);
    assert.is(r.gpuModel.resources.size, 0);
    await finish(r);
  });

  test(`${v}: a display event is read, cleared, and reported with the new size`, async () => {
    const r = await gpuRig(version);
    const seen: number[] = [];
    r.gpu.onDisplayChange((s) => seen.push(s[0]!.width * 10000 + s[0]!.height));
    r.gpuModel.resize(640, 480);
    await run(r, new Promise<void>((resolve) => { const t = setInterval(() => { if (seen.length > 0) { clearInterval(t); resolve(); } }, 1); }));
    assert.equal(seen, [6400480]);
    assert.is(r.gpuModel.eventsRead, 0, "events_clear written");
    assert.is(r.gpu.stats().displayEvents, 1);
    assert.is(r.gpu.scanouts[0]!.width, 640);
    await finish(r);
  });

  test(`${v}: an ERR_* response fails that command by name; the device stays up`, async () => {
    const r = await gpuRig(version);
    r.gpuModel.faults.failNext = { command: GpuCmd.RESOURCE_CREATE_2D, response: GpuResp.ERR_OUT_OF_MEMORY };
    const e = await rejects(run(r, GpuDisplay.open(r.gpu)), GpuResponseError, "create");
    assert.is((e as GpuResponseError).responseName, "ERR_OUT_OF_MEMORY");
    assert.is((e as GpuResponseError).commandName, "RESOURCE_CREATE_2D");
    assert.is(r.gpu.broken, null);
    r.gpuModel.faults.failNext = { command: GpuCmd.RESOURCE_ATTACH_BACKING, response: GpuResp.ERR_UNSPEC };
    await rejects(run(r, GpuDisplay.open(r.gpu)), GpuResponseError, "attach");
    assert.is(r.gpuModel.resources.size, 0, "the half-made resource is unreferenced");
    const d = await run(r, GpuDisplay.open(r.gpu));
    await run(r, d.close());
    await finish(r);
  });

  test(`${v}: the strict model answers and records driver mistakes`, async () => {
    const r = await gpuRig(version);
    await rejects(run(r, r.gpu.transferToHost(99, { x: 0, y: 0, width: 1, height: 1 }, 0)), GpuResponseError, "unknown resource");
    await rejects(run(r, r.gpu.setScanout(0, 42, { x: 0, y: 0, width: 1, height: 1 })), GpuResponseError, "scanout of unknown resource");
    const id = await run(r, r.gpu.createResource2d(2, 8, 8));
    await rejects(run(r, r.gpu.attachBacking(id, [{ phys: 0x7000_0000, len: 256 }])), GpuResponseError, "backing outside memory");
    await rejects(run(r, r.gpu.setScanout(3, id, { x: 0, y: 0, width: 8, height: 8 })), GpuResponseError, "scanout id");
    const fb = r.model.platform.dma.alloc(256, 4096);
    await run(r, r.gpu.attachBacking(id, [{ phys: fb.phys, len: 256 }]));
    const e = await rejects(run(r, r.gpu.transferToHost(id, { x: 4, y: 4, width: 8, height: 8 }, 0)), GpuResponseError, "outside the resource");
    assert.is((e as GpuResponseError).responseName, "ERR_INVALID_PARAMETER");
    assert.equal(r.model.violationRules(), ["gpu-resource-id", "gpu-resource-id", "gpu-backing", "gpu-scanout", "gpu-rect"]);
    r.model.clearViolations();
    await run(r, r.gpu.detachBacking(id));
    await run(r, r.gpu.unref(id));
    r.model.platform.dma.free(fb);
    await finish(r);
  });

  test(`${v}: a response of the wrong type, or without the fence, marks the device broken`, async () => {
    for (const fault of ["wrongType", "noFenceEcho", "shortResponse"] as const) {
      const r = await gpuRig(version);
      const d = await run(r, GpuDisplay.open(r.gpu));
      r.gpuModel.faults[fault] = true;
      d.fill({ x: 0, y: 0, width: 2, height: 2 }, 0xffffff);
      await rejects(run(r, d.flush()), GpuDeviceError, fault);
      assert.instance(r.gpu.broken, GpuDeviceError, fault);
      await rejects(run(r, r.gpu.displayInfo()), GpuDeviceError, `${fault}: later commands fail fast`);
      await run(r, d.close());
      await finish(r);
    }
  });

  test(`${v}: an unanswered command times out; its buffers wait for the device`, async () => {
    const r = await gpuRig(version);
    r.gpuModel.faults.hold = true;
    await rejects(run(r, r.gpu.displayInfo()), RequestTimeoutError, "held");
    assert.ok(r.model.dma.stats().used > 0, "the request's buffers are still the device's");
    r.gpuModel.faults.hold = false;
    r.gpuModel.release();
    await r.model.settle();
    const s = await run(r, r.gpu.displayInfo());
    assert.is(s[0]!.width, 320);
    await finish(r);
  });

  test(`${v}: a reset under an open display: it goes stale, close() frees its memory`, async () => {
    const r = await gpuRig(version);
    const d = await run(r, GpuDisplay.open(r.gpu));
    const device = r.bus.device(31)!;
    assert.ok(await run(r, device.restart()));
    assert.is(r.gpuModel.resources.size, 0, "the reset forgot the resource");
    assert.throws(() => d.fill({ x: 0, y: 0, width: 1, height: 1 }, 0), (e: unknown) => e instanceof GpuClosedError);
    await run(r, d.close());
    const again = await run(r, GpuDisplay.open(r.gpu));
    await run(r, again.close());
    await finish(r);
  });

  test(`${v}: the gpu test pattern: bars where barColor() says, the square sent by its rectangle only`, async () => {
    const r = await gpuRig(version);
    const d = await run(r, GpuDisplay.open(r.gpu));
    await run(r, drawTestPattern(d, "virtio-xs test"));
    for (let x = 0; x < d.width; x += 7) for (const y of [0, 66, 132]) assert.is(r.gpuModel.pixel(x, y), barColor(x, y, d.width, d.height), `(${x}, ${y})`);
    assert.is(r.gpuModel.pixel(0, d.height - 1), BAND_COLOR);
    const t = squareTrack(d.width, d.height);
    const before = r.gpuModel.transfers.length;
    moveSquare(d, null, 10);
    await run(r, d.flush());
    moveSquare(d, 10, 14);
    await run(r, d.flush());
    assert.equal(r.gpuModel.transfers.slice(before), [
      { x: 10, y: t.y, width: t.size, height: t.size },
      { x: 10, y: t.y, width: t.size + 4, height: t.size },
    ], "only the square's old and new place");
    assert.is(r.gpuModel.pixel(12, t.y), BAND_COLOR, "erased behind");
    assert.is(r.gpuModel.pixel(14 + t.size - 1, t.y), SQUARE_COLOR);
    await run(r, d.close());
    await finish(r);
  });

  test(`${v}: without F_EDID no GET_EDID is sent`, async () => {
    const r = await gpuRig(version, { edid: false });
    assert.not.ok(r.gpu.edidSupported);
    await rejects(run(r, r.gpu.edid()), GpuDeviceError, "edid");
    assert.is(r.gpuModel.count(GpuCmd.GET_EDID), 0);
    await finish(r);
  });
}

test.run();
